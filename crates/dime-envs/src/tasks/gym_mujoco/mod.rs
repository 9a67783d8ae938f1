//! Gymnasium MuJoCo v5 locomotion tasks on the simulator (Gymnasium 1.4.0, MuJoCo 3.17;
//! `gymnasium/envs/mujoco/mujoco_env.py` and `*_v5.py`).
//!
//! Common loop: `step(a)` sets `ctrl = a` raw (the actuators clamp to their range, control costs
//! use the raw action), runs `frame_skip` physics steps, then computes observation, reward and
//! `terminated = !healthy` on the post-step state; the time limit is 1000 steps. Resets add the
//! task's noise to `qpos0` and zero velocity. Observations are f64. The scalar `info` entries are
//! the env's [`crate::Env::reward_terms`], named as Gymnasium names them.
//!
//! [`GymMujoco`] holds what the tasks share (physics, reset noise, reward terms, snapshots); each
//! task file supplies a [`GymTask`].

pub mod ant;
pub mod half_cheetah;
pub mod hopper_walker;
pub mod humanoid;

use rand::Rng;
use rand_distr::StandardNormal;

use crate::env::{check_state_len, Task, TaskStep};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::SimError;
use crate::spec::EnvSpec;
use crate::tasks::dmc::Physics;

/// Agent steps per Gymnasium MuJoCo episode (`TimeLimit`).
pub const EPISODE_STEPS: u32 = 1000;

/// How the reset perturbs `qpos0` and the zero velocity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResetNoise {
    /// `qpos += U(−s, s)`, `qvel = s_v·N(0, 1)` (HalfCheetah, Ant; a free joint's quaternion
    /// gets the noise too and is not renormalized).
    UniformNormal {
        /// Half-width of the position noise.
        qpos: f64,
        /// Standard deviation of the velocity noise.
        qvel: f64,
    },
    /// `qpos += U(−s, s)`, `qvel += U(−s, s)` (Hopper, Walker2d, Humanoid).
    Uniform {
        /// Half-width of both noises.
        scale: f64,
    },
}

/// What distinguishes one Gymnasium MuJoCo task.
pub trait GymTask: Send {
    /// Names of the `info` scalars, in the order [`GymTask::outcome`] fills them.
    fn term_names(&self) -> &'static [&'static str];
    /// The reset noise.
    fn reset_noise(&self) -> ResetNoise;
    /// Write the observation of the current state.
    fn observe(&self, physics: &Physics, obs: &mut [f64]);
    /// The (x, y) position whose change over a step is the task's velocity: by default the root
    /// slide `qpos[0]` (y = 0); Ant uses the torso's `xpos` as MuJoCo leaves it after the step.
    fn position(&self, physics: &Physics) -> [f64; 2] {
        [physics.data().qpos()[0], 0.0]
    }
    /// Reward and termination of arriving at the current state from `before` (the task's
    /// [`GymTask::position`] before the step) under `action`; writes the `info` scalars into
    /// `terms` (same order as `term_names`).
    fn outcome(&self, before: [f64; 2], physics: &Physics, action: &[f64], terms: &mut [f64]) -> TaskStep;
}

/// A Gymnasium MuJoCo task on the simulator: an implementation of [`Task`].
pub struct GymMujoco<T: GymTask> {
    spec: EnvSpec,
    physics: Physics,
    task: T,
    terms: Vec<(&'static str, f64)>,
    values: Vec<f64>,
    /// [`GymTask::position`] after the last reset, state change or step: the next step's
    /// "before" (Ant's comes from the step's last evaluation, so it is part of the saved state).
    position: [f64; 2],
}

impl<T: GymTask> GymMujoco<T> {
    pub(crate) fn new(spec: EnvSpec, physics: Physics, task: T) -> Self {
        let names = task.term_names();
        GymMujoco {
            spec,
            physics,
            task,
            terms: names.iter().map(|&n| (n, 0.0)).collect(),
            values: vec![0.0; names.len()],
            position: [0.0; 2],
        }
    }

    /// The task-specific part.
    pub fn task(&self) -> &T {
        &self.task
    }

    /// The physics.
    pub fn physics(&self) -> &Physics {
        &self.physics
    }

    /// Generalized positions.
    pub fn qpos(&self) -> &[f64] {
        self.physics.data().qpos()
    }

    /// Generalized velocities.
    pub fn qvel(&self) -> &[f64] {
        self.physics.data().qvel()
    }

    /// Set a recorded state (like Gymnasium's `set_state`, which calls `mj_forward`).
    pub fn set_physics_state(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<(), EnvError> {
        self.physics.set_state(qpos, qvel)?;
        self.position = self.task.position(&self.physics);
        Ok(())
    }

    /// Reward and termination of arriving at the current state from position `before` (see
    /// [`GymTask::position`]) under `action`, as `step` computes them; updates [`Task::reward_terms`].
    pub fn evaluate(&mut self, before: [f64; 2], action: &[f64]) -> TaskStep {
        let out = self.task.outcome(before, &self.physics, action, &mut self.values);
        for ((_, value), &v) in self.terms.iter_mut().zip(&self.values) {
            *value = v;
        }
        out
    }
}

impl<T: GymTask> Task for GymMujoco<T> {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset_state(&mut self, rng: &mut EnvRng) {
        let model = self.physics.model();
        let mut qpos = model.qpos0().to_vec();
        let mut qvel = vec![0.0; model.nv()];
        match self.task.reset_noise() {
            ResetNoise::UniformNormal { qpos: s, qvel: sv } => {
                qpos.iter_mut().for_each(|q| *q += rng.random_range(-s..s));
                qvel.iter_mut().for_each(|v| *v = sv * rng.sample::<f64, _>(StandardNormal));
            }
            ResetNoise::Uniform { scale } => {
                qpos.iter_mut().for_each(|q| *q += rng.random_range(-scale..scale));
                qvel.iter_mut().for_each(|v| *v += rng.random_range(-scale..scale));
            }
        }
        self.physics.reset_to(&qpos, &qvel);
        self.position = self.task.position(&self.physics);
        self.terms.iter_mut().for_each(|(_, v)| *v = 0.0);
    }

    fn observe(&self, obs: &mut [f64]) {
        self.task.observe(&self.physics, obs);
    }

    fn advance(&mut self, action: &[f64], _rng: &mut EnvRng) -> TaskStep {
        let before = self.position;
        self.physics.advance(action);
        if self.physics.divergence().is_some() {
            return TaskStep { reward: 0.0, terminated: false };
        }
        self.position = self.task.position(&self.physics);
        self.evaluate(before, action)
    }

    fn reward_terms(&self) -> &[(&'static str, f64)] {
        &self.terms
    }

    fn divergence(&self) -> Option<&SimError> {
        self.physics.divergence()
    }

    /// `[qpos, qvel, position (2)]`.
    fn state(&self) -> Vec<f64> {
        let mut state = self.qpos().to_vec();
        state.extend_from_slice(self.qvel());
        state.extend_from_slice(&self.position);
        state
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        let (nq, nv) = (self.physics.model().nq(), self.physics.model().nv());
        check_state_len(&self.spec, state, nq + nv + 2)?;
        self.physics.set_state(&state[..nq], &state[nq..nq + nv])?;
        self.position = [state[nq + nv], state[nq + nv + 1]];
        Ok(())
    }
}

/// `Σ aᵢ²` summed left to right (NumPy sums fewer than 8 entries sequentially).
pub(crate) fn sum_of_squares(action: &[f64]) -> f64 {
    action.iter().fold(0.0, |s, a| s + a * a)
}
