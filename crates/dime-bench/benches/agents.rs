//! Agent throughput (issue 5): environment steps per second of whole agents while learning,
//! each next to a matmul rate measured in the same run, and peak memory with a full buffer.
//!
//! One "environment step" is what the training loop does per step once learning runs: one
//! `act` for one observation and one `update` (DIME: UTD 2 critic updates with target sampling,
//! an actor update on every third critic update, a temperature update; SAC: one update of batch
//! 256). The environment's own step is left out: the embedded tasks take 0.05–0.1 µs.
//! Transitions are synthetic (seeded uniform values of the task's dimensions), which changes
//! nothing in the arithmetic of an update.
//!
//! Cases: DIME `paper_dmc` on HalfCheetah dimensions (observation 17, action 6; 2×2048 critics),
//! DIME `cpu` on Pendulum dimensions (3 / 1), SAC `cpu` and DiffSAC `cpu` on Pendulum dimensions
//! (DiffSAC completes the synthetic transitions' chains with its reference kernels, as it does
//! for warm-up transitions, in its first update, before the clock starts). Each runs with
//! the thread count of the process: `RAYON_NUM_THREADS=1` and `=2` give the 1- and 2-thread
//! figures (`CANDLE_NUM_THREADS=1` keeps candle's element-wise pool out of the way).
//!
//! Baseline: single-thread candle matmul 256×256·256×256 in the same process, reported in GFLOP/s,
//! and the machine's FMA peak on the process's threads (`dime_bench::fma_peak`, also measured in
//! the same process). For DIME and SAC the report adds the FLOPs of the layer products one
//! environment step needs (a count from the configuration, [`step_gflop`]) and the rate that
//! makes, as a share of that peak: a target in steps/s is reachable only if its FLOP rate is
//! well below the peak. It also gives the "matmul ceiling", the steps/s if every product
//! ran at the same-run 256³ matmul rate on each thread, and the share of it the run reaches
//! (issue 5 sets DIME `paper_dmc`'s 2.0 steps/s against a ceiling of about 2.5, i.e. 80%).
//! Memory: `--memory` fills a 1 000 000-transition buffer at 17 / 6, runs DIME `paper_dmc`
//! updates, and prints the peak resident set (`VmHWM`) with the buffer's own size, and the
//! buffer size a dog-sized task (223 / 38) would need.
//!
//! SAC's reference, Stable-Baselines3, is timed by `crates/dime-bench/tools/sb3_sac_speed.py`
//! (Python, `pip install torch stable-baselines3 gymnasium`): run it next to `--only "sac cpu"`.
//!
//! Each case also prints the hypervisor's share of the CPU time the VM asked for during its
//! measured steps ([`dime_bench::host_steal`]): multi-threaded figures fall when it rises.
//! `--alternate` (with more than one thread, and `CANDLE_NUM_THREADS=1`) adds, after each case,
//! the same agent on one thread and on the process's threads in alternating chunks, so that the
//! two-thread speed-up is measured under the same conditions ([`alternating_seconds_per_step`]).
//!
//! `cargo bench -p dime-bench --bench agents [-- --scale F] [-- --only TEXT] [-- --alternate] [-- --memory]`

use std::time::Instant;

use candle_core::{Device, Tensor};
use dime_algos::dime::{DimeAgent, DimeConfig};
use dime_algos::dmerl::diffsac::{DiffSacAgent, DiffSacConfig};
use dime_algos::sac::{SacAgent, SacConfig};
use dime_algos::{ActMode, Agent, ReplayBuffer, Transition};
use dime_bench::host_steal::CpuTicks;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The allocator of the `dime` binary, so that allocation costs are the ones users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Fill `replay` with `n` seeded synthetic transitions.
fn fill(replay: &mut ReplayBuffer, obs_dim: usize, act_dim: usize, n: usize, rng: &mut ChaCha8Rng) {
    let mut obs = vec![0.0f32; obs_dim];
    let mut next = vec![0.0f32; obs_dim];
    let mut action = vec![0.0f32; act_dim];
    for _ in 0..n {
        obs.iter_mut().chain(next.iter_mut()).for_each(|v| *v = rng.random_range(-1.0..1.0));
        action.iter_mut().for_each(|v| *v = rng.random_range(-1.0..1.0));
        let reward = rng.random_range(-1.0..0.0);
        let t = Transition { obs: &obs, action: &action, reward, next_obs: &next, terminated: false, truncated: false };
        replay.push(t).expect("dimensions match");
    }
}

