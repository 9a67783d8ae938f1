//! DMC `hopper-hop` (`dm_control/suite/hopper.py`): a planar one-legged hopper (rootx, rootz,
//! rooty, waist, hip, knee, ankle) whose body geoms also collide with each other. Euler,
//! h = 0.005 s, 4 physics steps per agent step (0.02 s), ground μ = 1 (pyramidal).
//!
//! - Observation (15): `position = qpos[1:]` (6), `velocity = qvel` (7),
//!   `touch = log1p([toe, heel])` (2): MuJoCo touch sensors on the foot's two sphere sites
//!   (r = 0.05), read from the forward pass of the agent step's last physics step.
//! - Reward: `standing · hopping` with `standing = tol(z_torso − z_foot, (0.6, 2))` (binary, on the
//!   bodies' centres of mass) and `hopping = tol(v_x, (2, ∞), margin 1, linear, 0.5)` =
//!   clamp(v_x/2, 0, 1), v_x the torso subtree's centre-of-mass velocity.
//! - Reset: limited joints ~ U(range), rooty ~ U(−π, π), rootx and rootz stay 0, velocity 0.

use std::sync::{Arc, OnceLock};

use super::rewards::{Sigmoid, Tolerance};
use super::{dmc_spec, randomize_limited_and_rotational_joints, require, shared_model, Dmc, DmcTask, Physics};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::{assets, Model, SimError};
use crate::spec::ObsField;

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Seconds per agent step.
const CONTROL_TIMESTEP: f64 = 0.02;
/// Torso-above-foot height range counted as standing (m).
const STAND_HEIGHT: (f64, f64) = (0.6, 2.0);
/// Target hopping speed (m/s).
const HOP_SPEED: f64 = 2.0;

/// The hop task.
pub struct Hop {
    torso: usize,
    foot: usize,
    standing: Tolerance,
    hopping: Tolerance,
}

/// `dmc/hopper-hop`.
pub fn hop() -> Result<Dmc<Hop>, EnvError> {
    let model = shared_model(&MODEL, "dmc/hopper", assets::DMC_HOPPER)?;
    let torso = require(&model, "body", "torso", model.body_id("torso"))?;
    let foot = require(&model, "body", "foot", model.body_id("foot"))?;
    let toe = require(&model, "site", "touch_toe", model.site_id("touch_toe"))?;
    let heel = require(&model, "site", "touch_heel", model.site_id("touch_heel"))?;
    let mut ranges = vec![(0.0, 0.0), (-std::f64::consts::PI, std::f64::consts::PI)];
    for joint in &model.spec().joints[3..] {
        let range = joint.limit.as_ref().map_or([0.0, 0.0], |l| l.range);
        ranges.push((range[0], range[1]));
    }
    ranges.extend([(0.0, 0.0); 7]);
    // A random pose may start with the foot inside the ground: log1p of up to ~1e13 N.
    ranges.extend([(0.0, 30.0); 2]);
    let physics = Physics::new(model, CONTROL_TIMESTEP).with_touch_sensors(vec![toe, heel]);
    let layout = vec![ObsField::new("position", 0, 6), ObsField::new("velocity", 6, 7), ObsField::new("touch", 13, 2)];
    let spec = dmc_spec("dmc/hopper-hop", &physics, layout, ranges);
    let task = Hop {
        torso,
        foot,
        standing: Tolerance::binary(STAND_HEIGHT)?,
        hopping: Tolerance::new((HOP_SPEED, f64::INFINITY), HOP_SPEED / 2.0, Sigmoid::Linear, 0.5)?,
    };
    Ok(Dmc::new(spec, physics, task))
}

impl DmcTask for Hop {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let qpos = randomize_limited_and_rotational_joints(physics.model(), rng);
        let qvel = vec![0.0; physics.model().nv()];
        physics.reset_to(&qpos, &qvel);
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        obs[..6].copy_from_slice(&data.qpos()[1..]);
        obs[6..13].copy_from_slice(data.qvel());
        for (o, t) in obs[13..].iter_mut().zip(physics.touch()) {
            *o = t.ln_1p();
        }
    }

    fn reward(&self, physics: &Physics, _action: &[f64]) -> f64 {
        self.standing.eval(self.height(physics)) * self.hopping.eval(self.forward_velocity(physics))
    }
}

impl Hop {
    /// Height of the torso's centre of mass above the foot's.
    pub fn height(&self, physics: &Physics) -> f64 {
        let data = physics.data();
        data.body_xipos(self.torso)[2] - data.body_xipos(self.foot)[2]
    }

    /// The torso subtree's centre-of-mass velocity along x (the `torso_subtreelinvel` sensor).
    pub fn forward_velocity(&self, physics: &Physics) -> f64 {
        physics.data().subtree_linvel(physics.model(), self.torso)[0]
    }
}
