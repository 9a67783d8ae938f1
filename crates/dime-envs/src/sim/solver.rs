//! The constraint-force solve: `λ = argmin ½λᵀ(A + diag R)λ + λᵀb` subject to `λ ≥ 0`, the dual of
//! MuJoCo's constraint problem (its PGS solves exactly this; its Newton and CG solvers the
//! equivalent primal). The optimum is unique because `R > 0`.
//!
//! Algorithm (design notes §3.5): projected Gauss–Seidel in row order,
//! `λ_r ← max(0, λ_r − (b + (A + R)λ)_r / (A + R)_rr)`, until every row moves by at most
//! `1e-12·(1 + max|b|)` (scaled by its diagonal) or after the sweep cap; then an active-set polish:
//! solve `(A + R)_SS λ_S = −b_S` exactly on `S = {λ > 0}` by Cholesky and accept it if it is
//! feasible (`λ_S ≥ 0`) and complementary (`(b + (A + R)λ)_r ≥ 0` off S); otherwise resume PGS.
//! Row order and caps are fixed, so the result is deterministic.

use super::linalg::{cholesky_factor, cholesky_solve};

/// Stop sweeping when every row moved by less than this, relative to `1 + max|b|`.
const SWEEP_TOLERANCE: f64 = 1e-12;
/// Rounds of (PGS, polish).
const POLISH_ROUNDS: usize = 3;

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
        self.gauss_seidel(sweeps, scale);
        if mode == SolverMode::PgsOnly || n == 1 {
            return;
        }
        for _ in 0..POLISH_ROUNDS {
            if self.polish() {
                return;
            }
            self.gauss_seidel(sweeps, scale);
        }
    }

    fn gauss_seidel(&mut self, sweeps: usize, scale: f64) {
        let n = self.n;
        for _ in 0..sweeps {
            let mut largest_change = 0.0_f64;
            for r in 0..n {
                let row = &self.ar[r * n..(r + 1) * n];
                let residual = self.b[r] + row.iter().zip(&self.lambda[..n]).map(|(a, l)| a * l).sum::<f64>();
                let diag = row[r];
                let new = (self.lambda[r] - residual / diag).max(0.0);
                largest_change = largest_change.max((new - self.lambda[r]).abs() * diag);
                self.lambda[r] = new;
            }
            if largest_change <= SWEEP_TOLERANCE * scale {
                return;
            }
        }
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
        if self.rhs[..k].iter().any(|&l| l < 0.0) {
            return false;
        }
        for r in 0..n {
            if self.lambda[r] > 0.0 {
                continue;
            }
            let mut residual = self.b[r];
            for a in 0..k {
                residual += self.ar[r * n + self.active[a]] * self.rhs[a];
            }
            if residual < 0.0 {
                return false;
            }
        }
        self.lambda[..n].fill(0.0);
        for a in 0..k {
            self.lambda[self.active[a]] = self.rhs[a];
        }
        true
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
