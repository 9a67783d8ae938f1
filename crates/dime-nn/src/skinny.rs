//! Products with one small dimension (a few action dimensions against a 256-wide layer), on
//! host slices.
//!
//! A diffusion chain step multiplies `[B, d]·[d, H]` (the action's share of the first layer) and
//! `[B, H]·[H, d]` (the output layer), and their transposes in the backward pass, with `d` of 1
//! to 38. A general GEMM spends most of such a call packing operands and running edge kernels
//! (measured: 17–25 GFLOP/s against 115 for square products); these loops stream each row once.
//! Every output is accumulated from zero in index order with fused multiply-adds, then added to
//! its base, so results do not depend on the CPU's vector width beyond the dot-product lanes of
//! [`row_dots`] (fixed at 16). All matrices are row-major.

/// Lanes of the partial sums of a dot product (the AVX-512 width; the portable loop keeps the
/// same 16 partial sums).
const LANES: usize = 16;

/// `out[r, :] = base[r, :] + Σ_i x[r, i]·w[i, :]` for `x: [R, d]`, `w: [d, n]`, `out: [R, n]`;
/// without `base`, `out[r, :] = Σ_i x[r, i]·w[i, :]`. `base` is `[R, n]` or one row `[n]`
/// (broadcast). Panics when the lengths do not fit these shapes (a caller's programming error).
pub fn rank_product(x: &[f32], w: &[f32], n: usize, base: Option<&[f32]>, out: &mut [f32]) {
    assert!(
        n > 0 && !w.is_empty() && w.len().is_multiple_of(n) && out.len().is_multiple_of(n),
        "rank_product: w must be [d, n]"
    );
    let (d, rows) = (w.len() / n, out.len() / n);
    assert_eq!(x.len(), rows * d, "rank_product: x must be [R, d]");
    if let Some(base) = base {
        assert!(base.len() == n || base.len() == out.len(), "rank_product: base must be [n] or [R, n]");
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for; the lengths
            // were checked above.
            unsafe { avx512::rank_product(x, w, base, out, d, n) };
            return;
        }
    }
    rank_product_generic(x, w, base, out, d, n);
}

#[inline(always)]
fn rank_product_generic(x: &[f32], w: &[f32], base: Option<&[f32]>, out: &mut [f32], d: usize, n: usize) {
    for (r, (out_row, x_row)) in out.chunks_exact_mut(n).zip(x.chunks_exact(d)).enumerate() {
        out_row.fill(0.0);
        for (xi, w_row) in x_row.iter().zip(w.chunks_exact(n)) {
            for (o, wij) in out_row.iter_mut().zip(w_row) {
                *o = xi.mul_add(*wij, *o);
            }
        }
        if let Some(base) = base {
            let base_row = if base.len() == n { base } else { &base[r * n..(r + 1) * n] };
            for (o, b) in out_row.iter_mut().zip(base_row) {
                *o += b;
            }
        }
    }
}

/// `out[r, i] (+)= Σ_j a[r, j]·w[i, j]` (`out = a·wᵀ`) for `a: [R, n]`, `w: [d, n]`,
/// `out: [R, d]`; with `accumulate` the dot products are added to `out`, else they replace it.
/// Each dot product keeps 16 partial sums (lane `l` takes `j ≡ l mod 16`) that are added
/// pairwise at the end. Panics when the lengths do not fit these shapes.
pub fn row_dots(a: &[f32], w: &[f32], n: usize, accumulate: bool, out: &mut [f32]) {
    assert!(
        n > 0 && !w.is_empty() && w.len().is_multiple_of(n) && a.len().is_multiple_of(n),
        "row_dots: w must be [d, n]"
    );
    let (d, rows) = (w.len() / n, a.len() / n);
    assert_eq!(out.len(), rows * d, "row_dots: out must be [R, d]");
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for; the lengths
            // were checked above.
            unsafe { avx512::row_dots(a, w, accumulate, out, n, d) };
            return;
        }
    }
    row_dots_generic(a, w, accumulate, out, n, d);
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let (a_blocks, a_tail) = a.split_at(a.len() - a.len() % LANES);
    let b_blocks = &b[..a_blocks.len()];
    for (ca, cb) in a_blocks.chunks_exact(LANES).zip(b_blocks.chunks_exact(LANES)) {
        for l in 0..LANES {
            lanes[l] = ca[l].mul_add(cb[l], lanes[l]);
        }
    }
    for (l, (x, y)) in a_tail.iter().zip(&b[a_blocks.len()..]).enumerate() {
        lanes[l] = x.mul_add(*y, lanes[l]);
    }
    reduce_lanes(lanes)
}

