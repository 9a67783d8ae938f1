//! Critic losses and scalar TD targets as pure functions of tensors, each named for its equation.
//!
//! Shapes: member predictions are `[B, N]` probabilities (categorical) or `[B]` values (scalar);
//! targets have the same shape and are detached here, so a caller cannot leak gradient into them.

use candle_core::{Device, Tensor};

use crate::error::check_shape;
use crate::{CriticError, TdInputs};

/// Added inside every logarithm of the categorical loss, as in the official code.
pub const LOG_EPSILON: f64 = 1e-15;

/// DIME's critic loss (dime.md §5.6):
/// `L = Σ_i { −mean_b Σ_j P_bj·log(p_ij + 1e-15) + c·mean_b Σ_j p_ij·log(p_ij + 1e-15) }`,
/// with `predicted[i] = p_i(s, a)` `[B, N]`, `target = P` `[B, N]` and `c = entropy_coef` (0.005).
pub fn categorical_td_loss(predicted: &[Tensor], target: &Tensor, entropy_coef: f64) -> Result<Tensor, CriticError> {
    let target = target.detach();
    let mut total: Option<Tensor> = None;
    for p in predicted {
        check_shape("categorical prediction", target.dims(), p.dims())?;
        let rows = p.dim(0)? as f64;
        let log_p = (p + LOG_EPSILON)?.log()?;
        let cross_entropy = ((&target * &log_p)?.sum_all()? * (-1.0 / rows))?;
        let neg_entropy = ((p * &log_p)?.sum_all()? * (entropy_coef / rows))?;
        let member = (cross_entropy + neg_entropy)?;
        total = Some(match total {
            Some(t) => (t + member)?,
            None => member,
        });
    }
    total.ok_or(CriticError::Unsupported("categorical_td_loss: no members"))
}

/// Soft TD target of SAC and CrossQ (baselines.md §1–2):
/// `y = sg( r + m·γ·( min_i Q_i(s', a') − α·log π(a'|s') ) )`, with `next_q[i]` `[B]`.
pub fn soft_q_target(next_q: &[Tensor], inputs: &TdInputs) -> Result<Tensor, CriticError> {
    let rows = inputs.check()?;
    let first = next_q.first().ok_or(CriticError::Unsupported("soft_q_target: no members"))?;
    let mut min_q = vec![f32::INFINITY; rows];
    for q in next_q {
        check_shape("next Q", &[rows], q.dims())?;
        let host = q.detach().to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?;
        min_q.iter_mut().zip(host).for_each(|(m, v)| *m = m.min(v));
    }
    let y: Vec<f32> = (0..rows)
        .map(|b| {
            let soft_value = min_q[b] - inputs.alpha * inputs.next_log_prob[b];
            inputs.rewards[b] + inputs.continues[b] * inputs.gamma * soft_value
        })
        .collect();
    Ok(Tensor::from_vec(y, rows, &Device::Cpu)?.to_dtype(first.dtype())?.to_device(first.device())?)
}

/// Squared TD error summed over members (SAC's critic loss, baselines.md §1):
/// `L = Σ_i mean_b (Q_i(s_b, a_b) − y_b)²`, `q[i]` and `y` `[B]`. CrossQ's loss is half of this.
pub fn squared_td_loss(q: &[Tensor], y: &Tensor) -> Result<Tensor, CriticError> {
    let y = y.detach();
    let mut total: Option<Tensor> = None;
    for qi in q {
        check_shape("Q prediction", y.dims(), qi.dims())?;
        let member = (qi - &y)?.sqr()?.mean_all()?;
        total = Some(match total {
            Some(t) => (t + member)?,
            None => member,
        });
    }
    total.ok_or(CriticError::Unsupported("squared_td_loss: no members"))
}

/// Value regression for on-policy methods: `L = mean_b (V(s_b) − R_b)²`, `value` and `returns` `[B]`.
pub fn value_loss(value: &Tensor, returns: &Tensor) -> Result<Tensor, CriticError> {
    check_shape("value prediction", returns.dims(), value.dims())?;
    Ok((value - returns.detach())?.sqr()?.mean_all()?)
}
