//! Inputs of one critic update and the measured cost of performing it.

use std::time::Duration;

use candle_core::Tensor;

use crate::error::check_shape;
use crate::{CriticError, TdInputs};

/// One batch of `B` transitions with the next actions already sampled from the actor.
#[derive(Debug, Clone, Copy)]
pub struct CriticBatch<'a> {
    /// `s`, `[B, obs_dim]`.
    pub obs: &'a Tensor,
    /// `a` (in the action space the critic was trained on, e.g. `[-1, 1]`), `[B, action_dim]`.
    pub actions: &'a Tensor,
    /// `s'`, `[B, obs_dim]`.
    pub next_obs: &'a Tensor,
    /// `a' ~ π(·|s')`, `[B, action_dim]`.
    pub next_actions: &'a Tensor,
    /// Rewards, continuation mask, `log π(a'|s')` or `ℓ(s')`, α and γ.
    pub td: TdInputs<'a>,
}

/// Wall time of the three phases of an update.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UpdateTimings {
    /// Forward passes, target and loss.
    pub forward: Duration,
    /// `loss.backward()`.
    pub backward: Duration,
    /// The in-place Adam step.
    pub optimiser: Duration,
}

/// What an update reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CriticUpdate {
    /// The loss before the step.
    pub loss: f64,
    /// Mean over members and batch of the predicted `Q(s, a)` (expected value for a categorical head).
    pub mean_q: f64,
    /// Where the time went.
    pub timings: UpdateTimings,
}

/// Check `obs: [B, obs_dim]`, `actions: [B, action_dim]` and return `B` (at least 1).
pub(crate) fn check_pair(
    obs: &Tensor,
    actions: &Tensor,
    obs_dim: usize,
    action_dim: usize,
) -> Result<usize, CriticError> {
    let rows = obs.dims().first().copied().unwrap_or(0);
    if rows == 0 {
        return Err(CriticError::Shape { what: "observations", expected: vec![1, obs_dim], got: obs.dims().to_vec() });
    }
    check_shape("observations", &[rows, obs_dim], obs.dims())?;
    check_shape("actions", &[rows, action_dim], actions.dims())?;
    Ok(rows)
}

/// `concat(s, a)` along features, `[B, obs_dim + action_dim]`.
pub(crate) fn critic_input(obs: &Tensor, actions: &Tensor) -> Result<Tensor, CriticError> {
    Ok(Tensor::cat(&[obs, &actions.to_dtype(obs.dtype())?], 1)?)
}

/// Check both halves of `batch` and its TD inputs; return `B`.
pub(crate) fn check_batch(batch: &CriticBatch, obs_dim: usize, action_dim: usize) -> Result<usize, CriticError> {
    let rows = check_pair(batch.obs, batch.actions, obs_dim, action_dim)?;
    let next_rows = check_pair(batch.next_obs, batch.next_actions, obs_dim, action_dim)?;
    check_shape("next observations", &[rows, obs_dim], &[next_rows, obs_dim])?;
    check_shape("rewards", &[rows], &[batch.td.check()?])?;
    Ok(rows)
}

/// The joint batch `[(s, a); (s', a')]`, `[2B, obs_dim + action_dim]`, after checking both halves.
pub(crate) fn joint_input(batch: &CriticBatch, obs_dim: usize, action_dim: usize) -> Result<Tensor, CriticError> {
    check_batch(batch, obs_dim, action_dim)?;
    let current = critic_input(batch.obs, batch.actions)?;
    let next = critic_input(batch.next_obs, batch.next_actions)?;
    Ok(Tensor::cat(&[&current, &next], 0)?)
}

/// Split each `[2B, …]` member output into its current and next halves.
pub(crate) fn split_halves(outputs: Vec<Tensor>, rows: usize) -> Result<(Vec<Tensor>, Vec<Tensor>), CriticError> {
    let mut current = Vec::with_capacity(outputs.len());
    let mut next = Vec::with_capacity(outputs.len());
    for out in outputs {
        current.push(out.narrow(0, 0, rows)?);
        next.push(out.narrow(0, rows, rows)?);
    }
    Ok((current, next))
}
