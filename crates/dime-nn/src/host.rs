//! Small dense kernels on host slices, for latency-bound single-sample inference.
//!
//! One observation through a 256-wide network is a handful of vector–matrix products of
//! 65k multiply-adds each; at that size candle's per-op overhead (allocation, dispatch) costs
//! more than the arithmetic. These loops are plain Rust that LLVM vectorises; on x86-64 an
//! AVX2+FMA copy is selected at run time when the CPU has it.

use crate::Activation;

/// `out += x·W` for a row vector `x: [n]` and a row-major `W: [n, m]` (`out: [m]`).
pub fn vec_mat_add(x: &[f32], w: &[f32], out: &mut [f32]) {
    assert_eq!(w.len(), x.len() * out.len(), "vec_mat_add: W must be [x.len(), out.len()]");
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { vec_mat_add_avx512(x, w, out) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { vec_mat_add_avx2(x, w, out) };
            return;
        }
    }
    vec_mat_add_generic(x, w, out);
}

#[inline(always)]
fn vec_mat_add_generic(x: &[f32], w: &[f32], out: &mut [f32]) {
    let m = out.len();
    for (xi, row) in x.iter().zip(w.chunks_exact(m)) {
        for (o, wij) in out.iter_mut().zip(row) {
            *o += xi * wij;
        }
    }
}

/// Register-blocked: 64 outputs stay in eight AVX registers while all rows stream past, so
/// `out` is loaded and stored once per block instead of once per row. Each output is still
/// accumulated over rows in order, one fused multiply-add per row.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn vec_mat_add_avx2(x: &[f32], w: &[f32], out: &mut [f32]) {
    vec_mat_add_blocked::<64>(x, w, out);
}

/// The same loop with 128 outputs in eight AVX-512 registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn vec_mat_add_avx512(x: &[f32], w: &[f32], out: &mut [f32]) {
    vec_mat_add_blocked::<128>(x, w, out);
}

#[inline(always)]
fn vec_mat_add_blocked<const BLOCK: usize>(x: &[f32], w: &[f32], out: &mut [f32]) {
    let m = out.len();
    let mut start = 0;
    while start + BLOCK <= m {
        let mut acc = [0.0f32; BLOCK];
        acc.copy_from_slice(&out[start..start + BLOCK]);
        for (i, xi) in x.iter().enumerate() {
            let row = &w[i * m + start..i * m + start + BLOCK];
            for j in 0..BLOCK {
                acc[j] = xi.mul_add(row[j], acc[j]);
            }
        }
        out[start..start + BLOCK].copy_from_slice(&acc);
        start += BLOCK;
    }
    for (i, xi) in x.iter().enumerate() {
        for j in start..m {
            out[j] = xi.mul_add(w[i * m + j], out[j]);
        }
    }
}

/// `out = a ⊙ b` for `[R, n]` blocks, with `column_sums[j] += Σ_r out[r, j]` (rows in order)
/// and, when given, `running[r, j] += out[r, j]`: a layer's backward step through its
/// activation (`a` = upstream gradient, `b` = kept derivative) that also gathers the bias
/// gradient while the values are in registers, instead of in later passes over the tape.
pub fn product_with_sums(a: &[f32], b: &[f32], out: &mut [f32], column_sums: &mut [f32], running: Option<&mut [f32]>) {
    let n = column_sums.len();
    assert!(
        n > 0 && a.len() == out.len() && b.len() == out.len() && out.len().is_multiple_of(n),
        "product_with_sums: shapes"
    );
    if let Some(r) = &running {
        assert_eq!(r.len(), out.len(), "product_with_sums: running must be [R, n]");
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { product_with_sums_avx512(a, b, out, column_sums, running) };
            return;
        }
    }
    product_with_sums_generic(a, b, out, column_sums, running);
}

