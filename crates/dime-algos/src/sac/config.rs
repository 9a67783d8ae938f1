//! SAC's configuration and its named presets (baselines.md §1). CrossQ (baselines.md §2) is this
//! agent with other settings; its presets live in `crate::crossq`.

use dime_critic::{CriticConfig, Normalisation};
use dime_nn::{Activation, AdamConfig};
use serde::{Deserialize, Serialize};

/// How the actor's log-std head output `raw` becomes `log σ`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum LogStdBound {
    /// `log σ = min + ½(max − min)·(tanh(raw) + 1)` (CleanRL: [−5, 2]).
    TanhSquash {
        /// Lowest log-std.
        min: f64,
        /// Highest log-std.
        max: f64,
    },
    /// `log σ = clip(raw, min, max)` (SBX and CrossQ: [−20, 2]).
    Clip {
        /// Lowest log-std.
        min: f64,
        /// Highest log-std.
        max: f64,
    },
}

/// The tanh-Gaussian actor: `x → [norm] → [Dense → act → [norm]] × H → (mean, log-std heads)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorConfig {
    /// Widths of the hidden layers (SAC and CrossQ: [256, 256]).
    pub hidden_widths: Vec<usize>,
    /// Hidden activation (ReLU).
    pub activation: Activation,
    /// Normalisation on the input and after every hidden activation (SAC: none; CrossQ: BatchRenorm).
    pub normalisation: Normalisation,
    /// How the log-std is bounded.
    pub log_std: LogStdBound,
}

/// Which `log π` the temperature update uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemperatureSample {
    /// A fresh sample from the just-updated actor, without gradient (CleanRL).
    Fresh,
    /// The batch of the actor update itself (CrossQ/SBX).
    ActorUpdate,
}

/// How the entropy coefficient α is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum EntropyCoef {
    /// Learned through `log α` on `L(log α) = −mean[α·(log π + H̄)]`, `H̄ = target × action_dim`.
    Auto {
        /// Initial α (CleanRL and CrossQ: 1.0).
        initial: f64,
        /// Target entropy per action dimension (SAC and CrossQ: −1.0, so `H̄ = −d`).
        target_entropy_per_action_dim: f64,
        /// Which `log π` the update uses.
        sample: TemperatureSample,
        /// Adam on `log α` (CleanRL: lr 1e-3 = Q lr, default betas).
        adam: AdamConfig,
    },
    /// A constant α, never optimised.
    Fixed(f64),
}

/// When the actor and the temperature are updated, on the global critic-update counter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum PolicySchedule {
    /// One actor and temperature update on every `every`-th critic update (CrossQ: 3, as DIME).
    Delayed {
        /// The delay.
        every: u64,
    },
    /// `every` actor and temperature updates in a row on every `every`-th critic update, on the
    /// same minibatch with fresh noise (CleanRL's `policy_frequency = 2`: TD3-style delay with compensation).
    DelayedCompensated {
        /// The delay, and the number of updates done when it elapses.
        every: u64,
    },
}

impl PolicySchedule {
    /// The delay in critic updates.
    pub fn every(self) -> u64 {
        match self {
            Self::Delayed { every } | Self::DelayedCompensated { every } => every,
        }
    }

    /// Actor updates due after critic update number `n` (1-based).
    pub fn actor_updates_after(self, n: u64) -> u64 {
        match self {
            _ if self.every() == 0 || !n.is_multiple_of(self.every()) => 0,
            Self::Delayed { .. } => 1,
            Self::DelayedCompensated { every } => every,
        }
    }
}

/// Everything SAC (and CrossQ) needs besides the loop settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SacConfig {
    /// The tanh-Gaussian actor.
    pub actor: ActorConfig,
    /// The scalar twin-Q critic (SAC: Polyak targets τ 0.005; CrossQ: BatchRenorm, joint forward).
    pub critic: CriticConfig,
    /// Discount γ.
    pub gamma: f64,
    /// Transitions per critic update (B); each env step draws `B × updates_per_step` at once.
    pub batch_size: usize,
    /// Critic updates per environment step (UTD; SAC and CrossQ: 1).
    pub updates_per_step: usize,
    /// When the actor and the temperature are updated.
    pub policy_schedule: PolicySchedule,
    /// Adam of the actor (SAC: lr 3e-4, default betas; CrossQ: lr 1e-3, β1 0.5).
    pub actor_adam: AdamConfig,
    /// The entropy coefficient α.
    pub entropy_coef: EntropyCoef,
}

impl SacConfig {
    /// CleanRL's `sac_continuous_action.py` defaults (baselines.md §1).
    pub fn paper() -> Self {
        Self {
            actor: ActorConfig {
                hidden_widths: vec![256, 256],
                activation: Activation::Relu,
                normalisation: Normalisation::None,
                log_std: LogStdBound::TanhSquash { min: -5.0, max: 2.0 },
            },
            critic: CriticConfig::sac(),
            gamma: 0.99,
            batch_size: 256,
            updates_per_step: 1,
            policy_schedule: PolicySchedule::DelayedCompensated { every: 2 },
            actor_adam: AdamConfig::new(3e-4, 0.9),
            entropy_coef: EntropyCoef::Auto {
                initial: 1.0,
                target_entropy_per_action_dim: -1.0,
                sample: TemperatureSample::Fresh,
                adam: AdamConfig::new(1e-3, 0.9),
            },
        }
    }

    /// The same as [`SacConfig::paper`]: SAC's 2×256 networks already train at CPU speed.
    pub fn cpu() -> Self {
        Self::paper()
    }

    /// Tiny networks (widths 32, batch 32) for wiring checks and tests, not for results.
    pub fn smoke() -> Self {
        let mut cfg = Self::paper();
        cfg.actor.hidden_widths = vec![32, 32];
        cfg.critic.hidden_widths = vec![32, 32];
        cfg.batch_size = 32;
        cfg
    }

    /// A preset by name: `cpu`, `paper` or `smoke`.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "paper" => Some(Self::paper()),
            "cpu" => Some(Self::cpu()),
            "smoke" => Some(Self::smoke()),
            _ => None,
        }
    }

    /// The preset names [`SacConfig::preset`] knows.
    pub const PRESETS: [&'static str; 3] = ["cpu", "paper", "smoke"];
}
