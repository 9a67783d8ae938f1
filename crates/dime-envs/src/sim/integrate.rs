//! Time integration (MuJoCo's `mj_Euler`, `mj_RungeKutta`, `mj_integratePos`) and the
//! divergence guard of [`Data::step`].
//!
//! - **Euler:** `q̇' = q̇ + h·(M + h·diag(damping))⁻¹·(τ_smooth + τ_limits)` when any dof has
//!   damping (else `q̈` itself), then `q' = q ⊕ h·q̇'`. The limit force comes from the solve with the plain M.
//! - **RK4:** stages `X₁ = (q, v)`, `X₂ = (q ⊕ ½h·v₁, v + ½h·a₁)`, `X₃ = (q ⊕ ½h·v₂, v + ½h·a₂)`,
//!   `X₄ = (q ⊕ h·v₃, v + h·a₃)`, each acceleration a full `forward` (limits included);
//!   `v' = v + h·Σwᵢaᵢ`, `q' = q ⊕ h·Σwᵢvᵢ` with weights (1/6, 1/3, 1/3, 1/6). Damping is explicit.
//! - `q ⊕ h·v`: hinge/slide add; a free joint adds `h·v_lin` to its position; ball and free
//!   quaternions rotate by the body-frame angular velocity (`quat_integrate`).

use super::data::{Data, Record, Stage, MAX_STATE_VALUE};
use super::error::SimError;
use super::model::{Integrator, JointKind, Model};
use super::spatial::quat_integrate;
use super::tree_factor::TreeFactor;

/// RK4 stage coefficients: row i gives the weights of stages 0..i for stage i + 1.
const RK4_A: [[f64; 3]; 3] = [[0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 1.0]];
/// RK4 final weights.
const RK4_B: [f64; 4] = [1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0];

/// Preallocated buffers of the integrators.
#[derive(Debug, Clone)]
pub(crate) struct IntegratorScratch {
    start_qpos: Vec<f64>,
    start_qvel: Vec<f64>,
    /// Stage velocities and accelerations (4 × nv each).
    stage_vel: Vec<f64>,
    stage_acc: Vec<f64>,
    delta_vel: Vec<f64>,
    delta_acc: Vec<f64>,
    /// The factor of `M + h·D`.
    pub(crate) damped_factor: TreeFactor,
    /// Whether `damped_factor` was factored with the current `M` (by [`Data::factor_mass`]), and
    /// whether that succeeded.
    pub(crate) damped_factor_of_current_mass: Option<bool>,
}

impl IntegratorScratch {
    pub fn new(model: &Model) -> Self {
        let (nq, nv) = (model.nq, model.nv);
        IntegratorScratch {
            start_qpos: vec![0.0; nq],
            start_qvel: vec![0.0; nv],
            stage_vel: vec![0.0; 4 * nv],
            stage_acc: vec![0.0; 4 * nv],
            delta_vel: vec![0.0; nv],
            delta_acc: vec![0.0; nv],
            damped_factor: TreeFactor::new(&model.dof_tree),
            damped_factor_of_current_mass: None,
        }
    }
}

/// `qpos ← qpos ⊕ h·qvel` for every joint.
pub fn integrate_pos(model: &Model, qpos: &mut [f64], qvel: &[f64], h: f64) {
    for (j, joint) in model.spec.joints.iter().enumerate() {
        let (qa, va) = (model.jnt_qposadr[j], model.jnt_dofadr[j]);
        let (quat_at, omega_at) = match joint.kind {
            JointKind::Hinge | JointKind::Slide => {
                qpos[qa] += h * qvel[va];
                continue;
            }
            JointKind::Ball => (qa, va),
            JointKind::Free => {
                for k in 0..3 {
                    qpos[qa + k] += h * qvel[va + k];
                }
                (qa + 3, va + 3)
            }
        };
        let q = [qpos[quat_at], qpos[quat_at + 1], qpos[quat_at + 2], qpos[quat_at + 3]];
        let omega = [qvel[omega_at], qvel[omega_at + 1], qvel[omega_at + 2]];
        qpos[quat_at..quat_at + 4].copy_from_slice(&quat_integrate(q, omega, h));
    }
}

/// First entry of `values` that is not finite or exceeds [`MAX_STATE_VALUE`] in magnitude.
fn first_bad(values: &[f64]) -> Option<(usize, f64)> {
    values.iter().copied().enumerate().find(|(_, v)| v.is_nan() || v.abs() > MAX_STATE_VALUE)
}

impl Data {
    /// Advance one physics step of length `h` with the model's integrator, then recompute the
    /// control-independent quantities of the new state (see the module docs). If the step produces a non-finite or huge value, the
    /// state is put back to where it was and [`SimError::Diverged`] says what went wrong.
    pub fn step(&mut self, model: &Model) -> Result<(), SimError> {
        self.step_recording(model, Record::Yes)
    }

