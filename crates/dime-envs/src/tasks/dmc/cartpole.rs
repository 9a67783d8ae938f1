//! DMC `cartpole-balance` and `cartpole-swingup` (`dm_control/suite/cartpole.py`): move a cart
//! on a rail (slider limited to ±1.8 m, soft limit with solref (0.08, 1)) to keep a hinged pole
//! upright. RK4, h = 0.01 s, contacts disabled.
//!
//! - Observation (5): `position = [x, cos θ, sin θ]` (pole xmat zz, xz), `velocity = [ẋ, θ̇]`.
//! - Reward (smooth, both tasks) = `upright · small_control · small_velocity · centered` with
//!   `upright = (cos θ + 1)/2`, `small_control = (4 + tol(u, margin 1, quadratic, 0))/5`,
//!   `small_velocity = (1 + tol(θ̇, margin 5))/2`, `centered = (1 + tol(x, margin 2))/2`.
//! - Reset: swingup x = 0.01·N, θ = π + 0.01·N; balance x ~ U(−0.1, 0.1), θ ~ U(−0.034, 0.034);
//!   both q̇ = 0.01·N(0, I₂).

use std::f64::consts::PI;
use std::sync::{Arc, OnceLock};

use rand::Rng;
use rand_distr::StandardNormal;

use super::rewards::{Sigmoid, Tolerance};
use super::{dmc_spec, require, shared_model, Dmc, DmcTask, Physics};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::{assets, Model, SimError};
use crate::spec::ObsField;

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Seconds per agent step.
const CONTROL_TIMESTEP: f64 = 0.01;
/// Half-width of the balance task's initial pole angle (rad).
const BALANCE_ANGLE: f64 = 0.034;
/// Standard deviation of the initial state noise.
const NOISE: f64 = 0.01;

/// Which initial states the episode starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Pole near upright.
    Balance,
    /// Pole hanging down.
    Swingup,
}

/// The cart-pole task.
pub struct Cartpole {
    start: Start,
    pole: usize,
    centered: Tolerance,
    small_control: Tolerance,
    small_velocity: Tolerance,
}

/// `dmc/cartpole-balance`.
pub fn balance() -> Result<Dmc<Cartpole>, EnvError> {
    build(Start::Balance)
}

/// `dmc/cartpole-swingup`.
pub fn swingup() -> Result<Dmc<Cartpole>, EnvError> {
    build(Start::Swingup)
}

fn build(start: Start) -> Result<Dmc<Cartpole>, EnvError> {
    let model = shared_model(&MODEL, "dmc/cartpole", assets::DMC_CARTPOLE)?;
    let pole = require(&model, "body", "pole_1", model.body_id("pole_1"))?;
    let physics = Physics::new(model, CONTROL_TIMESTEP);
    let layout = vec![ObsField::new("position", 0, 3), ObsField::new("velocity", 3, 2)];
    // Reset noise is Gaussian: 10 standard deviations (0.1) bound every draw in practice.
    let velocity = (-10.0 * NOISE, 10.0 * NOISE);
    let (id, ranges) = match start {
        Start::Balance => (
            "dmc/cartpole-balance",
            vec![(-0.1, 0.1), (BALANCE_ANGLE.cos(), 1.0), (-BALANCE_ANGLE, BALANCE_ANGLE), velocity, velocity],
        ),
        Start::Swingup => (
            "dmc/cartpole-swingup",
            vec![(-10.0 * NOISE, 10.0 * NOISE), (-1.0, -(10.0 * NOISE).cos()), (-0.1, 0.1), velocity, velocity],
        ),
    };
    let spec = dmc_spec(id, &physics, layout, ranges);
    let task = Cartpole {
        start,
        pole,
        centered: Tolerance::new((0.0, 0.0), 2.0, Sigmoid::Gaussian, 0.1)?,
        small_control: Tolerance::new((0.0, 0.0), 1.0, Sigmoid::Quadratic, 0.0)?,
        small_velocity: Tolerance::new((0.0, 0.0), 5.0, Sigmoid::Gaussian, 0.1)?,
    };
    Ok(Dmc::new(spec, physics, task))
}

impl DmcTask for Cartpole {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let mut normal = || NOISE * rng.sample::<f64, _>(StandardNormal);
        let qpos = match self.start {
            Start::Swingup => {
                let x = normal();
                [x, PI + normal()]
            }
            Start::Balance => [rng.random_range(-0.1..0.1), rng.random_range(-BALANCE_ANGLE..BALANCE_ANGLE)],
        };
        let qvel = [NOISE * rng.sample::<f64, _>(StandardNormal), NOISE * rng.sample::<f64, _>(StandardNormal)];
        physics.reset_to(&qpos, &qvel);
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        let xmat = data.body_xmat(self.pole);
        obs.copy_from_slice(&[data.qpos()[0], xmat[2][2], xmat[0][2], data.qvel()[0], data.qvel()[1]]);
    }

    fn reward(&self, physics: &Physics, action: &[f64]) -> f64 {
        let data = physics.data();
        let upright = (data.body_xmat(self.pole)[2][2] + 1.0) / 2.0;
        let centered = (1.0 + self.centered.eval(data.qpos()[0])) / 2.0;
        let small_control = (4.0 + self.small_control.eval(action[0])) / 5.0;
        let small_velocity = (1.0 + self.small_velocity.eval(data.qvel()[1])) / 2.0;
        upright * small_control * small_velocity * centered
    }
}
