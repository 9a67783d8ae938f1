//! Probe: SAC's critic on one thread against two, interleaved in one process so that both see the
//! same phases of the machine: `ScalarCritic::update` (SAC `cpu` preset, Pendulum dimensions,
//! batch 256) and `min_q_and_action_grad`, each run inside a one-thread rayon pool (every part
//! serial) and from the main thread with the global pool (`RAYON_NUM_THREADS=2`).
//! `RAYON_NUM_THREADS=2 cargo run --release -p dime-bench --example sac_critic_scaling`
mod common;

use candle_core::{DType, Device, Tensor};
use dime_algos::sac::SacConfig;
use dime_critic::{CriticBatch, ScalarCritic, TdInputs};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Some(threads) = common::multi_thread_probe_setup() else {
        return;
    };
    let (o, d, rows) = (3usize, 1usize, 256usize);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let cfg = SacConfig::cpu();
    let mut critic = ScalarCritic::new(&cfg.critic, o, d, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let host = |rng: &mut ChaCha8Rng, n: usize| dime_nn::init::standard_normal(rng, n);
    let tensor = |v: Vec<f32>, cols: usize| Tensor::from_vec(v, (rows, cols), &Device::Cpu).unwrap();
    let (obs_h, act_h) = (host(&mut rng, rows * o), host(&mut rng, rows * d));
    let (obs, actions) = (tensor(obs_h.clone(), o), tensor(act_h.clone(), d));
    let (next_obs, next_actions) = (tensor(host(&mut rng, rows * o), o), tensor(host(&mut rng, rows * d), d));
    let rewards = host(&mut rng, rows);
    let (continues, next_log_prob) = (vec![1.0f32; rows], host(&mut rng, rows));
    let serial = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    // [update, parts (forward, backward, optimiser), action gradient] per mode.
    let mut wall = [[Duration::ZERO; 5]; 2];
    let (reps, rounds, warm_rounds) = (10, 60, 10);
    for round in 0..rounds {
        for (mode, w) in wall.iter_mut().enumerate() {
            let mut work = || {
                for _ in 0..reps {
                    let batch = CriticBatch {
                        obs: &obs,
                        actions: &actions,
                        next_obs: &next_obs,
                        next_actions: &next_actions,
                        td: TdInputs {
                            rewards: &rewards,
                            continues: &continues,
                            next_log_prob: &next_log_prob,
                            alpha: 0.2,
                            gamma: 0.99,
                        },
                    };
                    let start = Instant::now();
                    let report = critic.update(&batch).unwrap();
                    let total = start.elapsed();
                    let start = Instant::now();
                    std::hint::black_box(critic.min_q_and_action_grad(&obs_h, &act_h, rows).unwrap());
                    let grad = start.elapsed();
                    if round >= warm_rounds {
                        w[0] += total;
                        w[1] += report.timings.forward;
                        w[2] += report.timings.backward;
                        w[3] += report.timings.optimiser;
                        w[4] += grad;
                    }
                }
            };
            if mode == 0 {
                serial.install(work);
            } else {
                work();
            }
        }
    }
    let n = ((rounds - warm_rounds) * reps) as f64;
    let ms = |x: Duration| x.as_secs_f64() * 1e3 / n;
    let names = ["update", "  forward", "  backward", "  optimiser", "action gradient"];
    for (i, name) in names.iter().enumerate() {
        let (one, two) = (ms(wall[0][i]), ms(wall[1][i]));
        println!("{name:>16}: 1 thread {one:.3} ms, {threads} threads {two:.3} ms, {:.2}×", one / two);
    }
}
