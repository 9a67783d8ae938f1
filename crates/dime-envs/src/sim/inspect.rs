//! Read access to contacts, constraint rows and centre-of-mass velocities, for tasks, tests and
//! debugging (MuJoCo's `d->contact`, `d->efc_*`, `mj_contactForce`, `mj_subtreeVel`).

use super::constraint::RowKind;
use super::contact::Contact;
use super::data::Data;
use super::model::Model;
use super::solver::SolverMode;
use super::spatial::{add3, cross3, scale3, sub3, Vec3};

impl Data {
    /// Contacts of the current state, in collision order.
    pub fn contacts(&self) -> &[Contact] {
        &self.contacts
    }

    /// Number of constraint rows of the current state.
    pub fn nefc(&self) -> usize {
        self.efc.n
    }

    /// What row `r` constrains.
    pub fn efc_kind(&self, r: usize) -> RowKind {
        self.efc.kind[r]
    }

    /// Jacobian row `r` (length nv).
    pub fn efc_jacobian(&self, r: usize) -> &[f64] {
        let nv = self.qvel.len();
        &self.efc.jac[r * nv..(r + 1) * nv]
    }

    /// Constraint distances (`efc_pos`).
    pub fn efc_pos(&self) -> &[f64] {
        &self.efc.pos[..self.efc.n]
    }

    /// Reference accelerations (`efc_aref`).
    pub fn efc_aref(&self) -> &[f64] {
        &self.efc.aref[..self.efc.n]
    }

    /// Regularizers (`efc_R`).
    pub fn efc_r(&self) -> &[f64] {
        &self.efc.r[..self.efc.n]
    }

    /// Constraint forces λ of the last solve (`efc_force`); valid after the acceleration stage.
    pub fn efc_force(&self) -> &[f64] {
        &self.efc.problem.lambda[..self.efc.n]
    }

    /// Contact `i`'s force in its frame (`mj_contactForce`): normal, then the two tangential components.
    pub fn contact_force(&self, i: usize) -> [f64; 3] {
        let contact = &self.contacts[i];
        let lambda = &self.efc.problem.lambda[contact.efc_address..];
        if contact.condim == 1 {
            return [lambda[0], 0.0, 0.0];
        }
        let normal = lambda[..4].iter().sum();
        [normal, contact.mu * (lambda[0] - lambda[1]), contact.mu * (lambda[2] - lambda[3])]
    }

    /// Choose how constraint forces are solved (default: PGS with the exact polish); takes effect at the next evaluation.
    pub fn set_solver_mode(&mut self, mode: SolverMode) {
        self.solver_mode = mode;
        self.stage = self.stage.min(super::data::Stage::Velocity);
    }

    /// Linear velocity of the centre of mass of body `b`'s subtree (MuJoCo's `subtreelinvel` sensor):
    /// `Σ m·ẋipos / Σ m` over the subtree, from the current body velocities.
    pub fn subtree_linvel(&self, model: &Model, b: usize) -> Vec3 {
        let bodies = &model.spec.bodies;
        let mut momentum = [0.0; 3];
        // Bodies are ordered parent-first, so the subtree lies at and after its root.
        for (k, body) in bodies.iter().enumerate().skip(b) {
            if k != b && !is_descendant(model, k, b) {
                continue;
            }
            let v = &self.cvel[k];
            let offset = sub3(self.xipos[k], self.subtree_com[model.body_root[k]]);
            let point_velocity = add3([v[3], v[4], v[5]], cross3([v[0], v[1], v[2]], offset));
            momentum = add3(momentum, scale3(point_velocity, body.mass));
        }
        let mass = model.body_subtree_mass[b];
        if mass <= 0.0 {
            return [0.0; 3];
        }
        scale3(momentum, 1.0 / mass)
    }

    /// How far the last solve is from the exact optimum (KKT conditions of the dual problem, in
    /// acceleration units): the largest of `−λ_r`·diag, `−(b + (A + R)λ)_r` and, for rows with
    /// λ > 0, `|b + (A + R)λ|_r`. Zero (up to rounding) for an exact solve.
    pub fn solver_residual(&self) -> f64 {
        let p = &self.efc.problem;
        let n = p.n;
        let mut worst = 0.0_f64;
        for r in 0..n {
            let row = &p.ar[r * n..(r + 1) * n];
            let residual = p.b[r] + row.iter().zip(&p.lambda[..n]).map(|(a, l)| a * l).sum::<f64>();
            worst = worst.max(-p.lambda[r] * row[r]).max(-residual);
            if p.lambda[r] > 0.0 {
                worst = worst.max(residual.abs());
            }
        }
        worst
    }