#[inline(always)]
fn row_dots_generic(a: &[f32], w: &[f32], accumulate: bool, out: &mut [f32], n: usize, d: usize) {
    for (a_row, out_row) in a.chunks_exact(n).zip(out.chunks_exact_mut(d)) {
        for (o, w_row) in out_row.iter_mut().zip(w.chunks_exact(n)) {
            let s = dot(a_row, w_row);
            *o = if accumulate { *o + s } else { s };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// Mask of the first `len` (≤ 16) lanes.
    fn tail_mask(len: usize) -> __mmask16 {
        ((1u32 << len) - 1) as __mmask16
    }

    /// See [`super::rank_product`]; 64 output columns at a time in four registers.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `x: [R, d]`, `w: [d, n]`, `out: [R, n]`, `base` `[n]` or `[R, n]`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn rank_product(x: &[f32], w: &[f32], base: Option<&[f32]>, out: &mut [f32], d: usize, n: usize) {
        let rows = out.len() / n;
        for r in 0..rows {
            let x_row = x.as_ptr().add(r * d);
            let out_row = out.as_mut_ptr().add(r * n);
            let base_row = base.map(|b| if b.len() == n { b.as_ptr() } else { b.as_ptr().add(r * n) });
            let mut c = 0;
            while c + 64 <= n {
                let mut acc = [_mm512_setzero_ps(); 4];
                for i in 0..d {
                    let xi = _mm512_set1_ps(*x_row.add(i));
                    let w_row = w.as_ptr().add(i * n + c);
                    for (j, a) in acc.iter_mut().enumerate() {
                        *a = _mm512_fmadd_ps(xi, _mm512_loadu_ps(w_row.add(16 * j)), *a);
                    }
                }
                for (j, a) in acc.iter().enumerate() {
                    let v = match base_row {
                        Some(b) => _mm512_add_ps(_mm512_loadu_ps(b.add(c + 16 * j)), *a),
                        None => *a,
                    };
                    _mm512_storeu_ps(out_row.add(c + 16 * j), v);
                }
                c += 64;
            }
            while c < n {
                let mask = tail_mask((n - c).min(16));
                let mut a = _mm512_setzero_ps();
                for i in 0..d {
                    let xi = _mm512_set1_ps(*x_row.add(i));
                    a = _mm512_fmadd_ps(xi, _mm512_maskz_loadu_ps(mask, w.as_ptr().add(i * n + c)), a);
                }
                if let Some(b) = base_row {
                    a = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, b.add(c)), a);
                }
                _mm512_mask_storeu_ps(out_row.add(c), mask, a);
                c += 16;
            }
        }
    }

    /// The sum of the 16 lanes in [`super::reduce_lanes`]'s order: halves added until one
    /// lane is left (lanes `l` and `l + 8`, then `l + 4`, `l + 2`, `l + 1`).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn reduce_lanes(v: __m512) -> f32 {
        let upper = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
        let half = _mm256_add_ps(_mm512_castps512_ps256(v), upper);
        let quarter = _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps::<1>(half));
        let eighth = _mm_add_ps(quarter, _mm_movehl_ps(quarter, quarter));
        _mm_cvtss_f32(_mm_add_ss(eighth, _mm_movehdup_ps(eighth)))
    }

    /// See [`super::row_dots`]; up to eight outputs of a row at a time, so that each 16-wide
    /// block of the row is loaded once for all of them.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `a: [R, n]`, `w: [d, n]`, `out: [R, d]`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn row_dots(a: &[f32], w: &[f32], accumulate: bool, out: &mut [f32], n: usize, d: usize) {
        const GROUP: usize = 8;
        let rows = a.len() / n;
        for r in 0..rows {
            let a_row = a.as_ptr().add(r * n);
            let mut i0 = 0;
            while i0 < d {
                let g = (d - i0).min(GROUP);
                let mut acc = [_mm512_setzero_ps(); GROUP];
                let mut c = 0;
                while c < n {
                    let mask = tail_mask((n - c).min(16));
                    let block = _mm512_maskz_loadu_ps(mask, a_row.add(c));
                    for (i, acc) in acc.iter_mut().enumerate().take(g) {
                        let w_block = _mm512_maskz_loadu_ps(mask, w.as_ptr().add((i0 + i) * n + c));
                        *acc = _mm512_fmadd_ps(block, w_block, *acc);
                    }
                    c += 16;
                }
                for (i, acc) in acc.iter().enumerate().take(g) {
                    let s = reduce_lanes(*acc);
                    let o = out.get_unchecked_mut(r * d + i0 + i);
                    *o = if accumulate { *o + s } else { s };
                }
                i0 += g;
            }
        }
    }
}

