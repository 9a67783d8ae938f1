//! The fused CPU paths of [`crate::CategoricalCritic`] and [`crate::ScalarCritic`]: their
//! train-mode updates and eval-mode action gradients on plain `Vec<f32>` buffers, with the dense products in
//! [`dime_nn::host_gemm::Gemm`] (the `gemm` kernels candle's CPU matmul calls) and hand-written
//! forward and backward passes of BatchRenorm, ReLU, softmax, the C51 target and the loss.
//!
//! Why: at the critic's sizes candle spends most of an update outside its matmuls (an allocation
//! and often a zero-fill per op, broadcast element-wise kernels, gradient accumulation). The
//! candle path stays the reference — golden and gradient checks, f64, other devices — and
//! `tests/host_path.rs` holds this path to it (losses, gradients, parameters after Adam, running
//! statistics). Parameters are read in place from their `Var` storages ([`params`]); gradients
//! go to the same in-place Adam step as the candle path (`dime_nn::Adam::step_in_place`).
//!
//! Applies when every parameter is `f32` on the CPU ([`applies`]); anything else takes the candle
//! path.

mod actor;
mod loss;
mod net;
mod norm;
mod params;
mod scalar;
mod simd;
mod update;

use candle_core::{DType, Tensor};
use dime_nn::{BatchRenorm, BatchRenormConfig, ParamStore};

use crate::{CriticError, Normalisation};
use norm::RunningStats;

/// Whether the host path can run on `store`: every parameter `f32` on the CPU.
pub(crate) fn applies(store: &ParamStore) -> bool {
    store.iter().all(|(_, v)| v.dtype() == DType::F32 && v.device().is_cpu())
}

/// A tensor's values as host `f32`, row-major.
fn host_values(t: &Tensor) -> Result<Vec<f32>, CriticError> {
    Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
}

/// `[obs | actions]` row by row, `[rows, obs_dim + action_dim]`, appended to `out`.
fn append_pairs(obs: &[f32], actions: &[f32], rows: usize, out: &mut Vec<f32>) {
    let (o, a) = (obs.len() / rows, actions.len() / rows);
    for b in 0..rows {
        out.extend_from_slice(&obs[b * o..(b + 1) * o]);
        out.extend_from_slice(&actions[b * a..(b + 1) * a]);
    }
}

/// Check an actor's query of `rows` observations `[rows, obs_dim]` and actions
/// `[rows, action_dim]`: `rows = 0` or mismatched lengths are a [`CriticError::Shape`].
fn check_action_query(
    obs: &[f32],
    actions: &[f32],
    rows: usize,
    obs_dim: usize,
    action_dim: usize,
) -> Result<(), CriticError> {
    if rows == 0 {
        return Err(CriticError::Shape { what: "observations", expected: vec![1, obs_dim], got: vec![0] });
    }
    crate::error::check_shape("observations", &[rows * obs_dim], &[obs.len()])?;
    crate::error::check_shape("actions", &[rows * action_dim], &[actions.len()])
}

/// `Σ_members ∂/∂a` from each member's gradient to its `[obs | actions]` input rows:
/// the action columns, summed in member order, `[rows, action_dim]`.
fn sum_action_grads<'a>(
    input_grads: impl IntoIterator<Item = &'a Vec<f32>>,
    rows: usize,
    obs_dim: usize,
    action_dim: usize,
) -> Vec<f32> {
    let mut grad = vec![0.0f32; rows * action_dim];
    for input_grad in input_grads {
        for (g, row) in grad.chunks_exact_mut(action_dim).zip(input_grad.chunks_exact(obs_dim + action_dim)) {
            g.iter_mut().zip(&row[obs_dim..]).for_each(|(g, d)| *g += d);
        }
    }
    grad
}

/// The constants of the critic's BatchRenorm layers (a placeholder without normalisation, never
/// read because such a member has no BatchRenorm layer).
fn norm_config(normalisation: Normalisation) -> BatchRenormConfig {
    match normalisation {
        Normalisation::BatchRenorm(c) => c,
        Normalisation::None => BatchRenormConfig::dime(),
    }
}

/// Host copies of the running statistics of `norms` (one member's layers, input first).
fn running_stats(norms: &[&BatchRenorm], config: &BatchRenormConfig) -> Result<Vec<RunningStats>, CriticError> {
    norms
        .iter()
        .map(|n| {
            Ok(RunningStats {
                mean: host_values(n.running_mean())?,
                var: host_values(n.running_var())?,
                renorm: n.steps() >= config.warmup_steps,
            })
        })
        .collect()
}
