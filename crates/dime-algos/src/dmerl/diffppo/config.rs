//! DiffPPO's settings (dmerl.md §5, §8) and presets.

use dime_diffusion::{SamplerConfig, StepSchedule};
use serde::{Deserialize, Serialize};

use crate::dmerl::DiscountMode;
use crate::error::AlgoError;

/// Everything that defines a DiffPPO learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffPpoConfig {
    /// The diffusion policy (K, prior, step sizes, score network).
    pub sampler: SamplerConfig,
    /// Train the step size ρ and the friction φ (the DiffPPO config keeps them fixed).
    pub learn_step_sizes: bool,
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
    /// GAE λ over augmented transitions.
    pub gae_lambda: f64,
    /// Clip range of the per-step ratio and of the value loss.
    pub clip: f64,
    /// Weight of the value loss.
    pub value_coef: f64,
    /// Temperature α of the soft reward and the centred entropy term (fixed).
    pub alpha: f64,
    /// Global gradient-norm bound, applied to the policy's and the value network's gradients separately.
    pub max_grad_norm: f64,
    /// Adam learning rate of both networks.
    pub learning_rate: f64,
    /// Hidden widths of the value network `V(s, x_k, k)` (tanh).
    pub value_widths: Vec<usize>,
    /// Normalise observations with running statistics (clipped to ±10).
    pub normalise_observations: bool,
    /// Divide environment rewards by the running std of the discounted return (clipped to ±10),
    /// as the Gaussian PPO baseline does.
    pub normalise_rewards: bool,
}

impl DiffPpoConfig {
    /// The official DiffPPO settings (dmerl.md §8, `config/DA_MDP_PPO/default.yaml`), run on one
    /// environment: K 8, σ0 2.5, dt 0.125 with a linear schedule (min 0.05), friction 1, both fixed,
    /// a 4 × 256 GELU score network with a 32 → 16 time code, α 0.002, γ 0.999 per denoising step,
    /// λ 0.98, clip 0.2, grad-norm 0.5, Adam 1e-4, 16 epochs. The official rollout (2048 envs × 128
    /// steps) becomes one environment × 2048 steps; 128·K minibatches of the official batch become
    /// 16·K here, so a minibatch keeps about 128 augmented transitions.
    pub fn paper() -> Self {
        let mut sampler = SamplerConfig::paper();
        sampler.diffusion_steps = 8;
        sampler.initial_step_size = 0.125;
        sampler.schedule = StepSchedule::Linear { min: 0.05 };
        sampler.score_net.hidden_layers = 4;
        sampler.score_net.fourier_frequencies = 32;
        sampler.score_net.time_encoder_width = 16;
        sampler.score_net.fourier_max_frequency = 50.0;
        Self {
            sampler,
            learn_step_sizes: false,
            action_clip: 0.999,
            rollout_steps: 2048,
            epochs: 16,
            minibatches: 128,
            gamma: 0.999,
            discount_mode: DiscountMode::PerDenoisingStep,
            gae_lambda: 0.98,
            clip: 0.2,
            value_coef: 0.5,
            alpha: 0.002,
            max_grad_norm: 0.5,
            learning_rate: 1e-4,
            value_widths: vec![256, 256],
            normalise_observations: true,
            normalise_rewards: false,
        }
    }

    /// Sized for this machine: a 2 × 64 score network and value network (the 4 × 256 network makes
    /// an update of 16 epochs over 16 384 augmented transitions take minutes on two cores),
    /// 10 epochs of 64 minibatches, Adam 3e-4, γ 0.99 per environment step — the task's own
    /// discount, so that Pendulum's horizon matches the Gaussian PPO baseline's — and reward
    /// normalisation as in that baseline.
    pub fn cpu() -> Self {
        let mut cfg = Self::paper();
        cfg.sampler.score_net.hidden_layers = 2;
        cfg.sampler.score_net.hidden_width = 64;
        cfg.epochs = 10;
        cfg.minibatches = 64;
        cfg.learning_rate = 3e-4;
        cfg.gamma = 0.99;
        cfg.discount_mode = DiscountMode::PerEnvStep;
        cfg.value_widths = vec![64, 64];
        // Pendulum's returns reach −1500: unscaled, the value network's targets dwarf its
        // output layer (value loss ~700 after 80 000 steps, no learning, 2026-11-22).
        cfg.normalise_rewards = true;
        cfg
    }

    /// Tiny settings for wiring checks and tests.
    pub fn smoke() -> Self {
        let mut cfg = Self::cpu();
        cfg.sampler.diffusion_steps = 3;
        cfg.sampler.score_net.hidden_width = 16;
        cfg.sampler.score_net.fourier_frequencies = 4;
        cfg.sampler.score_net.time_encoder_width = 8;
        cfg.rollout_steps = 32;
        cfg.epochs = 2;
        cfg.minibatches = 4;
        cfg.value_widths = vec![16];
        cfg
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "paper" => Some(Self::paper()),
            "cpu" => Some(Self::cpu()),
            "smoke" => Some(Self::smoke()),
            _ => None,
        }
    }

    /// The preset names [`DiffPpoConfig::preset`] knows.
    pub const PRESETS: [&'static str; 3] = ["cpu", "paper", "smoke"];

    /// Reject settings that cannot run.
    pub fn validate(&self) -> Result<(), AlgoError> {
        self.sampler.validate()?;
        let transitions = self.rollout_steps * self.sampler.diffusion_steps;
        let problem = if self.rollout_steps == 0 || self.epochs == 0 || self.minibatches == 0 {
            Some("rollout_steps, epochs and minibatches must be positive".to_string())
        } else if !transitions.is_multiple_of(self.minibatches) {
            Some(format!("{} minibatches do not divide {transitions} augmented transitions", self.minibatches))
        } else if !(self.gamma > 0.0 && self.gamma <= 1.0 && (0.0..=1.0).contains(&self.gae_lambda)) {
            Some(format!("gamma {} must be in (0, 1] and gae_lambda {} in [0, 1]", self.gamma, self.gae_lambda))
        } else if !(self.clip > 0.0 && self.learning_rate > 0.0 && self.max_grad_norm > 0.0 && self.alpha >= 0.0) {
            Some("clip, learning_rate and max_grad_norm must be positive and alpha non-negative".to_string())
        } else if !(self.action_clip > 0.0 && self.action_clip <= 1.0) {
            Some(format!("action_clip {} must be in (0, 1]", self.action_clip))
        } else if self.value_widths.is_empty() || self.value_widths.contains(&0) {
            Some("value_widths must be non-empty and positive".to_string())
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(AlgoError::Config(format!("DiffPPO: {p}"))))
    }
}
