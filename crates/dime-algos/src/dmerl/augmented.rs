//! The diffusion-augmented MDP (dmerl.md §3) as an adapter over a [`VecEnv`].
//!
//! An augmented state is `s̃_k = (s, x_k, k)`; the augmented action is `x_{k+1}`. For `k + 1 < K`
//! the real environment does not move, the reward is 0 and nothing ends; at `k + 1 = K` the
//! environment is stepped with `a = clip(tanh(x_K), ±action_clip)` (in `[-1, 1]` units: build
//! the lanes with `dime_envs::make_unit`), and the next augmented state is `(s', x_0', 0)` with a
//! fresh prior sample `x_0' ~ N(0, σ0²·I)`. All lanes advance `k` together. The soft-reward term
//! `−γ·α·ℓ'` of dmerl.md §3 belongs to the learner, which knows `ℓ`; this adapter gives the
//! environment's part and the discount of each augmented step.

use dime_envs::{VecEnv, VecStep};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::AlgoError;

/// Where the discount γ is applied (dmerl.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountMode {
    /// `γ_k = γ` at every augmented step (the official default): `γ^K` per environment step.
    PerDenoisingStep,
    /// `γ_k = 1` for `k < K − 1` and `γ` at the environment step.
    PerEnvStep,
}

/// The adapter's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugmentedConfig {
    /// Denoising steps K per environment step.
    pub denoising_steps: usize,
    /// Prior standard deviation σ0 of `x_0`.
    pub prior_std: f64,
    /// The environment sees `clip(tanh(x_K), ±action_clip)` (DA-MDP code: 0.999; DIME: 1).
    pub action_clip: f32,
    /// γ, applied as [`AugmentedConfig::discount_mode`] says.
    pub gamma: f32,
    /// Per denoising step or per environment step.
    pub discount_mode: DiscountMode,
}

impl AugmentedConfig {
    /// `γ_k` of augmented step `k` (0-based).
    pub fn discount(&self, k: usize) -> f32 {
        match self.discount_mode {
            DiscountMode::PerDenoisingStep => self.gamma,
            DiscountMode::PerEnvStep if k + 1 < self.denoising_steps => 1.0,
            DiscountMode::PerEnvStep => self.gamma,
        }
    }

    /// The discount per environment step this setting amounts to (`γ^K` or `γ`), for run configs.
    pub fn effective_env_discount(&self) -> f64 {
        (0..self.denoising_steps).map(|k| f64::from(self.discount(k))).product()
    }

    /// The learner's view of one environment step's K augmented transitions (dmerl.md §3): for
    /// each k, the soft reward `r̃_k = r·1[k = K−1] − γ_k·α·ℓ'_{k+1}` (no soft term after a
    /// termination), `γ_k`, and whether the episode terminated or ended there (only at `K − 1`).
    /// `following_log_ratio[k]` is `ℓ'_{k+1}`: the chain's own next step for `k < K − 1`, and
    /// a sample at the next environment state's `(s', x_0', 0)` for the last.
    pub fn soft_steps(
        &self,
        reward: f32,
        alpha: f32,
        following_log_ratio: &[f32],
        terminated: bool,
        truncated: bool,
    ) -> Vec<SoftStep> {
        let k_steps = self.denoising_steps;
        (0..k_steps)
            .map(|k| {
                let last = k + 1 == k_steps;
                let discount = self.discount(k);
                let terminal = last && terminated;
                let soft = if terminal { 0.0 } else { discount * alpha * following_log_ratio[k] };
                SoftStep {
                    reward: if last { reward } else { 0.0 } - soft,
                    discount,
                    terminated: terminal,
                    ended: last && (terminated || truncated),
                }
            })
            .collect()
    }

    fn validate(&self) -> Result<(), AlgoError> {
        let ok = self.denoising_steps > 0
            && self.prior_std > 0.0
            && self.action_clip > 0.0
            && self.action_clip <= 1.0
            && self.gamma > 0.0
            && self.gamma <= 1.0;
        match ok {
            true => Ok(()),
            false => Err(AlgoError::Config(format!("invalid diffusion-augmented MDP settings: {self:?}"))),
        }
    }
}

/// One augmented transition's reward, discount and episode flags, as a learner stores them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoftStep {
    /// `r̃_k`.
    pub reward: f32,
    /// `γ_k`.
    pub discount: f32,
    /// The episode reached a terminal state at this transition.
    pub terminated: bool,
    /// The episode ended (terminated or truncated) at this transition.
    pub ended: bool,
}

