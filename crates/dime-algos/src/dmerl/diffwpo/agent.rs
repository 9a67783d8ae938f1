//! DiffWPO (dmerl.md §6): Wasserstein policy optimisation on the diffusion-augmented MDP, run in
//! the shared training loop on one environment — and, with a Gaussian policy (one kernel per
//! environment step, no latent), the Gaussian WPO baseline of §9.2 on the same code.
//!
//! Acting samples the chain and keeps each augmented transition `(s, x_k, k, x_{k+1})` with its
//! soft reward `r̃_k = r·1[k = K−1] − γ_k·α·ℓ'_{k+1}` (as DiffPPO) and its successor state. After
//! `rollout_steps` environment steps:
//! 1. the critic's TD(λ) targets over the augmented transitions, bootstrapping from
//!    `Q(s̃_{t+1}, x_{t+2})` at the next stored transition, or at a fresh sample where the
//!    episode or the rollout ended (GAE with `V = Q` of the taken step gives exactly the λ-return);
//! 2. `epochs` passes of minibatches mixing all k, each with
//!    - a critic step on `½·mean(Q − G)²`;
//!    - an actor step on the WPO surrogate of one denoising step: at `x̂ ~ π_θ(·|s̃_k)` (held),
//!      `L = mean_b Σ_i sg(α·g_ℓ − ∂Q/∂x̂)_i · g_ℓ(θ)_i` with `g_ℓ = ∇_x̂[log π_θ(x̂|s̃_k) − log q_k(x_k|x̂)]`
//!      (θ only through `log π_θ`); rows whose `K·KL(old ‖ new)` kernel divergence exceeds the
//!      bound take `λ_KL·K·KL` instead (the clipped trust region);
//!    - the temperature on `H = −K·mean(ℓ_k)` against `−m·d`, and `log λ_KL` on `−λ_KL·(KL − bound)`.

use candle_core::{DType, Device, Tensor};
use dime_nn::clip::clip_global_norm;
use dime_nn::{host_gradients, init, Adam, AdamConfig};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::config::WpoConfig;
use super::policy::{WpoPolicy, WpoPolicyConfig};
use crate::agent::{ActMode, Agent};
use crate::checkpoint::CheckpointFiles;
use crate::dmerl::net::AugmentedMlp;
use crate::dmerl::AugmentedConfig;
use crate::error::AlgoError;
use crate::onpolicy::{gae, gaussian_kl, wpo_surrogate_rows, GaeInputs};
use crate::ppo::Normalisers;
use crate::replay::ReplayBuffer;
use crate::sac::temperature_gradient;
use crate::temperature::LogTemperature;

/// The metrics reported after each rollout's update (means over the last epoch), in order.
pub const DIFFWPO_METRICS: [&str; 6] = ["critic_loss", "actor_loss", "kl", "alpha", "kl_multiplier", "entropy_proxy"];

/// The chain `act` sampled, waiting for its environment transition.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PendingChain {
    pub raw_obs: Vec<f32>,
    pub obs: Vec<f32>,
    /// `x_0` (the latent's width), then `x_1..x_K` (`d` each).
    pub states: Vec<f32>,
    /// `ℓ_k` of each step.
    pub log_ratio: Vec<f32>,
}

/// Augmented transitions of one rollout, in order, with each one's successor state.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Rollout {
    pub obs: Vec<f32>,
    pub x: Vec<f32>,
    pub steps: Vec<usize>,
    pub x_next: Vec<f32>,
    pub rewards: Vec<f32>,
    pub discounts: Vec<f32>,
    pub terminated: Vec<bool>,
    pub ended: Vec<bool>,
    pub succ_obs: Vec<f32>,
    pub succ_x: Vec<f32>,
    pub succ_steps: Vec<usize>,
}

