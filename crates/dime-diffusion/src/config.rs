//! Typed sampler configuration (dime.md §2, §9).

use dime_nn::Activation;
use serde::{Deserialize, Serialize};

use crate::SamplerError;

/// Everything that defines the diffusion policy's shape and initial values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplerConfig {
    /// Number of diffusion steps K of the chain (paper: 16).
    pub diffusion_steps: usize,
    /// Standard deviation σ0 of the fixed prior N(0, σ0² I) (paper: 2.5).
    pub prior_std: f64,
    /// Initial step size softplus(ρ), the learnable "dt" (paper: 0.1).
    pub initial_step_size: f64,
    /// Initial per-dimension friction κ = softplus(φ) (paper: 1.0); the diffusion coefficient is 1/κ.
    pub initial_friction: f64,
    /// Step-size schedule c(k); step k uses δ_k = softplus(ρ)·c(k).
    pub schedule: StepSchedule,
    /// The conditional score network f_θ(x, s, k).
    pub score_net: ScoreNetConfig,
    /// How the score network's first layer is evaluated (same mathematics either way).
    pub first_layer: FirstLayerForm,
}

/// Step-size schedule factors c(k), k = 0..K−1 (dime.md §2.2), with t = (K − k)/K.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StepSchedule {
    /// `c = (1 − min)·cos²((π/2)(1 + offset − t)/(1 + offset)) + min` (paper: min 0.001, offset 0.008).
    Cosine {
        /// Floor c_min of the schedule.
        min: f64,
        /// Offset s that keeps the first step away from zero.
        offset: f64,
    },
    /// `c = (1 − t)·min + t`.
    Linear {
        /// Value at t = 0.
        min: f64,
    },
    /// `c = 1`.
    Constant,
}

/// Shape and initialisation of the conditional score network ("PISGRADNet", dime.md §2.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreNetConfig {
    /// Width of every hidden layer of the main MLP (paper: 256).
    pub hidden_width: usize,
    /// Number of hidden Dense+activation layers of the main MLP, the first included (paper: 3).
    pub hidden_layers: usize,
    /// Hidden activation of the main MLP and the time encoder (paper: GELU, tanh form).
    pub activation: Activation,
    /// Number of Fourier frequencies H_f; the raw time feature has width 2·H_f (paper: 256).
    pub fourier_frequencies: usize,
    /// Lowest Fourier frequency in rad per step (paper: 0.1).
    pub fourier_min_frequency: f64,
    /// Highest Fourier frequency in rad per step (paper: 100).
    pub fourier_max_frequency: f64,
    /// Width of both Dense layers of the time encoder, and of its output τ(k) (paper: 256).
    pub time_encoder_width: usize,
    /// Initialisation of the output layer's kernel.
    pub output_init: OutputInit,
    /// The score output is clipped to ±this value (paper: 1e4; never active in practice).
    pub output_clip: f64,
}

/// Initialisation of the score network's last Dense kernel (its bias starts at 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OutputInit {
    /// Every kernel entry equals `value` (paper: 1e-8, so the initial policy is the prior's Langevin chain).
    Constant {
        /// The constant kernel entry.
        value: f64,
    },
    /// flax's default LeCun-normal.
    LecunNormal,
}

/// Evaluation of the first layer `W_x·x_k + W_s·s + W_t·τ(k) + b` (dime.md §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstLayerForm {
    /// `W_t·τ(k) + b` once per chain as one bias row per k, and `W_s·s` once per sample (≈3× less work).
    Hoisted,
    /// The concatenated input `[x_k, s, τ(k)]` times the full kernel at every step (the reference form).
    Plain,
}

impl SamplerConfig {
    /// The paper's sampler (dime.md §9): K = 16, σ0 = 2.5, dt 0.1, friction 1, cosine schedule,
    /// 3 × 256 GELU, 256 Fourier features, output kernel 1e-8, hoisted first layer.
    pub fn paper() -> Self {
        Self {
            diffusion_steps: 16,
            prior_std: 2.5,
            initial_step_size: 0.1,
            initial_friction: 1.0,
            schedule: StepSchedule::Cosine { min: 0.001, offset: 0.008 },
            score_net: ScoreNetConfig {
                hidden_width: 256,
                hidden_layers: 3,
                activation: Activation::Gelu,
                fourier_frequencies: 256,
                fourier_min_frequency: 0.1,
                fourier_max_frequency: 100.0,
                time_encoder_width: 256,
                output_init: OutputInit::Constant { value: 1e-8 },
                output_clip: 1e4,
            },
            first_layer: FirstLayerForm::Hoisted,
        }
    }

    /// Check every value; K = 0 gives [`SamplerError::ZeroSteps`].
    pub fn validate(&self) -> Result<(), SamplerError> {
        if self.diffusion_steps == 0 {
            return Err(SamplerError::ZeroSteps);
        }
        let positive = [
            ("prior_std", self.prior_std),
            ("initial_step_size", self.initial_step_size),
            ("initial_friction", self.initial_friction),
            ("score_net.output_clip", self.score_net.output_clip),
        ];
        for (name, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(SamplerError::InvalidConfig(format!("{name} must be finite and > 0, got {value}")));
            }
        }
        let net = &self.score_net;
        let sizes = [
            ("score_net.hidden_width", net.hidden_width),
            ("score_net.hidden_layers", net.hidden_layers),
            ("score_net.fourier_frequencies", net.fourier_frequencies),
            ("score_net.time_encoder_width", net.time_encoder_width),
        ];
        for (name, value) in sizes {
            if value == 0 {
                return Err(SamplerError::InvalidConfig(format!("{name} must be at least 1")));
            }
        }
        Ok(())
    }
}
