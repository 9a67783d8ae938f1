//! Dense products on host slices, through the `gemm` crate that candle's CPU matmul also calls.
//!
//! The fused CPU paths of the sampler and the critics keep their activations in plain `Vec<f32>`
//! buffers and call these directly, skipping candle's per-operation allocation and dispatch. All
//! matrices are row-major; a transposed operand is read through strides, never copied. The thread
//! count is [`crate::cpu_threads`] (candle's rule: `RAYON_NUM_THREADS`, else the core count),
//! except inside a rayon task, where the caller already parallelises and a product runs serially.

use gemm::Parallelism;

/// Shape and options of one product `C (+)= op(A)·op(B)` with `op(A): [m, k]`, `op(B): [k, n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gemm {
    /// Rows of `C` and of `op(A)`.
    pub m: usize,
    /// The contracted dimension.
    pub k: usize,
    /// Columns of `C` and of `op(B)`.
    pub n: usize,
    /// `A` is stored as `[k, m]` and used transposed.
    pub a_transposed: bool,
    /// `B` is stored as `[n, k]` and used transposed.
    pub b_transposed: bool,
    /// Add the product to `C` instead of overwriting it.
    pub accumulate: bool,
}

impl Gemm {
    /// `C = A·B` with `A: [m, k]`, `B: [k, n]`.
    pub fn new(m: usize, k: usize, n: usize) -> Self {
        Self { m, k, n, a_transposed: false, b_transposed: false, accumulate: false }
    }

    /// Use `A` transposed (stored `[k, m]`).
    pub fn a_t(mut self) -> Self {
        self.a_transposed = true;
        self
    }

    /// Use `B` transposed (stored `[n, k]`).
    pub fn b_t(mut self) -> Self {
        self.b_transposed = true;
        self
    }

    /// Accumulate into `C`.
    pub fn acc(mut self) -> Self {
        self.accumulate = true;
        self
    }

    /// Compute the product. Panics if a slice's length does not match its shape (a programming
    /// error in the caller, never a data-dependent condition).
    pub fn run(&self, a: &[f32], b: &[f32], c: &mut [f32]) {
        let Gemm { m, k, n, .. } = *self;
        assert_eq!(a.len(), m * k, "gemm: A must hold m·k values");
        assert_eq!(b.len(), k * n, "gemm: B must hold k·n values");
        assert_eq!(c.len(), m * n, "gemm: C must hold m·n values");
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            if !self.accumulate {
                c.fill(0.0);
            }
            return;
        }
        // Element (i, j) of op(X) sits at i·rs + j·cs.
        let (a_rs, a_cs) = if self.a_transposed { (1, m as isize) } else { (k as isize, 1) };
        let (b_rs, b_cs) = if self.b_transposed { (1, k as isize) } else { (n as isize, 1) };
        // Inside a rayon task (a row block of a parallel pass) the product stays on its thread.
        let threads = if rayon::current_thread_index().is_some() { 1 } else { crate::cpu_threads() };
        let parallelism = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
        // SAFETY: the asserts above bound every index the strides reach (i < m, j < n, l < k)
        // inside the three slices; `c` is borrowed mutably and does not alias `a` or `b`.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                self.accumulate,
                a.as_ptr(),
                a_cs,
                a_rs,
                b.as_ptr(),
                b_cs,
                b_rs,
                1.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
    }
}

/// `mᵀ` for a row-major `m: [rows, cols]`, in 16×16 tiles (a tile's reads and writes stay in
/// a few cache lines).
pub fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const TILE: usize = 16;
    let mut t = vec![0.0; m.len()];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    t[c * rows + r] = m[r * cols + c];
                }
            }
        }
    }
    t
}

/// `out[i, j] += Σ_rows g[r, j]` — the bias gradient of a layer: column sums of `g: [rows, n]`
/// added into `out: [n]`.
pub fn add_column_sums(g: &[f32], out: &mut [f32]) {
    let n = out.len();
    assert!(n > 0 && g.len().is_multiple_of(n), "add_column_sums: g must be [rows, out.len()]");
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { add_column_sums_avx512(g, out) };
            return;
        }
    }
    add_column_sums_generic(g, out);
}

/// Rows are added in order, so every CPU gives the same sums.
#[inline(always)]
fn add_column_sums_generic(g: &[f32], out: &mut [f32]) {
    for row in g.chunks_exact(out.len()) {
        for (o, v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn add_column_sums_avx512(g: &[f32], out: &mut [f32]) {
    add_column_sums_generic(g, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Vec<f64> {
        let mut c = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                for l in 0..k {
                    let av = if ta { a[l * m + i] } else { a[i * k + l] };
                    let bv = if tb { b[j * k + l] } else { b[l * n + j] };
                    c[i * n + j] += f64::from(av) * f64::from(bv);
                }
            }
        }
        c
    }

    #[test]
    fn every_transpose_combination_matches_a_naive_product() {
        let (m, k, n) = (7, 13, 5);
        let a: Vec<f32> = (0..m * k).map(|i| ((i as f32) * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i as f32) * 0.11).cos()).collect();
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut spec = Gemm::new(m, k, n);
            spec.a_transposed = ta;
            spec.b_transposed = tb;
            let expected = naive(&a, &b, m, k, n, ta, tb);
            let mut c = vec![9.0f32; m * n];
            spec.run(&a, &b, &mut c);
            let mut acc = vec![1.0f32; m * n];
            spec.acc().run(&a, &b, &mut acc);
            for i in 0..m * n {
                assert!((f64::from(c[i]) - expected[i]).abs() < 1e-5, "{ta} {tb} at {i}");
                assert!((f64::from(acc[i]) - 1.0 - expected[i]).abs() < 1e-5, "acc {ta} {tb} at {i}");
            }
        }
    }

    #[test]
    fn empty_contraction_gives_zero_or_keeps_c() {
        let mut c = vec![3.0f32; 4];
        Gemm::new(2, 0, 2).acc().run(&[], &[], &mut c);
        assert_eq!(c, vec![3.0; 4]);
        Gemm::new(2, 0, 2).run(&[], &[], &mut c);
        assert_eq!(c, vec![0.0; 4]);
    }

    #[test]
    fn column_sums_accumulate() {
        let g = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut out = [1.0, 0.0, 0.0];
        add_column_sums(&g, &mut out);
        assert_eq!(out, [6.0, 7.0, 9.0]);
    }
}