/// A WPO learner: DiffWPO, or Gaussian WPO.
pub struct WpoAgent {
    pub(super) cfg: WpoConfig,
    pub(super) obs_dim: usize,
    pub(super) act_dim: usize,
    pub(super) policy: WpoPolicy,
    pub(super) q: AugmentedMlp,
    pub(super) policy_adam: Adam,
    pub(super) q_adam: Adam,
    pub(super) temperature: LogTemperature,
    pub(super) kl_multiplier: LogTemperature,
    pub(super) normalisers: Normalisers,
    pub(super) pending: Option<PendingChain>,
    pub(super) rollout: Rollout,
    augmented: AugmentedConfig,
    /// Width of `x_k` in a row: `d` for the chain, 0 for the Gaussian.
    latent_dim: usize,
}

fn host(t: &Tensor) -> Result<Vec<f32>, AlgoError> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

fn tensor(values: &[f32], rows: usize) -> Result<Tensor, AlgoError> {
    Ok(Tensor::from_slice(values, (rows, values.len() / rows), &Device::Cpu)?)
}

/// Rows `idx` of a row-major `[N, w]` column.
fn gather<T: Copy>(src: &[T], w: usize, idx: &[usize]) -> Vec<T> {
    idx.iter().flat_map(|&i| &src[i * w..(i + 1) * w]).copied().collect()
}

