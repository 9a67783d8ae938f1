//! Diffusion-policy benchmarks (issue 3), each next to a baseline measured in the same run.
//!
//! - `actor_update`: one actor update of the paper sampler (K = 16, batch 256, o = 17, d = 6):
//!   noise draw, chain forward with gradient, backward, NaN-zeroing, element-wise clip, Adam.
//!   The loss is `mean(ℓ) + mean(Σ a)` (the critic's share of a real actor update, 4.5 GMAC of
//!   2048-wide critic work, belongs to `dime-critic` and is not in here).
//!   Baseline: candle's single-thread f32 matmul, 256×256 by 256×256, repeated to do the same
//!   number of multiply-adds as the update (counted as in dime.md §10: forward MACs of the
//!   hoisted chain, backward = 2 × forward). Efficiency = baseline time / update time.
//!   `update_k16_b256_host` is the same update on the CPU fast path (`forward_host` with a kept
//!   tape, `host_gradients`), the path the DIME agent uses on the CPU.
//! - `act_one`: one action for one observation through the frozen acting path (target < 200 µs).
//! - `first_layer`: the same update and a detached batch-256 sample, hoisted versus plain;
//!   `sample_host_b256` is the detached sample on the CPU fast path (critic targets).
//!
//! Everything runs single-threaded (`RAYON_NUM_THREADS=1`, read by candle at every matmul) unless
//! `RAYON_NUM_THREADS` is set; the baseline is always one thread.

use candle_core::{DType, Device, Tensor};
use criterion::{criterion_group, criterion_main, Criterion};
use dime_diffusion::{DiffusionPolicy, FirstLayerForm, SamplerConfig};
use dime_nn::clip::{clip_elementwise, zero_nans};
use dime_nn::{host_gradients, Adam, AdamConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// The allocator of the `dime` binary, so that allocation costs are the ones users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const OBS_DIM: usize = 17;
const ACTION_DIM: usize = 6;
const BATCH: usize = 256;

fn policy(form: FirstLayerForm) -> DiffusionPolicy {
    let mut config = SamplerConfig::paper();
    config.first_layer = form;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    DiffusionPolicy::new(config, OBS_DIM, ACTION_DIM, &mut rng, DType::F32, &Device::Cpu).unwrap()
}

fn observations(batch: usize) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let values = dime_nn::init::standard_normal(&mut rng, batch * OBS_DIM);
    Tensor::from_vec(values, (batch, OBS_DIM), &Device::Cpu).unwrap()
}

/// Multiply-adds of one hoisted chain forward for `batch` samples (dime.md §10):
/// per chain K·(time path + time bias row); per sample 256·o + K·(256·d + 2·256² + 256·d).
fn hoisted_forward_macs(batch: usize) -> f64 {
    let (k, h) = (16.0, 256.0);
    let (o, d) = (OBS_DIM as f64, ACTION_DIM as f64);
    let time_path = 512.0 * 256.0 + 256.0 * 256.0;
    let per_chain = k * (time_path + 256.0 * h);
    let per_sample = h * o + k * (h * d + 2.0 * h * h + h * d);
    per_chain + batch as f64 * per_sample
}

/// One actor update; returns nothing, mutates the policy and Adam state.
struct Update {
    policy: DiffusionPolicy,
    adam: Adam,
    obs: Tensor,
    rng: ChaCha8Rng,
}

impl Update {
    fn new(form: FirstLayerForm) -> Self {
        let policy = policy(form);
        let adam = Adam::new(policy.params(), AdamConfig::new(3e-4, 0.5));
        Self { policy, adam, obs: observations(BATCH), rng: ChaCha8Rng::seed_from_u64(2) }
    }

    fn step(&mut self) {
        let noise = self.policy.draw_noise(&mut self.rng, BATCH).unwrap();
        let chain = self.policy.sample(&self.obs, &noise).unwrap();
        let loss = (chain.log_prob_bound().unwrap().mean_all().unwrap()
            + (chain.action.sum_all().unwrap() / BATCH as f64).unwrap())
        .unwrap();
        let mut grads = host_gradients(self.policy.params(), &loss.backward().unwrap()).unwrap();
        zero_nans(&mut grads);
        clip_elementwise(&mut grads, 1.0);
        self.adam.step(self.policy.params(), &grads).unwrap();
    }
}

