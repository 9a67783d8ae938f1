//! Forward kinematics and com-frame quantities (MuJoCo's `mj_kinematics`, `mj_comPos`, `mj_comVel`).
//!
//! Each body starts from its parent's frame composed with its fixed offset (`pos`, `quat`), then
//! applies its joints in order: a slide translates by `(q − qpos0)·axis`; a hinge rotates by
//! `q − qpos0` about `axis` and a ball by its quaternion, both keeping the joint anchor fixed; a
//! free joint sets the world pose directly. Motion subspaces (`cdof`), inertias (`cinert`) and
//! velocities (`cvel`) are spatial vectors about the subtree centre of mass of each tree's root
//! body, with world-aligned axes.

use super::data::Data;
use super::model::{JointKind, Model};
use super::spatial::{
    add3, add_scaled6, column, cross3, cross_motion, mat_vec, quat_from_axis_angle, quat_mul, quat_normalize,
    quat_to_mat, scale3, sub3, Spatial, SpatialInertia, MIN_VAL, QUAT_IDENTITY,
};

/// `cdof` of a rotation about `axis` through `anchor`, about the com-frame origin `com`:
/// `[axis; axis × (com − anchor)]`.
fn rotation_dof(axis: [f64; 3], com: [f64; 3], anchor: [f64; 3]) -> Spatial {
    let lin = cross3(axis, sub3(com, anchor));
    [axis[0], axis[1], axis[2], lin[0], lin[1], lin[2]]
}

impl Data {
    /// World poses of bodies (`xpos`, `xquat`, `xmat`, `xipos`, `ximat`) and joints (`xanchor`, `xaxis`).
    pub(crate) fn kinematics(&mut self, model: &Model) {
        let spec = &model.spec;
        for b in 1..spec.bodies.len() {
            let body = &spec.bodies[b];
            let joints = model.body_joints[b].clone();
            let first_is_free = joints.clone().next().is_some_and(|j| spec.joints[j].kind == JointKind::Free);
            let (mut xpos, mut xquat);
            if first_is_free {
                let (j, adr) = (joints.start, model.jnt_qposadr[joints.start]);
                xpos = [self.qpos[adr], self.qpos[adr + 1], self.qpos[adr + 2]];
                xquat =
                    quat_normalize([self.qpos[adr + 3], self.qpos[adr + 4], self.qpos[adr + 5], self.qpos[adr + 6]]);
                self.xanchor[j] = xpos;
                self.xaxis[j] = [0.0, 0.0, 1.0];
            } else {
                let p = body.parent;
                xpos = add3(self.xpos[p], mat_vec(&self.xmat[p], body.pos));
                xquat = quat_mul(self.xquat[p], body.quat);
                // Orientation before the next joint; with an identity offset it is the parent's
                // (q ⊗ identity = q exactly, and the parent's xmat is quat_to_mat of its xquat).
                // Computed lazily: after a rotation it is only needed by a further joint.
                let mut rot = (body.quat == QUAT_IDENTITY).then_some(self.xmat[p]);
                for j in joints {
                    let joint = &spec.joints[j];
                    let adr = model.jnt_qposadr[j];
                    let r = rot.unwrap_or_else(|| quat_to_mat(xquat));
                    rot = Some(r);
                    let xaxis = mat_vec(&r, joint.axis);
                    let xanchor = add3(mat_vec(&r, joint.pos), xpos);
                    self.xaxis[j] = xaxis;
                    self.xanchor[j] = xanchor;
                    let local = match joint.kind {
                        JointKind::Slide => {
                            xpos = add3(xpos, scale3(xaxis, self.qpos[adr] - spec.qpos0[adr]));
                            continue;
                        }
                        JointKind::Hinge => quat_from_axis_angle(joint.axis, self.qpos[adr] - spec.qpos0[adr]),
                        JointKind::Ball => {
                            quat_normalize([self.qpos[adr], self.qpos[adr + 1], self.qpos[adr + 2], self.qpos[adr + 3]])
                        }
                        JointKind::Free => unreachable!("validated: a free joint is its body's only joint"),
                    };
                    xquat = quat_mul(xquat, local);
                    // Keep the anchor fixed: the body origin sits at anchor − R·pos (= the anchor
                    // itself for a joint at the body origin, the common case).
                    if joint.pos == [0.0; 3] {
                        xpos = xanchor;
                        rot = None;
                    } else {
                        let r = quat_to_mat(xquat);
                        xpos = sub3(xanchor, mat_vec(&r, joint.pos));
                        rot = Some(r);
                    }
                }
            }
            let xquat = quat_normalize(xquat);
            let xmat = quat_to_mat(xquat);
            self.xpos[b] = xpos;
            self.xquat[b] = xquat;
            self.xmat[b] = xmat;
            self.xipos[b] = add3(xpos, mat_vec(&xmat, body.ipos));
            self.ximat[b] = quat_to_mat(quat_mul(xquat, body.iquat));
        }
    }

