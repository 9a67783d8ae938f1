//! The categorical head on host slices: row softmax, DIME's critic loss (dime.md §5.6) with its
//! gradient to the logits, and the expected value `Q = Σ_j p_j·z_j`.

use crate::LOG_EPSILON;

/// Row-wise softmax in place, `[R, N]`: `p = exp(x − max)/Σ exp(x − max)` (the formula of the
/// candle path's `softmax_rows`).
pub(crate) fn softmax_rows(values: &mut [f32], atoms: usize) {
    super::simd::vectorised(|| softmax_rows_kernel(values, atoms))
}

#[inline(always)]
fn softmax_rows_kernel(values: &mut [f32], atoms: usize) {
    for row in values.chunks_exact_mut(atoms) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for v in row.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        row.iter_mut().for_each(|v| *v /= sum);
    }
}

/// One member's term of [`crate::categorical_td_loss`] and its gradient to the logits:
/// `L_i = −(1/B)·Σ_bj P_bj·log(p_bj + 1e-15) + (c/B)·Σ_bj p_bj·log(p_bj + 1e-15)` over the `B`
/// current rows `probs: [B, N]` against `target: [B, N]`. With `∂L/∂p = (1/B)·(−P/(p+ε) +
/// c·(log(p+ε) + p/(p+ε)))`, the softmax gives `∂L/∂x_j = p_j·(∂L/∂p_j − Σ_k p_k·∂L/∂p_k)`,
/// written into `logit_grad: [B, N]`. Returns `L_i`, summed in f64.
pub(crate) fn td_loss_and_logit_grad(
    probs: &[f32],
    target: &[f32],
    entropy_coef: f32,
    atoms: usize,
    logit_grad: &mut [f32],
) -> f64 {
    super::simd::vectorised(|| td_loss_and_logit_grad_kernel(probs, target, entropy_coef, atoms, logit_grad))
}

#[inline(always)]
fn td_loss_and_logit_grad_kernel(
    probs: &[f32],
    target: &[f32],
    entropy_coef: f32,
    atoms: usize,
    logit_grad: &mut [f32],
) -> f64 {
    let rows = probs.len() / atoms;
    let inv_rows = 1.0 / rows as f32;
    let eps = LOG_EPSILON as f32;
    let mut loss = 0.0f64;
    for ((p, t), g) in probs.chunks_exact(atoms).zip(target.chunks_exact(atoms)).zip(logit_grad.chunks_exact_mut(atoms))
    {
        let (mut row_loss, mut dot) = (0.0f32, 0.0f32);
        for j in 0..atoms {
            let shifted = p[j] + eps;
            let log_p = shifted.ln();
            row_loss += -t[j] * log_p + entropy_coef * p[j] * log_p;
            g[j] = inv_rows * (-t[j] / shifted + entropy_coef * (log_p + p[j] / shifted));
            dot += p[j] * g[j];
        }
        for j in 0..atoms {
            g[j] = p[j] * (g[j] - dot);
        }
        loss += f64::from(row_loss);
    }
    loss / rows as f64
}

/// `Σ_rows Σ_j p_j·z_j` in f64, `probs: [B, N]`.
pub(crate) fn expected_value_sum(probs: &[f32], support: &[f32]) -> f64 {
    probs.chunks_exact(support.len()).map(|row| f64::from(expected_value(row, support))).sum()
}

/// `Q = Σ_j p_j·z_j` of one row.
pub(crate) fn expected_value(row: &[f32], support: &[f32]) -> f32 {
    row.iter().zip(support).map(|(p, z)| p * z).sum()
}