/// `--alternate`: seconds per environment step of `agent` on one thread and on the process's
/// threads, in alternating chunks of a tenth of `steps` (about `steps` steps each, rounded up to
/// whole chunks; the order flips every round, and one discarded round warms both up), so that
/// both see the same phases of the machine.
///
/// "One thread" is a one-thread rayon pool: every product, member and row block then runs in
/// sequence, but the code still partitions its work for the process's thread count (DIME's chain
/// in row blocks, say), and candle's element-wise pool ignores rayon, so run with
/// `CANDLE_NUM_THREADS=1`. It is not exactly a `RAYON_NUM_THREADS=1` process.
fn alternating_seconds_per_step(
    agent: &mut (impl Agent + Send),
    replay: &ReplayBuffer,
    obs_dim: usize,
    act_dim: usize,
    steps: usize,
) -> (f64, f64) {
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("one-thread pool");
    let chunk = (steps / 10).max(1);
    let rounds = steps.div_ceil(chunk);
    let (mut serial, mut threaded) = (0.0, 0.0);
    for round in 0..=rounds {
        let mut timed = |on_one_thread: bool| {
            let start = Instant::now();
            if on_one_thread {
                one_thread.install(|| seconds_per_step(agent, replay, obs_dim, act_dim, 0, chunk));
            } else {
                seconds_per_step(agent, replay, obs_dim, act_dim, 0, chunk);
            }
            start.elapsed().as_secs_f64()
        };
        let first_on_one_thread = round % 2 == 0;
        let first = timed(first_on_one_thread);
        let second = timed(!first_on_one_thread);
        if round > 0 {
            let (one, many) = if first_on_one_thread { (first, second) } else { (second, first) };
            serial += one;
            threaded += many;
        }
    }
    let done = (rounds * chunk) as f64;
    (serial / done, threaded / done)
}

/// `f()` and the host's steal percentage while it ran ([`CpuTicks::steal_percent_until`]).
fn with_steal<T>(f: impl FnOnce() -> T) -> (T, Option<f64>) {
    let before = CpuTicks::read();
    let value = f();
    let steal = before.zip(CpuTicks::read()).and_then(|(b, a)| b.steal_percent_until(&a));
    (value, steal)
}

/// Seconds per environment step of `agent` over `steps` steps after `warmup` steps.
fn seconds_per_step(
    agent: &mut (impl Agent + Send),
    replay: &ReplayBuffer,
    obs_dim: usize,
    act_dim: usize,
    warmup: usize,
    steps: usize,
) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let obs: Vec<f32> = (0..obs_dim).map(|i| 0.1 * i as f32).collect();
    let mut action = vec![0.0f32; act_dim];
    let mut run = |n: usize| {
        for _ in 0..n {
            agent.act(&obs, ActMode::Explore, &mut rng, &mut action).expect("act");
            agent.update(replay, &mut rng).expect("update");
        }
    };
    run(warmup);
    let start = Instant::now();
    run(steps);
    start.elapsed().as_secs_f64() / steps as f64
}

/// Single-thread candle matmul rate, 256×256·256×256, in GFLOP/s.
fn matmul_gflops() -> f64 {
    let threads = std::env::var("RAYON_NUM_THREADS").ok();
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut square = || {
        let values = dime_nn::init::standard_normal(&mut rng, 256 * 256);
        Tensor::from_vec(values, (256, 256), &Device::Cpu).expect("tensor")
    };
    let (a, b) = (square(), square());
    let reps = 400;
    for _ in 0..20 {
        std::hint::black_box(a.matmul(&b).expect("matmul"));
    }
    let start = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(a.matmul(&b).expect("matmul"));
    }
    let secs = start.elapsed().as_secs_f64();
    match threads {
        Some(t) => std::env::set_var("RAYON_NUM_THREADS", t),
        None => std::env::remove_var("RAYON_NUM_THREADS"),
    }
    reps as f64 * 2.0 * 256f64.powi(3) / secs / 1e9
}

