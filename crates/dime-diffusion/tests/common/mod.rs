//! Shared helpers of the integration tests.
#![allow(dead_code)]

use candle_core::{DType, Device, Tensor};
use dime_diffusion::{DiffusionPolicy, FirstLayerForm, OutputInit, SamplerConfig, ScoreNetConfig};
use dime_nn::Activation;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Paper sampler (cosine schedule, σ0 2.5, dt 0.1, friction 1) with a small network whose
/// output layer is LeCun-initialised, so that the score network's output matters.
pub fn small_config(steps: usize, width: usize, form: FirstLayerForm) -> SamplerConfig {
    let mut config = SamplerConfig::paper();
    config.diffusion_steps = steps;
    config.score_net = ScoreNetConfig {
        hidden_width: width,
        hidden_layers: 3,
        activation: Activation::Gelu,
        fourier_frequencies: width / 2,
        fourier_min_frequency: 0.1,
        fourier_max_frequency: 100.0,
        time_encoder_width: width,
        output_init: OutputInit::LecunNormal,
        output_clip: 1e4,
    };
    config.first_layer = form;
    config
}

/// A policy from `config` with a seeded init, and a non-zero Fourier phase, step size and friction
/// (so every parameter has a visible effect).
pub fn random_policy(config: SamplerConfig, dims: (usize, usize), seed: u64, dtype: DType) -> DiffusionPolicy {
    let (obs_dim, action_dim) = dims;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let policy = DiffusionPolicy::new(config, obs_dim, action_dim, &mut rng, dtype, &Device::Cpu).unwrap();
    let phase = policy.params().get("score.fourier_phase").unwrap().dims().to_vec();
    let n: usize = phase.iter().product();
    let values = dime_nn::init::standard_normal(&mut rng, n);
    policy.params().set("score.fourier_phase", &Tensor::from_vec(values, phase, &Device::Cpu).unwrap()).unwrap();
    policy.params().set(dime_diffusion::STEP_SIZE_RAW, &Tensor::new(&[-1.2f32], &Device::Cpu).unwrap()).unwrap();
    let friction: Vec<f32> = (0..action_dim).map(|i| -0.5 + 0.6 * i as f32).collect();
    policy
        .params()
        .set(dime_diffusion::FRICTION_RAW, &Tensor::new(friction.as_slice(), &Device::Cpu).unwrap())
        .unwrap();
    policy
}

/// `[batch, obs_dim]` standard-normal observations from `seed`.
pub fn observations(batch: usize, obs_dim: usize, seed: u64, dtype: DType) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values = dime_nn::init::standard_normal(&mut rng, batch * obs_dim);
    Tensor::from_vec(values, (batch, obs_dim), &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
}

/// Flattened values as f64.
pub fn host(t: &Tensor) -> Vec<f64> {
    t.flatten_all().unwrap().to_dtype(DType::F64).unwrap().to_vec1::<f64>().unwrap()
}

/// Largest absolute difference.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}
