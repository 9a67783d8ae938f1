//! MuJoCo's tree-sparse factorisation of a joint-space inertia, `M = Lᵀ·D·L` (`mj_factorM`,
//! `mj_solveLD`), with `L` unit lower-triangular and `D` diagonal.
//!
//! `M_ij ≠ 0` only when dof `j` is an ancestor of dof `i` in the dof tree (or `i` itself).
//! Eliminating from the leaves towards the root creates no fill-in, so `L_ij ≠ 0` only for the
//! ancestors `j` of `i` too, and everything is stored compactly: row `k` holds the entries of dof
//! `k` and its ancestors, nearest first, one after the other. The ancestors of an ancestor `i` of
//! `k` are a suffix of `k`'s row, so each elimination step is one contiguous `axpy`. A
//! factorisation costs `Σ_k depth_k²` operations instead of `n³/6` for dense Cholesky.

/// From this many updates on, an elimination step runs as one loop over the two contiguous rows
/// (vectorised) instead of over its precomputed index pairs (deep trees such as the humanoids').
const LONG_UPDATE: usize = 8;

/// `ld[target..] −= l·ld[sources]`, for a target range that ends before `sources` starts (kept
/// out of line: inlined, its vectorised loop slowed the short-row path around it).
#[inline(never)]
fn subtract_scaled(ld: &mut [f64], target: usize, sources: std::ops::Range<usize>, l: f64) {
    let (before, rest) = ld.split_at_mut(sources.start);
    for (t, &m) in before[target..target + sources.len()].iter_mut().zip(&rest[..sources.len()]) {
        *t -= l * m;
    }
}

/// Which entries of a tree-structured `n × n` matrix are stored: row `k` is
/// `[k, parent(k), parent(parent(k)), …]` up to its root dof.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TreeLayout {
    /// Row `k` occupies `row_start[k]..row_start[k + 1]` of the compact storage (`n + 1` entries).
    row_start: Vec<usize>,
    /// The dof (column) of each stored entry.
    column: Vec<usize>,
    /// The elimination step of each off-diagonal entry `e` (row `k`, column `i`) as `(target,
    /// source)` index pairs, `updates[update_start[e]..update_start[e + 1]]`: row `i` loses
    /// `L_ki·M_kj` over the rest of row `k` from `e` on. Precomputed pairs instead of a loop over
    /// the two rows: most rows are a few entries long, and that loop's setup cost more than its work.
    update_start: Vec<usize>,
    updates: Vec<(u32, u32)>,
}

impl TreeLayout {
    /// The layout of the dof tree given by `parent` (each parent has a smaller index).
    pub fn new(parent: &[Option<usize>]) -> Self {
        let mut row_start = vec![0];
        let mut column = Vec::new();
        for k in 0..parent.len() {
            let mut dof = Some(k);
            while let Some(d) = dof {
                column.push(d);
                dof = parent[d];
            }
            row_start.push(column.len());
        }
        let mut update_start = vec![0];
        let mut updates = Vec::new();
        for k in 0..parent.len() {
            let (start, end) = (row_start[k], row_start[k + 1]);
            update_start.push(updates.len());
            for e in start + 1..end {
                // Row i = k's ancestor at e starts at `row_start[column[e]]`, before row k.
                let target = row_start[column[e]];
                updates.extend((e..end).enumerate().map(|(t, source)| ((target + t) as u32, source as u32)));
                update_start.push(updates.len());
            }
        }
        TreeLayout { row_start, column, update_start, updates }
    }

    fn n(&self) -> usize {
        self.row_start.len() - 1
    }

    /// Number of stored entries.
    pub fn stored(&self) -> usize {
        self.column.len()
    }

    /// The dense row-major `n × n` symmetric matrix whose lower triangle `compact` stores.
    pub fn to_dense(&self, compact: &[f64]) -> Vec<f64> {
        let n = self.n();
        let mut dense = vec![0.0; n * n];
        for k in 0..n {
            for e in self.row(k) {
                dense[k * n + self.column[e]] = compact[e];
                dense[self.column[e] * n + k] = compact[e];
            }
        }
        dense
    }

    /// The stored entries of the dense row-major `dense`, in compact order.
    #[cfg(test)]
    fn compact(&self, dense: &[f64]) -> Vec<f64> {
        let n = self.n();
        (0..n).flat_map(|k| self.row(k).map(move |e| (k, e))).map(|(k, e)| dense[k * n + self.column[e]]).collect()
    }

