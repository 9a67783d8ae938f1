//! DIME's losses as pure functions (dime.md §4, §6).

use candle_core::Tensor;

use crate::error::AlgoError;

/// Actor loss (dime.md §4): `L = mean_b [ −Q̄(s_b, a_b) + α·ℓ(s_b) ]` with `Q̄ = mean_i Q_i`,
/// the **mean** of the members (not a min). `q_members`: one `[B]` tensor per member; `bound`: `[B]`.
pub fn actor_loss(q_members: &[Tensor], bound: &Tensor, alpha: f64) -> Result<Tensor, AlgoError> {
    let stacked = Tensor::stack(q_members, 0)?;
    let q_mean = stacked.mean(0)?;
    let per_sample = ((bound * alpha)? - q_mean)?;
    Ok(per_sample.mean_all()?)
}

/// The actor loss of [`actor_loss`] on host values: `q_mean[b]` is already the members' mean.
pub fn host_actor_loss(q_mean: &[f32], bound: &[f32], alpha: f64) -> f64 {
    let total: f64 = q_mean.iter().zip(bound).map(|(&q, &l)| alpha * f64::from(l) - f64::from(q)).sum();
    total / q_mean.len().max(1) as f64
}

/// Gradient of the temperature loss (dime.md §6) `L(log α) = −α·(mean ℓ_run − target)` with
/// respect to `log α`: `−α·(mean ℓ_run − target)`. α rises while the running cost exceeds the target.
pub fn temperature_gradient(alpha: f64, running_cost_mean: f64, target: f64) -> f64 {
    -alpha * (running_cost_mean - target)
}