/// FLOPs (two per multiply-add) of one forward pass of a dense network with layer `widths`
/// over `rows` rows.
fn mlp_flops(rows: usize, widths: &[usize]) -> f64 {
    2.0 * rows as f64 * widths.windows(2).map(|w| (w[0] * w[1]) as f64).sum::<f64>()
}

/// GFLOP of layer products in one environment step of a case (element-wise work left out).
/// A backward pass costs twice its forward (weight and input gradients); a pass that only needs
/// input gradients (the critic inside an actor loss) costs once its forward.
fn step_gflop(learner: &Learner, obs: usize, act: usize) -> Option<f64> {
    match learner {
        Learner::Dime(cfg) => {
            let (b, k) = (cfg.batch_size, cfg.sampler.diffusion_steps);
            let net = &cfg.sampler.score_net;
            let mut widths = vec![act];
            widths.extend(std::iter::repeat_n(net.hidden_width, net.hidden_layers));
            widths.push(act);
            // One chain: K passes of the score network over the action input (the observation
            // and time terms are computed once per chain).
            let chain = k as f64 * mlp_flops(b, &widths);
            let atoms = match cfg.critic.head {
                dime_critic::CriticHead::Categorical { atoms, .. } => atoms,
                dime_critic::CriticHead::Scalar => 1,
            };
            let mut q = vec![obs + act];
            q.extend(&cfg.critic.hidden_widths);
            q.push(atoms);
            let members = cfg.critic.members as f64;
            let utd = cfg.updates_per_step as f64;
            // Per critic update: a target chain, and forward + backward of every member over
            // the 2B joint rows. Per actor update: the chain forward and backward, and the
            // members' forward and input gradients over B rows.
            let critic_update = chain + 3.0 * members * mlp_flops(2 * b, &q);
            let actor_update = 3.0 * chain + 2.0 * members * mlp_flops(b, &q);
            Some((utd * critic_update + utd / cfg.policy_delay as f64 * actor_update) / 1e9)
        }
        Learner::Sac(cfg) => {
            let b = cfg.batch_size;
            let mut actor = vec![obs];
            actor.extend(&cfg.actor.hidden_widths);
            actor.push(2 * act);
            let mut q = vec![obs + act];
            q.extend(&cfg.critic.hidden_widths);
            q.push(1);
            let (fa, fq) = (mlp_flops(b, &actor), mlp_flops(b, &q));
            // Target: actor on s' and both target critics. Critic update: both critics forward
            // and backward. Actor update: actor forward, both critics forward and input
            // gradients, actor backward.
            let update = (fa + 2.0 * fq) + 6.0 * fq + (fa + 2.0 * fq + 2.0 * fq + 2.0 * fa);
            Some(cfg.updates_per_step as f64 * update / 1e9)
        }
        Learner::DiffSac(_) => None,
    }
}

/// What a case builds.
enum Learner {
    Dime(DimeConfig),
    Sac(SacConfig),
    DiffSac(DiffSacConfig),
}

struct Case {
    name: &'static str,
    dims: (usize, usize),
    learner: Learner,
    /// (warm-up steps, measured steps) at the default budget.
    steps: (usize, usize),
    /// JAX / Stable-Baselines3 figure on this machine quoted by the issue, env steps/s.
    reference: &'static str,
}

