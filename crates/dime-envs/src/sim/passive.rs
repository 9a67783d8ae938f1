//! Passive forces (joint springs and dof dampers) and motor actuation (MuJoCo's `mj_passive`,
//! `mj_fwdActuation` for fixed-gain, bias-free actuators).
//!
//! - Spring: `τ = −stiffness·(q − springref)` on hinge and slide joints (N or N·m).
//! - Damper: `τ_d = −damping_d·q̇_d`. Under Euler the damper is also integrated implicitly (see
//!   `integrate`); this explicit term stays in `qfrc_passive` either way, as in MuJoCo.
//! - Motor: `force = gain·clamp(ctrl, ctrlrange)`, clamped to `forcerange` if set; the generalized
//!   force is `Σ_actuators moment·force` with `moment = gear·(tendon coefficient or 1)`.

use super::data::Data;
use super::model::{JointKind, Model};

impl Data {
    /// `qfrc_passive = spring + damper`.
    pub(crate) fn passive(&mut self, model: &Model) {
        for d in 0..model.nv {
            self.qfrc_passive[d] = -model.dof_damping[d] * self.qvel[d];
        }
        for (j, joint) in model.spec.joints.iter().enumerate() {
            if joint.stiffness != 0.0 && matches!(joint.kind, JointKind::Hinge | JointKind::Slide) {
                let spring = -joint.stiffness * (self.qpos[model.jnt_qposadr[j]] - joint.springref);
                let d = model.jnt_dofadr[j];
                self.qfrc_passive[d] += spring;
            }
        }
    }

    /// `qfrc_actuator` from the current (raw) control.
    pub(crate) fn actuation(&mut self, model: &Model) {
        self.qfrc_actuator.fill(0.0);
        for (actuator, &ctrl) in model.actuators.iter().zip(&self.ctrl) {
            let ctrl = match actuator.ctrl_range {
                Some([lo, hi]) => ctrl.clamp(lo, hi),
                None => ctrl,
            };
            let mut force = actuator.gain * ctrl;
            if let Some([lo, hi]) = actuator.force_range {
                force = force.clamp(lo, hi);
            }
            for &(dof, moment) in &actuator.moment {
                self.qfrc_actuator[dof] += moment * force;
            }
        }
    }
}