    /// [`Data::step`]; with `Record::No` the step leaves `cfrc_ext` and the `evaluated_*`
    /// quantities as they were (for all but the last physics step of an agent step).
    pub(crate) fn step_recording(&mut self, model: &Model, record: Record) -> Result<(), SimError> {
        // Euler's only evaluation is the step's last; RK4 records its 4th stage instead.
        let (first_record, last_record) = match model.spec.options.integrator {
            Integrator::Euler => (record, Record::No),
            Integrator::Rk4 => (Record::No, record),
        };
        self.evaluate_stages(model, first_record)?;
        let start_time = self.time;
        self.scratch.start_qpos.copy_from_slice(&self.qpos);
        self.scratch.start_qvel.copy_from_slice(&self.qvel);
        let outcome = match model.spec.options.integrator {
            Integrator::Euler => {
                self.euler(model);
                Ok(())
            }
            Integrator::Rk4 => self.runge_kutta(model, last_record),
        };
        self.stage = Stage::None;
        let bad = [("qacc", first_bad(&self.qacc)), ("qvel", first_bad(&self.qvel)), ("qpos", first_bad(&self.qpos))]
            .into_iter()
            .find_map(|(what, bad)| bad.map(|(index, value)| (what, index, value)));
        let outcome = match (outcome, bad) {
            (Err(e), _) => Err(e),
            (Ok(()), Some((what, index, value))) => Err(SimError::Diverged { time: start_time, what, index, value }),
            (Ok(()), None) => self.position_velocity(model),
        };
        if outcome.is_err() {
            self.qpos.copy_from_slice(&self.scratch.start_qpos);
            self.qvel.copy_from_slice(&self.scratch.start_qvel);
            self.time = start_time;
            // The pre-step state was finite and had a valid forward pass, so this succeeds.
            let _ = self.forward(model);
        }
        outcome
    }

    /// Semi-implicit Euler with implicit damping (MuJoCo's `mj_EulerSkip`).
    fn euler(&mut self, model: &Model) {
        let h = model.spec.options.timestep;
        let s = &mut self.scratch;
        let damped = model.dof_damping.iter().any(|&d| d > 0.0);
        let acc = &mut s.delta_acc;
        if damped {
            let ok = match s.damped_factor_of_current_mass {
                Some(ok) => ok,
                None => s.damped_factor.factor(&model.dof_tree, &self.mass_compact, Some((h, &model.dof_damping))),
            };
            for ((a, smooth), constraint) in acc.iter_mut().zip(&self.qfrc_smooth).zip(&self.qfrc_constraint) {
                *a = smooth + constraint;
            }
            if ok {
                s.damped_factor.solve(&model.dof_tree, acc);
            } else {
                acc.fill(f64::NAN);
            }
        } else {
            acc.copy_from_slice(&self.qacc);
        }
        for (v, a) in self.qvel.iter_mut().zip(acc.iter()) {
            *v += h * a;
        }
        integrate_pos(model, &mut self.qpos, &self.qvel, h);
        self.time += h;
    }

    /// Factor `M` (`false` if it is not positive definite); for Euler with implicit damping also
    /// `M + h·D` in the same pass, for the step's integration.
    pub(crate) fn factor_mass(&mut self, model: &Model) -> bool {
        let s = &mut self.scratch;
        let damped = model.spec.options.integrator == Integrator::Euler && model.dof_damping.iter().any(|&d| d > 0.0);
        if !damped {
            s.damped_factor_of_current_mass = None;
            return self.mass_factor.factor(&model.dof_tree, &self.mass_compact, None);
        }
        let h = model.spec.options.timestep;
        let (ok, damped_ok) = self.mass_factor.factor_pair(
            &mut s.damped_factor,
            &model.dof_tree,
            &self.mass_compact,
            (h, &model.dof_damping),
        );
        s.damped_factor_of_current_mass = Some(damped_ok);
        ok
    }

    /// Classic fourth-order Runge–Kutta (MuJoCo's `mj_RungeKutta` with N = 4).
    fn runge_kutta(&mut self, model: &Model, record_last_stage: Record) -> Result<(), SimError> {
        let (nv, h) = (model.nv, model.spec.options.timestep);
        let start_time = self.time;
        self.scratch.stage_vel[..nv].copy_from_slice(&self.qvel);
        self.scratch.stage_acc[..nv].copy_from_slice(&self.qacc);
        for stage in 1..4 {
            let s = &mut self.scratch;
            s.delta_vel.fill(0.0);
            s.delta_acc.fill(0.0);
            for (prev, &a) in RK4_A[stage - 1][..stage].iter().enumerate() {
                for i in 0..nv {
                    s.delta_vel[i] += a * s.stage_vel[prev * nv + i];
                    s.delta_acc[i] += a * s.stage_acc[prev * nv + i];
                }
            }
            self.qpos.copy_from_slice(&s.start_qpos);
            integrate_pos(model, &mut self.qpos, &s.delta_vel, h);
            for i in 0..nv {
                self.qvel[i] = s.start_qvel[i] + h * s.delta_acc[i];
            }
            self.stage = Stage::None;
            self.evaluate_stages(model, if stage == 3 { record_last_stage } else { Record::No })?;
            self.scratch.stage_vel[stage * nv..(stage + 1) * nv].copy_from_slice(&self.qvel);
            self.scratch.stage_acc[stage * nv..(stage + 1) * nv].copy_from_slice(&self.qacc);
        }
        let s = &mut self.scratch;
        s.delta_vel.fill(0.0);
        s.delta_acc.fill(0.0);
        for (stage, &w) in RK4_B.iter().enumerate() {
            for i in 0..nv {
                s.delta_vel[i] += w * s.stage_vel[stage * nv + i];
                s.delta_acc[i] += w * s.stage_acc[stage * nv + i];
            }
        }
        self.qpos.copy_from_slice(&s.start_qpos);
        self.qvel.copy_from_slice(&s.start_qvel);
        for (v, a) in self.qvel.iter_mut().zip(&s.delta_acc) {
            *v += h * a;
        }
        integrate_pos(model, &mut self.qpos, &s.delta_vel, h);
        self.time = start_time + h;
        Ok(())
    }
}