/// The pairwise sum of 16 partial sums (halves added until one is left).
#[inline(always)]
fn reduce_lanes(mut lanes: [f32; LANES]) -> f32 {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            lanes[l] += lanes[l + width];
        }
    }
    lanes[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: f32) -> Vec<f32> {
        (0..len).map(|i| ((i as f32 + seed) * 0.37).sin()).collect()
    }

    #[test]
    fn rank_product_matches_a_naive_product_with_and_without_base() {
        // n = 37 runs only the masked tail; n = 150 also the 64-column blocks.
        for (rows, d, n) in [(5, 3, 37), (3, 6, 150)] {
            check_rank_product(rows, d, n);
        }
    }

    fn check_rank_product(rows: usize, d: usize, n: usize) {
        let (x, w) = (values(rows * d, 1.0), values(d * n, 2.0));
        let (row_base, full_base) = (values(n, 3.0), values(rows * n, 4.0));
        for base in [None, Some(&row_base[..]), Some(&full_base[..])] {
            let mut out = vec![f32::NAN; rows * n];
            rank_product(&x, &w, n, base, &mut out);
            for r in 0..rows {
                for j in 0..n {
                    let b = base.map_or(0.0, |b| f64::from(if b.len() == n { b[j] } else { b[r * n + j] }));
                    let exact: f64 = b + (0..d).map(|i| f64::from(x[r * d + i]) * f64::from(w[i * n + j])).sum::<f64>();
                    assert!((f64::from(out[r * n + j]) - exact).abs() < 1e-5, "({r}, {j})");
                }
            }
        }
    }

    #[test]
    fn row_dots_match_a_naive_product_and_accumulate() {
        // n = 37 exercises both the 16-lane blocks and the tail.
        let (rows, d, n) = (4, 6, 37);
        let (a, w) = (values(rows * n, 5.0), values(d * n, 6.0));
        let mut out = vec![0.5f32; rows * d];
        row_dots(&a, &w, n, true, &mut out);
        let mut replaced = vec![f32::NAN; rows * d];
        row_dots(&a, &w, n, false, &mut replaced);
        for r in 0..rows {
            for i in 0..d {
                let exact: f64 = (0..n).map(|j| f64::from(a[r * n + j]) * f64::from(w[i * n + j])).sum();
                assert!((f64::from(replaced[r * d + i]) - exact).abs() < 1e-5);
                assert!((f64::from(out[r * d + i]) - 0.5 - exact).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn the_simd_and_portable_loops_give_the_same_bits() {
        let (rows, d, n) = (3, 7, 150);
        let (a, w, x) = (values(rows * n, 7.0), values(d * n, 8.0), values(rows * d, 9.0));
        let (mut simd, mut portable) = (vec![0.25f32; rows * d], vec![0.25f32; rows * d]);
        row_dots(&a, &w, n, true, &mut simd);
        row_dots_generic(&a, &w, true, &mut portable, n, d);
        assert_eq!(simd, portable);
        let base = values(rows * n, 10.0);
        let (mut simd, mut portable) = (vec![0.0f32; rows * n], vec![0.0f32; rows * n]);
        rank_product(&x, &w, n, Some(&base), &mut simd);
        rank_product_generic(&x, &w, Some(&base), &mut portable, d, n);
        assert_eq!(simd, portable);
    }

    #[test]
    #[should_panic(expected = "x must be [R, d]")]
    fn mismatched_shapes_are_refused() {
        let mut out = vec![0.0; 8];
        rank_product(&[1.0; 3], &[1.0; 8], 4, None, &mut out);
    }
}
