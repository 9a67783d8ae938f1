//! `Data`: the simulation state (`qpos`, `qvel`, `ctrl`, time) and everything derived from it,
//! preallocated once per model so that stepping never allocates.
//!
//! `forward` computes, in MuJoCo's order: kinematics and com-frame quantities, the mass matrix
//! (CRBA), body velocities, bias forces (RNE), passive and actuator forces, the smooth
//! acceleration `M⁻¹(τ_passive − c + τ_actuator)`, and the joint-limit forces. After
//! [`Data::set_state`] all derived quantities describe the current state (like `mj_forward`);
//! after [`Data::step`] the control-independent ones do (kinematics, M, velocities, bias, passive
//! forces: MuJoCo's `mj_step1`), so observations can read them directly and the next step only
//! recomputes the actuation and accelerations for its new control.

use super::constraint::Efc;
use super::contact::Contact;
use super::error::SimError;
use super::model::Model;
use super::solver::SolverMode;
use super::spatial::{
    add3, dot3, mat_vec, quat_mul, quat_to_mat, Mat3, Quat, Spatial, SpatialInertia, Vec3, MAT3_IDENTITY, QUAT_IDENTITY,
};
use super::tree_factor::TreeFactor;

/// Simulation state and workspace for one [`Model`].
#[derive(Debug, Clone)]
pub struct Data {
    pub(crate) time: f64,
    pub(crate) qpos: Vec<f64>,
    pub(crate) qvel: Vec<f64>,
    pub(crate) ctrl: Vec<f64>,
    /// How far the derived quantities below describe the current state and control.
    pub(crate) stage: Stage,
    // Position stage, per body.
    pub(crate) xpos: Vec<Vec3>,
    pub(crate) xquat: Vec<Quat>,
    pub(crate) xmat: Vec<Mat3>,
    pub(crate) xipos: Vec<Vec3>,
    pub(crate) ximat: Vec<Mat3>,
    pub(crate) subtree_com: Vec<Vec3>,
    pub(crate) cinert: Vec<SpatialInertia>,
    pub(crate) crb: Vec<SpatialInertia>,
    // Position stage, per joint and per dof.
    pub(crate) xanchor: Vec<Vec3>,
    pub(crate) xaxis: Vec<Vec3>,
    pub(crate) cdof: Vec<Spatial>,
    /// Joint-space inertia `M`, armature included: only its possibly nonzero entries (each dof
    /// with its ancestors), in the compact order of `model.dof_tree`.
    pub(crate) mass_compact: Vec<f64>,
    /// `M = Lᵀ·D·L` along the dof tree.
    pub(crate) mass_factor: TreeFactor,
    // Velocity stage.
    pub(crate) cvel: Vec<Spatial>,
    pub(crate) cdof_dot: Vec<Spatial>,
    pub(crate) cacc: Vec<Spatial>,
    pub(crate) cfrc: Vec<Spatial>,
    pub(crate) qfrc_bias: Vec<f64>,
    pub(crate) qfrc_passive: Vec<f64>,
    // Acceleration stage.
    pub(crate) qfrc_actuator: Vec<f64>,
    pub(crate) qfrc_smooth: Vec<f64>,
    pub(crate) qacc_smooth: Vec<f64>,
    pub(crate) qfrc_constraint: Vec<f64>,
    pub(crate) qacc: Vec<f64>,
    /// Per body, the contact forces acting on it as `(torque, force)` about its tree's subtree
    /// centre of mass (MuJoCo's `cfrc_ext`), from the last acceleration-stage evaluation.
    pub(crate) cfrc_ext: Vec<Spatial>,
    /// Body positions at the last acceleration-stage evaluation (MuJoCo leaves these in `xpos`
    /// after `mj_step`: the start of the last Euler step, or RK4's 4th stage).
    pub(crate) evaluated_xpos: Vec<Vec3>,
    /// Likewise the bodies' centres of mass, com-frame inertias and velocities.
    pub(crate) evaluated_xipos: Vec<Vec3>,
    pub(crate) evaluated_cinert: Vec<SpatialInertia>,
    pub(crate) evaluated_cvel: Vec<Spatial>,
    /// World poses of the collision geoms (refreshed by collision detection).
    pub(crate) geom_poses: Vec<super::collision::GeomPose>,
    /// Whether `geom_poses[g].mat` is up to date (collision detection computes it on demand).
    pub(crate) geom_mat_ready: Vec<bool>,
    /// Active contacts (capacity preallocated for the model's maximum).
    pub(crate) contacts: Vec<Contact>,
    /// Constraint rows and solver workspace.
    pub(crate) efc: Efc,
    pub(crate) solver_mode: SolverMode,
    /// Contact scratch: translational point Jacobian (3 × nv) and normal/tangent rows (3 × nv).
    pub(crate) contact_jac: Vec<f64>,
    pub(crate) contact_rows: Vec<f64>,
    pub(crate) scratch: super::integrate::IntegratorScratch,
}

