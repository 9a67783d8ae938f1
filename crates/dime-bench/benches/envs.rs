//! Environment steps per second, per registered task (scalar env, and a 4-lane `VecEnv`).
//! Actions are drawn in advance from a seeded stream so the timing covers only `step`
//! (plus the resets that episodes need).
//!
//! `protocol_b` is the simulator protocol of the design notes (envs.md §3.11, "Run B"): per task,
//! 200 warm-up steps of random actions, then 3000 env steps, each a fresh uniform random action
//! followed by one env step (the model's physics steps plus observation and reward). After the
//! criterion groups the binary prints a table of the median over repetitions next to MuJoCo 3.17's
//! figures for the same protocol where the design notes give them (one AMD EPYC core, Python
//! bindings, `mj_step` only — MuJoCo computes no observation or reward there). Both are one core:
//! run with `RAYON_NUM_THREADS=1` and nothing else on the machine for comparable figures.
//! Those figures come from another machine, so the table's ratios are not the design's
//! same-machine comparison: `crates/dime-envs/tools/mujoco_protocol_b.py` prints MuJoCo's side on
//! this machine in the same columns; run it and this table alternately a few times
//! (`PROTOCOL_B_RUNS=3 PROTOCOL_B_TASKS=...`) and compare each side's best run.

use std::time::Instant;

use criterion::{criterion_group, Criterion, Throughput};
use dime_envs::{ids, make, Env, EnvConfig, Stepping, VecEnv, VecStep};
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

/// Warm-up env steps before timing (protocol B).
const WARMUP_STEPS: usize = 200;
/// Timed env steps (protocol B).
const TIMED_STEPS: usize = 3000;

/// MuJoCo 3.17 env steps/s under protocol B (envs.md §3.11), where the design notes give them.
fn mujoco_steps_per_second(id: &str) -> Option<f64> {
    Some(match id {
        "dmc/pendulum-swingup" => 424e3,
        "dmc/cartpole-balance" | "dmc/cartpole-swingup" => 135e3,
        "dmc/acrobot-swingup" => 150e3,
        "dmc/point_mass-easy" | "dmc/point_mass-hard" => 349e3,
        "dmc/reacher-easy" | "dmc/reacher-hard" => 348e3,
        "dmc/cheetah-run" => 89.6e3,
        "dmc/walker-walk" | "dmc/walker-run" => 8.2e3,
        "dmc/hopper-hop" => 24.0e3,
        "dmc/humanoid-run" => 6.3e3,
        "gym/HalfCheetah-v5" => 35.7e3,
        "gym/Hopper-v5" => 13.7e3,
        "gym/Walker2d-v5" => 9.6e3,
        "gym/Ant-v5" => 4.9e3,
        "gym/Humanoid-v5" => 2.6e3,
        _ => return None,
    })
}

/// `n` env steps, each with a fresh uniform action; resets when an episode ends.
fn random_steps(env: &mut dyn Env, rng: &mut ChaCha8Rng, n: usize, obs: &mut [f64], action: &mut [f64]) {
    for _ in 0..n {
        let spec = env.spec();
        for ((a, lo), hi) in action.iter_mut().zip(&spec.act_low).zip(&spec.act_high) {
            *a = lo + (hi - lo) * rng.random::<f64>();
        }
        if env.step(action, obs).unwrap().done() {
            env.reset(None, obs).unwrap();
        }
    }
}

/// Nanoseconds this thread has run on a CPU (Linux `/proc/thread-self/schedstat`), if available.
/// Unlike wall time it does not count the time other processes hold the core.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// The tasks that run on the simulator: every DMC task and the Gymnasium MuJoCo tasks MuJoCo's
/// figures cover (the `-v4` variants share their `-v5` models).
fn on_simulator(id: &str) -> bool {
    id.starts_with("dmc/") || mujoco_steps_per_second(id).is_some()
}

/// Wall time and (where available) CPU time of one protocol B run.
struct RunTime {
    wall: std::time::Duration,
    cpu_ns: Option<u64>,
}

/// `TIMED_STEPS` env steps with a fresh uniform action drawn before each, after `WARMUP_STEPS`.
fn protocol_b_run(env: &mut dyn Env, rng: &mut ChaCha8Rng) -> RunTime {
    let (obs_dim, act_dim) = (env.spec().obs_dim, env.spec().act_dim);
    let (mut obs, mut action) = (vec![0.0; obs_dim], vec![0.0; act_dim]);
    env.reset(Some(0), &mut obs).unwrap();
    random_steps(env, rng, WARMUP_STEPS, &mut obs, &mut action);
    let cpu_start = thread_cpu_ns();
    let start = Instant::now();
    random_steps(env, rng, TIMED_STEPS, &mut obs, &mut action);
    let wall = start.elapsed();
    let cpu_ns = cpu_start.zip(thread_cpu_ns()).map(|(a, b)| b.saturating_sub(a));
    RunTime { wall, cpu_ns }
}

fn protocol_b(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol_b");
    group.throughput(Throughput::Elements(TIMED_STEPS as u64));
    for id in ids().into_iter().filter(|id| on_simulator(id)) {
        let mut env = make(id, &EnvConfig::default()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        group.bench_function(id, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| protocol_b_run(env.as_mut(), &mut rng).wall).sum())
        });
    }
    group.finish();
}

