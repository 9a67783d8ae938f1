//! The constraint-force solve: `λ = argmin ½λᵀ(A + diag R)λ + λᵀb` subject to `λ ≥ 0`, the dual of
//! MuJoCo's constraint problem (its PGS solves exactly this; its Newton and CG solvers the
//! equivalent primal). The optimum is unique because `R > 0`.
//!
//! The answer is the exact solution on the optimal active set: solve `(A + R)_SS λ_S = −b_S` on a
//! set `S` of rows by Cholesky, and accept it if it is feasible (`λ_S ≥ 0`) and complementary
//! (`(b + (A + R)λ)_r ≥ 0` off S), which are the optimality conditions. Two ways find `S`:
//! 1. A primal-dual active-set search (the default, first): start from the rows violated at
//!    `λ = 0` (`b_r < 0`); each round solves on `S`, drops the rows with `λ_r < 0` and adds the
//!    rows off `S` with a negative residual, until `S` no longer changes (then the optimality
//!    conditions hold). A handful of rounds usually suffice; it is capped, since such searches
//!    can cycle on matrices that are not M-matrices.
//! 2. If that fails, projected Gauss–Seidel in row order (design notes §3.5),
//!    `λ_r ← max(0, λ_r − (b + (A + R)λ)_r / (A + R)_rr)`, with a polish on `S = {λ > 0}` as soon as
//!    the positive set has been stable for 2 sweeps; if that polish fails, PGS runs until every row
//!    moves by at most `1e-12·(1 + max|b|)` (scaled by its diagonal) or to the sweep cap, and is
//!    polished again (up to 3 rounds).
//!
//! Both end in the same exact solve on the same (unique, unless degenerate) optimal set, so the
//! search only saves time. Row order and caps are fixed, so the result is deterministic.

use super::linalg::{cholesky_factor, cholesky_solve};

/// Stop sweeping when every row moved by less than this, relative to `1 + max|b|`.
const SWEEP_TOLERANCE: f64 = 1e-12;
/// Rounds of (PGS, polish).
const POLISH_ROUNDS: usize = 3;
/// Sweeps without a change of the positive set before the first polish is tried.
const STABLE_SWEEPS: usize = 2;
/// Rounds of the active-set search before falling back to Gauss–Seidel.
const ACTIVE_SET_ROUNDS: usize = 16;

/// How the dual problem is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverMode {
    /// Projected Gauss–Seidel followed by the exact active-set polish (the default).
    PgsPolish,
    /// Projected Gauss–Seidel alone (a debugging mode: converged only to the sweep cap).
    PgsOnly,
}

/// The problem data (`A + diag R`, `b`) and solver workspace for up to `max_rows` rows.
#[derive(Debug, Clone)]
pub(crate) struct DualProblem {
    pub n: usize,
    /// `A + diag R`, row-major `n × n` (stride n).
    pub ar: Vec<f64>,
    pub b: Vec<f64>,
    pub lambda: Vec<f64>,
    sub: Vec<f64>,
    rhs: Vec<f64>,
    active: Vec<usize>,
    next_active: Vec<usize>,
}

impl DualProblem {
    pub fn new(max_rows: usize) -> Self {
        DualProblem {
            n: 0,
            ar: vec![0.0; max_rows * max_rows],
            b: vec![0.0; max_rows],
            lambda: vec![0.0; max_rows],
            sub: vec![0.0; max_rows * max_rows],
            rhs: vec![0.0; max_rows],
            active: vec![0; max_rows],
            next_active: vec![0; max_rows],
        }
    }

    /// Solve from λ = 0 with at most `sweeps` PGS sweeps per round.
    pub fn solve(&mut self, sweeps: usize, mode: SolverMode) {
        let n = self.n;
        self.lambda[..n].fill(0.0);
        if n == 0 {
            return;
        }
        let scale = 1.0 + self.b[..n].iter().fold(0.0_f64, |m, b| m.max(b.abs()));
        if mode == SolverMode::PgsOnly || n == 1 {
            self.gauss_seidel(sweeps, scale, None);
            return;
        }
        if self.active_set_search() {
            return;
        }
        // The polish needs only the right active set: try it as soon as PGS stops changing which
        // rows are positive, and fall back to full sweeps if that guess fails. A polish that is
        // accepted satisfies the optimality conditions, so the answer is the same either way.
        if self.gauss_seidel(sweeps, scale, Some(STABLE_SWEEPS)) && self.polish() {
            return;
        }
        self.gauss_seidel(sweeps, scale, None);
        for _ in 0..POLISH_ROUNDS {
            if self.polish() {
                return;
            }
            self.gauss_seidel(sweeps, scale, None);
        }
    }