/// The same update on the CPU fast path.
struct HostUpdate {
    inner: Update,
    obs: Vec<f32>,
    tape: dime_diffusion::Tape,
}

impl HostUpdate {
    fn new() -> Self {
        let inner = Update::new(FirstLayerForm::Hoisted);
        let obs = inner.obs.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        Self { inner, obs, tape: dime_diffusion::Tape::default() }
    }

    fn step(&mut self) {
        let u = &mut self.inner;
        let noise = u.policy.draw_noise(&mut u.rng, BATCH).unwrap();
        let chain = u.policy.host_chain().unwrap();
        u.policy.forward_host(&chain, &self.obs, &noise, true, &mut self.tape).unwrap();
        let (d_action, d_bound) = (vec![1.0 / BATCH as f32; BATCH * ACTION_DIM], vec![1.0 / BATCH as f32; BATCH]);
        let mut grads = u.policy.host_gradients(&chain, &mut self.tape, &d_action, &d_bound).unwrap();
        zero_nans(&mut grads);
        clip_elementwise(&mut grads, 1.0);
        u.adam.step(u.policy.params(), &grads).unwrap();
    }
}

fn bench(c: &mut Criterion) {
    // One thread unless the caller asks for more (`RAYON_NUM_THREADS=2` measures the host
    // path's row blocks on two cores; the baseline stays a single-thread figure either way).
    if std::env::var("RAYON_NUM_THREADS").is_err() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    let update_macs = 3.0 * hoisted_forward_macs(BATCH);
    let square = 256usize;
    let matmuls = (update_macs / (square * square * square) as f64).round() as usize;
    eprintln!(
        "actor update ≈ {:.3} GMAC ({:.2} GFLOP); baseline = {matmuls} matmuls of 256×256·256×256",
        update_macs / 1e9,
        2.0 * update_macs / 1e9
    );

    let mut group = c.benchmark_group("actor_update");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let mut hoisted = Update::new(FirstLayerForm::Hoisted);
    group.bench_function("update_k16_b256_hoisted", |b| b.iter(|| hoisted.step()));
    let mut plain = Update::new(FirstLayerForm::Plain);
    group.bench_function("update_k16_b256_plain", |b| b.iter(|| plain.step()));
    let mut host = HostUpdate::new();
    group.bench_function("update_k16_b256_host", |b| b.iter(|| host.step()));
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let lhs =
        Tensor::from_vec(dime_nn::init::standard_normal(&mut rng, square * square), (square, square), &Device::Cpu)
            .unwrap();
    let rhs =
        Tensor::from_vec(dime_nn::init::standard_normal(&mut rng, square * square), (square, square), &Device::Cpu)
            .unwrap();
    let threads = std::env::var("RAYON_NUM_THREADS").expect("set above");
    std::env::set_var("RAYON_NUM_THREADS", "1");
    group.bench_function("matmul_baseline_same_macs", |b| {
        b.iter(|| {
            for _ in 0..matmuls {
                criterion::black_box(lhs.matmul(&rhs).unwrap());
            }
        })
    });
    std::env::set_var("RAYON_NUM_THREADS", threads);
    group.finish();

    let mut group = c.benchmark_group("sampling");
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    for form in [FirstLayerForm::Hoisted, FirstLayerForm::Plain] {
        let acting = policy(form).acting_policy().unwrap();
        let obs: Vec<f32> = (0..OBS_DIM).map(|i| 0.1 * i as f32).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        group.bench_function(format!("act_one_{form:?}").to_lowercase(), |b| {
            b.iter(|| acting.act_one(&obs, &mut rng).unwrap())
        });
        let p = policy(form);
        let obs_batch = observations(BATCH);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        group.bench_function(format!("sample_detached_b256_{form:?}").to_lowercase(), |b| {
            b.iter(|| {
                let noise = p.draw_noise(&mut rng, BATCH).unwrap();
                p.sample_detached(&obs_batch, &noise).unwrap()
            })
        });
    }
    let p = policy(FirstLayerForm::Hoisted);
    let obs_host = observations(BATCH).flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let mut tape = dime_diffusion::Tape::default();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    group.bench_function("sample_host_b256", |b| {
        b.iter(|| {
            let noise = p.draw_noise(&mut rng, BATCH).unwrap();
            let chain = p.host_chain().unwrap();
            p.forward_host(&chain, &obs_host, &noise, false, &mut tape).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
