//! Soft joint limits (MuJoCo's `mj_instantiateLimit`, `getsolparam`, `getimpedance`,
//! `mj_makeImpedance`, `mj_referenceConstraint`) and the solve of their forces.
//!
//! A limited hinge/slide joint contributes a row per side within `margin` of its bound:
//! lower side `pos = q − low`, `J = +e_d`; upper side `pos = high − q`, `J = −e_d`. Per row:
//! - impedance `imp(|pos − margin|/width)` from `solimp` (clamped as MuJoCo does);
//! - `timeconst = max(solref[0], 2h)`, `K = 1/(dmax²·timeconst²·dampratio²)`, `B = 2/(dmax·timeconst)`;
//! - `aref = −B·(J·q̇) − K·imp·(pos − margin)`, `R = max(1e-15, (1 − imp)/imp · dof_invweight0)`.
//!
//! The forces solve the dual problem `λ = argmin ½λᵀ(A + diag R)λ + λᵀb, λ ≥ 0` with
//! `A = J·M⁻¹·Jᵀ`, `b = J·a₀ − aref`, which is what MuJoCo's solvers minimise; then
//! `q̈ = a₀ + M⁻¹Jᵀλ`. Projected Gauss–Seidel from zero gives the closed form
//! `λ = max(0, −b/(A + R))` for one row; several rows get an active-set polish (exact solve on
//! the rows with λ > 0). Row order and iteration caps are fixed, so results are deterministic.

use super::data::Data;
use super::linalg::{cholesky_factor, cholesky_solve};
use super::model::Model;
use super::spatial::MIN_VAL;

/// MuJoCo's bounds on impedance values (`mjMINIMP`, `mjMAXIMP`).
const MIN_IMP: f64 = 0.0001;
const MAX_IMP: f64 = 0.9999;
/// Gauss–Seidel sweeps before giving up on further progress.
const MAX_SWEEPS: usize = 1000;
/// Stop when every row moved by less than this, relative to `1 + max|b|`.
const SWEEP_TOLERANCE: f64 = 1e-12;
/// Rounds of active-set polish.
const POLISH_ROUNDS: usize = 3;

/// Active limit rows of the current state, with preallocated solver workspace.
#[derive(Debug, Clone)]
pub(crate) struct LimitRows {
    pub n: usize,
    nv: usize,
    joint: Vec<usize>,
    dof: Vec<usize>,
    /// `J = sign·e_dof`.
    sign: Vec<f64>,
    pos: Vec<f64>,
    aref: Vec<f64>,
    r: Vec<f64>,
    b: Vec<f64>,
    pub lambda: Vec<f64>,
    /// Row r: `M⁻¹·J_rᵀ` (nv entries).
    minv_jt: Vec<f64>,
    /// `A + diag R`, n × n.
    ar: Vec<f64>,
    sub: Vec<f64>,
    rhs: Vec<f64>,
    active: Vec<usize>,
}

impl LimitRows {
    pub fn new(max_rows: usize, nv: usize) -> Self {
        let per_row = || vec![0.0; max_rows];
        LimitRows {
            n: 0,
            nv,
            joint: vec![0; max_rows],
            dof: vec![0; max_rows],
            sign: per_row(),
            pos: per_row(),
            aref: per_row(),
            r: per_row(),
            b: per_row(),
            lambda: per_row(),
            minv_jt: vec![0.0; max_rows * nv],
            ar: vec![0.0; max_rows * max_rows],
            sub: vec![0.0; max_rows * max_rows],
            rhs: per_row(),
            active: vec![0; max_rows],
        }
    }

    fn push(&mut self, joint: usize, dof: usize, sign: f64, pos: f64) {
        let r = self.n;
        (self.joint[r], self.dof[r], self.sign[r], self.pos[r]) = (joint, dof, sign, pos);
        self.n += 1;
    }
}

/// MuJoCo's impedance curve at `pos − margin` for (unclamped) `solimp`.
pub fn impedance(solimp: &[f64; 5], pos: f64, margin: f64) -> f64 {
    let d0 = solimp[0].clamp(MIN_IMP, MAX_IMP);
    let dmax = solimp[1].clamp(MIN_IMP, MAX_IMP);
    let width = solimp[2].max(0.0);
    let mid = solimp[3].clamp(MIN_IMP, MAX_IMP);
    let power = solimp[4].max(1.0);
    if d0 == dmax || width <= MIN_VAL {
        return 0.5 * (d0 + dmax);
    }
    let x = ((pos - margin) / width).abs();
    if x >= 1.0 {
        return dmax;
    }
    if x <= 0.0 {
        return d0;
    }
    let y = if power == 1.0 {
        x
    } else if x <= mid {
        let a = 1.0 / mid.powf(power - 1.0);
        a * x.powf(power)
    } else {
        let b = 1.0 / (1.0 - mid).powf(power - 1.0);
        1.0 - b * (1.0 - x).powf(power)
    };
    d0 + y * (dmax - d0)
}