impl WpoAgent {
    /// A fresh agent; initial parameters come from `rng` (the run's `init` stream).
    pub fn new(cfg: WpoConfig, obs_dim: usize, act_dim: usize, rng: &mut ChaCha8Rng) -> Result<Self, AlgoError> {
        cfg.validate()?;
        let policy = WpoPolicy::new(&cfg.policy, obs_dim, act_dim, rng)?;
        let (k, latent_dim) = (policy.steps(), policy.latent_dim(act_dim));
        let q = AugmentedMlp::new("q", (obs_dim, latent_dim, k), &cfg.q_widths, act_dim, rng)?;
        let adam = AdamConfig { lr: cfg.learning_rate, beta1: 0.9, beta2: 0.999, eps: 1e-5 };
        let multiplier_adam = AdamConfig::new(cfg.multiplier_learning_rate, 0.9);
        let augmented = AugmentedConfig {
            denoising_steps: k,
            // The learner takes only discounts and soft steps from this config; σ0 is recorded
            // for the chain, and the Gaussian policy has no prior (1 keeps the config valid).
            prior_std: match &cfg.policy {
                WpoPolicyConfig::Diffusion { sampler, .. } => sampler.prior_std,
                WpoPolicyConfig::Gaussian { .. } => 1.0,
            },
            action_clip: cfg.action_clip,
            gamma: cfg.gamma as f32,
            discount_mode: cfg.discount_mode,
        };
        Ok(Self {
            policy_adam: Adam::new(policy.params(), adam),
            q_adam: Adam::new(q.params(), adam),
            temperature: LogTemperature::new(cfg.initial_alpha, Some(multiplier_adam))?,
            kl_multiplier: LogTemperature::new(cfg.initial_kl_multiplier, Some(multiplier_adam))?,
            normalisers: Normalisers::new(obs_dim, cfg.normalise_observations, cfg.normalise_rewards, 10.0),
            pending: None,
            rollout: Rollout::default(),
            cfg,
            obs_dim,
            act_dim,
            policy,
            q,
            augmented,
            latent_dim,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &WpoConfig {
        &self.cfg
    }

    /// The policy's parameters, sorted by name.
    pub fn policy_params(&self) -> &dime_nn::ParamStore {
        self.policy.params()
    }

    /// The critic `Q(s̃_k, x_{k+1})`.
    pub fn critic(&self) -> &AugmentedMlp {
        &self.q
    }

    /// Gradient steps of the policy so far.
    pub fn gradient_steps(&self) -> u64 {
        self.policy_adam.steps()
    }

    /// Fresh `x_{k+1} ~ π_θ(·|s, x_k, k)` and `ℓ_k` per row, without gradient.
    fn sample_detached(
        &self,
        obs: &[f32],
        x: &[f32],
        steps: &[usize],
        rng: &mut ChaCha8Rng,
    ) -> Result<(Tensor, Vec<f32>), AlgoError> {
        let (rows, d) = (steps.len(), self.act_dim);
        let eps = Tensor::from_vec(init::standard_normal(rng, rows * d), (rows, d), &Device::Cpu)?;
        let kernel = self.policy.kernel(obs, x, steps)?;
        let x_next = (&kernel.mean + (eps * &kernel.std)?)?.detach();
        let log_ratio = self.policy.log_ratio(&kernel, &tensor(x, rows)?, &x_next)?;
        Ok((x_next, host(&log_ratio.detach())?))
    }

    /// The critic's TD(λ) targets `G` of every stored transition (step 1 of the module docs).
    fn td_lambda_targets(&self, rng: &mut ChaCha8Rng) -> Result<Vec<f32>, AlgoError> {
        let (r, n, l) = (&self.rollout, self.rollout.steps.len(), self.latent_dim);
        let q_taken = host(&self.q.forward(&r.obs, &r.x, &r.steps, Some(&tensor(&r.x_next, n)?))?.detach())?;
        let mut next_values: Vec<f32> = (0..n).map(|t| if t + 1 < n { q_taken[t + 1] } else { 0.0 }).collect();
        let fresh: Vec<usize> = (0..n).filter(|&t| (r.ended[t] || t + 1 == n) && !r.terminated[t]).collect();
        if !fresh.is_empty() {
            let (obs, x, steps) = (
                gather(&r.succ_obs, self.obs_dim, &fresh),
                gather(&r.succ_x, l, &fresh),
                gather(&r.succ_steps, 1, &fresh),
            );
            let (action, _) = self.sample_detached(&obs, &x, &steps, rng)?;
            let values = host(&self.q.forward(&obs, &x, &steps, Some(&action))?.detach())?;
            fresh.iter().zip(values).for_each(|(&t, v)| next_values[t] = v);
        }
        let (_, returns) = gae(&GaeInputs {
            lanes: 1,
            rewards: &r.rewards,
            values: &q_taken,
            next_values: &next_values,
            discounts: &r.discounts,
            terminated: &r.terminated,
            ended: &r.ended,
            lambda: self.cfg.td_lambda as f32,
        })?;
        Ok(returns)
    }

    /// Step 2 of the module docs: the minibatch passes after a full rollout.
    fn learn(&mut self, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        let targets = self.td_lambda_targets(rng)?;
        let n = self.rollout.steps.len();
        // The kernels before this update: the trust region's reference.
        let r = &self.rollout;
        let old = self.policy.kernel(&r.obs, &r.x, &r.steps)?;
        let old = (old.mean.detach(), old.std.detach().contiguous()?);
        let size = n / self.cfg.minibatches;
        let mut order: Vec<usize> = (0..n).collect();
        let mut sums = [0.0f64; 6];
        for _ in 0..self.cfg.epochs {
            order.shuffle(rng);
            sums = [0.0; 6];
            for chunk in order.chunks_exact(size) {
                let m = self.minibatch_step(chunk, &targets, &old, rng)?;
                sums.iter_mut().zip(m).for_each(|(s, v)| *s += v);
            }
        }
        self.rollout = Rollout::default();
        self.policy.parameters_changed();
        Ok(sums.iter().map(|s| Some(s / self.cfg.minibatches as f64)).collect())
    }

    fn minibatch_step(
        &mut self,
        rows: &[usize],
        targets: &[f32],
        (old_mean, old_std): &(Tensor, Tensor),
        rng: &mut ChaCha8Rng,
    ) -> Result<[f64; 6], AlgoError> {
        let (o, d, b, k_steps) = (self.obs_dim, self.act_dim, rows.len(), self.policy.steps());
        let r = &self.rollout;
        let (obs, x, x_next) =
            (gather(&r.obs, o, rows), gather(&r.x, self.latent_dim, rows), gather(&r.x_next, d, rows));
        let steps = gather(&r.steps, 1, rows);
        let index = Tensor::from_vec(rows.iter().map(|&i| i as u32).collect::<Vec<_>>(), b, &Device::Cpu)?;
        let (old_mean, old_std) = (old_mean.index_select(&index, 0)?, old_std.index_select(&index, 0)?);

        // Critic: ½·mean(Q − G)².
        let q = self.q.forward(&obs, &x, &steps, Some(&tensor(&x_next, b)?))?;
        let target = Tensor::from_vec(gather(targets, 1, rows), b, &Device::Cpu)?;
        let critic_loss = ((&q - &target)?.sqr()?.mean_all()? * 0.5)?;
        let mut q_grads = host_gradients(self.q.params(), &critic_loss.backward()?)?;
        clip_global_norm(&mut q_grads, self.cfg.max_grad_norm);
        self.q_adam.step(self.q.params(), &q_grads)?;

        // Actor: the WPO surrogate of one denoising step, with the clipped trust region.
        let alpha = self.temperature.alpha()?;
        let lambda_kl = self.kl_multiplier.alpha()?;
        let kernel = self.policy.kernel(&obs, &x, &steps)?;
        let eps = Tensor::from_vec(init::standard_normal(rng, b * d), (b, d), &Device::Cpu)?;
        let x_hat = (&kernel.mean + (&eps * &kernel.std)?)?.detach();
        let g_q = self.q.action_gradient(&obs, &x, &steps, &x_hat)?;
        let x_t = tensor(&x, b)?;
        let g_ell = self.policy.score(&kernel, &x_t, &x_hat)?;
        let cotangent = ((g_ell.detach() * alpha)? - &g_q)?;
        let wpo_rows = wpo_surrogate_rows(&cotangent, &g_ell)?;
        let kl_rows = (gaussian_kl(&old_mean, &old_std, &kernel.mean, &kernel.std)? * k_steps as f64)?;
        let inside = kl_rows.detach().lt(self.cfg.kl_bound)?;
        let per_row = inside.where_cond(&wpo_rows, &(&kl_rows * lambda_kl)?)?;
        let actor_loss = per_row.mean_all()?;
        let mut grads = host_gradients(self.policy.params(), &actor_loss.backward()?)?;
        self.policy.hold_fixed(&mut grads);
        clip_global_norm(&mut grads, self.cfg.max_grad_norm);
        self.policy_adam.step(self.policy.params(), &grads)?;

        // Multipliers: α on H = −K·mean(ℓ_k) at the held samples, λ_KL on the mean KL.
        let ell = host(&self.policy.log_ratio(&kernel, &x_t, &x_hat)?.detach())?;
        let mean_ell = ell.iter().map(|&v| f64::from(v)).sum::<f64>() / b as f64;
        let target = -self.cfg.target_entropy_multiplier * d as f64;
        self.temperature.step(temperature_gradient(alpha, k_steps as f64 * mean_ell, target))?;
        let kl_mean = f64::from(kl_rows.mean_all()?.to_scalar::<f32>()?);
        self.kl_multiplier.step(-lambda_kl * (kl_mean - self.cfg.kl_bound))?;
        let scalar = |t: &Tensor| -> Result<f64, AlgoError> { Ok(f64::from(t.to_scalar::<f32>()?)) };
        Ok([scalar(&critic_loss)?, scalar(&actor_loss)?, kl_mean, alpha, lambda_kl, -(k_steps as f64) * mean_ell])
    }
}

impl Agent for WpoAgent {
    /// Explore: sample the chain, keeping every augmented transition; Eval: the same chain
    /// without keeping anything (evaluation is stochastic, as DIME's and DMERL's).
    fn act(&mut self, obs: &[f32], mode: ActMode, rng: &mut ChaCha8Rng, action: &mut [f32]) -> Result<(), AlgoError> {
        if mode == ActMode::Explore {
            self.normalisers.observe(obs);
        }
        let normalised = self.normalisers.observation(obs);
        let (k_steps, d, l) = (self.policy.steps(), self.act_dim, self.latent_dim);
        let states = self.policy.sample_chain(&normalised, d, rng)?;
        let clip = self.cfg.action_clip;
        for (out, x) in action.iter_mut().zip(&states[states.len() - d..]) {
            *out = x.tanh().clamp(-clip, clip);
        }
        if mode == ActMode::Explore {
            // Every step's ℓ_k in one batch: rows (s, x_k, k) → x_{k+1}.
            let steps: Vec<usize> = (0..k_steps).collect();
            let x = &states[..states.len() - d];
            let kernel = self.policy.kernel(&normalised.repeat(k_steps), x, &steps)?;
            let x_next = tensor(&states[l..], k_steps)?;
            let log_ratio = host(&self.policy.log_ratio(&kernel, &tensor(x, k_steps)?, &x_next)?.detach())?;
            self.pending = Some(PendingChain { raw_obs: obs.to_vec(), obs: normalised, states, log_ratio });
        }
        Ok(())
    }

    fn update(&mut self, replay: &ReplayBuffer, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        let none = vec![None; DIFFWPO_METRICS.len()];
        let (Some(t), Some(p)) = (replay.latest(), self.pending.take()) else {
            return Ok(none);
        };
        if t.obs != &p.raw_obs[..] {
            return Ok(none);
        }
        let (k_steps, d, l) = (self.policy.steps(), self.act_dim, self.latent_dim);
        let alpha = self.temperature.alpha()? as f32;
        // The augmented state after the environment step: (s', x_0', 0) with a fresh prior sample.
        let next_obs = self.normalisers.observation(t.next_obs);
        let x0_next = self.policy.initial_latent(d, rng);
        let next_ratio = if t.terminated { 0.0 } else { self.sample_detached(&next_obs, &x0_next, &[0], rng)?.1[0] };
        // Lane 0: WPO learns from one environment (`supports_parallel_envs` is false).
        let reward = self.normalisers.reward(0, t.reward, t.terminated, self.cfg.gamma);
        let following: Vec<f32> =
            (1..=k_steps).map(|j| if j < k_steps { p.log_ratio[j] } else { next_ratio }).collect();
        let soft = self.augmented.soft_steps(reward, alpha, &following, t.terminated, t.truncated);
        let r = &mut self.rollout;
        for (k, step) in soft.iter().enumerate() {
            r.obs.extend_from_slice(&p.obs);
            // x_k starts at 0 for k = 0 and at l + (k − 1)·d after (l = d for the chain).
            let (start, next_start) = (if k == 0 { 0 } else { l + (k - 1) * d }, l + k * d);
            r.x.extend_from_slice(&p.states[start..next_start]);
            r.x_next.extend_from_slice(&p.states[next_start..next_start + d]);
            r.steps.push(k);
            r.rewards.push(step.reward);
            r.discounts.push(step.discount);
            r.terminated.push(step.terminated);
            r.ended.push(step.ended);
            if k + 1 == k_steps {
                r.succ_obs.extend_from_slice(&next_obs);
                r.succ_x.extend_from_slice(&x0_next);
                r.succ_steps.push(0);
            } else {
                r.succ_obs.extend_from_slice(&p.obs);
                r.succ_x.extend_from_slice(&p.states[next_start..next_start + d]);
                r.succ_steps.push(k + 1);
            }
        }
        if self.rollout.steps.len() < self.cfg.rollout_steps * k_steps {
            return Ok(none);
        }
        self.learn(rng)
    }

    fn metric_names(&self) -> Vec<&'static str> {
        DIFFWPO_METRICS.to_vec()
    }

    fn save(&self) -> Result<CheckpointFiles, AlgoError> {
        self.save_files()
    }

    fn load(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        self.policy.parameters_changed();
        self.load_files(files)
    }
}

#[cfg(test)]
mod tests;
