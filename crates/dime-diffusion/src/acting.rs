//! The no-gradient fast path for acting.
//!
//! An [`ActingPolicy`] is a frozen copy of the policy's parameters with everything that does
//! not depend on the observation computed once: the time path's per-step bias rows and the
//! step sizes. Batches go through candle ([`ActingPolicy::act`], [`ActingPolicy::sample`]);
//! a single observation ([`ActingPolicy::act_one`]) runs the hoisted chain on host slices,
//! because at batch 1 candle's per-op overhead costs more than the arithmetic. The host path
//! computes the same mathematics in a different summation order (agreement ~1e-6, tested).

use candle_core::{Device, Tensor};
use dime_nn::host::vec_mat_add;
use dime_nn::init::standard_normal;
use rand_chacha::ChaCha8Rng;

use crate::chain::{finish_chain, run_chain, ChainPlan, TimePart};
use crate::score_net::{HostMlp, Track};
use crate::{Chain, ChainNoise, DiffusionPolicy, SamplerError};

/// A frozen, precomputed policy for sampling without gradients.
pub struct ActingPolicy {
    policy: DiffusionPolicy,
    plan: ChainPlan,
    host: HostMlp,
    eta: Vec<f32>,
    scale: Vec<f32>,
}

impl std::fmt::Debug for ActingPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActingPolicy").field("policy", &self.policy).finish_non_exhaustive()
    }
}

fn host(t: &Tensor) -> Result<Vec<f32>, SamplerError> {
    Ok(t.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?)
}

impl ActingPolicy {
    pub(crate) fn new(policy: DiffusionPolicy, plan: ChainPlan) -> Result<Self, SamplerError> {
        let bias_rows = match &plan.time {
            TimePart::Hoisted { bias_rows } => bias_rows.clone(),
            TimePart::Plain { tau, .. } => policy.net().time_bias_rows(tau, Track::Detached)?,
        };
        let host_mlp = policy.net().host_mlp(&bias_rows)?;
        let (eta, scale) = (host(&plan.step_sizes.eta)?, host(&plan.step_sizes.scale)?);
        Ok(Self { policy, plan, host: host_mlp, eta, scale })
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

    /// The full chain with every ℓ part, without gradient (e.g. for critic targets).
    pub fn sample(&self, obs: &Tensor, noise: &ChainNoise) -> Result<Chain, SamplerError> {
        self.policy.check_inputs(obs, noise)?;
        let (states, path) = run_chain(self.policy.net(), &self.plan, obs, noise, true)?;
        finish_chain(states, path.expect("bound requested"), &self.plan.prior_std_row)
    }

    /// One action for one observation, noise drawn from `rng` exactly as
    /// [`ChainNoise::draw`] draws it for a batch of one.
    pub fn act_one(&self, obs: &[f32], rng: &mut ChaCha8Rng) -> Result<Vec<f32>, SamplerError> {
        let d = self.policy.action_dim();
        let sigma0 = self.policy.config().prior_std as f32;
        let x0: Vec<f32> = standard_normal(rng, d).into_iter().map(|e| sigma0 * e).collect();
        let eps = standard_normal(rng, self.policy.config().diffusion_steps * d);
        self.act_one_with_noise(obs, &x0, &eps)
    }

    /// One action for one observation with given prior sample `x0: [d]` and step noise
    /// `eps: [K·d]` (row-major `[K, d]`), on host slices.
    pub fn act_one_with_noise(&self, obs: &[f32], x0: &[f32], eps: &[f32]) -> Result<Vec<f32>, SamplerError> {
        let states = self.chain_one_with_noise(obs, x0, eps)?;
        let d = self.policy.action_dim();
        Ok(states[states.len() - d..].iter().map(|v| v.tanh()).collect())
    }

    /// The pre-tanh states `x_0..x_K` (`[(K+1)·d]`, row-major) of one observation's chain with
    /// given prior sample `x0: [d]` and step noise `eps: [K·d]`, on host slices (what an
    /// algorithm that learns from every denoising step stores, dmerl.md §3).
    pub fn chain_one_with_noise(&self, obs: &[f32], x0: &[f32], eps: &[f32]) -> Result<Vec<f32>, SamplerError> {
        let (o, d, steps) = (self.policy.obs_dim(), self.policy.action_dim(), self.policy.config().diffusion_steps);
        if obs.len() != o {
            return Err(SamplerError::ObservationWidth { expected: o, got: vec![obs.len()] });
        }
        if x0.len() != d || eps.len() != steps * d {
            return Err(SamplerError::NoiseShape {
                what: "x0/eps",
                expected: vec![d, steps * d],
                got: vec![x0.len(), eps.len()],
            });
        }
        if !obs.iter().all(|v| v.is_finite()) {
            return Err(SamplerError::NonFinite("observation"));
        }
        if !x0.iter().chain(eps).all(|v| v.is_finite()) {
            return Err(SamplerError::NonFinite("noise"));
        }
        let net = &self.host;
        let width = net.bias_rows.len() / steps;
        let prior_var = (self.policy.config().prior_std * self.policy.config().prior_std) as f32;
        let mut obs_term = vec![0.0f32; width];
        vec_mat_add(obs, &net.weight_obs, &mut obs_term);
        let mut x = x0.to_vec();
        let mut states = Vec::with_capacity((steps + 1) * d);
        states.extend_from_slice(x0);
        let mut score = vec![0.0f32; d];
        for k in 0..steps {
            let mut h = obs_term.clone();
            vec_mat_add(&x, &net.weight_action, &mut h);
            for (hj, bj) in h.iter_mut().zip(&net.bias_rows[k * width..(k + 1) * width]) {
                *hj += bj;
            }
            net.activation.apply_slice(&mut h);
            for (weight, bias) in &net.hidden {
                let mut next = bias.clone();
                vec_mat_add(&h, weight, &mut next);
                net.activation.apply_slice(&mut next);
                h = next;
            }
            score.copy_from_slice(&net.output.1);
            vec_mat_add(&h, &net.output.0, &mut score);
            for i in 0..d {
                let f = score[i].clamp(-net.output_clip, net.output_clip);
                let mean = x[i] + self.eta[k * d + i] * (f - x[i] / prior_var);
                x[i] = mean + self.scale[k * d + i] * eps[k * d + i];
            }
            states.extend_from_slice(&x);
        }
        Ok(states)
    }
}

/// The batch-of-one noise as tensors (for comparing the host path with the batched path).
pub fn single_noise(x0: &[f32], eps: &[f32], steps: usize) -> Result<ChainNoise, SamplerError> {
    let d = x0.len();
    Ok(ChainNoise {
        x0: Tensor::from_slice(x0, (1, d), &Device::Cpu)?,
        eps: Tensor::from_slice(eps, (steps, 1, d), &Device::Cpu)?,
    })
}
