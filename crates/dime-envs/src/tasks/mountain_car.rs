//! Gymnasium `MountainCarContinuous-v0` (`gymnasium/envs/classic_control/continuous_mountain_car.py`), bit-exact.
//!
//! The state is float64 from reset until the first step and float32 afterwards (the original
//! stores it in a float32 array). Under NumPy 2 promotion rules a Python float meeting a
//! float32 scalar is rounded to float32 first; each cast below marks such a place.

use rand::Rng;

use crate::env::{check_state_len, Task, TaskStep};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::spec::{EnvSpec, ObsField};

const POWER: f64 = 0.0015;
const MAX_SPEED: f64 = 0.07;
const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const GOAL_POSITION: f64 = 0.45;

/// Drive an under-powered car up a hill; +100 at the goal, minus 0.1·a² per step.
pub struct MountainCarContinuous {
    spec: EnvSpec,
    /// Position and velocity; exactly representable in f32 once `f32_state` is set.
    position: f64,
    velocity: f64,
    /// False right after reset (the state is still float64), true after the first step.
    f32_state: bool,
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCarContinuous {
    /// The task with Gymnasium's constants (999-step limit).
    pub fn new() -> Self {
        let spec = EnvSpec {
            id: "gym/MountainCarContinuous-v0".into(),
            obs_dim: 2,
            act_dim: 1,
            act_low: vec![-1.0],
            act_high: vec![1.0],
            obs_layout: vec![ObsField::new("position", 0, 1), ObsField::new("velocity", 1, 1)],
            max_episode_steps: 999,
            dt: 1.0,
            physics: "analytic",
            reward_range: (-0.1, 100.0),
            reset_obs_range: vec![(-0.6, -0.4), (0.0, 0.0)],
            can_terminate: true,
            random_reset: true,
        };
        Self { spec, position: 0.0, velocity: 0.0, f32_state: false }
    }

    /// Set the float64 state right after a reset (golden replays): `(position, velocity)`.
    pub fn set_reset_state(&mut self, position: f64, velocity: f64) {
        self.position = position;
        self.velocity = velocity;
        self.f32_state = false;
    }

    /// First step after reset: the state is float64 throughout.
    fn advance_f64(&mut self, force: Force) -> bool {
        let gravity = 0.0025 * (3.0 * self.position).cos();
        let rhs = match force {
            Force::Clipped(f) => f * POWER - gravity,
            Force::Raw(a) => f64::from(a * POWER as f32 - gravity as f32),
        };
        let mut v = (self.velocity + rhs).clamp(-MAX_SPEED, MAX_SPEED);
        let x = (self.position + v).clamp(MIN_POSITION, MAX_POSITION);
        if x == MIN_POSITION && v < 0.0 {
            v = 0.0;
        }
        let terminated = x >= GOAL_POSITION && v >= 0.0;
        self.position = f64::from(x as f32);
        self.velocity = f64::from(v as f32);
        terminated
    }

    /// Later steps: the state is float32 and constants meet it as float32.
    fn advance_f32(&mut self, force: Force) -> bool {
        let (x, v) = (self.position as f32, self.velocity as f32);
        let gravity = 0.0025 * f64::from(3.0_f32 * x).cos();
        let rhs = match force {
            Force::Clipped(f) => (f * POWER - gravity) as f32,
            Force::Raw(a) => a * POWER as f32 - gravity as f32,
        };
        let mut v = (v + rhs).clamp(-(MAX_SPEED as f32), MAX_SPEED as f32);
        let x = (x + v).clamp(MIN_POSITION as f32, MAX_POSITION as f32);
        if x == MIN_POSITION as f32 && v < 0.0 {
            v = 0.0;
        }
        let terminated = x >= GOAL_POSITION as f32 && v >= 0.0;
        self.position = f64::from(x);
        self.velocity = f64::from(v);
        terminated
    }
}

/// The force as the original sees it: a Python float ±1.0 when clipped, else the float32 action.
#[derive(Clone, Copy)]
enum Force {
    Clipped(f64),
    Raw(f32),
}

impl Task for MountainCarContinuous {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset_state(&mut self, rng: &mut EnvRng) {
        self.position = rng.random_range(-0.6..-0.4);
        self.velocity = 0.0;
        self.f32_state = false;
    }

    fn observe(&self, obs: &mut [f64]) {
        obs[0] = f64::from(self.position as f32);
        obs[1] = f64::from(self.velocity as f32);
    }

    fn advance(&mut self, action: &[f64], _rng: &mut EnvRng) -> TaskStep {
        let a = action[0] as f32;
        let force = if a > 1.0 {
            Force::Clipped(1.0)
        } else if a < -1.0 {
            Force::Clipped(-1.0)
        } else {
            Force::Raw(a)
        };
        let terminated = if self.f32_state { self.advance_f32(force) } else { self.advance_f64(force) };
        self.f32_state = true;
        let goal_bonus = if terminated { 100.0 } else { 0.0 };
        let a = f64::from(a);
        TaskStep { reward: goal_bonus - a * a * 0.1, terminated }
    }

    /// `[position, velocity, 1 if the state is already float32 else 0]`.
    fn state(&self) -> Vec<f64> {
        vec![self.position, self.velocity, if self.f32_state { 1.0 } else { 0.0 }]
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        check_state_len(&self.spec, state, 3)?;
        (self.position, self.velocity, self.f32_state) = (state[0], state[1], state[2] != 0.0);
        Ok(())
    }
}
