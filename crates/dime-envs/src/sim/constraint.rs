//! Soft constraints (MuJoCo's `mj_instantiateLimit`, `mj_instantiateContact`, `getsolparam`,
//! `getimpedance`, `mj_makeImpedance`, `mj_diagApprox`, `mj_referenceConstraint`) and their forces.
//!
//! Rows, all inequalities `λ ≥ 0`, in MuJoCo's order: joint limits, then contacts.
//! - Limit of a hinge/slide joint within `margin` of a bound: lower `pos = q − low`, `J = +e_d`;
//!   upper `pos = high − q`, `J = −e_d`; `diagApprox = dof_invweight0`.
//! - Contact, condim 1: one row `J_n = nᵀ(J_p(b₂, p) − J_p(b₁, p))`, `diagApprox = tran`
//!   (the two bodies' translational `body_invweight0`, summed).
//! - Contact, condim 3 (pyramidal cone): four rows `J_n ± μ·J_t₁`, `J_n ± μ·J_t₂`, all with
//!   `pos = dist` and one common `R = 2μ²·R₀/impratio`, `R₀` the row-0 value with `diagApprox = tran + μ²·tran`.
//!
//! Per row: impedance `imp(|pos − margin|/width)` from `solimp`; `timeconst = max(solref[0], 2h)`,
//! `K = 1/(dmax²·timeconst²·dampratio²)`, `B = 2/(dmax·timeconst)`;
//! `aref = −B·(J·q̇) − K·imp·(pos − margin)`; `R = max(1e-15, (1 − imp)/imp · diagApprox)`.
//!
//! The rows depend on the state only, so they are built with the velocity stage, together with
//! `A = J·M⁻¹·Jᵀ = Yᵀ·D⁻¹·Y` from `Y = L⁻ᵀ·Jᵀ` (`M = Lᵀ·D·L` along the dof tree: a row stays on the
//! chains of dofs its bodies hang from). The solve (`b = J·a₀ − aref`, [`super::solver`]) runs
//! with the acceleration stage, then `qfrc_constraint = Jᵀλ` and `q̈ = a₀ + M⁻¹·qfrc_constraint`.

use super::data::Data;
use super::model::Model;
use super::solver::DualProblem;
use super::spatial::{cross3, sub3, Vec3, MIN_VAL};

/// MuJoCo's bounds on impedance values (`mjMINIMP`, `mjMAXIMP`).
const MIN_IMP: f64 = 0.0001;
const MAX_IMP: f64 = 0.9999;

/// What a constraint row constrains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A joint limit (joint index).
    Limit(usize),
    /// A contact (index into the contact list).
    Contact(usize),
}

/// The constraint rows of the current state and the solver workspace, preallocated.
#[derive(Debug, Clone)]
pub(crate) struct Efc {
    pub n: usize,
    nv: usize,
    pub kind: Vec<RowKind>,
    /// Row-major `max_rows × nv` Jacobian.
    pub jac: Vec<f64>,
    pub pos: Vec<f64>,
    pub margin: Vec<f64>,
    pub aref: Vec<f64>,
    pub r: Vec<f64>,
    /// Row r: `L⁻ᵀ·J_rᵀ`.
    lt_jac: Vec<f64>,
    /// Joint-space scratch vector (nv).
    joint_scratch: Vec<f64>,
    pub problem: DualProblem,
}

impl Efc {
    pub fn new(max_rows: usize, nv: usize) -> Self {
        let per_row = || vec![0.0; max_rows];
        Efc {
            n: 0,
            nv,
            kind: vec![RowKind::Limit(0); max_rows],
            jac: vec![0.0; max_rows * nv],
            pos: per_row(),
            margin: per_row(),
            aref: per_row(),
            r: per_row(),
            lt_jac: vec![0.0; max_rows * nv],
            joint_scratch: vec![0.0; nv],
            problem: DualProblem::new(max_rows),
        }
    }

    /// Append a row with a zeroed Jacobian; returns its index.
    fn push(&mut self, kind: RowKind, pos: f64, margin: f64) -> usize {
        let r = self.n;
        self.kind[r] = kind;
        self.pos[r] = pos;
        self.margin[r] = margin;
        self.jac[r * self.nv..(r + 1) * self.nv].fill(0.0);
        self.n += 1;
        r
    }