    /// Subtree centres of mass, com-frame inertias `cinert` and motion subspaces `cdof`.
    pub(crate) fn com_pos(&mut self, model: &Model) {
        let spec = &model.spec;
        let nbody = spec.bodies.len();
        for b in 0..nbody {
            self.subtree_com[b] = scale3(self.xipos[b], spec.bodies[b].mass);
        }
        for b in (1..nbody).rev() {
            let p = spec.bodies[b].parent;
            self.subtree_com[p] = add3(self.subtree_com[p], self.subtree_com[b]);
        }
        for b in 0..nbody {
            let mass = model.body_subtree_mass[b];
            self.subtree_com[b] = if mass < MIN_VAL { self.xipos[b] } else { scale3(self.subtree_com[b], 1.0 / mass) };
        }
        for b in 1..nbody {
            let body = &spec.bodies[b];
            let offset = sub3(self.xipos[b], self.subtree_com[model.body_root[b]]);
            self.cinert[b] = SpatialInertia::of_body(body.mass, body.inertia, &self.ximat[b], offset);
        }
        for (j, joint) in spec.joints.iter().enumerate() {
            let b = joint.body;
            let com = self.subtree_com[model.body_root[b]];
            let da = model.jnt_dofadr[j];
            let anchor = self.xanchor[j];
            match joint.kind {
                JointKind::Free | JointKind::Ball => {
                    let first_rot = if joint.kind == JointKind::Free {
                        for k in 0..3 {
                            self.cdof[da + k] = [0.0; 6];
                            self.cdof[da + k][3 + k] = 1.0;
                        }
                        da + 3
                    } else {
                        da
                    };
                    // Rotations about the body's own axes (the columns of its xmat).
                    for k in 0..3 {
                        self.cdof[first_rot + k] = rotation_dof(column(&self.xmat[b], k), com, anchor);
                    }
                }
                JointKind::Hinge => self.cdof[da] = rotation_dof(self.xaxis[j], com, anchor),
                JointKind::Slide => {
                    let a = self.xaxis[j];
                    self.cdof[da] = [0.0, 0.0, 0.0, a[0], a[1], a[2]];
                }
            }
        }
    }

    /// Body velocities `cvel` and `cdof_dot = cvel × cdof`, using the velocity accumulated before
    /// the joint's own contribution (MuJoCo's `mj_comVel`).
    pub(crate) fn com_vel(&mut self, model: &Model) {
        let spec = &model.spec;
        for b in 1..spec.bodies.len() {
            let mut v = self.cvel[spec.bodies[b].parent];
            for j in model.body_joints[b].clone() {
                let da = model.jnt_dofadr[j];
                let rot_start = match spec.joints[j].kind {
                    JointKind::Free => {
                        for k in 0..3 {
                            self.cdof_dot[da + k] = [0.0; 6];
                            add_scaled6(&mut v, &self.cdof[da + k], self.qvel[da + k]);
                        }
                        da + 3
                    }
                    _ => da,
                };
                let rot_end = da + spec.joints[j].kind.nv();
                for d in rot_start..rot_end {
                    self.cdof_dot[d] = cross_motion(&v, &self.cdof[d]);
                }
                for d in rot_start..rot_end {
                    add_scaled6(&mut v, &self.cdof[d], self.qvel[d]);
                }
            }
            self.cvel[b] = v;
        }
    }
}
