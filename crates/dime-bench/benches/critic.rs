//! Critic update throughput (issue 4), next to candle's plain matmul doing the same FLOPs in the
//! same run, with 1 and 2 threads.
//!
//! - `critic_update/<preset>/<threads>t`: one DIME critic update (`CategoricalCritic::update`:
//!   joint train-mode forward over 2×256 rows, C51 target, loss, backward, in-place Adam) for the
//!   `paper` (2 members × 2×2048) and `cpu` (2 members × 2×256) presets, o = 17, d = 6. With f32
//!   parameters on the CPU this is the fused host path (`dime-critic/src/host/`).
//! - `matmul_same_flops/<preset>/<threads>t`: exactly the dense products of that update and
//!   nothing else: per member and layer the forward `X·W` ([2B, k]·[k, n]), and the backward
//!   `Xᵀ·G` ([k, 2B]·[2B, n]) and `G·Wᵀ` ([2B, n]·[n, k]) on contiguous operands.
//!
//! Throughput is reported in elements/s where one element is one FLOP (2 per multiply-add), so
//! criterion's `Gelem/s` reads as GFLOP/s and the two groups compare directly.
//! Before the criterion groups, each configuration prints, from the same run: the host update
//! and the candle reference update (`CategoricalCritic::update_reference`), each with its
//! forward / backward / optimiser split (mean of a few updates, from `CriticUpdate::timings`);
//! the same products as candle matmuls and as `dime_nn::host_gemm::Gemm` calls issued the way the
//! host path issues them (bias-prefilled accumulate, transposed strides); and the ratios.
//!
//! Threads (candle 0.11.1, read from its source): the matmul thread count is `RAYON_NUM_THREADS`,
//! read at every matmul (gemm with `Parallelism::Rayon(n)` when n > 1); the element-wise ops run
//! on a separate spin pool sized once, at its first use, from `CANDLE_NUM_THREADS` (falling back
//! to `RAYON_NUM_THREADS`, then the core count). So a clean n-thread figure needs its own process:
//!
//! ```text
//! RAYON_NUM_THREADS=1 cargo bench -p dime-bench --bench critic
//! RAYON_NUM_THREADS=2 cargo bench -p dime-bench --bench critic
//! RAYON_NUM_THREADS=2 CANDLE_NUM_THREADS=1 cargo bench -p dime-bench --bench critic   # 2-thread gemm only
//! ```
//!
//! Without `RAYON_NUM_THREADS` the bench runs 1 then 2 matmul threads in one process, and the
//! element-wise pool keeps the size it got in the first (1-thread) phase.

use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dime_critic::{CategoricalCritic, CriticBatch, CriticConfig, CriticError, CriticUpdate, TdInputs, UpdateTimings};
use dime_nn::host_gemm::Gemm;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The allocator of the `dime` binary, so that allocation costs are the ones users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const OBS_DIM: usize = 17;
const ACTION_DIM: usize = 6;
const BATCH: usize = 256;

/// Matmul thread counts to run: the one in `RAYON_NUM_THREADS`, or 1 then 2.
fn thread_counts() -> Vec<usize> {
    match std::env::var("RAYON_NUM_THREADS").ok().and_then(|s| s.parse().ok()) {
        Some(n) => vec![n],
        None => vec![1, 2],
    }
}

/// What sized candle's element-wise pool, for the printed summary.
fn elementwise_threads() -> String {
    std::env::var("CANDLE_NUM_THREADS")
        .or_else(|_| std::env::var("RAYON_NUM_THREADS"))
        .unwrap_or_else(|_| "1 (first use)".into())
}

fn set_threads(n: usize) {
    // Benchmarks run on criterion's main thread; nothing else reads the environment concurrently.
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
}

fn random(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Tensor {
    Tensor::from_vec(dime_nn::init::standard_normal(rng, rows * cols), (rows, cols), &Device::Cpu).unwrap()
}

/// A fixed batch of B transitions (next actions as if sampled from the actor).
struct Data {
    obs: Tensor,
    actions: Tensor,
    next_obs: Tensor,
    next_actions: Tensor,
    rewards: Vec<f32>,
    continues: Vec<f32>,
    bound: Vec<f32>,
}

impl Data {
    fn new() -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        Self {
            obs: random(&mut rng, BATCH, OBS_DIM),
            actions: random(&mut rng, BATCH, ACTION_DIM).tanh().unwrap(),
            next_obs: random(&mut rng, BATCH, OBS_DIM),
            next_actions: random(&mut rng, BATCH, ACTION_DIM).tanh().unwrap(),
            rewards: dime_nn::init::uniform(&mut rng, 0.0, 1.0, BATCH),
            continues: vec![1.0; BATCH],
            bound: dime_nn::init::uniform(&mut rng, -5.0, 5.0, BATCH),
        }
    }

    fn batch(&self) -> CriticBatch<'_> {
        CriticBatch {
            obs: &self.obs,
            actions: &self.actions,
            next_obs: &self.next_obs,
            next_actions: &self.next_actions,
            td: TdInputs {
                rewards: &self.rewards,
                continues: &self.continues,
                next_log_prob: &self.bound,
                alpha: 0.1,
                gamma: 0.99,
            },
        }
    }
}