/// Whether an evaluation keeps its acceleration-stage outputs for tasks to read after the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Record {
    Yes,
    No,
}

/// How much of the forward computation is up to date (MuJoCo's `mjtStage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    /// Nothing computed for the current state.
    None,
    /// Kinematics, mass matrix and its factor, velocities, bias and passive forces, contacts and constraint rows.
    Velocity,
    /// Also actuation and accelerations (these depend on the control).
    Acceleration,
}

/// Largest magnitude a state or acceleration entry may reach before the step counts as diverged (MuJoCo's `mjMAXVAL`).
pub const MAX_STATE_VALUE: f64 = 1e10;

impl Data {
    /// Workspace for `model`, at `qpos0` with zero velocity and control (derived quantities not yet computed).
    pub fn new(model: &Model) -> Data {
        let (nbody, njnt) = (model.spec.bodies.len(), model.spec.joints.len());
        let (nv, nu) = (model.nv, model.nu());
        Data {
            time: 0.0,
            qpos: model.spec.qpos0.clone(),
            qvel: vec![0.0; nv],
            ctrl: vec![0.0; nu],
            stage: Stage::None,
            xpos: vec![[0.0; 3]; nbody],
            xquat: vec![QUAT_IDENTITY; nbody],
            xmat: vec![MAT3_IDENTITY; nbody],
            xipos: vec![[0.0; 3]; nbody],
            ximat: vec![MAT3_IDENTITY; nbody],
            subtree_com: vec![[0.0; 3]; nbody],
            cinert: vec![SpatialInertia::default(); nbody],
            crb: vec![SpatialInertia::default(); nbody],
            xanchor: vec![[0.0; 3]; njnt],
            xaxis: vec![[0.0; 3]; njnt],
            cdof: vec![[0.0; 6]; nv],
            mass_compact: vec![0.0; model.dof_tree.stored()],
            mass_factor: TreeFactor::new(&model.dof_tree),
            cvel: vec![[0.0; 6]; nbody],
            cdof_dot: vec![[0.0; 6]; nv],
            cacc: vec![[0.0; 6]; nbody],
            cfrc: vec![[0.0; 6]; nbody],
            qfrc_bias: vec![0.0; nv],
            qfrc_passive: vec![0.0; nv],
            qfrc_actuator: vec![0.0; nv],
            qfrc_smooth: vec![0.0; nv],
            qacc_smooth: vec![0.0; nv],
            qfrc_constraint: vec![0.0; nv],
            qacc: vec![0.0; nv],
            cfrc_ext: vec![[0.0; 6]; nbody],
            evaluated_xpos: vec![[0.0; 3]; nbody],
            evaluated_xipos: vec![[0.0; 3]; nbody],
            evaluated_cinert: vec![SpatialInertia::default(); nbody],
            evaluated_cvel: vec![[0.0; 6]; nbody],
            geom_poses: vec![super::collision::GeomPose { pos: [0.0; 3], mat: MAT3_IDENTITY }; model.spec.geoms.len()],
            geom_mat_ready: vec![false; model.spec.geoms.len()],
            contacts: Vec::with_capacity(model.collision.as_ref().map_or(0, |c| c.max_contacts)),
            efc: Efc::new(model.max_rows, nv),
            solver_mode: SolverMode::PgsPolish,
            contact_jac: vec![0.0; 3 * nv],
            contact_rows: vec![0.0; 3 * nv],
            scratch: super::integrate::IntegratorScratch::new(model),
        }
    }

