//! DeepMind Control Suite tasks on the simulator (dm_control 1.0.50, MuJoCo 3.17).
//!
//! Shared rules (design notes §2.4): `step(a)` sets `ctrl = a` unclipped (the actuators clamp),
//! runs the model's physics steps for one control step, then computes reward and observation on
//! the post-step state. Episodes are 1000 steps, never terminate, and end `truncated`.
//! Observations are dm_control's dict values concatenated in its key order (for these tasks that
//! order is also alphabetical). Resets draw from the env's ChaCha stream with dm_control's
//! distributions; golden tests set recorded states instead.
//!
//! [`Dmc`] holds what all of them share (the model, the state, the divergence guard, snapshots);
//! each family file supplies a [`DmcTask`]: its reset, observation and reward.

pub mod acrobot;
pub mod cartpole;
pub mod cheetah;
pub mod hopper;
pub mod humanoid;
pub mod pendulum;
mod physics;
pub mod point_mass;
pub mod reacher;
pub mod rewards;
pub mod walker;

pub use physics::Physics;

use std::f64::consts::PI;
use std::sync::{Arc, OnceLock};

use rand::Rng;

use crate::env::{check_state_len, Task, TaskStep};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::{JointKind, Model, SimError};
use crate::spec::EnvSpec;

/// Agent steps per DMC episode.
pub const EPISODE_STEPS: u32 = 1000;

/// A model shared by every instance of a domain, parsed once per process.
pub(crate) fn shared_model(
    cell: &'static OnceLock<Result<Arc<Model>, SimError>>,
    name: &str,
    json: &str,
) -> Result<Arc<Model>, EnvError> {
    cell.get_or_init(|| Model::from_mujoco_json(name, json).map(Arc::new)).clone().map_err(EnvError::Sim)
}

/// Look up a named element of a model, or say which is missing.
pub(crate) fn require(model: &Model, kind: &str, name: &str, id: Option<usize>) -> Result<usize, EnvError> {
    id.ok_or_else(|| EnvError::InvalidConfig(format!("model `{}` has no {kind} `{name}`", model.name())))
}

/// dm_control's `randomize_limited_and_rotational_joints`, in joint order: a limited hinge or
/// slide ~ U(range), an unlimited hinge ~ U(−π, π), an unlimited slide keeps qpos0, a free joint
/// keeps its position and gets the quaternion normalize(U[0, 1)⁴) (dm_control keeps this
/// non-uniform draw for benchmark compatibility). Ball joints keep qpos0 (no model here has one).
pub(crate) fn randomize_limited_and_rotational_joints(model: &Model, rng: &mut EnvRng) -> Vec<f64> {
    let mut qpos = model.qpos0().to_vec();
    for (j, joint) in model.spec().joints.iter().enumerate() {
        let adr = model.joint_qpos_adr(j);
        match (&joint.limit, joint.kind) {
            (Some(limit), JointKind::Hinge | JointKind::Slide) => {
                qpos[adr] = rng.random_range(limit.range[0]..limit.range[1]);
            }
            (None, JointKind::Hinge) => qpos[adr] = rng.random_range(-PI..PI),
            (None, JointKind::Free) => {
                let q: [f64; 4] = std::array::from_fn(|_| rng.random_range(0.0..1.0));
                let norm = q.iter().map(|x| x * x).sum::<f64>().sqrt();
                for (k, x) in q.iter().enumerate() {
                    qpos[adr + 3 + k] = x / norm;
                }
            }
            _ => {}
        }
    }
    qpos
}