    /// The stored range of row `k`; its first entry is the diagonal.
    fn row(&self, k: usize) -> std::ops::Range<usize> {
        self.row_start[k]..self.row_start[k + 1]
    }
}

/// A tree-structured matrix factored as `Lᵀ·D·L` (row `k`: `D_k` first, then `L_k,parent(k)`, …).
#[derive(Debug, Clone)]
pub(crate) struct TreeFactor {
    ld: Vec<f64>,
    diag_inv: Vec<f64>,
}

impl TreeFactor {
    /// Workspace for matrices with `layout`.
    pub fn new(layout: &TreeLayout) -> Self {
        TreeFactor { ld: vec![0.0; layout.column.len()], diag_inv: vec![0.0; layout.n()] }
    }

    /// Factor `m` (stored in `layout`'s compact form) plus `scale·diag(extra)` if given (MuJoCo's
    /// `M + h·diag(damping)` of implicit damping). `false` if a pivot is not positive and finite
    /// (not positive definite).
    pub fn factor(&mut self, layout: &TreeLayout, m: &[f64], extra_diagonal: Option<(f64, &[f64])>) -> bool {
        self.ld.copy_from_slice(m);
        if let Some((scale, extra)) = extra_diagonal {
            for (&start, x) in layout.row_start.iter().zip(extra) {
                self.ld[start] += scale * x;
            }
        }
        let ld = &mut self.ld[..];
        for k in (0..layout.n()).rev() {
            let row = layout.row(k);
            let d_k = ld[row.start];
            // Positive and finite (NaN fails both comparisons).
            if !(d_k > 0.0 && d_k < f64::INFINITY) {
                return false;
            }
            self.diag_inv[k] = 1.0 / d_k;
            for e in row.start + 1..row.end {
                // Row i = k's ancestor at e (i and its ancestors) loses l_ki·M_kj over the same
                // ancestors j: the rest of row k, still unscaled.
                let l_ki = ld[e] / d_k;
                let updates = &layout.updates[layout.update_start[e]..layout.update_start[e + 1]];
                if updates.len() < LONG_UPDATE {
                    for &(target, source) in updates {
                        ld[target as usize] -= l_ki * ld[source as usize];
                    }
                } else {
                    // Both ranges are contiguous, and row i lies before row k.
                    subtract_scaled(ld, updates[0].0 as usize, e..row.end, l_ki);
                }
                ld[e] = l_ki;
            }
        }
        true
    }

    /// [`TreeFactor::factor`] of `m` into `self` and of `m + scale·diag(extra)` into `damped`, in
    /// one pass over the elimination steps (Euler with implicit damping needs both each step).
    /// Each factor sees the same operations in the same order as alone, so the results are the
    /// same; `(ok, damped_ok)` as `factor` would return them (if a pivot fails, each is redone alone).
    pub fn factor_pair(
        &mut self,
        damped: &mut TreeFactor,
        layout: &TreeLayout,
        m: &[f64],
        (scale, extra): (f64, &[f64]),
    ) -> (bool, bool) {
        self.ld.copy_from_slice(m);
        damped.ld.copy_from_slice(m);
        for (&start, x) in layout.row_start.iter().zip(extra) {
            damped.ld[start] += scale * x;
        }
        let (a, b) = (&mut self.ld[..], &mut damped.ld[..]);
        for k in (0..layout.n()).rev() {
            let row = layout.row(k);
            let (d_a, d_b) = (a[row.start], b[row.start]);
            // Both positive and finite (NaN fails the comparisons).
            if !(d_a > 0.0 && d_a < f64::INFINITY && d_b > 0.0 && d_b < f64::INFINITY) {
                return (self.factor(layout, m, None), damped.factor(layout, m, Some((scale, extra))));
            }
            self.diag_inv[k] = 1.0 / d_a;
            damped.diag_inv[k] = 1.0 / d_b;
            for e in row.start + 1..row.end {
                let (l_a, l_b) = (a[e] / d_a, b[e] / d_b);
                let updates = &layout.updates[layout.update_start[e]..layout.update_start[e + 1]];
                if updates.len() < LONG_UPDATE {
                    for &(target, source) in updates {
                        let (target, source) = (target as usize, source as usize);
                        a[target] -= l_a * a[source];
                        b[target] -= l_b * b[source];
                    }
                } else {
                    subtract_scaled(a, updates[0].0 as usize, e..row.end, l_a);
                    subtract_scaled(b, updates[0].0 as usize, e..row.end, l_b);
                }
                a[e] = l_a;
                b[e] = l_b;
            }
        }
        (true, true)
    }

