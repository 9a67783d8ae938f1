//! BatchRenorm (dime.md §5.2) forward and backward on host slices `x: [R, F]` row-major, the same
//! f32 formulas as `dime_nn::BatchRenorm` (whose doc states them):
//!
//! - train: `μ = mean_rows(x)`, `σ² = mean_rows((x − μ)²)`, `r = clip(sg(√(σ²+ε)/√(v_run+ε)), 1/r_max, r_max)`,
//!   `d = clip(sg((μ − μ_run)/√(v_run+ε)), ±d_max)`; after warm-up `μ' = μ − d·√σ²/r`,
//!   `σ'² = σ²/r²`, before it `μ' = μ`, `σ'² = σ²`; `y = (x − μ')·g/√(σ'²+ε) + h`.
//! - eval: `y = (x − μ_run)·g/√(v_run+ε) + h`.
//!
//! Backward of the train mode, per feature with `s = 1/√(σ'²+ε)`, `x̂ = (x − μ')·s`, `R` rows:
//! `∂h = Σ ∂y`, `∂g = Σ ∂y·x̂`, `∂μ' = −g·s·Σ ∂y`, `∂σ'² = −½·g·s²·Σ ∂y·x̂`; after warm-up
//! `∂σ² = ∂σ'²/r² − ∂μ'·d/(2r·√σ²)`, else `∂σ² = ∂σ'²`; `∂μ = ∂μ' − ∂σ²·(2/R)·Σ(x − μ)` (the
//! variance's own dependence on μ, zero in exact arithmetic, kept as autograd has it);
//! `∂x = ∂y·g·s + ∂μ/R + ∂σ²·2(x − μ)/R`.

use dime_nn::BatchRenormConfig;

use super::params::NormView;

/// A layer's running statistics and whether its renormalisation is on (`steps ≥ warmup_steps`).
#[derive(Debug, Clone)]
pub(crate) struct RunningStats {
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
    pub renorm: bool,
}

/// Per-feature values of one train-mode pass that the backward pass and the running-statistics
/// update need, each `[F]`.
#[derive(Debug, Clone)]
pub(crate) struct NormCache {
    /// Batch mean `μ`.
    pub batch_mean: Vec<f32>,
    /// Biased batch variance `σ²`.
    pub batch_var: Vec<f32>,
    /// `Σ_rows (x − μ)`.
    deviation_sum: Vec<f32>,
    /// The mean actually subtracted, `μ'`.
    mean: Vec<f32>,
    /// `s = 1/√(σ'² + ε)`.
    inv_std: Vec<f32>,
    /// `g/√(σ'² + ε)`, the factor applied to `x − μ'`.
    gain: Vec<f32>,
    /// Scale and shift corrections `r`, `d` (used after warm-up only).
    r: Vec<f32>,
    d: Vec<f32>,
    renorm: bool,
}

super::simd::vectorised_fn! {
    /// Train mode: `y = BRN(x)` with batch statistics; returns what the backward pass needs.
    pub(crate) fn forward_train => forward_train_kernel(
        x: &[f32],
        features: usize,
        norm: NormView,
        stats: &RunningStats,
        config: &BatchRenormConfig,
        y: &mut [f32],
    ) -> NormCache
}

#[inline(always)]
fn forward_train_kernel(
    x: &[f32],
    features: usize,
    norm: NormView,
    stats: &RunningStats,
    config: &BatchRenormConfig,
    y: &mut [f32],
) -> NormCache {
    let rows = x.len() / features;
    let inv_rows = 1.0 / rows as f32;
    let mut batch_mean = vec![0.0f32; features];
    for row in x.chunks_exact(features) {
        batch_mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
    }
    batch_mean.iter_mut().for_each(|m| *m *= inv_rows);
    let (mut batch_var, mut deviation_sum) = (vec![0.0f32; features], vec![0.0f32; features]);
    for row in x.chunks_exact(features) {
        for (((v, s), x), m) in batch_var.iter_mut().zip(deviation_sum.iter_mut()).zip(row).zip(&batch_mean) {
            let dev = x - m;
            *s += dev;
            *v += dev * dev;
        }
    }
    batch_var.iter_mut().for_each(|v| *v *= inv_rows);

    let eps = config.epsilon as f32;
    let (r_max, d_max) = (config.r_max as f32, config.d_max as f32);
    let mut cache = NormCache {
        mean: batch_mean.clone(),
        inv_std: vec![0.0; features],
        gain: vec![0.0; features],
        r: vec![1.0; features],
        d: vec![0.0; features],
        batch_mean,
        batch_var,
        deviation_sum,
        renorm: stats.renorm,
    };
    for f in 0..features {
        let running_std = (stats.var[f] + eps).sqrt();
        let batch_std = (cache.batch_var[f] + eps).sqrt();
        cache.r[f] = (batch_std / running_std).clamp(1.0 / r_max, r_max);
        cache.d[f] = ((cache.batch_mean[f] - stats.mean[f]) / running_std).clamp(-d_max, d_max);
        let var = if stats.renorm {
            let (r, d) = (cache.r[f], cache.d[f]);
            cache.mean[f] = cache.batch_mean[f] - d * cache.batch_var[f].sqrt() / r;
            cache.batch_var[f] / (r * r)
        } else {
            cache.batch_var[f]
        };
        let std = (var + eps).sqrt();
        cache.inv_std[f] = 1.0 / std;
        cache.gain[f] = norm.scale[f] / std;
    }
    apply(x, &cache.mean, &cache.gain, norm.bias, y);
    cache
}