/// `(k, n)` of every dense layer of one member.
fn layer_shapes(config: &CriticConfig) -> Vec<(usize, usize)> {
    let atoms = match config.head {
        dime_critic::CriticHead::Categorical { atoms, .. } => atoms,
        dime_critic::CriticHead::Scalar => 1,
    };
    let mut widths = vec![OBS_DIM + ACTION_DIM];
    widths.extend(&config.hidden_widths);
    widths.push(atoms);
    widths.windows(2).map(|w| (w[0], w[1])).collect()
}

/// FLOPs of the dense products of one update: forward + two backward products per layer.
fn update_flops(config: &CriticConfig) -> u64 {
    let rows = 2 * BATCH as u64;
    let per_member: u64 = layer_shapes(config).iter().map(|&(k, n)| 3 * 2 * rows * (k * n) as u64).sum();
    per_member * config.members as u64
}

/// Operand pairs of the same products, contiguous, for the matmul baseline.
fn matmul_operands(config: &CriticConfig) -> Vec<(Tensor, Tensor)> {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let rows = 2 * BATCH;
    let mut pairs = Vec::new();
    for _ in 0..config.members {
        for (k, n) in layer_shapes(config) {
            pairs.push((random(&mut rng, rows, k), random(&mut rng, k, n)));
            pairs.push((random(&mut rng, k, rows), random(&mut rng, rows, n)));
            pairs.push((random(&mut rng, rows, n), random(&mut rng, n, k)));
        }
    }
    pairs
}

/// The same products as candle's backward issues them: `G·Wᵀ` and `Xᵀ·G` on transposed views.
fn matmul_operands_as_autograd(config: &CriticConfig) -> Vec<(Tensor, Tensor)> {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let rows = 2 * BATCH;
    let mut pairs = Vec::new();
    for _ in 0..config.members {
        for (k, n) in layer_shapes(config) {
            let (x, w, g) = (random(&mut rng, rows, k), random(&mut rng, k, n), random(&mut rng, rows, n));
            pairs.push((x.clone(), w.clone()));
            pairs.push((g.clone(), w.t().unwrap()));
            pairs.push((x.t().unwrap(), g));
        }
    }
    pairs
}

fn run_matmuls(pairs: &[(Tensor, Tensor)]) {
    for (a, b) in pairs {
        std::hint::black_box(a.matmul(b).unwrap());
    }
}

/// Host operands of the same products as the host path issues them, per member and layer:
/// `X·W` into `C`, `Xᵀ·G` (X read transposed) and `G·Wᵀ` (W read transposed).
/// One layer's operands: `(k, n, X [rows, k], W [k, n], G [rows, n])`.
type LayerOperands = (usize, usize, Vec<f32>, Vec<f32>, Vec<f32>);

struct HostGemms {
    layers: Vec<LayerOperands>,
    rows: usize,
}

impl HostGemms {
    fn new(config: &CriticConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let rows = 2 * BATCH;
        let mut layers = Vec::new();
        for _ in 0..config.members {
            for (k, n) in layer_shapes(config) {
                let normal = |rng: &mut ChaCha8Rng, len| dime_nn::init::standard_normal(rng, len);
                layers.push((k, n, normal(&mut rng, rows * k), normal(&mut rng, k * n), normal(&mut rng, rows * n)));
            }
        }
        Self { layers, rows }
    }

    fn run(&self) {
        let rows = self.rows;
        for (k, n, x, w, g) in &self.layers {
            let (k, n) = (*k, *n);
            let mut y = vec![0.0f32; rows * n];
            Gemm::new(rows, k, n).acc().run(x, w, &mut y);
            let mut dw = vec![0.0f32; k * n];
            Gemm::new(k, rows, n).a_t().run(x, g, &mut dw);
            let mut dx = vec![0.0f32; rows * k];
            Gemm::new(rows, n, k).b_t().run(g, w, &mut dx);
            std::hint::black_box((y, dw, dx));
        }
    }
}

fn critic(config: &CriticConfig) -> CategoricalCritic {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    CategoricalCritic::new(config, OBS_DIM, ACTION_DIM, &mut rng, DType::F32, &Device::Cpu).unwrap()
}

type UpdateFn = fn(&mut CategoricalCritic, &CriticBatch) -> Result<CriticUpdate, CriticError>;

fn mean_timings(
    critic: &mut CategoricalCritic,
    data: &Data,
    reps: usize,
    update: UpdateFn,
) -> (UpdateTimings, Duration) {
    update(critic, &data.batch()).unwrap();
    let mut sum = UpdateTimings::default();
    let start = Instant::now();
    for _ in 0..reps {
        let t = update(critic, &data.batch()).unwrap().timings;
        sum.forward += t.forward;
        sum.backward += t.backward;
        sum.optimiser += t.optimiser;
    }
    let total = start.elapsed() / reps as u32;
    let n = reps as u32;
    (UpdateTimings { forward: sum.forward / n, backward: sum.backward / n, optimiser: sum.optimiser / n }, total)
}