    /// Set the state (as `mj_resetData` + assignment + `mj_forward`): lengths must match and every entry be finite.
    pub fn set_state(&mut self, model: &Model, qpos: &[f64], qvel: &[f64]) -> Result<(), SimError> {
        check_input("qpos", qpos, model.nq)?;
        check_input("qvel", qvel, model.nv)?;
        self.qpos.copy_from_slice(qpos);
        self.qvel.copy_from_slice(qvel);
        self.forward(model)
    }

    /// Set the control vector (raw: actuators clamp it to their range when computing forces).
    pub fn set_ctrl(&mut self, model: &Model, ctrl: &[f64]) -> Result<(), SimError> {
        check_input("ctrl", ctrl, model.nu())?;
        if self.ctrl != ctrl {
            self.ctrl.copy_from_slice(ctrl);
            self.stage = self.stage.min(Stage::Velocity);
        }
        Ok(())
    }

    /// Set the simulated time in seconds.
    pub fn set_time(&mut self, time: f64) {
        self.time = time;
    }

    /// Compute every derived quantity of the current state (MuJoCo's `mj_forward`).
    pub fn forward(&mut self, model: &Model) -> Result<(), SimError> {
        self.stage = Stage::None;
        self.evaluate(model)
    }

    /// Bring the derived quantities up to date for the current state and control, computing only
    /// what is stale (after [`Data::step`], the acceleration stage of the new state; MuJoCo's
    /// forward pass at the start of the next step). Acceleration-stage outputs (constraint forces,
    /// [`Data::touch`]) then describe the current state.
    pub fn evaluate(&mut self, model: &Model) -> Result<(), SimError> {
        self.evaluate_stages(model, Record::Yes)
    }

    /// [`Data::evaluate`], keeping the acceleration-stage outputs that tasks read after a step
    /// (`cfrc_ext`, `evaluated_*`) only with `Record::Yes`: RK4 records its last stage only.
    pub(crate) fn evaluate_stages(&mut self, model: &Model, record: Record) -> Result<(), SimError> {
        if self.stage < Stage::Velocity {
            self.position_velocity(model)?;
        }
        if self.stage < Stage::Acceleration {
            self.acceleration_stage(model);
            self.stage = Stage::Acceleration;
            if record == Record::Yes {
                self.record_evaluation(model);
            }
        }
        Ok(())
    }

    /// Everything that does not depend on the control (MuJoCo's `mj_step1` without sensors).
    pub(crate) fn position_velocity(&mut self, model: &Model) -> Result<(), SimError> {
        self.stage = Stage::None;
        self.position_stage(model);
        if !self.factor_mass(model) {
            return Err(SimError::Diverged { time: self.time, what: "mass matrix", index: 0, value: f64::NAN });
        }
        self.velocity_stage(model);
        self.make_constraints(model);
        self.stage = Stage::Velocity;
        Ok(())
    }

    /// Kinematics, com-frame quantities and the mass matrix.
    pub(crate) fn position_stage(&mut self, model: &Model) {
        self.kinematics(model);
        self.com_pos(model);
        self.crba(model);
        // A new M: the damped factor (if any) is refactored with it.
        self.scratch.damped_factor_of_current_mass = None;
    }

    /// Body velocities, bias and passive forces.
    fn velocity_stage(&mut self, model: &Model) {
        self.com_vel(model);
        self.rne_bias(model);
        self.passive(model);
    }

    /// Actuation, smooth acceleration and constraint forces: `qacc`.
    fn acceleration_stage(&mut self, model: &Model) {
        self.actuation(model);
        for i in 0..model.nv {
            self.qfrc_smooth[i] = (self.qfrc_passive[i] - self.qfrc_bias[i]) + self.qfrc_actuator[i];
        }
        self.qacc_smooth.copy_from_slice(&self.qfrc_smooth);
        self.mass_factor.solve(&model.dof_tree, &mut self.qacc_smooth);
        self.solve_constraints(model);
    }

    /// Keep what MuJoCo leaves from a step's last evaluation: contact wrenches and body quantities.
    pub(crate) fn record_evaluation(&mut self, model: &Model) {
        if model.collision.is_some() {
            self.contact_wrenches(model);
        }
        self.evaluated_xpos.copy_from_slice(&self.xpos);
        self.evaluated_xipos.copy_from_slice(&self.xipos);
        self.evaluated_cinert.copy_from_slice(&self.cinert);
        self.evaluated_cvel.copy_from_slice(&self.cvel);
    }

    /// Simulated time in seconds.
    pub fn time(&self) -> f64 {
        self.time
    }

