//! Step sizes and the two Gaussian kernels of step k (dime.md §2.2–2.4).
//!
//! Shapes: `x: [B, d]`; per-step vectors `η_k, ς_k: [1, d]`; `prior_var` is the rank-0 σ0².
//!
//! - generative `π_k(x_{k+1}|x_k, s) = N(μ_k, diag ς_k²)`, `μ_k = x_k + η_k ⊙ (−x_k/σ0² + f_θ)`;
//! - reference  `q_k(x_k|x_{k+1}) = N(x_{k+1} + η_k ⊙ (−x_{k+1}/σ0²), diag ς_k²)`: drift at the
//!   new point, step size of step k.
//!
//! Divisions by σ0² are true divisions (not multiplications by 1/σ0²) to round as the reference.

use candle_core::Tensor;
use dime_nn::{diag_gaussian_log_density, softplus};

use crate::SamplerError;

/// Per-step effective step sizes and kernel stds of one chain.
#[derive(Debug, Clone)]
pub struct StepSizes {
    /// `η_k = softplus(ρ)·c(k) / softplus(φ)`, shape `[K, d]`.
    pub eta: Tensor,
    /// `ς_k = √(2η_k)`, shape `[K, d]`.
    pub scale: Tensor,
}

/// `η_k = δ_k·(1/κ)` with `δ_k = softplus(ρ)·c(k)` and `κ = softplus(φ)`; `ς_k = √(2η_k)`.
/// `step_size_raw: [1]` (ρ), `friction_raw: [d]` (φ), `schedule: [K, 1]` (c(k)).
pub fn step_sizes(step_size_raw: &Tensor, friction_raw: &Tensor, schedule: &Tensor) -> Result<StepSizes, SamplerError> {
    let d = friction_raw.elem_count();
    let delta = schedule.broadcast_mul(&softplus(step_size_raw)?.reshape((1, 1))?)?;
    let inverse_friction = softplus(friction_raw)?.recip()?.reshape((1, d))?;
    // [K,1]·[1,d]: each entry is the single product δ_k·(1/κ_i), as in the reference.
    let eta = delta.matmul(&inverse_friction)?;
    let scale = (&eta * 2.0)?.sqrt()?;
    Ok(StepSizes { eta, scale })
}

/// Generative kernel mean `μ_k = x + η ⊙ (−x/σ0² + f)`.
pub fn generative_mean(x: &Tensor, score: &Tensor, eta: &Tensor, prior_var: &Tensor) -> Result<Tensor, SamplerError> {
    let drift = (score - x.broadcast_div(prior_var)?)?;
    Ok((x + drift.broadcast_mul(eta)?)?)
}

/// Reference kernel mean `x_{k+1} + η ⊙ (−x_{k+1}/σ0²)`.
pub fn reference_mean(x_next: &Tensor, eta: &Tensor, prior_var: &Tensor) -> Result<Tensor, SamplerError> {
    Ok((x_next - x_next.broadcast_div(prior_var)?.broadcast_mul(eta)?)?)
}

/// One step's path term `log π_k(x_{k+1}|x_k, s) − log q_k(x_k|x_{k+1})`, per row `[B]`.
/// Both densities are evaluated in full so that the gradient reaches ς_k (dt and friction).
pub fn step_log_ratio(
    x: &Tensor,
    x_next: &Tensor,
    generative: &Tensor,
    eta: &Tensor,
    scale: &Tensor,
    prior_var: &Tensor,
) -> Result<(Tensor, Tensor), SamplerError> {
    let log_pi = diag_gaussian_log_density(x_next, generative, scale)?;
    let log_q = diag_gaussian_log_density(x, &reference_mean(x_next, eta, prior_var)?, scale)?;
    Ok((log_pi, log_q))
}