impl Data {
    /// Find the active limit rows, solve their forces, and set `qacc` and `qfrc_constraint`.
    pub(crate) fn solve_limits(&mut self, model: &Model) {
        let rows = &mut self.limits;
        rows.n = 0;
        if model.spec.options.joint_limits {
            for (j, joint) in model.spec.joints.iter().enumerate() {
                let Some(limit) = &joint.limit else { continue };
                let (q, d) = (self.qpos[model.jnt_qposadr[j]], model.jnt_dofadr[j]);
                let (lower, upper) = (q - limit.range[0], limit.range[1] - q);
                if lower < limit.margin {
                    rows.push(j, d, 1.0, lower);
                }
                if upper < limit.margin {
                    rows.push(j, d, -1.0, upper);
                }
            }
        }
        self.qfrc_constraint.fill(0.0);
        if rows.n == 0 {
            self.qacc.copy_from_slice(&self.qacc_smooth);
            return;
        }
        let (n, nv, h) = (rows.n, rows.nv, model.spec.options.timestep);
        for r in 0..n {
            let limit = model.spec.joints[rows.joint[r]].limit.as_ref().expect("rows come from limited joints");
            let imp = impedance(&limit.solimp, rows.pos[r], limit.margin);
            let dmax = limit.solimp[1].clamp(MIN_IMP, MAX_IMP);
            let timeconst = limit.solref[0].max(2.0 * h);
            let dampratio = limit.solref[1];
            let stiffness = 1.0 / (dmax * dmax * timeconst * timeconst * dampratio * dampratio).max(MIN_VAL);
            let damping = 2.0 / (dmax * timeconst).max(MIN_VAL);
            let (d, sign) = (rows.dof[r], rows.sign[r]);
            let velocity = sign * self.qvel[d];
            rows.aref[r] = -damping * velocity - stiffness * imp * (rows.pos[r] - limit.margin);
            rows.r[r] = ((1.0 - imp) * model.dof_invweight0[d] / imp).max(MIN_VAL);
            let column = &mut rows.minv_jt[r * nv..(r + 1) * nv];
            column.fill(0.0);
            column[d] = sign;
            cholesky_solve(&self.mass_factor, nv, column);
        }
        for r in 0..n {
            for c in 0..n {
                rows.ar[r * n + c] = rows.sign[c] * rows.minv_jt[r * nv + rows.dof[c]];
            }
            rows.ar[r * n + r] += rows.r[r];
            rows.b[r] = rows.sign[r] * self.qacc_smooth[rows.dof[r]] - rows.aref[r];
        }
        solve_dual(rows);
        self.qacc.copy_from_slice(&self.qacc_smooth);
        for r in 0..n {
            let lambda = rows.lambda[r];
            for (a, m) in self.qacc.iter_mut().zip(&rows.minv_jt[r * nv..(r + 1) * nv]) {
                *a += lambda * m;
            }
            self.qfrc_constraint[rows.dof[r]] += rows.sign[r] * lambda;
        }
    }
}

/// Projected Gauss–Seidel on the first `rows.n` rows, then active-set polish.
fn solve_dual(rows: &mut LimitRows) {
    let n = rows.n;
    rows.lambda[..n].fill(0.0);
    let scale = 1.0 + rows.b[..n].iter().fold(0.0_f64, |m, b| m.max(b.abs()));
    gauss_seidel(rows, MAX_SWEEPS, scale);
    if n == 1 {
        return;
    }
    for _ in 0..POLISH_ROUNDS {
        if polish(rows) {
            return;
        }
        gauss_seidel(rows, MAX_SWEEPS, scale);
    }
}

fn gauss_seidel(rows: &mut LimitRows, sweeps: usize, scale: f64) {
    let n = rows.n;
    for _ in 0..sweeps {
        let mut largest_change = 0.0_f64;
        for r in 0..n {
            let mut residual = rows.b[r];
            for c in 0..n {
                residual += rows.ar[r * n + c] * rows.lambda[c];
            }
            let diag = rows.ar[r * n + r];
            let new = (rows.lambda[r] - residual / diag).max(0.0);
            largest_change = largest_change.max((new - rows.lambda[r]).abs() * diag);
            rows.lambda[r] = new;
        }
        if largest_change <= SWEEP_TOLERANCE * scale {
            return;
        }
    }
}

/// Solve exactly on the rows with λ > 0; accept if feasible and complementary.
fn polish(rows: &mut LimitRows) -> bool {
    let n = rows.n;
    let mut k = 0;
    for r in 0..n {
        if rows.lambda[r] > 0.0 {
            rows.active[k] = r;
            k += 1;
        }
    }
    for a in 0..k {
        for c in 0..k {
            rows.sub[a * k + c] = rows.ar[rows.active[a] * n + rows.active[c]];
        }
        rows.rhs[a] = -rows.b[rows.active[a]];
    }
    if !cholesky_factor(&mut rows.sub[..k * k], k) {
        return false;
    }
    cholesky_solve(&rows.sub[..k * k], k, &mut rows.rhs[..k]);
    if rows.rhs[..k].iter().any(|&l| l < 0.0) {
        return false;
    }
    for r in 0..n {
        if rows.lambda[r] > 0.0 {
            continue;
        }
        let mut residual = rows.b[r];
        for a in 0..k {
            residual += rows.ar[r * n + rows.active[a]] * rows.rhs[a];
        }
        if residual < 0.0 {
            return false;
        }
    }
    rows.lambda[..n].fill(0.0);
    for a in 0..k {
        rows.lambda[rows.active[a]] = rows.rhs[a];
    }
    true
}
