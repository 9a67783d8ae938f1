//! On-policy throughput (issue 8): environment steps per second of PPO and DiffPPO (cpu presets)
//! on the real `gym/Pendulum-v1`, with the wall time split into environment stepping, acting
//! (DiffPPO: the K kernels of the chain and the value of each augmented state) and learning
//! (storing transitions and the rollout updates). The target is stepping under 10% of
//! the total.
//!
//! Cases: one environment (`dime train`'s default), and 16 environments stepped together
//! (`--num-envs 16`): the agents then sample the actions of all lanes in one batch. Stepping runs
//! on the loop's thread (the embedded task takes ~0.1 µs a step, so a second core would not pay
//! for itself). Each case runs two full rollouts (2 × 2048 environment steps).
//!
//! `cargo bench -p dime-bench --bench onpolicy`

use std::time::{Duration, Instant};

use dime_algos::dmerl::diffppo::{DiffPpoAgent, DiffPpoConfig};
use dime_algos::ppo::{PpoAgent, PpoConfig};
use dime_algos::{ActMode, Agent, ReplayBuffer, Transition};
use dime_envs::{make_unit, EnvConfig, VecEnv, VecStep};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The allocator of the `dime` binary, so that allocation costs are the ones users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TASK: &str = "gym/Pendulum-v1";

/// Time spent in each part of the loop.
#[derive(Default)]
struct Split {
    step: Duration,
    act: Duration,
    learn: Duration,
}

/// Run `agent` for `steps` environment steps on `lanes` environments the way the training loop
/// does (one batch of actions, one vector step, then store and update lane by lane) and time
/// each part.
fn run(agent: &mut dyn Agent, lanes: usize, steps: usize) -> Split {
    let envs = (0..lanes).map(|_| make_unit(TASK, &EnvConfig::default()).expect("task")).collect();
    let mut env = VecEnv::from_envs(envs, 0).expect("lanes");
    let (o, a) = (env.spec().obs_dim, env.spec().act_dim);
    let mut replay = ReplayBuffer::new(o, a, 1).expect("buffer");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut obs = vec![0.0f32; lanes * o];
    let mut actions = vec![0.0f32; lanes * a];
    let mut out = VecStep::new(lanes, o);
    let mut split = Split::default();
    env.reset(&mut obs).expect("reset");
    for _ in 0..steps / lanes {
        let t0 = Instant::now();
        agent.act_batch(&obs, lanes, ActMode::Explore, &mut rng, &mut actions).expect("act");
        let t1 = Instant::now();
        env.step(&actions, &mut out).expect("step");
        let t2 = Instant::now();
        for lane in 0..lanes {
            let next_obs = if out.has_final[lane] { &out.final_obs } else { &out.obs };
            replay
                .push(Transition {
                    obs: &obs[lane * o..(lane + 1) * o],
                    action: &actions[lane * a..(lane + 1) * a],
                    reward: out.reward[lane],
                    next_obs: &next_obs[lane * o..(lane + 1) * o],
                    terminated: out.terminated[lane],
                    truncated: out.truncated[lane],
                })
                .expect("push");
            agent.update(&replay, &mut rng).expect("update");
        }
        let t3 = Instant::now();
        obs.copy_from_slice(&out.obs);
        split.act += t1 - t0;
        split.step += t2 - t1;
        split.learn += t3 - t2;
    }
    split
}

fn report(name: &str, split: &Split, steps: usize) {
    let total = (split.step + split.act + split.learn).as_secs_f64();
    let share = |d: Duration| 100.0 * d.as_secs_f64() / total;
    println!(
        "{name:<36} {:>8.0} env steps/s; stepping {:.3}%, acting {:.1}%, learning {:.1}% of {:.2} s",
        steps as f64 / total,
        share(split.step),
        share(split.act),
        share(split.learn),
        total
    );
}

fn main() {
    let steps = 2 * 2048;
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).expect("task");
    for lanes in [1, 16] {
        let mut init = ChaCha8Rng::seed_from_u64(1);
        let mut ppo = PpoAgent::new(PpoConfig::cpu(), spec.obs_dim, spec.act_dim, &mut init).expect("PPO agent");
        report(&format!("ppo cpu, Pendulum, {lanes} env(s)"), &run(&mut ppo, lanes, steps), steps);
        let mut diffppo =
            DiffPpoAgent::new(DiffPpoConfig::cpu(), spec.obs_dim, spec.act_dim, &mut init).expect("DiffPPO agent");
        report(&format!("diffppo cpu, Pendulum, {lanes} env(s)"), &run(&mut diffppo, lanes, steps), steps);
    }
}
