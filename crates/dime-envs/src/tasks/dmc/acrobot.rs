//! DMC `acrobot-swingup` (`dm_control/suite/acrobot.py`): a two-link pendulum actuated only at
//! the elbow must bring its tip to a target above the shoulder. RK4, h = 0.01 s, all
//! constraints disabled.
//!
//! - Observation (6): `orientations = [sin q₁, sin(q₁+q₂), cos q₁, cos(q₁+q₂)]` (xz of both
//!   links, then zz), `velocity = [q̇₁, q̇₂]`.
//! - Reward: `tol(‖target − tip‖, (0, r), margin 1)`, gaussian, with r the target site's size (0.2).
//! - Reset: q₁, q₂ ~ U(−π, π), q̇ = 0.

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
const CONTROL_TIMESTEP: f64 = 0.01;

/// The swing-up task.
pub struct Swingup {
    upper_arm: usize,
    lower_arm: usize,
    tip: usize,
    target: usize,
    near_target: Tolerance,
}

/// `dmc/acrobot-swingup`.
pub fn swingup() -> Result<Dmc<Swingup>, EnvError> {
    let model = shared_model(&MODEL, "dmc/acrobot", assets::DMC_ACROBOT)?;
    let upper_arm = require(&model, "body", "upper_arm", model.body_id("upper_arm"))?;
    let lower_arm = require(&model, "body", "lower_arm", model.body_id("lower_arm"))?;
    let tip = require(&model, "site", "tip", model.site_id("tip"))?;
    let target = require(&model, "site", "target", model.site_id("target"))?;
    let target_radius = model.spec().sites[target].size[0];
    let physics = Physics::new(model, CONTROL_TIMESTEP);
    let layout = vec![ObsField::new("orientations", 0, 4), ObsField::new("velocity", 4, 2)];
    let mut ranges = vec![(-1.0, 1.0); 4];
    ranges.extend([(0.0, 0.0); 2]);
    let spec = dmc_spec("dmc/acrobot-swingup", &physics, layout, ranges);
    let near_target = Tolerance::new((0.0, target_radius), 1.0, Sigmoid::Gaussian, 0.1)?;
    Ok(Dmc::new(spec, physics, Swingup { upper_arm, lower_arm, tip, target, near_target }))
}

impl DmcTask for Swingup {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let qpos = randomize_limited_and_rotational_joints(physics.model(), rng);
        physics.reset_to(&qpos, &[0.0, 0.0]);
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        let (upper, lower) = (data.body_xmat(self.upper_arm), data.body_xmat(self.lower_arm));
        obs.copy_from_slice(&[upper[0][2], lower[0][2], upper[2][2], lower[2][2], data.qvel()[0], data.qvel()[1]]);
    }

    fn reward(&self, physics: &Physics, _action: &[f64]) -> f64 {
        let (data, model) = (physics.data(), physics.model());
        let distance = norm3(sub3(data.site_xpos(model, self.target), data.site_xpos(model, self.tip)));
        self.near_target.eval(distance)
    }
}
