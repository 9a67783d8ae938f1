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
    if !next_probs.len().is_multiple_of(atoms) {
        return Err(CriticError::Shape { what: "next_probs", expected: vec![0, atoms], got: vec![next_probs.len()] });
    }
    check_shape("shifted atoms", &[next_probs.len()], &[shifted.len()])?;
    check_finite("next_probs", next_probs)?;
    ProjectionPlan::new(support, shifted)?.project(next_probs)
}

/// The part of [`project_onto_atoms`] that depends on the shifted atoms only — `l_j`, `u_j` and
/// the weights `u_j − b_j`, `b_j − l_j` — computed once and applied to every member's
/// distribution (same f32 operations, so the same result as projecting each member alone).
#[derive(Debug, Clone)]
pub(crate) struct ProjectionPlan {
    atoms: usize,
    lower: Vec<u32>,
    upper: Vec<u32>,
    lower_weight: Vec<f32>,
    upper_weight: Vec<f32>,
}

impl ProjectionPlan {
    /// The plan for `shifted: [B, N]` (finite, checked here).
    pub(crate) fn new(support: &Support, shifted: &[f32]) -> Result<Self, CriticError> {
        check_finite("shifted atoms", shifted)?;
        let atoms = support.atoms();
        let (v_min, delta) = (support.v_min() as f32, support.delta() as f32);
        let last = (atoms - 1) as f32;
        let n = shifted.len();
        let mut plan = Self {
            atoms,
            lower: vec![0; n],
            upper: vec![0; n],
            lower_weight: vec![0.0; n],
            upper_weight: vec![0.0; n],
        };
        let outputs = plan
            .lower
            .iter_mut()
            .zip(plan.upper.iter_mut())
            .zip(plan.lower_weight.iter_mut().zip(plan.upper_weight.iter_mut()));
        // Written with selects instead of branches, so that the loop vectorises.
        for (&tz, ((lower, upper), (lower_weight, upper_weight))) in shifted.iter().zip(outputs) {
            let b = ((tz - v_min) / delta).clamp(0.0, last);
            // b ∈ [0, N − 1], so truncation is ⌊b⌋ and ⌈b⌉ = ⌊b⌋ + [⌊b⌋ < b].
            let floor = b as i32 as f32;
            let ceil = if floor < b { floor + 1.0 } else { floor };
            // if l = u > 0 then l ← l − 1, else if l = u < N − 1 then u ← u + 1.
            let l = if floor == ceil && ceil > 0.0 { floor - 1.0 } else { floor };
            let u = if l == ceil && l < last { ceil + 1.0 } else { ceil };
            *lower = l as i32 as u32;
            *upper = u as i32 as u32;
            *lower_weight = u - b;
            *upper_weight = b - l;
        }
        Ok(plan)
    }

    /// `P[l_j] += p_j·(u_j − b_j)`, `P[u_j] += p_j·(b_j − l_j)` row by row, `next_probs: [B, N]`
    /// (finite, checked here) of the plan's shape.
    pub(crate) fn project(&self, next_probs: &[f32]) -> Result<Vec<f32>, CriticError> {
        check_shape("next_probs", &[self.lower.len()], &[next_probs.len()])?;
        check_finite("next_probs", next_probs)?;
        let atoms = self.atoms;
        let mut projected = vec![0.0f32; next_probs.len()];
        let plan = self.lower.chunks(atoms).zip(self.upper.chunks(atoms));
        let weights = self.lower_weight.chunks(atoms).zip(self.upper_weight.chunks(atoms));
        for ((out, p), ((l, u), (wl, wu))) in
            projected.chunks_mut(atoms).zip(next_probs.chunks(atoms)).zip(plan.zip(weights))
        {
            for j in 0..p.len() {
                // l, u < N by construction (b is clamped to [0, N − 1]).
                out[l[j] as usize] += p[j] * wl[j];
                out[u[j] as usize] += p[j] * wu[j];
            }
        }
        Ok(projected)
    }
}

/// DIME's target distribution `P = sg((1/n)·Σ_i Proj(p_i(s', a')))` (dime.md §5.4): each member's
/// next-state distribution `[B, N]` projected with [`project_onto_atoms`] and averaged. Returns a
/// detached `[B, N]` tensor with the dtype and device of the first member.
pub fn critic_target(support: &Support, next_probs: &[Tensor], inputs: &TdInputs) -> Result<Tensor, CriticError> {
    let first = next_probs.first().ok_or(CriticError::Unsupported("critic_target: no members"))?;
    let rows = inputs.check()?;
    let plan = ProjectionPlan::new(support, &shifted_atoms(support, inputs)?)?;
    let mut sum = vec![0.0f32; rows * support.atoms()];
    for probs in next_probs {
        check_shape("next_probs", &[rows, support.atoms()], probs.dims())?;
        let host = probs.detach().to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        for (s, p) in sum.iter_mut().zip(plan.project(&host)?) {
            *s += p;
        }
    }
    let count = next_probs.len() as f32;
    sum.iter_mut().for_each(|s| *s /= count);
    let target = Tensor::from_vec(sum, (rows, support.atoms()), &candle_core::Device::Cpu)?;
    Ok(target.to_dtype(first.dtype())?.to_device(first.device())?)
}
