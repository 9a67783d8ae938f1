//! CrossQ's presets (baselines.md §2, the official `train.py -algo crossq`, `bn_mode = 'brn_actor'`).

use dime_critic::{CriticConfig, Normalisation};
use dime_nn::{Activation, AdamConfig, BatchRenormConfig};

use crate::sac::{ActorConfig, EntropyCoef, LogStdBound, PolicySchedule, SacConfig, TemperatureSample};

/// The paper's CrossQ: critics 2×2048 with BatchRenorm and the joint forward (no targets), actor
/// 2×256 ReLU with BatchRenorm (momentum 0.99, ε 1e-3, r_max 3, d_max 5, warm-up 100 000 calls),
/// log-std clipped to [−20, 2], Adam lr 1e-3 with β1 0.5 for actor and critic, α from 1.0 towards
/// `−d` with lr 1e-3 and default β1 on the actor update's batch, policy delay 3, UTD 1, batch 256.
pub fn paper() -> SacConfig {
    SacConfig {
        actor: ActorConfig {
            hidden_widths: vec![256, 256],
            activation: Activation::Relu,
            normalisation: Normalisation::BatchRenorm(BatchRenormConfig::dime()),
            log_std: LogStdBound::Clip { min: -20.0, max: 2.0 },
        },
        critic: CriticConfig::crossq(),
        gamma: 0.99,
        batch_size: 256,
        updates_per_step: 1,
        policy_schedule: PolicySchedule::Delayed { every: 3 },
        actor_adam: AdamConfig::new(1e-3, 0.5),
        entropy_coef: EntropyCoef::Auto {
            initial: 1.0,
            target_entropy_per_action_dim: -1.0,
            sample: TemperatureSample::ActorUpdate,
            adam: AdamConfig::new(1e-3, 0.9),
        },
    }
}

/// [`paper`] with 2×256 critics instead of 2×2048, for the same reason as DIME's `cpu` preset:
/// the wide critics are a GPU workload (about 64× the multiply-adds of 256-wide ones per layer).
/// Everything else is the paper's.
pub fn cpu() -> SacConfig {
    let mut cfg = paper();
    cfg.critic.hidden_widths = vec![256, 256];
    cfg
}

/// Tiny networks (widths 32, batch 32) for wiring checks and tests, not for results.
pub fn smoke() -> SacConfig {
    let mut cfg = paper();
    cfg.actor.hidden_widths = vec![32, 32];
    cfg.critic.hidden_widths = vec![32, 32];
    cfg.batch_size = 32;
    cfg
}

/// A preset by name: `cpu`, `paper` or `smoke`.
pub fn preset(name: &str) -> Option<SacConfig> {
    match name {
        "paper" => Some(paper()),
        "cpu" => Some(cpu()),
        "smoke" => Some(smoke()),
        _ => None,
    }
}

/// The preset names [`preset`] knows.
pub const PRESETS: [&str; 3] = ["cpu", "paper", "smoke"];