fn dime(cfg: DimeConfig, obs: usize, act: usize, rng: &mut ChaCha8Rng) -> DimeAgent {
    DimeAgent::new(cfg, obs, act, (-16.3, 0.0), rng).expect("DIME agent")
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "dime paper_dmc, obs 17 / act 6",
            dims: (17, 6),
            learner: Learner::Dime(DimeConfig::paper_dmc()),
            steps: (3, 12),
            reference: "official JAX code 1.3–1.5 steps/s with 2 cores, 0.78 with one; target ≥ 2.0 with 2",
        },
        Case {
            name: "dime cpu, obs 3 / act 1 (Pendulum)",
            dims: (3, 1),
            learner: Learner::Dime(DimeConfig::cpu()),
            steps: (6, 90),
            reference: "official JAX code, same settings, 6.2 steps/s; target ≥ 18.6",
        },
        Case {
            name: "sac cpu, obs 3 / act 1 (Pendulum)",
            dims: (3, 1),
            learner: Learner::Sac(SacConfig::cpu()),
            steps: (20, 600),
            reference: "Stable-Baselines3 SAC 62–76 steps/s (the issue's figure; same run: tools/sb3_sac_speed.py); target ≥ 5× that",
        },
        Case {
            name: "diffsac cpu, obs 3 / act 1 (Pendulum)",
            dims: (3, 1),
            learner: Learner::DiffSac(DiffSacConfig::cpu()),
            steps: (20, 300),
            reference: "no published figure; next to SAC's case above it shows the cost of the augmented MDP",
        },
    ]
}