    fn row(&self, r: usize) -> &[f64] {
        &self.jac[r * self.nv..(r + 1) * self.nv]
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
        let a = 1.0 / power_of(mid, power - 1.0);
        a * power_of(x, power)
    } else {
        let b = 1.0 / power_of(1.0 - mid, power - 1.0);
        1.0 - b * power_of(1.0 - x, power)
    };
    d0 + y * (dmax - d0)
}

/// `x^p`, multiplying out the common integer powers 1 and 2 (MuJoCo's default `solimp` power is 2).
fn power_of(x: f64, p: f64) -> f64 {
    if p == 1.0 {
        x
    } else if p == 2.0 {
        x * x
    } else {
        x.powf(p)
    }
}

/// `(K, B, imp)` of a row (MuJoCo's `getsolparam` + `getimpedance` with `refsafe`).
fn spring_damper(solref: &[f64; 2], solimp: &[f64; 5], pos: f64, margin: f64, h: f64) -> (f64, f64, f64) {
    let imp = impedance(solimp, pos, margin);
    let dmax = solimp[1].clamp(MIN_IMP, MAX_IMP);
    let timeconst = solref[0].max(2.0 * h);
    let dampratio = solref[1];
    let stiffness = 1.0 / (dmax * dmax * timeconst * timeconst * dampratio * dampratio).max(MIN_VAL);
    let damping = 2.0 / (dmax * timeconst).max(MIN_VAL);
    (stiffness, damping, imp)
}

impl Data {
    /// Build every constraint row of the current state (after kinematics and velocities).
    pub(crate) fn make_constraints(&mut self, model: &Model) {
        self.efc.n = 0;
        self.make_limit_rows(model);
        self.collide(model);
        self.make_contact_rows(model);
        let (nv, h) = (model.nv, model.spec.options.timestep);
        for r in 0..self.efc.n {
            // Reference acceleration: velocity along the row, then the spring on pos − margin.
            let velocity: f64 = self.efc.row(r).iter().zip(&self.qvel).map(|(j, v)| j * v).sum();
            let (solref, solimp) = match self.efc.kind[r] {
                RowKind::Limit(j) => {
                    let limit = model.spec.joints[j].limit.as_ref().expect("limit rows come from limited joints");
                    (limit.solref, limit.solimp)
                }
                RowKind::Contact(c) => (self.contacts[c].solref, self.contacts[c].solimp),
            };
            let (k, b, imp) = spring_damper(&solref, &solimp, self.efc.pos[r], self.efc.margin[r], h);
            self.efc.aref[r] = -b * velocity - k * imp * (self.efc.pos[r] - self.efc.margin[r]);
            let y = &mut self.efc.lt_jac[r * nv..(r + 1) * nv];
            y.copy_from_slice(&self.efc.jac[r * nv..(r + 1) * nv]);
            self.mass_factor.solve_lt(&model.dof_tree, y);
        }
        let n = self.efc.n;
        let efc = &mut self.efc;
        for r in 0..n {
            // A_rc = (L⁻ᵀJ_rᵀ)ᵀ·D⁻¹·(L⁻ᵀJ_cᵀ), for c ≥ r (A is symmetric).
            let scaled = &mut efc.joint_scratch;
            for ((s, y), d) in scaled.iter_mut().zip(&efc.lt_jac[r * nv..(r + 1) * nv]).zip(self.mass_factor.diag_inv())
            {
                *s = y * d;
            }
            for c in r..n {
                let a: f64 = scaled.iter().zip(&efc.lt_jac[c * nv..(c + 1) * nv]).map(|(s, y)| s * y).sum();
                efc.problem.ar[r * n + c] = a;
                efc.problem.ar[c * n + r] = a;
            }
            efc.problem.ar[r * n + r] += efc.r[r];
        }
        efc.problem.n = n;
    }

    fn make_limit_rows(&mut self, model: &Model) {
        if !model.spec.options.joint_limits {
            return;
        }
        for (j, joint) in model.spec.joints.iter().enumerate() {
            let Some(limit) = &joint.limit else { continue };
            let (q, d) = (self.qpos[model.jnt_qposadr[j]], model.jnt_dofadr[j]);
            for (pos, sign) in [(q - limit.range[0], 1.0), (limit.range[1] - q, -1.0)] {
                if pos < limit.margin {
                    let r = self.efc.push(RowKind::Limit(j), pos, limit.margin);
                    self.efc.jac[r * model.nv + d] = sign;
                    let imp = impedance(&limit.solimp, pos, limit.margin);
                    self.efc.r[r] = ((1.0 - imp) * model.dof_invweight0[d] / imp).max(MIN_VAL);
                }
            }
        }
    }

