//! Environment steps per second, per registered task (scalar env, and a 4-lane `VecEnv`).
//! Actions are drawn in advance from a seeded stream so the timing covers only `step`
//! (plus the resets that episodes need).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dime_envs::{ids, make, EnvConfig, VecEnv, VecStep};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const STEPS: usize = 10_000;

fn actions(low: &[f64], high: &[f64], n: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    (0..n)
        .flat_map(|_| low.iter().zip(high).map(|(l, h)| l + (h - l) * rng.random::<f64>()).collect::<Vec<_>>())
        .collect()
}

fn scalar_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("env_step");
    group.throughput(Throughput::Elements(STEPS as u64));
    for id in ids() {
        let mut env = make(id, &EnvConfig::default()).unwrap();
        let spec = env.spec().clone();
        let acts = actions(&spec.act_low, &spec.act_high, STEPS);
        let mut obs = vec![0.0; spec.obs_dim];
        group.bench_function(id, |b| {
            b.iter(|| {
                env.reset(Some(1), &mut obs).unwrap();
                for a in acts.chunks(spec.act_dim) {
                    if env.step(a, &mut obs).unwrap().done() {
                        env.reset(None, &mut obs).unwrap();
                    }
                }
            })
        });
    }
    group.finish();
}

fn vector_steps(c: &mut Criterion) {
    const LANES: usize = 4;
    let mut group = c.benchmark_group("vec_env_step_4_lanes");
    group.throughput(Throughput::Elements((STEPS * LANES) as u64));
    for id in ids() {
        let mut venv = VecEnv::new(id, LANES, 0, &EnvConfig::default()).unwrap();
        let spec = venv.spec().clone();
        let acts: Vec<f32> = actions(&spec.act_low, &spec.act_high, STEPS * LANES).iter().map(|&a| a as f32).collect();
        let mut obs = vec![0.0f32; LANES * spec.obs_dim];
        let mut out = VecStep::new(LANES, spec.obs_dim);
        venv.reset(&mut obs).unwrap();
        group.bench_function(id, |b| {
            b.iter(|| {
                for a in acts.chunks(LANES * spec.act_dim) {
                    venv.step(a, &mut out).unwrap();
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, scalar_steps, vector_steps);
criterion_main!(benches);
