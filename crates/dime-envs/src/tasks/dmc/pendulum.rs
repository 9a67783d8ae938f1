//! DMC `pendulum-swingup` (`dm_control/suite/pendulum.py`): swing a torque-limited pendulum up
//! and hold it within 8° of vertical. Euler with implicit damping, h = 0.02 s.
//!
//! - Observation (3): `orientation = [cos θ, sin θ]` (the pole's xmat zz, xz), `velocity = [θ̇]`.
//! - Reward: 1 iff `cos θ ≥ cos 8°`, else 0 (`tolerance` with margin 0).
//! - Reset: θ ~ U(−π, π), θ̇ = 0.

use std::f64::consts::PI;
use std::sync::{Arc, OnceLock};

use rand::Rng;

use super::rewards::Tolerance;
use super::{dmc_spec, require, shared_model, Dmc, DmcTask, Physics};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::{assets, Model, SimError};
use crate::spec::ObsField;

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Seconds per agent step.
const CONTROL_TIMESTEP: f64 = 0.02;

/// dm_control's `_COSINE_BOUND = np.cos(np.deg2rad(8))`.
pub fn cosine_bound() -> f64 {
    (8.0 * (PI / 180.0)).cos()
}

/// The swing-up task.
pub struct Swingup {
    pole: usize,
    upright: Tolerance,
}

/// `dmc/pendulum-swingup`.
pub fn swingup() -> Result<Dmc<Swingup>, EnvError> {
    let model = shared_model(&MODEL, "dmc/pendulum", assets::DMC_PENDULUM)?;
    let pole = require(&model, "body", "pole", model.body_id("pole"))?;
    let physics = Physics::new(model, CONTROL_TIMESTEP);
    let layout = vec![ObsField::new("orientation", 0, 2), ObsField::new("velocity", 2, 1)];
    let spec = dmc_spec("dmc/pendulum-swingup", &physics, layout, vec![(-1.0, 1.0), (-1.0, 1.0), (0.0, 0.0)]);
    let task = Swingup { pole, upright: Tolerance::binary((cosine_bound(), 1.0))? };
    Ok(Dmc::new(spec, physics, task))
}

impl DmcTask for Swingup {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let theta = rng.random_range(-PI..PI);
        physics.reset_to(&[theta], &[0.0]);
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let xmat = physics.data().body_xmat(self.pole);
        obs[0] = xmat[2][2];
        obs[1] = xmat[0][2];
        obs[2] = physics.data().qvel()[0];
    }

    fn reward(&self, physics: &Physics, _action: &[f64]) -> f64 {
        self.upright.eval(physics.data().body_xmat(self.pole)[2][2])
    }
}
