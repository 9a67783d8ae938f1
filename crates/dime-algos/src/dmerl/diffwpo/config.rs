//! The settings of DiffWPO and of the Gaussian WPO baseline (dmerl.md §6, §8, §9.2) and their presets.

use dime_diffusion::{SamplerConfig, StepSchedule};
use serde::{Deserialize, Serialize};

use super::policy::WpoPolicyConfig;
use crate::dmerl::DiscountMode;
use crate::error::AlgoError;

/// Everything that defines a WPO learner: DiffWPO or the Gaussian baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WpoConfig {
    /// The policy class and its settings.
    pub policy: WpoPolicyConfig,
    /// The environment sees `clip(tanh(x_K), ±action_clip)`.
    pub action_clip: f32,
    /// Environment steps per rollout (each is K augmented transitions).
    pub rollout_steps: usize,
    /// Passes over each rollout.
    pub epochs: usize,
    /// Minibatches per pass over the `rollout_steps·K` augmented transitions (mixing all k).
    pub minibatches: usize,
    /// Discount γ, applied as `discount_mode` says.
    pub gamma: f64,
    /// Per denoising step (official default) or per environment step.
    pub discount_mode: DiscountMode,
    /// λ of the critic's TD(λ) targets.
    pub td_lambda: f64,
    /// Hidden widths of `Q(s̃_k, x_{k+1})` (tanh).
    pub q_widths: Vec<usize>,
    /// Adam learning rate of the score network and of the critic.
    pub learning_rate: f64,
    /// Adam learning rate of log α and of the log KL multiplier.
    pub multiplier_learning_rate: f64,
    /// Initial temperature α.
    pub initial_alpha: f64,
    /// The target entropy is `−m·d` for `H = −K·mean(ℓ_k)` (dmerl.md §6: m = 8).
    pub target_entropy_multiplier: f64,
    /// Trust region: the WPO loss of a row is replaced by `λ_KL·KL` where `K·KL(old ‖ new)` of
    /// its step kernel exceeds this bound.
    pub kl_bound: f64,
    /// Initial KL Lagrange multiplier `λ_KL`.
    pub initial_kl_multiplier: f64,
    /// Global gradient-norm bound, applied to the policy's and the critic's gradients separately.
    pub max_grad_norm: f64,
    /// Normalise observations with running statistics (clipped to ±10).
    pub normalise_observations: bool,
    /// Divide environment rewards by the running std of the discounted return (clipped to ±10).
    pub normalise_rewards: bool,
}

impl WpoConfig {
    /// DiffWPO with the official settings (dmerl.md §8, WPO column) where this implementation has
    /// them: K 8, σ0 3, friction 0.25, dt 0.125 with the linear schedule (min 0.17), a 4 × 256
    /// GELU score network with a 32 → 16 time code, Adam 1e-3 (multipliers 6e-4), γ 0.999 per
    /// denoising step, λ 0.98, 8 epochs of 8·K minibatches, KL bound 0.02, grad-norm 0.5, α from
    /// 0.01 with target `−8·d`. Differences, all stated: the step sizes are learned as one ρ and
    /// a per-dimension friction (the official code learns one dt per step and dimension); the
    /// critic is a scalar 2 × 512 tanh MLP regressed on TD(λ) targets (the official one is
    /// categorical with HL-Gauss targets, LayerNorm and swish, with REPPO's auxiliary losses);
    /// the trust-region KL of the Gaussian step kernels is computed in closed form (the official
    /// code estimates it by sampling); one environment × 2048 steps per rollout.
    pub fn paper() -> Self {
        let mut sampler = SamplerConfig::paper();
        sampler.diffusion_steps = 8;
        sampler.prior_std = 3.0;
        sampler.initial_step_size = 0.125;
        sampler.initial_friction = 0.25;
        sampler.schedule = StepSchedule::Linear { min: 0.17 };
        sampler.score_net.hidden_layers = 4;
        sampler.score_net.fourier_frequencies = 32;
        sampler.score_net.time_encoder_width = 16;
        sampler.score_net.fourier_max_frequency = 50.0;
        Self {
            policy: WpoPolicyConfig::Diffusion { sampler, learn_step_sizes: true },
            action_clip: 0.999,
            rollout_steps: 2048,
            epochs: 8,
            minibatches: 64,
            gamma: 0.999,
            discount_mode: DiscountMode::PerDenoisingStep,
            td_lambda: 0.98,
            q_widths: vec![512, 512],
            learning_rate: 1e-3,
            multiplier_learning_rate: 6e-4,
            initial_alpha: 0.01,
            target_entropy_multiplier: 8.0,
            kl_bound: 0.02,
            initial_kl_multiplier: 1.0,
            max_grad_norm: 0.5,
            normalise_observations: true,
            normalise_rewards: false,
        }
    }

