//! PPO's networks (dmerl.md §9.1, CleanRL): a Gaussian policy whose mean is a tanh MLP and whose
//! log-std is a state-independent parameter (initialised to 0), and a tanh MLP value function.
//! Kernels are orthogonal (gain √2; policy output 0.01; value output 1), biases zero, all drawn
//! from the caller's stream.

use candle_core::{DType, Device, Tensor};
use dime_nn::{init, Linear, ParamStore};
use rand_chacha::ChaCha8Rng;

use crate::error::AlgoError;

/// `½·log(2π)`.
const HALF_LOG_TWO_PI: f64 = 0.918_938_533_204_672_7;

/// The policy and value networks in one parameter store.
pub struct GaussianPolicy {
    store: ParamStore,
    policy_hidden: Vec<Linear>,
    mean: Linear,
    value_hidden: Vec<Linear>,
    value: Linear,
    act_dim: usize,
}

/// A dense layer with an orthogonal kernel (gain `gain`) and a zero bias, registered as `name`.
pub(crate) fn orthogonal_layer(
    store: &mut ParamStore,
    name: &str,
    fan_in: usize,
    fan_out: usize,
    gain: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Linear, AlgoError> {
    let weight = init::orthogonal(rng, fan_in, fan_out, gain);
    Ok(Linear::from_host(store, name, weight, vec![0.0; fan_out], fan_in, DType::F32, &Device::Cpu)?)
}

/// `x` through `layers`, each followed by tanh.
pub(crate) fn tanh_mlp(layers: &[Linear], x: &Tensor) -> Result<Tensor, AlgoError> {
    let mut h = x.clone();
    for layer in layers {
        h = layer.forward(&h)?.tanh()?;
    }
    Ok(h)
}

impl GaussianPolicy {
    /// Networks for `obs_dim` → `act_dim` with the given hidden widths.
    pub fn new(obs_dim: usize, act_dim: usize, widths: &[usize], rng: &mut ChaCha8Rng) -> Result<Self, AlgoError> {
        let mut store = ParamStore::new();
        let gain = std::f64::consts::SQRT_2;
        let build = |store: &mut ParamStore, prefix: &str, rng: &mut ChaCha8Rng| -> Result<Vec<Linear>, AlgoError> {
            let mut fan_in = obs_dim;
            let mut layers = Vec::new();
            for (i, &w) in widths.iter().enumerate() {
                layers.push(orthogonal_layer(store, &format!("{prefix}.hidden{i}"), fan_in, w, gain, rng)?);
                fan_in = w;
            }
            Ok(layers)
        };
        let policy_hidden = build(&mut store, "policy", rng)?;
        let last = *widths.last().expect("validated non-empty");
        let mean = orthogonal_layer(&mut store, "policy.mean", last, act_dim, 0.01, rng)?;
        let value_hidden = build(&mut store, "value", rng)?;
        let value = orthogonal_layer(&mut store, "value.out", last, 1, 1.0, rng)?;
        store.insert("policy.log_std", Tensor::zeros((1, act_dim), DType::F32, &Device::Cpu)?)?;
        Ok(Self { store, policy_hidden, mean, value_hidden, value, act_dim })
    }

    /// All parameters, sorted by name.
    pub fn params(&self) -> &ParamStore {
        &self.store
    }

    /// The policy mean `μ(s)`, `[B, d]`.
    pub fn mean(&self, obs: &Tensor) -> Result<Tensor, AlgoError> {
        Ok(self.mean.forward(&tanh_mlp(&self.policy_hidden, obs)?)?)
    }

    /// `log σ`, `[1, d]`.
    pub fn log_std(&self) -> Result<Tensor, AlgoError> {
        Ok(self.store.get("policy.log_std")?.as_tensor().clone())
    }

    /// `V(s)`, `[B]`.
    pub fn value(&self, obs: &Tensor) -> Result<Tensor, AlgoError> {
        Ok(self.value.forward(&tanh_mlp(&self.value_hidden, obs)?)?.squeeze(1)?)
    }

    /// `log N(a; μ, σ²)` summed over dimensions, `[B]`.
    pub fn log_prob(&self, mean: &Tensor, actions: &Tensor) -> Result<Tensor, AlgoError> {
        Ok(dime_nn::diag_gaussian_log_density(actions, mean, &self.log_std()?.exp()?)?)
    }

    /// The Gaussian's entropy `Σ_i (½ + ½·log 2π + log σ_i)` (the same for every state).
    pub fn entropy(&self) -> Result<Tensor, AlgoError> {
        Ok((self.log_std()? + (0.5 + HALF_LOG_TWO_PI))?.sum_all()?)
    }

    /// Action dimension.
    pub fn act_dim(&self) -> usize {
        self.act_dim
    }
}
