//! DMC `reacher-easy` and `reacher-hard` (`dm_control/suite/reacher.py`): a two-link planar arm
//! (shoulder unlimited, wrist ±160°) must touch a randomly placed target with its fingertip.
//! Euler with implicit damping, h = 0.02 s, contacts disabled.
//!
//! - Observation (6): `position = q`, `to_target = target_xy − finger_xy`, `velocity = q̇`.
//! - Reward: 1 iff `‖target − finger‖ ≤ target size + finger size` (0.06 easy, 0.025 hard), else 0.
//! - Reset: shoulder ~ U(−π, π), wrist ~ U(range), q̇ = 0; then α ~ U(0, 2π), ρ ~ U(0.05, 0.20),
//!   target = (ρ sin α, ρ cos α). The target is a task parameter (saved in snapshots), not physics.

use std::f64::consts::PI;
use std::sync::{Arc, OnceLock};

use rand::Rng;

use super::rewards::Tolerance;
use super::{dmc_spec, randomize_limited_and_rotational_joints, require, shared_model, Dmc, DmcTask, Physics};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::{assets, Model, SimError};
use crate::spec::ObsField;

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Seconds per agent step.
const CONTROL_TIMESTEP: f64 = 0.02;
/// Target radius of the easy task (the model's compiled value).
pub const EASY_TARGET_SIZE: f64 = 0.05;
/// Target radius of the hard task.
pub const HARD_TARGET_SIZE: f64 = 0.015;
/// Largest distance of the target from the shoulder axis.
const MAX_TARGET_RADIUS: f64 = 0.20;

/// The reacher task with a given target size.
pub struct Reacher {
    finger: usize,
    target_xy: [f64; 2],
    touching: Tolerance,
}

impl Reacher {
    /// Place the target (golden replays set the recorded one).
    pub fn set_target(&mut self, xy: [f64; 2]) {
        self.target_xy = xy;
    }

    /// The target's position in the plane.
    pub fn target(&self) -> [f64; 2] {
        self.target_xy
    }

    /// Vector from the fingertip to the target in the plane.
    fn finger_to_target(&self, physics: &Physics) -> [f64; 2] {
        let finger = physics.data().geom_xpos(physics.model(), self.finger);
        [self.target_xy[0] - finger[0], self.target_xy[1] - finger[1]]
    }
}

/// `dmc/reacher-easy`.
pub fn easy() -> Result<Dmc<Reacher>, EnvError> {
    build("dmc/reacher-easy", EASY_TARGET_SIZE)
}

/// `dmc/reacher-hard`.
pub fn hard() -> Result<Dmc<Reacher>, EnvError> {
    build("dmc/reacher-hard", HARD_TARGET_SIZE)
}

fn build(id: &str, target_size: f64) -> Result<Dmc<Reacher>, EnvError> {
    let model = shared_model(&MODEL, "dmc/reacher", assets::DMC_REACHER)?;
    let finger = require(&model, "geom", "finger", model.geom_id("finger"))?;
    let finger_size = model.spec().geoms[finger].size[0];
    let arm_reach: f64 = model.spec().bodies.iter().skip(2).map(|b| b.pos[0]).sum();
    let wrist = model.spec().joints[1].limit.as_ref().map_or(PI, |l| l.range[1]);
    let physics = Physics::new(model, CONTROL_TIMESTEP);
    let layout =
        vec![ObsField::new("position", 0, 2), ObsField::new("to_target", 2, 2), ObsField::new("velocity", 4, 2)];
    let reach = MAX_TARGET_RADIUS + arm_reach;
    let ranges = vec![(-PI, PI), (-wrist, wrist), (-reach, reach), (-reach, reach), (0.0, 0.0), (0.0, 0.0)];
    let spec = dmc_spec(id, &physics, layout, ranges);
    let task = Reacher { finger, target_xy: [0.0; 2], touching: Tolerance::binary((0.0, target_size + finger_size))? };
    Ok(Dmc::new(spec, physics, task))
}

impl DmcTask for Reacher {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let qpos = randomize_limited_and_rotational_joints(physics.model(), rng);
        physics.reset_to(&qpos, &[0.0, 0.0]);
        let angle = rng.random_range(0.0..2.0 * PI);
        let radius = rng.random_range(0.05..MAX_TARGET_RADIUS);
        self.target_xy = [radius * angle.sin(), radius * angle.cos()];
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        obs[..2].copy_from_slice(data.qpos());
        obs[2..4].copy_from_slice(&self.finger_to_target(physics));
        obs[4..].copy_from_slice(data.qvel());
    }

    fn reward(&self, physics: &Physics, _action: &[f64]) -> f64 {
        let [dx, dy] = self.finger_to_target(physics);
        self.touching.eval((dx * dx + dy * dy).sqrt())
    }

    fn parameters(&self) -> Vec<f64> {
        self.target_xy.to_vec()
    }

    fn set_parameters(&mut self, parameters: &[f64]) {
        self.target_xy = [parameters[0], parameters[1]];
    }
}
