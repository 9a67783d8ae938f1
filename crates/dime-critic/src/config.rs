//! Typed configuration of a critic ensemble, with the named presets.
//!
//! Every choice is an enum; nothing in the crate overrides a value given here.

use dime_nn::{AdamConfig, BatchRenormConfig};
use serde::{Deserialize, Serialize};

use crate::{CriticError, Support};

/// What each member predicts for a state-action pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum CriticHead {
    /// One number `Q(s, a)` (SAC, CrossQ).
    Scalar,
    /// A softmax over `atoms` equally spaced values on `[v_min, v_max]` (DIME, dime.md §5.1).
    Categorical {
        /// Number of atoms of the support (DIME: 101).
        atoms: usize,
        /// Lowest representable return (DIME: −200 on DMC, −1600 on Gym).
        v_min: f64,
        /// Highest representable return (DIME: 200 on DMC, 1600 on Gym).
        v_max: f64,
        /// Weight of the entropy regulariser `Σ p·log p` in the loss (DIME: 0.005, dime.md §5.6).
        entropy_coef: f64,
    },
}

/// Normalisation applied to the input and after every hidden activation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Normalisation {
    /// Plain MLP (SAC).
    None,
    /// BatchRenorm with these constants (DIME, CrossQ; dime.md §5.2).
    BatchRenorm(BatchRenormConfig),
}

/// Where the bootstrap value `Q(s', a')` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Bootstrap {
    /// The online critic in the same train-mode pass over `[(s, a); (s', a')]` (CrossQ, DIME §5.3).
    JointForward,
    /// Polyak-averaged target networks, `θ̄ ← (1 − τ)·θ̄ + τ·θ` after each update (SAC).
    PolyakTarget {
        /// Averaging weight τ of the online parameters (SAC: 0.005).
        tau: f64,
    },
}

/// Shape and training constants of a critic ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriticConfig {
    /// Number of members with independent parameters and normalisation statistics (DIME: 2).
    pub members: usize,
    /// Widths of the hidden layers, each Dense → ReLU → normalisation (DIME paper: [2048, 2048]).
    pub hidden_widths: Vec<usize>,
    /// Scalar or categorical output.
    pub head: CriticHead,
    /// Normalisation on the input and after each hidden ReLU.
    pub normalisation: Normalisation,
    /// Source of the bootstrap value.
    pub bootstrap: Bootstrap,
    /// Adam over all members' parameters (DIME: lr 3e-4, β1 0.5, β2 0.999, ε 1e-8; dime.md §7).
    pub adam: AdamConfig,
}

impl CriticConfig {
    /// DIME's critic as in the paper (dime.md §5.1): 2 members of 2×2048 with BatchRenorm,
    /// 101 atoms on ±200 (use [`CriticConfig::with_support`] for ±1600 on Gym), joint forward.
    pub fn paper() -> Self {
        Self {
            members: 2,
            hidden_widths: vec![2048, 2048],
            head: CriticHead::Categorical { atoms: 101, v_min: -200.0, v_max: 200.0, entropy_coef: 0.005 },
            normalisation: Normalisation::BatchRenorm(BatchRenormConfig::dime()),
            bootstrap: Bootstrap::JointForward,
            adam: AdamConfig::new(3e-4, 0.5),
        }
    }

    /// [`CriticConfig::paper`] with 2×256 hidden layers: what trains at a useful speed on a CPU.
    pub fn cpu() -> Self {
        Self { hidden_widths: vec![256, 256], ..Self::paper() }
    }

    /// SAC's twin Q (baselines.md §1): 2 scalar members of 2×256 ReLU, Polyak targets τ 0.005,
    /// Adam lr 1e-3 with default betas.
    pub fn sac() -> Self {
        Self {
            members: 2,
            hidden_widths: vec![256, 256],
            head: CriticHead::Scalar,
            normalisation: Normalisation::None,
            bootstrap: Bootstrap::PolyakTarget { tau: 0.005 },
            adam: AdamConfig::new(1e-3, 0.9),
        }
    }

    /// CrossQ's critic (baselines.md §2): 2 scalar members of 2×2048 with BatchRenorm, joint
    /// forward without targets, Adam lr 1e-3, β1 0.5.
    pub fn crossq() -> Self {
        Self {
            members: 2,
            hidden_widths: vec![2048, 2048],
            head: CriticHead::Scalar,
            normalisation: Normalisation::BatchRenorm(BatchRenormConfig::dime()),
            bootstrap: Bootstrap::JointForward,
            adam: AdamConfig::new(1e-3, 0.5),
        }
    }

    /// The same configuration on another categorical support (e.g. ±1600 for Gym tasks).
    /// A scalar head is returned unchanged.
    pub fn with_support(mut self, v_min: f64, v_max: f64) -> Self {
        if let CriticHead::Categorical { atoms, entropy_coef, .. } = self.head {
            self.head = CriticHead::Categorical { atoms, v_min, v_max, entropy_coef };
        }
        self
    }

    /// Check ranges and combinations; the constructors call this.
    pub fn validate(&self) -> Result<(), CriticError> {
        if self.members == 0 {
            return Err(CriticError::InvalidConfig("members must be at least 1".into()));
        }
        if self.hidden_widths.contains(&0) {
            return Err(CriticError::InvalidConfig("hidden widths must be positive".into()));
        }
        if let CriticHead::Categorical { atoms, v_min, v_max, entropy_coef } = self.head {
            Support::new(v_min, v_max, atoms)?;
            if !entropy_coef.is_finite() {
                return Err(CriticError::InvalidConfig("entropy_coef must be finite".into()));
            }
        }
        if let Bootstrap::PolyakTarget { tau } = self.bootstrap {
            if !(0.0..=1.0).contains(&tau) {
                return Err(CriticError::InvalidConfig(format!("tau {tau} is outside [0, 1]")));
            }
        }
        let a = self.adam;
        if !(a.lr > 0.0 && (0.0..1.0).contains(&a.beta1) && (0.0..1.0).contains(&a.beta2) && a.eps > 0.0) {
            return Err(CriticError::InvalidConfig(format!("Adam settings out of range: {a:?}")));
        }
        Ok(())
    }
}