/// Mean time of the actor's critic call: the host `mean_q_and_action_grad`, and the candle
/// equivalent (eval-mode probabilities, expected values, member mean, backward to the actions).
fn time_action_gradient(critic: &CategoricalCritic, data: &Data, reps: usize) -> (Duration, Duration) {
    let obs = data.obs.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let actions = data.actions.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let host = || std::hint::black_box(critic.mean_q_and_action_grad(&obs, &actions, BATCH).unwrap());
    let candle = || {
        let var = candle_core::Var::from_tensor(&data.actions).unwrap();
        let probs = critic.probs_eval(&data.obs, var.as_tensor()).unwrap();
        let q: Vec<Tensor> = probs.iter().map(|p| critic.expected_value(p).unwrap()).collect();
        let mean = Tensor::stack(&q, 0).unwrap().mean(0).unwrap();
        std::hint::black_box(mean.sum_all().unwrap().backward().unwrap());
    };
    let time = |f: &dyn Fn()| {
        f();
        let start = Instant::now();
        for _ in 0..reps {
            f();
        }
        start.elapsed() / reps as u32
    };
    (
        time(&|| {
            host();
        }),
        time(&candle),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn critic_update(c: &mut Criterion) {
    let data = Data::new();
    let presets = [("paper", CriticConfig::paper(), 3usize), ("cpu", CriticConfig::cpu(), 30)];
    for (name, config, reps) in &presets {
        let flops = update_flops(config);
        let pairs = matmul_operands(config);
        let view_pairs = matmul_operands_as_autograd(config);
        let host_gemms = HostGemms::new(config);
        let mut net = critic(config);
        let mut reference = critic(config);
        for &threads in &thread_counts() {
            set_threads(threads);
            // Breakdown and same-run ratios, printed once per configuration.
            let (t, total) = mean_timings(&mut net, &data, *reps, CategoricalCritic::update);
            let (rt, reference_total) =
                mean_timings(&mut reference, &data, reps.div_ceil(3), CategoricalCritic::update_reference);
            let time = |f: &dyn Fn()| {
                f();
                let start = Instant::now();
                for _ in 0..*reps {
                    f();
                }
                start.elapsed() / *reps as u32
            };
            let matmul = time(&|| run_matmuls(&pairs));
            let view_matmul = time(&|| run_matmuls(&view_pairs));
            let host_gemm = time(&|| host_gemms.run());
            let gflops = |d: Duration| flops as f64 / d.as_secs_f64() / 1e9;
            let rate = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64();
            eprintln!(
                "critic {name} {threads}t (element-wise pool {}):\n  \
                 host update {:.2} ms ({:.1} GFLOP/s) = forward {:.2} + backward {:.2} + optimiser {:.2} ms\n  \
                 candle reference update {:.2} ms ({:.1} GFLOP/s) = forward {:.2} + backward {:.2} + optimiser {:.2} ms\n  \
                 same-FLOP candle matmul {:.2} ms ({:.1} GFLOP/s; {:.2} ms on transposed views as autograd issues them); \
                 host Gemm as the host path issues it {:.2} ms ({:.1} GFLOP/s)\n  \
                 host update/candle matmul rate {:.0}%, host update/host Gemm rate {:.0}%, host update {:.2}× faster than the reference",
                elementwise_threads(),
                ms(total),
                gflops(total),
                ms(t.forward),
                ms(t.backward),
                ms(t.optimiser),
                ms(reference_total),
                gflops(reference_total),
                ms(rt.forward),
                ms(rt.backward),
                ms(rt.optimiser),
                ms(matmul),
                gflops(matmul),
                ms(view_matmul),
                ms(host_gemm),
                gflops(host_gemm),
                rate(matmul),
                rate(host_gemm),
                reference_total.as_secs_f64() / total.as_secs_f64(),
            );

            let (host_actor, candle_actor) = time_action_gradient(&net, &data, *reps);
            eprintln!(
                "  actor's view (eval mode, {BATCH} rows): mean_q_and_action_grad {:.2} ms, candle probs_eval + expected_value + backward {:.2} ms ({:.2}×)",
                ms(host_actor),
                ms(candle_actor),
                candle_actor.as_secs_f64() / host_actor.as_secs_f64(),
            );

            let mut group = c.benchmark_group("critic_update");
            group.throughput(Throughput::Elements(flops));
            group.sample_size(10);
            group.bench_function(format!("{name}/{threads}t"), |b| b.iter(|| net.update(&data.batch()).unwrap()));
            group.finish();
            let mut group = c.benchmark_group("matmul_same_flops");
            group.throughput(Throughput::Elements(flops));
            group.sample_size(10);
            group.bench_function(format!("{name}/{threads}t"), |b| b.iter(|| run_matmuls(&pairs)));
            group.finish();
        }
    }
}

criterion_group!(benches, critic_update);
criterion_main!(benches);
