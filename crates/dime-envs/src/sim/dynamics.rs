//! Joint-space dynamics: the mass matrix by the composite rigid-body algorithm and the bias
//! forces by recursive Newton–Euler (MuJoCo's `mj_crb`, `mj_rne` with zero acceleration).
//!
//! - CRBA: `crb_b = Σ_{b' in subtree(b)} cinert_b'`; `M_ij = cdof_iᵀ·crb_{body(i)}·cdof_j` for
//!   every dof j on the path from dof i to the root (zero otherwise), plus armature on the diagonal.
//! - RNE: the world accelerates at `−g` (this adds gravity); `cacc_b = cacc_parent + Σ cdof_dot·q̇`,
//!   `f_b = cinert·cacc + cvel ×* (cinert·cvel)`, summed from leaves to roots;
//!   `c_i = cdof_iᵀ·f_{body(i)}`. Units: N and N·m (generalized forces), kg and kg·m² (M).

use super::data::Data;
use super::model::Model;
use super::spatial::{add_scaled6, cross_force, dot6};

impl Data {
    /// The joint-space inertia matrix `M(q)` into `mass_compact` (row i: dof i, then its
    /// ancestors, nearest first: the order of the dof tree's layout; the other entries are zero).
    pub(crate) fn crba(&mut self, model: &Model) {
        let spec = &model.spec;
        let nv = model.nv;
        self.crb.copy_from_slice(&self.cinert);
        for b in (1..spec.bodies.len()).rev() {
            let p = spec.bodies[b].parent;
            if p != 0 {
                let child = self.crb[b];
                self.crb[p].add_assign(&child);
            }
        }
        let mut stored = 0;
        for i in 0..nv {
            let force = self.crb[model.dof_body[i]].mul_motion(&self.cdof[i]);
            let mut ancestor = Some(i);
            while let Some(j) = ancestor {
                let mut m_ij = dot6(&self.cdof[j], &force);
                if j == i {
                    m_ij += model.dof_armature[i];
                }
                self.mass_compact[stored] = m_ij;
                stored += 1;
                ancestor = model.dof_parent[j];
            }
        }
    }

    /// Bias forces `c(q, q̇)` (Coriolis, centrifugal, gravity) into `qfrc_bias`.
    pub(crate) fn rne_bias(&mut self, model: &Model) {
        let spec = &model.spec;
        let g = spec.options.gravity;
        self.cacc[0] = [0.0, 0.0, 0.0, -g[0], -g[1], -g[2]];
        for b in 1..spec.bodies.len() {
            let mut velocity_product = [0.0; 6];
            for j in model.body_joints[b].clone() {
                let da = model.jnt_dofadr[j];
                for d in da..da + spec.joints[j].kind.nv() {
                    add_scaled6(&mut velocity_product, &self.cdof_dot[d], self.qvel[d]);
                }
            }
            let parent_acc = self.cacc[spec.bodies[b].parent];
            let mut acc = [0.0; 6];
            for k in 0..6 {
                acc[k] = parent_acc[k] + velocity_product[k];
            }
            self.cacc[b] = acc;
            let inertia = &self.cinert[b];
            let mut force = inertia.mul_motion(&acc);
            let gyroscopic = cross_force(&self.cvel[b], &inertia.mul_motion(&self.cvel[b]));
            for k in 0..6 {
                force[k] += gyroscopic[k];
            }
            self.cfrc[b] = force;
        }
        for b in (1..spec.bodies.len()).rev() {
            let p = spec.bodies[b].parent;
            if p != 0 {
                let child = self.cfrc[b];
                for (total, c) in self.cfrc[p].iter_mut().zip(child) {
                    *total += c;
                }
            }
        }
        for d in 0..model.nv {
            self.qfrc_bias[d] = dot6(&self.cdof[d], &self.cfrc[model.dof_body[d]]);
        }
    }
}
