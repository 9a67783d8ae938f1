//! DiffSAC's settings (dmerl.md §7, §8) and presets.

use dime_critic::CriticConfig;
use dime_diffusion::{SamplerConfig, StepSchedule};
use serde::{Deserialize, Serialize};

use crate::dmerl::DiscountMode;
use crate::error::AlgoError;
use crate::sac::{EntropyCoef, PolicySchedule, SacConfig, TemperatureSample};
use dime_nn::AdamConfig;

/// Everything that defines a DiffSAC learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffSacConfig {
    /// The diffusion policy (K, prior, step sizes, score network).
    pub sampler: SamplerConfig,
    /// Train the step size ρ and the friction φ (the REPPO configuration keeps them fixed).
    pub learn_step_sizes: bool,
    /// The environment sees `clip(tanh(x_K), ±action_clip)`.
    pub action_clip: f32,
    /// Twin `Q(s̃_k, x_{k+1})` on `[s, x_k, one-hot(k)]` and `x_{k+1}` (the SAC baseline's critic).
    pub critic: CriticConfig,
    /// Discount γ, applied as `discount_mode` says.
    pub gamma: f64,
    /// Per denoising step (the official default) or per environment step.
    pub discount_mode: DiscountMode,
    /// Augmented transitions per critic update (B); each is one denoising step of a stored chain.
    pub batch_size: usize,
    /// Critic updates per environment step.
    pub updates_per_step: usize,
    /// When the actor and the temperature are updated, on the global critic-update counter.
    pub policy_schedule: PolicySchedule,
    /// Adam of the score network.
    pub actor_adam: AdamConfig,
    /// α, learned on `L(α) = α·sg(H + m·d)` with `H = −K·mean(ℓ_k)`; its
    /// `target_entropy_per_action_dim` is `−m`.
    pub entropy_coef: EntropyCoef,
}

impl DiffSacConfig {
    /// DiffSAC as dmerl.md §7 describes it: the REPPO column of §8 for the diffusion model (K 8,
    /// σ0 2.5, dt 0.125 with the cosine schedule, friction 1, both fixed, a 4 × 256 GELU score
    /// network with a 32 → 16 time code, action clip 0.999), the SAC baseline's critic, batch,
    /// optimisers and policy delay (the project default of §7, so that DiffSAC against SAC
    /// isolates the policy class), α from 0.01 with target entropy `−3·d` (REPPO's `m = 3`).
    /// γ 0.99 per environment step: the SAC baseline's horizon (per denoising step it would be
    /// 0.99⁸ ≈ 0.92 per environment step, a horizon of about 13 environment steps).
    pub fn paper() -> Self {
        let sac = SacConfig::paper();
        let mut sampler = SamplerConfig::paper();
        sampler.diffusion_steps = 8;
        sampler.initial_step_size = 0.125;
        sampler.schedule = StepSchedule::Cosine { min: 0.001, offset: 0.008 };
        sampler.score_net.hidden_layers = 4;
        sampler.score_net.fourier_frequencies = 32;
        sampler.score_net.time_encoder_width = 16;
        sampler.score_net.fourier_max_frequency = 50.0;
        Self {
            sampler,
            learn_step_sizes: false,
            action_clip: 0.999,
            critic: sac.critic,
            gamma: 0.99,
            discount_mode: DiscountMode::PerEnvStep,
            batch_size: sac.batch_size,
            updates_per_step: 1,
            policy_schedule: sac.policy_schedule,
            actor_adam: sac.actor_adam,
            entropy_coef: EntropyCoef::Auto {
                initial: 0.01,
                target_entropy_per_action_dim: -3.0,
                sample: TemperatureSample::ActorUpdate,
                adam: AdamConfig::new(1e-3, 0.9),
            },
        }
    }

    /// Sized for this machine: a 2 × 128 score network (one update of the 4 × 256 network on
    /// 256 rows costs about as much as the whole critic update, and Pendulum needs no more).
    pub fn cpu() -> Self {
        let mut cfg = Self::paper();
        cfg.sampler.score_net.hidden_layers = 2;
        cfg.sampler.score_net.hidden_width = 128;
        cfg
    }

    /// Tiny settings for wiring checks and tests, not for results.
    pub fn smoke() -> Self {
        let mut cfg = Self::cpu();
        cfg.sampler.diffusion_steps = 3;
        cfg.sampler.score_net.hidden_width = 16;
        cfg.sampler.score_net.fourier_frequencies = 4;
        cfg.sampler.score_net.time_encoder_width = 8;
        cfg.critic.hidden_widths = vec![32, 32];
        cfg.batch_size = 32;
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

    /// The preset names [`DiffSacConfig::preset`] knows.
    pub const PRESETS: [&'static str; 3] = ["cpu", "paper", "smoke"];

    /// Reject settings that cannot run.
    pub fn validate(&self) -> Result<(), AlgoError> {
        self.sampler.validate()?;
        let problem = if self.batch_size == 0 || self.updates_per_step == 0 || self.policy_schedule.every() == 0 {
            Some("batch_size, updates_per_step and the policy delay must be positive".to_string())
        } else if !(self.gamma > 0.0 && self.gamma < 1.0) {
            Some(format!("gamma {} must be in (0, 1)", self.gamma))
        } else if !(self.action_clip > 0.0 && self.action_clip < 1.0) {
            // x_K of a stored action is atanh(a): a clip of 1 would make it infinite.
            Some(format!("action_clip {} must be in (0, 1)", self.action_clip))
        } else if self.critic.members < 2 {
            Some("the critic needs at least two members (min over the twin)".to_string())
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(AlgoError::Config(format!("DiffSAC: {p}"))))
    }
}
