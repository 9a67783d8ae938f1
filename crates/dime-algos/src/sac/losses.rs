//! SAC's log-density and losses as pure functions (baselines.md §1). The critic's target and
//! loss are `dime_critic::{soft_q_target, squared_td_loss}`.

use candle_core::Tensor;
use dime_nn::tanh_log_det_jacobian;

use crate::error::AlgoError;

/// `½·log(2π)`.
const HALF_LOG_TWO_PI: f64 = 0.918_938_533_204_672_7;

/// Tanh-Gaussian log-density (baselines.md §1, dime.md §2.6):
/// `log π(a|s) = Σ_i [ log N(u_i; μ_i, σ_i²) − log(1 − tanh²(u_i)) ]` for `u = μ + σ⊙ε`, `a = tanh(u)`.
///
/// The Gaussian term is written with the noise, `−½ε_i² − log σ_i − ½log 2π`: `(u − μ)/σ = ε`
/// exactly, so value and gradients are those of the density at `u`, without the division's
/// rounding. The Jacobian term is the stable `2·(log 2 − u − softplus(−2u))`.
/// Shapes: `noise`, `log_std`, `pre_tanh` `[B, d]` → `[B]`.
pub fn tanh_gaussian_log_prob(noise: &Tensor, log_std: &Tensor, pre_tanh: &Tensor) -> Result<Tensor, AlgoError> {
    let gaussian = ((noise.sqr()? * -0.5)? - log_std)?;
    let per_coordinate = ((gaussian - HALF_LOG_TWO_PI)? - tanh_log_det_jacobian(pre_tanh)?)?;
    Ok(per_coordinate.sum(1)?)
}

/// Actor loss (baselines.md §1): `L = mean_b [ α·log π(a_b|s_b) − min_i Q_i(s_b, a_b) ]`, with the
/// **min** over members. `q_members`: one `[B]` tensor per member; `log_prob`: `[B]`.
pub fn actor_loss(q_members: &[Tensor], log_prob: &Tensor, alpha: f64) -> Result<Tensor, AlgoError> {
    let stacked = Tensor::stack(q_members, 0)?;
    let q_min = stacked.min(0)?;
    let per_sample = ((log_prob * alpha)? - q_min)?;
    Ok(per_sample.mean_all()?)
}

/// Gradient of the temperature loss (baselines.md §1) `L(log α) = −mean[α·(log π + H̄)]` with
/// respect to `log α`: `−α·(mean log π + H̄)`. α rises while the entropy `−mean log π` is below `H̄`.
pub fn temperature_gradient(alpha: f64, log_prob_mean: f64, target_entropy: f64) -> f64 {
    -alpha * (log_prob_mean + target_entropy)
}