    /// Sized for this machine and set as DiffPPO's cpu preset: a 2 × 64 score network and
    /// critic, 10 epochs of 64 minibatches, Adam 3e-4, γ 0.99 per environment step (the task's
    /// own discount) with λ 0.95, and reward normalisation (Pendulum's unscaled returns dwarf a
    /// small critic's output layer, as they did DiffPPO's value network).
    pub fn cpu() -> Self {
        let mut cfg = Self::paper();
        if let WpoPolicyConfig::Diffusion { sampler, .. } = &mut cfg.policy {
            sampler.score_net.hidden_layers = 2;
            sampler.score_net.hidden_width = 64;
        }
        cfg.epochs = 10;
        cfg.learning_rate = 3e-4;
        cfg.gamma = 0.99;
        cfg.discount_mode = DiscountMode::PerEnvStep;
        cfg.td_lambda = 0.95;
        cfg.q_widths = vec![64, 64];
        cfg.normalise_rewards = true;
        cfg
    }

    /// Tiny settings for wiring checks and tests.
    pub fn smoke() -> Self {
        let mut cfg = Self::cpu();
        if let WpoPolicyConfig::Diffusion { sampler, .. } = &mut cfg.policy {
            sampler.diffusion_steps = 3;
            sampler.score_net.hidden_width = 16;
            sampler.score_net.fourier_frequencies = 4;
            sampler.score_net.time_encoder_width = 8;
        }
        cfg.rollout_steps = 32;
        cfg.epochs = 2;
        cfg.minibatches = 4;
        cfg.q_widths = vec![16];
        cfg
    }

    /// A DiffWPO preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "paper" => Some(Self::paper()),
            "cpu" => Some(Self::cpu()),
            "smoke" => Some(Self::smoke()),
            _ => None,
        }
    }

    /// The Gaussian WPO baseline with the same name's settings (dmerl.md §9.2: the same machinery
    /// and settings as DiffWPO, the chain replaced by a diagonal Gaussian over the pre-tanh action,
    /// `log σ` starting at 0): a mean network as wide and deep as the preset's score network.
    pub fn gaussian_preset(name: &str) -> Option<Self> {
        let mut cfg = Self::preset(name)?;
        if let WpoPolicyConfig::Diffusion { sampler, .. } = &cfg.policy {
            let hidden_widths = vec![sampler.score_net.hidden_width; sampler.score_net.hidden_layers];
            cfg.policy = WpoPolicyConfig::Gaussian { hidden_widths, initial_log_std: 0.0 };
        }
        Some(cfg)
    }

    /// The preset names [`WpoConfig::preset`] and [`WpoConfig::gaussian_preset`] know.
    pub const PRESETS: [&'static str; 3] = ["cpu", "paper", "smoke"];

    /// Kernels per environment step: K for the chain, 1 for the Gaussian.
    pub fn steps(&self) -> usize {
        match &self.policy {
            WpoPolicyConfig::Diffusion { sampler, .. } => sampler.diffusion_steps,
            WpoPolicyConfig::Gaussian { .. } => 1,
        }
    }

    /// Reject settings that cannot run.
    pub fn validate(&self) -> Result<(), AlgoError> {
        match &self.policy {
            WpoPolicyConfig::Diffusion { sampler, .. } => sampler.validate()?,
            WpoPolicyConfig::Gaussian { hidden_widths, initial_log_std } => {
                if hidden_widths.is_empty() || hidden_widths.contains(&0) || !initial_log_std.is_finite() {
                    return Err(AlgoError::Config(
                        "WPO: a Gaussian policy needs positive hidden widths and a finite log-std".into(),
                    ));
                }
            }
        }
        let transitions = self.rollout_steps * self.steps();
        let positive = [self.learning_rate, self.multiplier_learning_rate, self.initial_alpha, self.kl_bound];
        let problem = if self.rollout_steps == 0 || self.epochs == 0 || self.minibatches == 0 {
            Some("rollout_steps, epochs and minibatches must be positive".to_string())
        } else if !transitions.is_multiple_of(self.minibatches) {
            Some(format!("{} minibatches do not divide {transitions} augmented transitions", self.minibatches))
        } else if !(self.gamma > 0.0 && self.gamma <= 1.0 && (0.0..=1.0).contains(&self.td_lambda)) {
            Some(format!("gamma {} must be in (0, 1] and td_lambda {} in [0, 1]", self.gamma, self.td_lambda))
        } else if !(positive.iter().all(|&v| v > 0.0) && self.initial_kl_multiplier > 0.0 && self.max_grad_norm > 0.0) {
            Some("learning rates, initial α, KL bound and multiplier and max_grad_norm must be positive".to_string())
        } else if !(self.action_clip > 0.0 && self.action_clip <= 1.0) {
            Some(format!("action_clip {} must be in (0, 1]", self.action_clip))
        } else if self.q_widths.is_empty() || self.q_widths.contains(&0) {
            Some("q_widths must be non-empty and positive".to_string())
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(AlgoError::Config(format!("WPO: {p}"))))
    }
}