/// Print protocol B's env steps/s per task next to MuJoCo's; more repetitions under `--bench`.
/// Three figures: the median and the best run by wall time, and steps per second of CPU time
/// over all runs (on a shared machine the last two are the closest to an unloaded core).
/// `PROTOCOL_B_RUNS` overrides the number of runs per task and `PROTOCOL_B_TASKS` (comma-separated
/// substrings of task ids) limits the table to matching tasks, for quick comparisons.
fn protocol_b_table() {
    let default_runs = if std::env::args().any(|a| a == "--bench") { 101 } else { 1 };
    let repetitions =
        std::env::var("PROTOCOL_B_RUNS").ok().and_then(|r| r.parse().ok()).filter(|&r| r > 0).unwrap_or(default_runs);
    let wanted = std::env::var("PROTOCOL_B_TASKS").unwrap_or_default();
    let selected = |id: &str| wanted.is_empty() || wanted.split(',').any(|w| id.contains(w));
    println!("\nprotocol B (envs.md §3.11): {repetitions} runs of {TIMED_STEPS} env steps each, one thread");
    println!("| task | dime env steps/s: wall median / wall best / per CPU second | MuJoCo 3.17 | ratio (median / best / CPU) |");
    println!("| --- | --- | --- | --- |");
    for id in ids().into_iter().filter(|id| on_simulator(id) && selected(id)) {
        let mut env = make(id, &EnvConfig::default()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let runs: Vec<RunTime> = (0..repetitions).map(|_| protocol_b_run(env.as_mut(), &mut rng)).collect();
        let mut rates: Vec<f64> = runs.iter().map(|r| TIMED_STEPS as f64 / r.wall.as_secs_f64()).collect();
        rates.sort_by(f64::total_cmp);
        let (median, best) = (rates[rates.len() / 2], rates[rates.len() - 1]);
        let cpu_ns: Option<u64> = runs.iter().map(|r| r.cpu_ns).sum();
        let steps = (repetitions * TIMED_STEPS) as f64;
        let per_cpu = cpu_ns.filter(|&ns| ns > 0).map_or(f64::NAN, |ns| steps / (ns as f64 * 1e-9));
        let (reference, ratio) = match mujoco_steps_per_second(id) {
            Some(m) => {
                (format!("{:.0}k", m / 1e3), format!("{:.2}× / {:.2}× / {:.2}×", median / m, best / m, per_cpu / m))
            }
            None => ("–".into(), "–".into()),
        };
        let k = |x: f64| format!("{:.1}k", x / 1e3);
        println!("| {id} | {} / {} / {} | {reference} | {ratio} |", k(median), k(best), k(per_cpu));
    }
}

/// Lanes on the caller's thread against lanes on rayon's pool (issue 8: "use the second core for
/// stepping"): 16 lanes, µs per vector step, best of 5 interleaved rounds of 100 steps each way,
/// and what `Stepping::Auto` chose on the same VecEnv. Run with the threads you train with.
fn lane_scheduling_table() {
    const LANES: usize = 16;
    println!(
        "\n| task, {LANES} lanes ({} threads) | sequential µs / vector step | parallel | ratio | Auto chose |",
        rayon::current_num_threads()
    );
    println!("| --- | --- | --- | --- | --- |");
    for id in ["gym/Pendulum-v1", "dmc/cheetah-run", "gym/HalfCheetah-v5", "gym/Humanoid-v5"] {
        let mut venv = VecEnv::new(id, LANES, 0, &EnvConfig::default()).unwrap();
        let spec = venv.spec().clone();
        let acts: Vec<f32> = actions(&spec.act_low, &spec.act_high, 100 * LANES).iter().map(|&a| a as f32).collect();
        let mut obs = vec![0.0f32; LANES * spec.obs_dim];
        let mut out = VecStep::new(LANES, spec.obs_dim);
        venv.reset(&mut obs).unwrap();
        let mut time = |venv: &mut VecEnv, stepping: Stepping| {
            venv.set_stepping(stepping);
            let start = Instant::now();
            for a in acts.chunks(LANES * spec.act_dim) {
                venv.step(a, &mut out).unwrap();
            }
            start.elapsed().as_secs_f64() * 1e6 / 100.0
        };
        let (mut sequential, mut parallel) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..5 {
            sequential = sequential.min(time(&mut venv, Stepping::Sequential));
            parallel = parallel.min(time(&mut venv, Stepping::Parallel));
        }
        time(&mut venv, Stepping::Auto);
        let chose = match venv.steps_in_parallel() {
            Some(true) => "parallel",
            Some(false) => "sequential",
            None => "undecided",
        };
        println!("| {id} | {sequential:.1} | {parallel:.1} | {:.2}× | {chose} |", sequential / parallel);
    }
}

criterion_group!(benches, scalar_steps, vector_steps, protocol_b);

fn main() {
    benches();
    protocol_b_table();
    lane_scheduling_table();
    Criterion::default().configure_from_args().final_summary();
}