    /// MuJoCo's touch sensor on site `site` (a sphere of radius `size[0]`), from the contacts and
    /// forces of the last evaluation: the sum of the normal forces of contacts on the site's body
    /// whose ray — from the contact point along the normal, pointing into the site's body — meets
    /// the sphere (always when the point is inside it). Valid after the acceleration stage.
    pub fn touch(&self, model: &Model, site: usize) -> f64 {
        let spec = &model.spec.sites[site];
        let (centre, radius) = (self.site_xpos(model, site), spec.size[0]);
        let mut total = 0.0;
        for (i, contact) in self.contacts.iter().enumerate() {
            if contact.body1 != spec.body && contact.body2 != spec.body {
                continue;
            }
            let normal_force = self.contact_force(i)[0];
            if normal_force <= 0.0 {
                continue;
            }
            // The frame's normal is a unit vector from geom 1 to geom 2.
            let n = contact.frame[0];
            let ray = if contact.body2 == spec.body { [-n[0], -n[1], -n[2]] } else { n };
            if ray_hits_sphere(contact.pos, ray, centre, radius) {
                total += normal_force;
            }
        }
        total
    }

    /// Contact wrench on body `b` as `(torque, force)`, the torque about the subtree centre of mass
    /// of `b`'s tree (MuJoCo's `cfrc_ext` after `mj_rnePostConstraint`), from the last
    /// acceleration-stage evaluation (after [`Data::step`]: the step's last evaluation). Zero for
    /// the world and in contact-free models.
    pub fn cfrc_ext(&self, b: usize) -> [f64; 6] {
        self.cfrc_ext[b]
    }

    /// World position of body `b` at the last acceleration-stage evaluation (MuJoCo's `xpos` as
    /// `mj_step` leaves it: the start of the last Euler step, or RK4's 4th stage).
    pub fn evaluated_xpos(&self, b: usize) -> Vec3 {
        self.evaluated_xpos[b]
    }

    /// Centre of mass of body `b` at the last acceleration-stage evaluation (MuJoCo's `xipos` after `mj_step`).
    pub fn evaluated_xipos(&self, b: usize) -> Vec3 {
        self.evaluated_xipos[b]
    }

    /// MuJoCo's `cinert[b]` at the last acceleration-stage evaluation: `(Ixx, Iyy, Izz, Ixy, Ixz,
    /// Iyz, m·c_x, m·c_y, m·c_z, m)`, the inertia about the subtree centre of mass of `b`'s tree
    /// and `c = xipos − that point`, world axes.
    pub fn evaluated_cinert(&self, b: usize) -> [f64; 10] {
        let i = &self.evaluated_cinert[b];
        let (r, f) = (i.rot, i.first_moment);
        [r[0], r[1], r[2], r[3], r[4], r[5], f[0], f[1], f[2], i.mass]
    }

    /// MuJoCo's `cvel[b]` at the last acceleration-stage evaluation: `(ω, v)`, v the velocity of
    /// the body-fixed point at the subtree centre of mass of `b`'s tree.
    pub fn evaluated_cvel(&self, b: usize) -> [f64; 6] {
        self.evaluated_cvel[b]
    }

    /// `cfrc_ext` of every body from the current contacts and forces.
    pub(crate) fn contact_wrenches(&mut self, model: &Model) {
        self.cfrc_ext.fill([0.0; 6]);
        for i in 0..self.contacts.len() {
            let contact = self.contacts[i];
            let f = self.contact_force(i);
            let mut force = [0.0; 3];
            for (row, component) in contact.frame.iter().zip(f) {
                force = add3(force, scale3(*row, component));
            }
            // Geom 2's body receives +F, geom 1's −F; the world keeps nothing.
            for (body, sign) in [(contact.body1, -1.0), (contact.body2, 1.0)] {
                if body == 0 {
                    continue;
                }
                let f_body = scale3(force, sign);
                let arm = sub3(contact.pos, self.subtree_com[model.body_root[body]]);
                let torque = cross3(arm, f_body);
                let w = &mut self.cfrc_ext[body];
                for k in 0..3 {
                    w[k] += torque[k];
                    w[3 + k] += f_body[k];
                }
            }
        }
    }

    /// Solver mode in use.
    pub fn solver_mode(&self) -> SolverMode {
        self.solver_mode
    }
}

fn is_descendant(model: &Model, mut k: usize, ancestor: usize) -> bool {
    while k != 0 {
        k = model.spec.bodies[k].parent;
        if k == ancestor {
            return true;
        }
    }
    false
}

/// Whether the ray `origin + t·dir`, t ≥ 0 (unit `dir`), meets the sphere (MuJoCo's `mju_rayGeom`
/// for spheres returning a non-negative distance).
fn ray_hits_sphere(origin: Vec3, dir: Vec3, centre: Vec3, radius: f64) -> bool {
    let v = sub3(origin, centre);
    let b = v[0] * dir[0] + v[1] * dir[1] + v[2] * dir[2];
    let c = v[0] * v[0] + v[1] * v[1] + v[2] * v[2] - radius * radius;
    let disc = b * b - c;
    // Roots −b ± √disc; a hit needs the larger one to be ≥ 0.
    disc >= 0.0 && -b + disc.sqrt() >= 0.0
}
