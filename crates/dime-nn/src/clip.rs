//! Gradient hygiene on host gradient lists (one `Vec<f32>` per variable).
//!
//! DIME's actor uses `zero_nans → element-wise clip(1.0)` before Adam (dime.md §7); a global-norm
//! clip is provided for other agents. All are pure functions of the gradient list.

/// Replace every NaN entry by 0 (optax `zero_nans`). Returns how many were replaced.
pub fn zero_nans(grads: &mut [Vec<f32>]) -> usize {
    let mut replaced = 0;
    // Per vector, branch-free, so that the loop vectorises.
    for v in grads.iter_mut() {
        for g in v.iter_mut() {
            let nan = g.is_nan();
            replaced += usize::from(nan);
            *g = if nan { 0.0 } else { *g };
        }
    }
    replaced
}

/// Clip each entry to `[−max_abs, max_abs]` (optax `clip`, not a norm clip).
pub fn clip_elementwise(grads: &mut [Vec<f32>], max_abs: f32) {
    for v in grads.iter_mut() {
        for g in v.iter_mut() {
            *g = g.clamp(-max_abs, max_abs);
        }
    }
}

/// Global L2 norm `sqrt(Σ g²)` over all entries (accumulated in f64).
pub fn global_norm(grads: &[Vec<f32>]) -> f64 {
    grads.iter().flat_map(|v| v.iter()).map(|&g| (g as f64) * (g as f64)).sum::<f64>().sqrt()
}

/// Scale all gradients by `max_norm / norm` when the global norm exceeds `max_norm`
/// (optax `clip_by_global_norm`). Returns the norm before clipping.
pub fn clip_global_norm(grads: &mut [Vec<f32>], max_norm: f64) -> f64 {
    let norm = global_norm(grads);
    if norm > max_norm {
        let scale = (max_norm / norm) as f32;
        for g in grads.iter_mut().flat_map(|v| v.iter_mut()) {
            *g *= scale;
        }
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_zeroing_then_elementwise_clip() {
        let mut g = vec![vec![f32::NAN, 2.0, -0.5], vec![-3.0]];
        assert_eq!(zero_nans(&mut g), 1);
        clip_elementwise(&mut g, 1.0);
        assert_eq!(g, vec![vec![0.0, 1.0, -0.5], vec![-1.0]]);
    }

    #[test]
    fn global_norm_clip_rescales_only_above_the_limit() {
        let mut g = vec![vec![3.0], vec![4.0]];
        assert_eq!(clip_global_norm(&mut g, 10.0), 5.0);
        assert_eq!(g, vec![vec![3.0], vec![4.0]]);
        assert_eq!(clip_global_norm(&mut g, 1.0), 5.0);
        assert!((g[0][0] - 0.6).abs() < 1e-7 && (g[1][0] - 0.8).abs() < 1e-7);
    }
}