#[inline(always)]
fn product_with_sums_generic(a: &[f32], b: &[f32], out: &mut [f32], sums: &mut [f32], running: Option<&mut [f32]>) {
    let n = sums.len();
    let rows = a.chunks_exact(n).zip(b.chunks_exact(n)).zip(out.chunks_exact_mut(n));
    match running {
        Some(running) => {
            for ((ar, br), (or, rr)) in
                a.chunks_exact(n).zip(b.chunks_exact(n)).zip(out.chunks_exact_mut(n).zip(running.chunks_exact_mut(n)))
            {
                for ((((o, r), s), x), y) in or.iter_mut().zip(rr.iter_mut()).zip(sums.iter_mut()).zip(ar).zip(br) {
                    *o = x * y;
                    *s += *o;
                    *r += *o;
                }
            }
        }
        None => {
            for ((ar, br), or) in rows {
                for (((o, s), x), y) in or.iter_mut().zip(sums.iter_mut()).zip(ar).zip(br) {
                    *o = x * y;
                    *s += *o;
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn product_with_sums_avx512(
    a: &[f32],
    b: &[f32],
    out: &mut [f32],
    sums: &mut [f32],
    running: Option<&mut [f32]>,
) {
    product_with_sums_generic(a, b, out, sums, running);
}

impl Activation {
    /// Apply the activation in place to host values (same element formulas as [`Activation::apply`]
    /// on the CPU).
    pub fn apply_slice(self, values: &mut [f32]) {
        match self {
            Activation::Gelu => crate::cpu_map::map_in_place_f32(values, crate::gelu::gelu_f32),
            Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Mish => values.iter_mut().for_each(|v| *v *= crate::softplus::softplus_f32(*v).tanh()),
        }
    }

    /// `out[r, j] = f(pre[r, j] + bias[j])` over the rows of `pre` (`bias` is a layer's bias row,
    /// added here instead of in a separate pass); without `bias`, `out[i] = f(pre[i])`. Same
    /// element formulas as [`Activation::apply_slice`].
    pub fn apply_into(self, pre: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
        use crate::cpu_map::map_rows_into_f32;
        match self {
            Activation::Gelu => map_rows_into_f32(pre, bias, out, crate::gelu::gelu_f32),
            Activation::Relu => map_rows_into_f32(pre, bias, out, |p| p.max(0.0)),
            Activation::Mish => map_rows_into_f32(pre, bias, out, |p| p * crate::softplus::softplus_f32(p).tanh()),
        }
    }

    /// `out = f(pre + bias)` as in [`Activation::apply_into`] and, in place, `pre = f'(pre + bias)`:
    /// the forward pass of a layer whose backward pass will only need the derivative
    /// ([`Activation::backward_slice`]'s factor, kept instead of recomputed). Same values as
    /// `apply_into` and `backward_slice`.
    pub fn apply_keeping_derivative(self, pre: &mut [f32], bias: Option<&[f32]>, out: &mut [f32]) {
        use crate::cpu_map::map_pair_rows_f32;
        match self {
            Activation::Gelu => map_pair_rows_f32(pre, bias, out, crate::gelu::gelu_and_derivative_f32),
            Activation::Relu => map_pair_rows_f32(pre, bias, out, |p| (p.max(0.0), if p > 0.0 { 1.0 } else { 0.0 })),
            Activation::Mish => map_pair_rows_f32(pre, bias, out, |p| {
                let t = crate::softplus::softplus_f32(p).tanh();
                let sigmoid = 1.0 / (1.0 + (-p).exp());
                (p * t, t + p * (1.0 - t * t) * sigmoid)
            }),
        }
    }

    /// Back-propagate through the activation on host values: `grad[i] *= f'(pre[i])`, where
    /// `pre` holds the activation's inputs (same derivative formulas as the fused ops' backward).
    pub fn backward_slice(self, pre: &[f32], grad: &mut [f32]) {
        use crate::cpu_map::zip_in_place_f32;
        match self {
            Activation::Gelu => zip_in_place_f32(pre, grad, |p, g| g * crate::gelu::gelu_derivative_f32(p)),
            Activation::Relu => zip_in_place_f32(pre, grad, |p, g| if p > 0.0 { g } else { 0.0 }),
            Activation::Mish => zip_in_place_f32(pre, grad, |p, g| {
                // d/dx x·tanh(sp(x)) = tanh(sp) + x·(1 − tanh²(sp))·σ(x)
                let t = crate::softplus::softplus_f32(p).tanh();
                let sigmoid = 1.0 / (1.0 + (-p).exp());
                g * (t + p * (1.0 - t * t) * sigmoid)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_slice_matches_central_differences() {
        let pre: Vec<f32> = (0..41).map(|i| -4.0 + 0.2 * i as f32 + 0.013).collect();
        for act in [Activation::Gelu, Activation::Relu, Activation::Mish] {
            let mut grad = vec![1.0f32; pre.len()];
            act.backward_slice(&pre, &mut grad);
            for (p, g) in pre.iter().zip(&grad) {
                let h = 1e-2f32;
                let (mut up, mut down) = ([p + h], [p - h]);
                act.apply_slice(&mut up);
                act.apply_slice(&mut down);
                let mut into = [0.0f32];
                act.apply_into(&[p + h], None, &mut into);
                assert_eq!(into, up, "apply_into equals apply_slice");
                let (mut kept, mut value) = ([*p], [0.0f32]);
                act.apply_keeping_derivative(&mut kept, None, &mut value);
                let mut plain = [*p];
                act.apply_slice(&mut plain);
                assert_eq!(value, plain, "the kept-derivative forward gives the same value");
                assert!((kept[0] - g).abs() <= 1e-6 * g.abs().max(1.0), "{act:?} at {p}: {} vs {g}", kept[0]);
                // With a bias row the input is `pre + bias`, added before the activation.
                let (bias, shifted) = ([0.25f32], [p - 0.25]);
                let (mut kept_b, mut value_b, mut into_b) = (shifted, [0.0f32], [0.0f32]);
                act.apply_into(&shifted, Some(&bias), &mut into_b);
                act.apply_keeping_derivative(&mut kept_b, Some(&bias), &mut value_b);
                let mut plain_b = [shifted[0] + bias[0]];
                act.apply_slice(&mut plain_b);
                assert_eq!((into_b, value_b), (plain_b, plain_b), "{act:?}: bias added first");
                let numeric = (up[0] - down[0]) / (2.0 * h);
                assert!((numeric - g).abs() < 2e-3, "{act:?} at {p}: {numeric} vs {g}");
            }
        }
    }

    #[test]
    fn product_with_sums_gathers_columns_and_rows() {
        let (rows, n) = (3, 5);
        let a: Vec<f32> = (0..rows * n).map(|i| i as f32 * 0.5 - 2.0).collect();
        let b: Vec<f32> = (0..rows * n).map(|i| (i as f32 * 0.3).cos()).collect();
        let (mut out, mut sums, mut running) = (vec![0.0; rows * n], vec![1.0; n], vec![2.0; rows * n]);
        product_with_sums(&a, &b, &mut out, &mut sums, Some(&mut running));
        for j in 0..n {
            let mut expected = 1.0f32;
            for r in 0..rows {
                let p = a[r * n + j] * b[r * n + j];
                assert_eq!(out[r * n + j], p);
                assert_eq!(running[r * n + j], 2.0 + p);
                expected += p;
            }
            assert_eq!(sums[j], expected);
        }
    }

    #[test]
    fn vec_mat_matches_naive_product() {
        let (n, m) = (37, 150);
        let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let w: Vec<f32> = (0..n * m).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut out = vec![0.5f32; m];
        vec_mat_add(&x, &w, &mut out);
        for j in 0..m {
            let expected: f64 = 0.5 + (0..n).map(|i| x[i] as f64 * w[i * m + j] as f64).sum::<f64>();
            assert!((out[j] as f64 - expected).abs() < 1e-4);
        }
    }
}
