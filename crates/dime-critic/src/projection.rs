//! The categorical TD target of DIME: shifted atoms (dime.md §5.4), the C51 projection (§5.5) and
//! the average over members.
//!
//! Shapes: `B` transitions, `N` atoms; host slices are row-major `[B, N]`. The target is under a
//! stop-gradient, so it is computed on the host in f32 in the order of the official code, which
//! makes the golden comparison a like-for-like one and costs ~B·N operations per member.

use candle_core::{DType, Tensor};

use crate::error::{check_finite, check_shape};
use crate::{CriticError, Support};

/// The per-transition inputs of a soft TD target for `B` transitions.
#[derive(Debug, Clone, Copy)]
pub struct TdInputs<'a> {
    /// Rewards `r`, `[B]`.
    pub rewards: &'a [f32],
    /// `m`: 0 where the episode terminated, 1 otherwise (time-limit truncations bootstrap), `[B]`.
    pub continues: &'a [f32],
    /// `log π(a'|s')` of the next action (SAC, CrossQ), or DIME's bound `ℓ(s')` (§5.4), `[B]`.
    pub next_log_prob: &'a [f32],
    /// Temperature `α`.
    pub alpha: f32,
    /// Discount `γ`.
    pub gamma: f32,
}

impl TdInputs<'_> {
    /// Number of transitions, after checking that every column has it and every value is finite.
    pub fn check(&self) -> Result<usize, CriticError> {
        let rows = self.rewards.len();
        check_shape("continues", &[rows], &[self.continues.len()])?;
        check_shape("next_log_prob", &[rows], &[self.next_log_prob.len()])?;
        check_finite("rewards", self.rewards)?;
        check_finite("continues", self.continues)?;
        check_finite("next_log_prob", self.next_log_prob)?;
        check_finite("alpha", &[self.alpha])?;
        check_finite("gamma", &[self.gamma])?;
        Ok(rows)
    }
}

/// Shifted atoms `T z_j = clip(r + m·γ·(z_j − α·ℓ(s')), v_min, v_max)` (dime.md §5.4), `[B, N]`.
///
/// Evaluated in f32 as the official code does: `(r + (−m·γ·α·ℓ)) + (m·γ)·z_j`, then clipped, so
/// the entropy term is added before the clip.
pub fn shifted_atoms(support: &Support, inputs: &TdInputs) -> Result<Vec<f32>, CriticError> {
    let rows = inputs.check()?;
    let (v_min, v_max) = (support.v_min() as f32, support.v_max() as f32);
    let mut shifted = Vec::with_capacity(rows * support.atoms());
    for b in 0..rows {
        let m = inputs.continues[b];
        let entropy_shift = -m * inputs.gamma * inputs.alpha * inputs.next_log_prob[b];
        let base = inputs.rewards[b] + entropy_shift;
        let scale = m * inputs.gamma;
        shifted.extend(support.values().iter().map(|&z| (base + scale * z).clamp(v_min, v_max)));
    }
    Ok(shifted)
}

/// C51 projection of `next_probs` placed on `shifted` atoms back onto the support (dime.md §5.5):
/// `b_j = (T z_j − v_min)/Δz`, `l_j = ⌊b_j⌋`, `u_j = ⌈b_j⌉`; if `l_j = u_j > 0` then `l_j ← l_j − 1`,
/// else if `l_j = u_j < N − 1` then `u_j ← u_j + 1`; `P[l_j] += p_j·(u_j − b_j)`,
/// `P[u_j] += p_j·(b_j − l_j)`. Both inputs and the result are `[B, N]` row-major.
///
/// `b_j` is clamped to `[0, N − 1]` before rounding: shifted atoms are already inside the support,
/// so this only removes an f32 rounding overshoot (`(v_max − v_min)/Δz` slightly above `N − 1`)
/// that would otherwise index past the last atom.
pub fn project_onto_atoms(support: &Support, next_probs: &[f32], shifted: &[f32]) -> Result<Vec<f32>, CriticError> {
    let atoms = support.atoms();
    if next_probs.len() % atoms != 0 {
        return Err(CriticError::Shape { what: "next_probs", expected: vec![0, atoms], got: vec![next_probs.len()] });
    }
    check_shape("shifted atoms", &[next_probs.len()], &[shifted.len()])?;
    check_finite("next_probs", next_probs)?;
    check_finite("shifted atoms", shifted)?;
    let (v_min, delta) = (support.v_min() as f32, support.delta() as f32);
    let last = (atoms - 1) as f32;
    let mut projected = vec![0.0f32; next_probs.len()];
    for ((out, p), tz) in projected.chunks_mut(atoms).zip(next_probs.chunks(atoms)).zip(shifted.chunks(atoms)) {
        for (&p_j, &tz_j) in p.iter().zip(tz) {
            let b = ((tz_j - v_min) / delta).clamp(0.0, last);
            let (mut l, mut u) = (b.floor(), b.ceil());
            if l == u && u > 0.0 {
                l -= 1.0;
            }
            if l == u && l < last {
                u += 1.0;
            }
            out[l as usize] += p_j * (u - b);
            out[u as usize] += p_j * (b - l);
        }
    }
    Ok(projected)
}

/// DIME's target distribution `P = sg((1/n)·Σ_i Proj(p_i(s', a')))` (dime.md §5.4): each member's
/// next-state distribution `[B, N]` projected with [`project_onto_atoms`] and averaged. Returns a
/// detached `[B, N]` tensor with the dtype and device of the first member.
pub fn critic_target(support: &Support, next_probs: &[Tensor], inputs: &TdInputs) -> Result<Tensor, CriticError> {
    let first = next_probs.first().ok_or(CriticError::Unsupported("critic_target: no members"))?;
    let rows = inputs.check()?;
    let shifted = shifted_atoms(support, inputs)?;
    let mut sum = vec![0.0f32; rows * support.atoms()];
    for probs in next_probs {
        check_shape("next_probs", &[rows, support.atoms()], probs.dims())?;
        let host = probs.detach().to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        for (s, p) in sum.iter_mut().zip(project_onto_atoms(support, &host, &shifted)?) {
            *s += p;
        }
    }
    let count = next_probs.len() as f32;
    sum.iter_mut().for_each(|s| *s /= count);
    let target = Tensor::from_vec(sum, (rows, support.atoms()), &candle_core::Device::Cpu)?;
    Ok(target.to_dtype(first.dtype())?.to_device(first.device())?)
}