    fn make_contact_rows(&mut self, model: &Model) {
        let Some(collision) = &model.collision else { return };
        let nv = model.nv;
        for c in 0..self.contacts.len() {
            let contact = self.contacts[c];
            self.contacts[c].efc_address = self.efc.n;
            // Translational Jacobian of the contact point on body 2 minus body 1, one column per dof.
            let jac_p = &mut self.contact_jac;
            jac_p.fill(0.0);
            for (body, sign) in [(contact.body2, 1.0), (contact.body1, -1.0)] {
                let com = self.subtree_com[model.body_root[body]];
                let offset = sub3(contact.pos, com);
                let mut dof = model.body_dof_last[body];
                while let Some(d) = dof {
                    let cdof = &self.cdof[d];
                    let lin = cross3([cdof[0], cdof[1], cdof[2]], offset);
                    for k in 0..3 {
                        jac_p[k * nv + d] += sign * (cdof[3 + k] + lin[k]);
                    }
                    dof = model.dof_parent[d];
                }
            }
            let project = |axis: Vec3, out: &mut [f64]| {
                for (d, o) in out.iter_mut().enumerate() {
                    *o = axis[0] * jac_p[d] + axis[1] * jac_p[nv + d] + axis[2] * jac_p[2 * nv + d];
                }
            };
            let tran: f64 = [contact.body1, contact.body2].iter().map(|&b| model.body_invweight0[b][0]).sum();
            let imp = impedance(&contact.solimp, contact.dist, contact.margin);
            let ratio = (1.0 - imp) / imp;
            if contact.condim == 1 {
                let r = self.efc.push(RowKind::Contact(c), contact.dist, contact.margin);
                project(contact.frame[0], &mut self.efc.jac[r * nv..(r + 1) * nv]);
                self.efc.r[r] = (ratio * tran).max(MIN_VAL);
                continue;
            }
            let mu = contact.mu;
            let r0 = (ratio * (tran + mu * mu * tran)).max(MIN_VAL);
            let common_r = (2.0 * mu * mu * r0 / collision.impratio).max(MIN_VAL);
            let (normal, rest) = self.contact_rows.split_at_mut(nv);
            project(contact.frame[0], normal);
            for (t, tangent) in rest.chunks_exact_mut(nv).enumerate() {
                project(contact.frame[1 + t], tangent);
            }
            for t in 0..2 {
                for sign in [1.0, -1.0] {
                    let r = self.efc.push(RowKind::Contact(c), contact.dist, contact.margin);
                    let row = &mut self.efc.jac[r * nv..(r + 1) * nv];
                    let (normal, tangent) = (&self.contact_rows[..nv], &self.contact_rows[(1 + t) * nv..(2 + t) * nv]);
                    for ((out, n), tan) in row.iter_mut().zip(normal).zip(tangent) {
                        *out = n + sign * mu * tan;
                    }
                    self.efc.r[r] = common_r;
                }
            }
        }
    }

    /// Solve the constraint forces for the current smooth acceleration; sets `qacc`, `qfrc_constraint`.
    pub(crate) fn solve_constraints(&mut self, model: &Model) {
        let (n, nv) = (self.efc.n, model.nv);
        self.qfrc_constraint.fill(0.0);
        self.qacc.copy_from_slice(&self.qacc_smooth);
        if n == 0 {
            return;
        }
        let efc = &mut self.efc;
        for r in 0..n {
            let ja: f64 = efc.jac[r * nv..(r + 1) * nv].iter().zip(&self.qacc_smooth).map(|(j, a)| j * a).sum();
            efc.problem.b[r] = ja - efc.aref[r];
        }
        efc.problem.solve(model.solver_sweeps, self.solver_mode);
        for r in 0..n {
            let lambda = efc.problem.lambda[r];
            if lambda == 0.0 {
                continue;
            }
            for (f, j) in self.qfrc_constraint.iter_mut().zip(&efc.jac[r * nv..(r + 1) * nv]) {
                *f += lambda * j;
            }
        }
        efc.joint_scratch.copy_from_slice(&self.qfrc_constraint);
        self.mass_factor.solve(&model.dof_tree, &mut efc.joint_scratch);
        for (a, da) in self.qacc.iter_mut().zip(&efc.joint_scratch) {
            *a += da;
        }
    }
}