    /// Generalized positions.
    pub fn qpos(&self) -> &[f64] {
        &self.qpos
    }

    /// Generalized velocities.
    pub fn qvel(&self) -> &[f64] {
        &self.qvel
    }

    /// The raw control vector.
    pub fn ctrl(&self) -> &[f64] {
        &self.ctrl
    }

    /// Generalized accelerations (with limit forces) of the last full evaluation: after
    /// [`Data::forward`] or [`Data::set_state`] those of the current state and control; after
    /// [`Data::step`] those of the step's last stage (call `forward` for the new state's).
    pub fn qacc(&self) -> &[f64] {
        &self.qacc
    }

    /// Joint-space inertia matrix (nv × nv, row-major), armature included (expanded from the
    /// sparse form the engine keeps, so this allocates).
    pub fn mass_matrix(&self, model: &Model) -> Vec<f64> {
        model.dof_tree.to_dense(&self.mass_compact)
    }

    /// Bias forces `c(q, q̇)`: Coriolis, centrifugal and gravity (`qfrc_bias`).
    pub fn qfrc_bias(&self) -> &[f64] {
        &self.qfrc_bias
    }

    /// Spring and damper forces.
    pub fn qfrc_passive(&self) -> &[f64] {
        &self.qfrc_passive
    }

    /// Actuator forces in joint space.
    pub fn qfrc_actuator(&self) -> &[f64] {
        &self.qfrc_actuator
    }

    /// Constraint (joint-limit and contact) forces in joint space (`Jᵀλ`).
    pub fn qfrc_constraint(&self) -> &[f64] {
        &self.qfrc_constraint
    }

    /// World position of body `b`'s frame origin.
    pub fn body_xpos(&self, b: usize) -> Vec3 {
        self.xpos[b]
    }

    /// World orientation of body `b` (row-major rotation matrix).
    pub fn body_xmat(&self, b: usize) -> &Mat3 {
        &self.xmat[b]
    }

    /// World position of body `b`'s centre of mass.
    pub fn body_xipos(&self, b: usize) -> Vec3 {
        self.xipos[b]
    }

    /// World position of geom `g`.
    pub fn geom_xpos(&self, model: &Model, g: usize) -> Vec3 {
        let geom = &model.spec.geoms[g];
        add3(self.xpos[geom.body], mat_vec(&self.xmat[geom.body], geom.pos))
    }

    /// World orientation of geom `g`.
    pub fn geom_xmat(&self, model: &Model, g: usize) -> Mat3 {
        let geom = &model.spec.geoms[g];
        quat_to_mat(quat_mul(self.xquat[geom.body], geom.quat))
    }

    /// World position of site `s`.
    pub fn site_xpos(&self, model: &Model, s: usize) -> Vec3 {
        let site = &model.spec.sites[s];
        add3(self.xpos[site.body], mat_vec(&self.xmat[site.body], site.pos))
    }

    /// `(potential, kinetic)` energy: `−Σ m·g·xipos` plus spring energy, and `½·q̇ᵀMq̇` (MuJoCo's `mj_energyPos/Vel`).
    pub fn energy(&self, model: &Model) -> (f64, f64) {
        let g = model.spec.options.gravity;
        let mut potential = 0.0;
        for (body, xipos) in model.spec.bodies.iter().zip(&self.xipos).skip(1) {
            potential -= body.mass * dot3(g, *xipos);
        }
        for (j, joint) in model.spec.joints.iter().enumerate() {
            if joint.stiffness > 0.0 {
                let stretch = self.qpos[model.jnt_qposadr[j]] - joint.springref;
                potential += 0.5 * joint.stiffness * stretch * stretch;
            }
        }
        let nv = model.nv;
        let mass_matrix = self.mass_matrix(model);
        let mut kinetic = 0.0;
        for i in 0..nv {
            for k in 0..nv {
                kinetic += 0.5 * self.qvel[i] * mass_matrix[i * nv + k] * self.qvel[k];
            }
        }
        (potential, kinetic)
    }
}

fn check_input(what: &'static str, values: &[f64], expected: usize) -> Result<(), SimError> {
    if values.len() != expected {
        return Err(SimError::WrongLength { what, expected, got: values.len() });
    }
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(SimError::NonFiniteInput { what, index, value });
    }
    Ok(())
}