/// Measure one case; print its rate and, for DIME, the per-step breakdown.
fn run(case: Case, scale: f64, threads: usize, peak: Option<f64>, matmul: f64, alternate: bool) {
    let (o, a) = case.dims;
    let gflop = step_gflop(&case.learner, o, a);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut replay = ReplayBuffer::new(o, a, 20_000).expect("buffer");
    fill(&mut replay, o, a, 20_000, &mut rng);
    let measured = ((case.steps.1 as f64 * scale).ceil() as usize).max(3);
    let alternated;
    let ((secs, steal), breakdown) = match case.learner {
        Learner::Dime(cfg) => {
            let mut agent = dime(cfg, o, a, &mut rng);
            seconds_per_step(&mut agent, &replay, o, a, case.steps.0, 0);
            let before = agent.timings();
            let timed = with_steal(|| seconds_per_step(&mut agent, &replay, o, a, 0, measured));
            let after = agent.timings();
            alternated =
                alternate.then(|| with_steal(|| alternating_seconds_per_step(&mut agent, &replay, o, a, measured)));
            let per_step =
                |x: std::time::Duration, y: std::time::Duration| (x - y).as_secs_f64() * 1e3 / measured as f64;
            let breakdown = format!(
                "\n    per env step: targets {:.1} ms + critic {:.1} ms + actor {:.1} ms + other {:.1} ms (2 critic updates, 2/3 actor update)",
                per_step(after.targets, before.targets),
                per_step(after.critic, before.critic),
                per_step(after.actor, before.actor),
                per_step(after.other, before.other),
            );
            (timed, breakdown)
        }
        Learner::Sac(cfg) => {
            let mut agent = SacAgent::new(cfg, o, a, &mut rng).expect("SAC agent");
            seconds_per_step(&mut agent, &replay, o, a, case.steps.0, 0);
            let timed = with_steal(|| seconds_per_step(&mut agent, &replay, o, a, 0, measured));
            alternated =
                alternate.then(|| with_steal(|| alternating_seconds_per_step(&mut agent, &replay, o, a, measured)));
            (timed, String::new())
        }
        Learner::DiffSac(cfg) => {
            let mut agent = DiffSacAgent::new(cfg, o, a, &mut rng).expect("DiffSAC agent");
            seconds_per_step(&mut agent, &replay, o, a, case.steps.0, 0);
            let timed = with_steal(|| seconds_per_step(&mut agent, &replay, o, a, 0, measured));
            alternated =
                alternate.then(|| with_steal(|| alternating_seconds_per_step(&mut agent, &replay, o, a, measured)));
            (timed, String::new())
        }
    };
    println!(
        "{:<36} {:>8.2} env steps/s ({:.1} ms per step, {measured} steps, {threads} thread(s)); for scale: {}{breakdown}",
        case.name,
        1.0 / secs,
        secs * 1e3,
        case.reference
    );
    let steal_text = |steal: Option<f64>| {
        steal.map_or(String::new(), |p| format!("; host steal {p:.1}% of the CPU time the VM asked for"))
    };
    if let Some(p) = steal {
        println!("    host steal during the measured steps: {p:.1}% of the CPU time the VM asked for");
    }
    if let Some(((serial, threaded), steal)) = alternated {
        println!(
            "    alternating in this process: 1 thread {:.2} env steps/s, {threads} threads {:.2} ({:.2}×){}",
            1.0 / serial,
            1.0 / threaded,
            serial / threaded,
            steal_text(steal)
        );
    }
    if let Some(gflop) = gflop {
        let rate = gflop / secs;
        let share = peak.map_or(String::new(), |p| format!(", {:.0}% of the same-run FMA peak", 100.0 * rate / p));
        let ceiling = peak.map_or(String::new(), |p| format!("; at the peak: {:.0} env steps/s", p / gflop));
        println!("    products: {gflop:.3} GFLOP per env step, {rate:.1} GFLOP/s{share}{ceiling}");
        // The "matmul ceiling": every product at the same-run 256³ matmul rate, once per
        // thread (a ceiling only for code made of such products).
        let matmul_ceiling = threads as f64 * matmul / gflop;
        println!(
            "    at {threads} × the same-run 256³ matmul rate: {matmul_ceiling:.2} env steps/s; this run reaches {:.0}% of it",
            100.0 / secs / matmul_ceiling
        );
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Bytes of a buffer of `capacity` transitions: obs and next obs, action, reward and two flags.
fn buffer_bytes(capacity: usize, obs: usize, act: usize) -> f64 {
    capacity as f64 * ((2 * obs + act + 1) as f64 * 4.0 + 2.0)
}

fn memory() {
    let (obs, act, capacity) = (17, 6, 1_000_000);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut replay = ReplayBuffer::new(obs, act, capacity).expect("buffer");
    fill(&mut replay, obs, act, capacity, &mut rng);
    let mut agent = dime(DimeConfig::paper_dmc(), obs, act, &mut rng);
    seconds_per_step(&mut agent, &replay, obs, act, 0, 3);
    let peak = peak_rss_mib().map_or("unavailable".into(), |m| format!("{m:.0} MiB"));
    println!(
        "memory: DIME paper_dmc with a full {capacity}-transition buffer at {obs}/{act}: peak resident {peak} \
         (buffer columns {:.0} MiB); a dog-sized task (223/38) needs {:.0} MiB of buffer",
        buffer_bytes(capacity, obs, act) / (1 << 20) as f64,
        buffer_bytes(capacity, 223, 38) / (1 << 20) as f64,
    );
}

fn main() {
    // As in training (`Trainer::run`): subnormal values flushed to zero.
    dime_nn::flush_denormals();
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--memory") {
        memory();
        return;
    }
    let scale: f64 =
        args.iter().position(|a| a == "--scale").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(1.0);
    let threads = dime_nn::cpu_threads();
    let baseline = matmul_gflops();
    println!("threads {threads}; same-run single-thread matmul 256³: {baseline:.1} GFLOP/s");
    let peak = dime_bench::fma_peak::measure(threads, 5).map(|p| p.total());
    match peak {
        Some(p) => println!("FMA peak on {threads} thread(s) (best of 5 rounds): {p:.1} GFLOP/s"),
        None => println!("FMA peak: no probe for this CPU"),
    }
    let wants_alternate = args.iter().any(|a| a == "--alternate");
    let alternate = wants_alternate && threads > 1;
    if wants_alternate && !alternate {
        println!("--alternate needs more than one thread (RAYON_NUM_THREADS): skipped");
    }
    // `--only TEXT`: run only the cases whose name contains TEXT.
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    for case in cases().into_iter().filter(|c| only.as_ref().is_none_or(|o| c.name.contains(o.as_str()))) {
        run(case, scale, threads, peak, baseline, alternate);
    }
    println!("matmul again (drift check): {:.1} GFLOP/s", matmul_gflops());
}
