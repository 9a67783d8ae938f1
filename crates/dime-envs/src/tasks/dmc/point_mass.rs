//! DMC `point_mass-easy` (`dm_control/suite/point_mass.py`): drive a 0.3 kg mass on two damped,
//! limited slides (±0.29 m) to the origin. The two motors (gear 0.1) act through fixed tendons
//! t₁ = x and t₂ = y. Euler with implicit damping, h = 0.02 s, contacts disabled.
//!
//! - Observation (4): `position = q`, `velocity = q̇`.
//! - Reward: `near · (4 + mean_i tol(u_i, margin 1, quadratic, 0))/5` with
//!   `near = tol(‖target − mass‖, (0, s), margin s)`, gaussian, s = the target's radius (0.015).
//! - Reset: x, y ~ U(−0.29, 0.29), q̇ = 0.

use std::sync::{Arc, OnceLock};

use super::rewards::{Sigmoid, Tolerance};
use super::{dmc_spec, randomize_limited_and_rotational_joints, require, shared_model, Dmc, DmcTask, Physics};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::spatial::{norm3, sub3};
use crate::sim::{assets, Model, SimError};
use crate::spec::ObsField;

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Seconds per agent step.
const CONTROL_TIMESTEP: f64 = 0.02;

/// The easy task (identity tendon directions).
pub struct Easy {
    mass: usize,
    target: usize,
    near_target: Tolerance,
    small_control: Tolerance,
}

/// `dmc/point_mass-easy`.
pub fn easy() -> Result<Dmc<Easy>, EnvError> {
    let model = shared_model(&MODEL, "dmc/point_mass", assets::DMC_POINT_MASS)?;
    let mass = require(&model, "geom", "pointmass", model.geom_id("pointmass"))?;
    let target = require(&model, "geom", "target", model.geom_id("target"))?;
    let target_size = model.spec().geoms[target].size[0];
    let limits: Vec<(f64, f64)> =
        model.spec().joints.iter().map(|j| j.limit.as_ref().map_or((0.0, 0.0), |l| (l.range[0], l.range[1]))).collect();
    let physics = Physics::new(model, CONTROL_TIMESTEP);
    let layout = vec![ObsField::new("position", 0, 2), ObsField::new("velocity", 2, 2)];
    let mut ranges = limits;
    ranges.extend([(0.0, 0.0); 2]);
    let spec = dmc_spec("dmc/point_mass-easy", &physics, layout, ranges);
    let task = Easy {
        mass,
        target,
        near_target: Tolerance::new((0.0, target_size), target_size, Sigmoid::Gaussian, 0.1)?,
        small_control: Tolerance::new((0.0, 0.0), 1.0, Sigmoid::Quadratic, 0.0)?,
    };
    Ok(Dmc::new(spec, physics, task))
}

impl DmcTask for Easy {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let qpos = randomize_limited_and_rotational_joints(physics.model(), rng);
        physics.reset_to(&qpos, &[0.0, 0.0]);
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        obs[..2].copy_from_slice(data.qpos());
        obs[2..].copy_from_slice(data.qvel());
    }

    fn reward(&self, physics: &Physics, action: &[f64]) -> f64 {
        let (data, model) = (physics.data(), physics.model());
        let distance = norm3(sub3(data.geom_xpos(model, self.target), data.geom_xpos(model, self.mass)));
        let near = self.near_target.eval(distance);
        let control = action.iter().map(|&u| self.small_control.eval(u)).sum::<f64>() / action.len() as f64;
        near * ((control + 4.0) / 5.0)
    }
}