/// Eval mode: `y = (x − μ_run)·g/√(v_run+ε) + h`; returns the gain `g/√(v_run+ε)` (the backward
/// factor).
pub(crate) fn forward_eval(
    x: &[f32],
    norm: NormView,
    stats: &RunningStats,
    config: &BatchRenormConfig,
    y: &mut [f32],
) -> Vec<f32> {
    let eps = config.epsilon as f32;
    let gain: Vec<f32> = norm.scale.iter().zip(&stats.var).map(|(g, v)| g / (v + eps).sqrt()).collect();
    apply(x, &stats.mean, &gain, norm.bias, y);
    gain
}

/// `y = (x − mean)·gain + bias`, row by row.
fn apply(x: &[f32], mean: &[f32], gain: &[f32], bias: &[f32], y: &mut [f32]) {
    super::simd::vectorised(|| apply_kernel(x, mean, gain, bias, y))
}

#[inline(always)]
fn apply_kernel(x: &[f32], mean: &[f32], gain: &[f32], bias: &[f32], y: &mut [f32]) {
    let features = mean.len();
    for (out, row) in y.chunks_exact_mut(features).zip(x.chunks_exact(features)) {
        for ((((o, x), m), g), b) in out.iter_mut().zip(row).zip(mean).zip(gain).zip(bias) {
            *o = (x - m) * g + b;
        }
    }
}

/// The running statistics after one train-mode pass: `μ_run ← m·μ_run + (1 − m)·μ`, likewise `v_run`.
pub(crate) fn moved_statistics(
    stats: &RunningStats,
    cache: &NormCache,
    config: &BatchRenormConfig,
) -> (Vec<f32>, Vec<f32>) {
    let (m, n) = (config.momentum as f32, (1.0 - config.momentum) as f32);
    let mean = stats.mean.iter().zip(&cache.batch_mean).map(|(r, b)| r * m + b * n).collect();
    let var = stats.var.iter().zip(&cache.batch_var).map(|(r, b)| r * m + b * n).collect();
    (mean, var)
}

/// Gradients of a train-mode layer's scale and bias, `[F]` each.
pub(crate) struct NormGrads {
    pub scale: Vec<f32>,
    pub bias: Vec<f32>,
}

super::simd::vectorised_fn! {
    /// Train-mode backward: from `∂y` in `grad` (`[R, F]`) the scale and bias gradients; with
    /// `input_grad`, `grad` is then overwritten with `∂x` (the input layer needs none).
    pub(crate) fn backward_train => backward_train_kernel(
        x: &[f32],
        norm: NormView,
        cache: &NormCache,
        grad: &mut [f32],
        input_grad: bool,
    ) -> NormGrads
}

#[inline(always)]
fn backward_train_kernel(
    x: &[f32],
    norm: NormView,
    cache: &NormCache,
    grad: &mut [f32],
    input_grad: bool,
) -> NormGrads {
    let features = cache.mean.len();
    let rows = x.len() / features;
    let (mut sum_dy, mut sum_dy_xhat) = (vec![0.0f32; features], vec![0.0f32; features]);
    for (xr, gr) in x.chunks_exact(features).zip(grad.chunks_exact(features)) {
        let per_feature = sum_dy.iter_mut().zip(sum_dy_xhat.iter_mut()).zip(&cache.mean).zip(&cache.inv_std);
        for ((((s, sx), m), inv), (x, g)) in per_feature.zip(xr.iter().zip(gr)) {
            *s += g;
            *sx += g * ((x - m) * inv);
        }
    }
    if input_grad {
        let inv_rows = 1.0 / rows as f32;
        let (mut shift, mut slope) = (vec![0.0f32; features], vec![0.0f32; features]);
        for f in 0..features {
            let (g, s) = (norm.scale[f], cache.inv_std[f]);
            let d_mean_prime = -g * s * sum_dy[f];
            let d_var_prime = -0.5 * g * s * s * sum_dy_xhat[f];
            let d_var = if cache.renorm {
                let (r, d) = (cache.r[f], cache.d[f]);
                d_var_prime / (r * r) - d_mean_prime * d / (2.0 * r * cache.batch_var[f].sqrt())
            } else {
                d_var_prime
            };
            let d_mean = d_mean_prime - d_var * 2.0 * inv_rows * cache.deviation_sum[f];
            shift[f] = d_mean * inv_rows;
            slope[f] = 2.0 * d_var * inv_rows;
        }
        for (gr, xr) in grad.chunks_exact_mut(features).zip(x.chunks_exact(features)) {
            let per_feature = cache.gain.iter().zip(&shift).zip(&slope).zip(&cache.batch_mean);
            for ((((k, sh), sl), m), (g, x)) in per_feature.zip(gr.iter_mut().zip(xr)) {
                *g = *g * k + sh + sl * (x - m);
            }
        }
    }
    NormGrads { scale: sum_dy_xhat, bias: sum_dy }
}

/// Eval-mode backward to the input: `∂x = ∂y·gain` in place.
pub(crate) fn backward_eval_in_place(gain: &[f32], grad: &mut [f32]) {
    super::simd::vectorised(|| backward_eval_in_place_kernel(gain, grad))
}

#[inline(always)]
fn backward_eval_in_place_kernel(gain: &[f32], grad: &mut [f32]) {
    let features = gain.len();
    for row in grad.chunks_exact_mut(features) {
        row.iter_mut().zip(gain).for_each(|(g, k)| *g *= k);
    }
}
