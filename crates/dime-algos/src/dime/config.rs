//! DIME's configuration and its named presets (dime.md §9).

use dime_critic::CriticConfig;
use dime_diffusion::SamplerConfig;
use dime_nn::AdamConfig;
use serde::{Deserialize, Serialize};

/// How the temperature α is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Temperature {
    /// Learned through `log α` (dime.md §6).
    Auto {
        /// Initial α (DIME: 1.0).
        initial: f64,
        /// α rises while the batch mean of ℓ − log p_prior(x_0) exceeds this value × action_dim
        /// (DIME: 4.0; not a target entropy: its sign and its terms differ from SAC's).
        running_cost_target_per_action_dim: f64,
        /// Adam on `log α` (DIME: lr 1e-3, β1 0.9).
        adam: AdamConfig,
    },
    /// A constant α, never optimised.
    Fixed(f64),
}

/// Where the categorical critic's support comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SupportChoice {
    /// Exactly the support written in `critic.head` (the paper presets: ±200 DMC, ±1600 Gym).
    FromCritic,
    /// `±max(|r_min|, |r_max|)/(1 − γ)` from the task's declared per-step reward range: the
    /// largest discounted return magnitude the task can produce.
    DerivedFromTask,
}

/// Everything DIME needs besides the loop settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimeConfig {
    /// The diffusion policy.
    pub sampler: SamplerConfig,
    /// The categorical critic ensemble.
    pub critic: CriticConfig,
    /// Where the critic's support comes from.
    pub support: SupportChoice,
    /// Discount γ.
    pub gamma: f64,
    /// Transitions per critic update (B); each env step draws `B × updates_per_step` at once.
    pub batch_size: usize,
    /// Critic updates per environment step (UTD; DIME: 2).
    pub updates_per_step: usize,
    /// One actor and temperature update per this many critic updates, on a global counter (DIME: 3).
    pub policy_delay: u64,
    /// Adam of the actor (score network, phase, step size, friction): lr 3e-4, β1 0.5.
    pub actor_adam: AdamConfig,
    /// Element-wise clip of the actor's gradient entries after NaN zeroing (DIME: 1.0).
    pub actor_grad_clip: f32,
    /// The temperature α.
    pub temperature: Temperature,
}

impl DimeConfig {
    /// The paper's configuration on DMC (support ±200).
    pub fn paper_dmc() -> Self {
        Self {
            sampler: SamplerConfig::paper(),
            critic: CriticConfig::paper(),
            support: SupportChoice::FromCritic,
            gamma: 0.99,
            batch_size: 256,
            updates_per_step: 2,
            policy_delay: 3,
            actor_adam: AdamConfig::new(3e-4, 0.5),
            actor_grad_clip: 1.0,
            temperature: Temperature::Auto {
                initial: 1.0,
                running_cost_target_per_action_dim: 4.0,
                adam: AdamConfig::new(1e-3, 0.9),
            },
        }
    }

    /// The paper's configuration on Gym tasks: support ±1600 (README and issue #2 of ALRhub/DIME).
    pub fn paper_gym() -> Self {
        Self { critic: CriticConfig::paper().with_support(-1600.0, 1600.0), ..Self::paper_dmc() }
    }

    /// What trains at a useful speed on a CPU: 2×256 critics instead of 2×2048 (the paper's
    /// critics are ~80% of the paper configuration's 37 GMAC per env step, dime.md §10), and the
    /// support derived from the task's reward range, since one preset serves every task.
    /// Everything else is the paper's.
    pub fn cpu() -> Self {
        Self { critic: CriticConfig::cpu(), support: SupportChoice::DerivedFromTask, ..Self::paper_dmc() }
    }

    /// Tiny networks (K = 4, widths 32, batch 32) for wiring checks and tests, not for results.
    pub fn smoke() -> Self {
        let mut cfg = Self::cpu();
        cfg.sampler.diffusion_steps = 4;
        let net = &mut cfg.sampler.score_net;
        (net.hidden_width, net.fourier_frequencies, net.time_encoder_width) = (32, 16, 32);
        cfg.critic.hidden_widths = vec![32, 32];
        cfg.batch_size = 32;
        cfg
    }

    /// A preset by name: `cpu`, `paper_dmc`, `paper_gym` or `smoke`.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "paper_dmc" => Some(Self::paper_dmc()),
            "paper_gym" => Some(Self::paper_gym()),
            "cpu" => Some(Self::cpu()),
            "smoke" => Some(Self::smoke()),
            _ => None,
        }
    }

    /// The preset names [`DimeConfig::preset`] knows.
    pub const PRESETS: [&'static str; 4] = ["cpu", "paper_dmc", "paper_gym", "smoke"];
}

/// `±max(|r_min|, |r_max|)/(1 − γ)`: the support [`SupportChoice::DerivedFromTask`] gives.
pub fn derived_support(reward_range: (f64, f64), gamma: f64) -> (f64, f64) {
    let magnitude = reward_range.0.abs().max(reward_range.1.abs()) / (1.0 - gamma);
    (-magnitude, magnitude)
}
