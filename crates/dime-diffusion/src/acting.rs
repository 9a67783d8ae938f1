//! The no-gradient fast path for acting.
//!
//! An [`ActingPolicy`] is a frozen copy of the policy's parameters with everything that does
//! not depend on the observation computed once: the time path's per-step bias rows (or τ rows)
//! and the step sizes. Acting then costs K passes of the main MLP only, and no ℓ terms.

use candle_core::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use crate::chain::{finish_chain, run_chain, ChainPlan};
use crate::{Chain, ChainNoise, DiffusionPolicy, SamplerError};

/// A frozen, precomputed policy for sampling without gradients.
pub struct ActingPolicy {
    policy: DiffusionPolicy,
    plan: ChainPlan,
}

impl std::fmt::Debug for ActingPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActingPolicy").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl ActingPolicy {
    pub(crate) fn new(policy: DiffusionPolicy, plan: ChainPlan) -> Result<Self, SamplerError> {
        Ok(Self { policy, plan })
    }

    /// The frozen policy (its parameters are a copy).
    pub fn policy(&self) -> &DiffusionPolicy {
        &self.policy
    }

    /// Actions `a = tanh(x_K)`, `[B, d]`, for observations `[B, o]` and the given noise.
    pub fn act(&self, obs: &Tensor, noise: &ChainNoise) -> Result<Tensor, SamplerError> {
        self.policy.check_inputs(obs, noise)?;
        let (states, _) = run_chain(self.policy.net(), &self.plan, obs, noise, false)?;
        Ok(states.last().expect("x_0 exists").tanh()?)
    }

    /// One action for one observation given as a host slice, noise drawn from `rng`.
    pub fn act_one(&self, obs: &[f32], rng: &mut ChaCha8Rng) -> Result<Vec<f32>, SamplerError> {
        let noise = self.policy.draw_noise(rng, 1)?;
        let dtype = noise.x0.dtype();
        let obs =
            Tensor::from_slice(obs, (1, obs.len()), &Device::Cpu)?.to_dtype(dtype)?.to_device(noise.x0.device())?;
        let action = self.act(&obs, &noise)?;
        Ok(action.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?)
    }

    /// The full chain with every ℓ part, without gradient (e.g. for critic targets).
    pub fn sample(&self, obs: &Tensor, noise: &ChainNoise) -> Result<Chain, SamplerError> {
        self.policy.check_inputs(obs, noise)?;
        let (states, path) = run_chain(self.policy.net(), &self.plan, obs, noise, true)?;
        finish_chain(states, path.expect("bound requested"), &self.plan.prior_std_row)
    }
}