/// What distinguishes one DMC task: reset distribution, observation and reward.
pub trait DmcTask: Send {
    /// Draw an initial state (and task parameters) from `rng` and set it with `Physics::reset_to`.
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng);
    /// Write the observation of the current state.
    fn observe(&self, physics: &Physics, obs: &mut [f64]);
    /// Reward of having arrived at the current state under `action` (raw control).
    fn reward(&self, physics: &Physics, action: &[f64]) -> f64;
    /// Parameters drawn at reset that the physics does not hold (reacher's target), for snapshots.
    fn parameters(&self) -> Vec<f64> {
        Vec::new()
    }
    /// Restore [`DmcTask::parameters`]; the slice has the length `parameters` returns.
    fn set_parameters(&mut self, _parameters: &[f64]) {}
    /// Restore [`DmcTask::parameters`] when a snapshot is restored. The default calls
    /// [`DmcTask::set_parameters`]; a task whose parameters live in the model (point_mass-hard's
    /// tendon directions) overrides this to update `physics` as well, keeping its state.
    fn restore_parameters(&mut self, _physics: &mut Physics, parameters: &[f64]) -> Result<(), EnvError> {
        self.set_parameters(parameters);
        Ok(())
    }
}

/// A DMC task on the simulator: an implementation of [`Task`].
pub struct Dmc<T: DmcTask> {
    spec: EnvSpec,
    physics: Physics,
    task: T,
}

impl<T: DmcTask> Dmc<T> {
    pub(crate) fn new(spec: EnvSpec, physics: Physics, task: T) -> Self {
        Dmc { spec, physics, task }
    }

    /// The task-specific part.
    pub fn task(&self) -> &T {
        &self.task
    }

    /// The task-specific part, mutable (golden replays set recorded targets).
    pub fn task_mut(&mut self) -> &mut T {
        &mut self.task
    }

    /// The physics.
    pub fn physics(&self) -> &Physics {
        &self.physics
    }

    /// Generalized positions.
    pub fn qpos(&self) -> &[f64] {
        self.physics.data.qpos()
    }

    /// Generalized velocities.
    pub fn qvel(&self) -> &[f64] {
        self.physics.data.qvel()
    }

    /// Set a recorded state (like assigning `physics.data.qpos/qvel` and calling `mj_forward`).
    pub fn set_physics_state(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<(), EnvError> {
        Ok(self.physics.set_state(qpos, qvel)?)
    }

    /// The reward dm_control gives for arriving at the current state under `action`.
    pub fn reward(&self, action: &[f64]) -> f64 {
        self.task.reward(&self.physics, action)
    }
}

impl<T: DmcTask> Task for Dmc<T> {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset_state(&mut self, rng: &mut EnvRng) {
        self.task.initialize_episode(&mut self.physics, rng);
    }

    fn observe(&self, obs: &mut [f64]) {
        self.task.observe(&self.physics, obs);
    }

    fn advance(&mut self, action: &[f64], _rng: &mut EnvRng) -> TaskStep {
        self.physics.advance(action);
        let reward = if self.physics.divergence().is_some() { 0.0 } else { self.task.reward(&self.physics, action) };
        TaskStep { reward, terminated: false }
    }

    fn divergence(&self) -> Option<&SimError> {
        self.physics.divergence()
    }

    /// `[qpos, qvel, task parameters]`.
    fn state(&self) -> Vec<f64> {
        let mut state = self.qpos().to_vec();
        state.extend_from_slice(self.qvel());
        state.extend(self.task.parameters());
        state
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        let (nq, nv) = (self.physics.model().nq(), self.physics.model().nv());
        let n_params = self.task.parameters().len();
        check_state_len(&self.spec, state, nq + nv + n_params)?;
        self.physics.set_state(&state[..nq], &state[nq..nq + nv])?;
        self.task.restore_parameters(&mut self.physics, &state[nq + nv..])
    }
}

/// The common part of every DMC spec: 1000 steps, rewards in [0, 1], never terminating.
pub(crate) fn dmc_spec(
    id: &str,
    physics: &Physics,
    obs_layout: Vec<crate::spec::ObsField>,
    reset_obs_range: Vec<(f64, f64)>,
) -> EnvSpec {
    let act_dim = physics.model().nu();
    EnvSpec {
        id: id.into(),
        obs_dim: reset_obs_range.len(),
        act_dim,
        act_low: vec![-1.0; act_dim],
        act_high: vec![1.0; act_dim],
        obs_layout,
        max_episode_steps: EPISODE_STEPS,
        dt: physics.control_timestep(),
        physics: crate::sim::ENGINE,
        reward_range: (0.0, 1.0),
        reset_obs_range,
        can_terminate: false,
        random_reset: true,
    }
}