/// What one augmented step returned, per lane.
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentedStep {
    /// The real environment was stepped (the step had `k = K − 1`).
    pub env_stepped: bool,
    /// `k` of the step just taken.
    pub step_index: usize,
    /// Environment reward (0 at intermediate steps).
    pub reward: Vec<f32>,
    /// The episode reached a terminal state (only at the environment step).
    pub terminated: Vec<bool>,
    /// The episode hit its time limit or diverged (only at the environment step).
    pub truncated: Vec<bool>,
    /// `γ_k` of the step just taken.
    pub discount: f32,
}

/// [`VecEnv`] lanes seen as a diffusion-augmented MDP.
pub struct AugmentedEnv {
    env: VecEnv,
    cfg: AugmentedConfig,
    obs: Vec<f32>,
    latent: Vec<f32>,
    step_index: usize,
    env_step: VecStep,
    actions: Vec<f32>,
}

impl AugmentedEnv {
    /// Wrap `env` (lanes with actions in `[-1, 1]`); call [`AugmentedEnv::reset`] before stepping.
    pub fn new(env: VecEnv, cfg: AugmentedConfig) -> Result<Self, AlgoError> {
        cfg.validate()?;
        let (n, o, d) = (env.num_envs(), env.spec().obs_dim, env.spec().act_dim);
        Ok(Self {
            obs: vec![0.0; n * o],
            latent: vec![0.0; n * d],
            step_index: 0,
            env_step: VecStep::new(n, o),
            actions: vec![0.0; n * d],
            env,
            cfg,
        })
    }

    /// The settings.
    pub fn config(&self) -> &AugmentedConfig {
        &self.cfg
    }

    /// The wrapped environment.
    pub fn env(&self) -> &VecEnv {
        &self.env
    }

    /// Current environment observations `s`, `[N, o]`.
    pub fn obs(&self) -> &[f32] {
        &self.obs
    }

    /// Current latents `x_k`, `[N, d]`.
    pub fn latent(&self) -> &[f32] {
        &self.latent
    }

    /// Current denoising step `k` (the same for every lane).
    pub fn step_index(&self) -> usize {
        self.step_index
    }

    /// The last environment step's full results (final observations for bootstrapping,
    /// episode returns), valid after a step with `env_stepped`.
    pub fn last_env_step(&self) -> &VecStep {
        &self.env_step
    }

    /// Reset every lane and draw `x_0` from the prior with `rng`.
    pub fn reset(&mut self, rng: &mut ChaCha8Rng) -> Result<(), AlgoError> {
        self.env.reset(&mut self.obs)?;
        self.draw_prior(rng);
        self.step_index = 0;
        Ok(())
    }

    fn draw_prior(&mut self, rng: &mut ChaCha8Rng) {
        let noise = dime_nn::init::standard_normal(rng, self.latent.len());
        let std = self.cfg.prior_std as f32;
        self.latent.iter_mut().zip(noise).for_each(|(x, e)| *x = std * e);
    }

    /// Take the augmented action `x_{k+1}` (`[N, d]`) in every lane.
    pub fn step(&mut self, next_latent: &[f32], rng: &mut ChaCha8Rng) -> Result<AugmentedStep, AlgoError> {
        if next_latent.len() != self.latent.len() {
            return Err(AlgoError::InvalidInput(format!(
                "augmented action of length {} for latents of length {}",
                next_latent.len(),
                self.latent.len()
            )));
        }
        if !next_latent.iter().all(|v| v.is_finite()) {
            return Err(AlgoError::InvalidInput("the augmented action x_{k+1} is not finite".into()));
        }
        let (k, n) = (self.step_index, self.env.num_envs());
        let discount = self.cfg.discount(k);
        if k + 1 < self.cfg.denoising_steps {
            self.latent.copy_from_slice(next_latent);
            self.step_index = k + 1;
            let quiet = vec![false; n];
            return Ok(AugmentedStep {
                env_stepped: false,
                step_index: k,
                reward: vec![0.0; n],
                terminated: quiet.clone(),
                truncated: quiet,
                discount,
            });
        }
        let clip = self.cfg.action_clip;
        self.actions.iter_mut().zip(next_latent).for_each(|(a, x)| *a = x.tanh().clamp(-clip, clip));
        self.env.step(&self.actions, &mut self.env_step)?;
        self.obs.copy_from_slice(&self.env_step.obs);
        self.draw_prior(rng);
        self.step_index = 0;
        Ok(AugmentedStep {
            env_stepped: true,
            step_index: k,
            reward: self.env_step.reward.clone(),
            terminated: self.env_step.terminated.clone(),
            truncated: self.env_step.truncated.clone(),
            discount,
        })
    }

    /// The actions the environment saw at the last environment step, `[N, d]`.
    pub fn last_env_actions(&self) -> &[f32] {
        &self.actions
    }
}

#[cfg(test)]
mod tests;