    /// At most `sweeps` PGS sweeps; stops early at the tolerance, or, with `stable = Some(k)`, once
    /// the set of positive rows has not changed for `k` sweeps (returning `true` only then).
    fn gauss_seidel(&mut self, sweeps: usize, scale: f64, stable: Option<usize>) -> bool {
        let n = self.n;
        let mut unchanged = 0;
        for _ in 0..sweeps {
            let mut largest_change = 0.0_f64;
            let mut set_changed = false;
            for r in 0..n {
                let row = &self.ar[r * n..(r + 1) * n];
                let residual = self.b[r] + row.iter().zip(&self.lambda[..n]).map(|(a, l)| a * l).sum::<f64>();
                let diag = row[r];
                let new = (self.lambda[r] - residual / diag).max(0.0);
                largest_change = largest_change.max((new - self.lambda[r]).abs() * diag);
                set_changed |= (new > 0.0) != (self.lambda[r] > 0.0);
                self.lambda[r] = new;
            }
            if largest_change <= SWEEP_TOLERANCE * scale {
                return false;
            }
            unchanged = if set_changed { 0 } else { unchanged + 1 };
            if stable.is_some_and(|k| unchanged >= k) {
                return true;
            }
        }
        false
    }

    /// The primal-dual active-set search (module docs); `true` with `lambda` set once `S` is stable.
    fn active_set_search(&mut self) -> bool {
        let n = self.n;
        let mut k = 0;
        for r in 0..n {
            if self.b[r] < 0.0 {
                self.active[k] = r;
                k += 1;
            }
        }
        for _ in 0..ACTIVE_SET_ROUNDS {
            if !self.solve_on_active(k) {
                return false;
            }
            // Next set: members whose force is not negative, and non-members that are violated.
            let (mut next, mut member, mut changed) = (0, 0, false);
            for r in 0..n {
                let in_set = member < k && self.active[member] == r;
                let keep = if in_set {
                    member += 1;
                    self.rhs[member - 1] >= 0.0
                } else {
                    self.residual_off_active(r, k) < 0.0
                };
                changed |= keep != in_set;
                if keep {
                    self.next_active[next] = r;
                    next += 1;
                }
            }
            if !changed {
                self.set_lambda_from_active(k);
                return true;
            }
            std::mem::swap(&mut self.active, &mut self.next_active);
            k = next;
        }
        false
    }

    /// Solve exactly on the rows with λ > 0; accept if feasible and complementary.
    fn polish(&mut self) -> bool {
        let n = self.n;
        let mut k = 0;
        for r in 0..n {
            if self.lambda[r] > 0.0 {
                self.active[k] = r;
                k += 1;
            }
        }
        if !self.solve_on_active(k) || self.rhs[..k].iter().any(|&l| l < 0.0) {
            return false;
        }
        for r in 0..n {
            if self.lambda[r] <= 0.0 && self.residual_off_active(r, k) < 0.0 {
                return false;
            }
        }
        self.set_lambda_from_active(k);
        true
    }

    /// `rhs[..k] = −(A + R)_SS⁻¹·b_S` for `S = active[..k]` (ascending rows); `false` if the
    /// sub-matrix is not numerically positive definite.
    fn solve_on_active(&mut self, k: usize) -> bool {
        let n = self.n;
        for a in 0..k {
            for c in 0..k {
                self.sub[a * k + c] = self.ar[self.active[a] * n + self.active[c]];
            }
            self.rhs[a] = -self.b[self.active[a]];
        }
        if !cholesky_factor(&mut self.sub[..k * k], k) {
            return false;
        }
        cholesky_solve(&self.sub[..k * k], k, &mut self.rhs[..k]);
        true
    }

    /// `(b + (A + R)λ)_r` for `λ` = `rhs` on `active[..k]` and zero elsewhere.
    fn residual_off_active(&self, r: usize, k: usize) -> f64 {
        let row = &self.ar[r * self.n..(r + 1) * self.n];
        let mut residual = self.b[r];
        for a in 0..k {
            residual += row[self.active[a]] * self.rhs[a];
        }
        residual
    }

    fn set_lambda_from_active(&mut self, k: usize) {
        self.lambda[..self.n].fill(0.0);
        for a in 0..k {
            self.lambda[self.active[a]] = self.rhs[a];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_rows_one_active() {
        // (A + R) = [[2, 1], [1, 2]], b = [−2, 3]: the unconstrained optimum −(A + R)⁻¹b = (7/3, −8/3)
        // is infeasible; the KKT point is λ = (1, 0) (row 0: 2·1 − 2 = 0; row 1 residual 1 + 3 = 4 ≥ 0).
        let mut p = DualProblem::new(2);
        p.n = 2;
        p.ar[..4].copy_from_slice(&[2.0, 1.0, 1.0, 2.0]);
        p.b[..2].copy_from_slice(&[-2.0, 3.0]);
        p.solve(100, SolverMode::PgsPolish);
        // The polish solves through a Cholesky factor (√2·√2), so allow one rounding.
        assert!((p.lambda[0] - 1.0).abs() <= 1e-15 && p.lambda[1] == 0.0, "{:?}", &p.lambda[..2]);
    }
}