    /// `x ← L⁻ᵀ·x` (leaves to root). A vector supported on one chain of ancestors stays on it.
    pub fn solve_lt(&self, layout: &TreeLayout, x: &mut [f64]) {
        for i in (0..layout.n()).rev() {
            let x_i = x[i];
            if x_i == 0.0 {
                continue;
            }
            let row = layout.row(i);
            let off_diagonal = row.start + 1..row.end;
            for (&j, &l) in layout.column[off_diagonal.clone()].iter().zip(&self.ld[off_diagonal]) {
                x[j] -= l * x_i;
            }
        }
    }

    /// `x ← M⁻¹·x`.
    pub fn solve(&self, layout: &TreeLayout, x: &mut [f64]) {
        self.solve_lt(layout, x);
        for (x_i, d) in x.iter_mut().zip(&self.diag_inv) {
            *x_i *= d;
        }
        for i in 0..layout.n() {
            let row = layout.row(i);
            let off_diagonal = row.start + 1..row.end;
            let mut s = x[i];
            for (&j, &l) in layout.column[off_diagonal.clone()].iter().zip(&self.ld[off_diagonal]) {
                s -= l * x[j];
            }
            x[i] = s;
        }
    }

    /// `1/D`, so that `uᵀ·M⁻¹·v = (L⁻ᵀu)ᵀ·D⁻¹·(L⁻ᵀv)`.
    pub fn diag_inv(&self) -> &[f64] {
        &self.diag_inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_like_the_dense_matrix() {
        // Dofs 0 ← 1 ← 2 and 0 ← 3 (two branches): M is zero between the branches, (1, 3) and (2, 3).
        let layout = TreeLayout::new(&[None, Some(0), Some(1), Some(0)]);
        #[rustfmt::skip]
        let m = [
            4.0, 1.0, 0.5, 1.0,
            1.0, 3.0, 0.7, 0.0,
            0.5, 0.7, 2.0, 0.0,
            1.0, 0.0, 0.0, 2.5,
        ];
        let b = [1.0, -2.0, 0.5, 3.0];
        let mut factor = TreeFactor::new(&layout);
        for shift in [0.0, 0.5] {
            assert!(factor.factor(&layout, &layout.compact(&m), Some((shift, &[1.0, 2.0, 3.0, 4.0]))));
            let mut x = b;
            factor.solve(&layout, &mut x);
            // (M + shift·diag(1, 2, 3, 4))·x reproduces b to rounding.
            for i in 0..4 {
                let mx: f64 = (0..4).map(|k| m[i * 4 + k] * x[k]).sum::<f64>() + shift * (i + 1) as f64 * x[i];
                assert!((mx - b[i]).abs() < 1e-14, "shift {shift}, row {i}: {mx} vs {}", b[i]);
            }
        }
        // One pass for M and M + h·D gives bitwise what two calls give.
        let extra = [1.0, 2.0, 3.0, 4.0];
        let (mut plain, mut damped) = (TreeFactor::new(&layout), TreeFactor::new(&layout));
        assert_eq!(plain.factor_pair(&mut damped, &layout, &layout.compact(&m), (0.5, &extra)), (true, true));
        let mut alone = TreeFactor::new(&layout);
        assert!(alone.factor(&layout, &layout.compact(&m), None));
        assert_eq!((&plain.ld, &plain.diag_inv), (&alone.ld, &alone.diag_inv));
        assert!(alone.factor(&layout, &layout.compact(&m), Some((0.5, &extra))));
        assert_eq!((&damped.ld, &damped.diag_inv), (&alone.ld, &alone.diag_inv));
        let chain = TreeLayout::new(&[None, Some(0)]);
        assert!(!TreeFactor::new(&chain).factor(&chain, &chain.compact(&[1.0, 2.0, 2.0, 1.0]), None));
    }
}
