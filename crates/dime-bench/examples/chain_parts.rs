//! Probe of the DIME chain's scaling (cpu preset score network, Pendulum dimensions; run it with
//! `RAYON_NUM_THREADS=1` and `=2`): the actor's pass (kept chain of 256 rows and its backward,
//! on a tape of its own) and detached chains of 128, 256 and 512 rows, interleaved, best of
//! several rounds, so the time per row shows whether a pass has a fixed cost.
//! `cargo run --release -p dime-bench --example chain_parts`
use candle_core::{DType, Device};
use dime_diffusion::{DiffusionPolicy, SamplerConfig, Tape};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    dime_nn::flush_denormals();
    let (o, d) = (3usize, 1usize);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let policy = DiffusionPolicy::new(SamplerConfig::paper(), o, d, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let chain = policy.host_chain().unwrap();
    let sizes = [128usize, 256, 512];
    let mut tapes: Vec<Tape> = sizes.iter().map(|_| Tape::default()).collect();
    let mut best = [f64::MAX; 3];
    for _ in 0..8 {
        for (i, &rows) in sizes.iter().enumerate() {
            let obs = dime_nn::init::standard_normal(&mut rng, rows * o);
            let reps = 8;
            let start = Instant::now();
            for _ in 0..reps {
                let noise = policy.draw_noise(&mut rng, rows).unwrap();
                policy.forward_host(&chain, &obs, &noise, false, &mut tapes[i]).unwrap();
            }
            best[i] = best[i].min(start.elapsed().as_secs_f64() * 1e3 / reps as f64);
        }
    }
    // The actor's pass: a kept chain of 256 rows and its backward, on a tape of its own.
    let (rows, mut tape, mut kept, mut backward) = (256, Tape::default(), f64::MAX, f64::MAX);
    let obs = dime_nn::init::standard_normal(&mut rng, rows * o);
    let (da, dl) = (vec![1.0 / rows as f32; rows * d], vec![1.0 / rows as f32; rows]);
    for _ in 0..8 {
        let (mut f, mut b) = (0.0, 0.0);
        for _ in 0..4 {
            let noise = policy.draw_noise(&mut rng, rows).unwrap();
            let t0 = Instant::now();
            policy.forward_host(&chain, &obs, &noise, true, &mut tape).unwrap();
            let t1 = Instant::now();
            let _ = policy.host_gradients(&chain, &mut tape, &da, &dl).unwrap();
            f += (t1 - t0).as_secs_f64() * 1e3 / 4.0;
            b += t1.elapsed().as_secs_f64() * 1e3 / 4.0;
        }
        (kept, backward) = (kept.min(f), backward.min(b));
    }
    println!("threads {}: kept chain 256 rows {kept:.2} ms, backward {backward:.2} ms", dime_nn::cpu_threads());
    let per_row: Vec<String> = sizes
        .iter()
        .zip(best)
        .map(|(r, t)| format!("{r} rows {t:.2} ms ({:.1} µs/row)", t * 1e3 / *r as f64))
        .collect();
    println!("threads {}: {}", dime_nn::cpu_threads(), per_row.join(", "));
}
