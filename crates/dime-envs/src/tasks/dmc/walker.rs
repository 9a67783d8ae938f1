//! DMC `walker-walk` and `walker-run` (`dm_control/suite/walker.py`): a planar biped (rootz, rootx,
//! rooty, then right and left hip/knee/ankle) on the ground. Euler, h = 0.0025 s, 10 physics
//! steps per agent step (0.025 s), ground contacts with μ = 0.7 (pyramidal).
//!
//! - Observation (24): `orientations` (14) = `(xx, xz)` of the world rotation of bodies 1–7, i.e.
//!   (cos φ, sin φ) of each body's pitch; `height` (1) = torso z; `velocity` (9) = `qvel`.
//! - Reward: `stand = (3·tol(z_torso, (1.2, ∞), margin 0.6) + (1 + zz_torso)/2)/4`;
//!   `move = tol(v_x, (S, ∞), margin S/2, linear, 0.5)` = clamp(v_x/S, 0, 1), v_x the torso
//!   subtree's centre-of-mass velocity; `r = stand·(5·move + 1)/6`, S = 1 (walk) or 8 (run).
//! - Reset: limited joints ~ U(range), rooty ~ U(−π, π), rootx and rootz stay 0; no settling
//!   (the walker starts in the air or partly in the ground and falls).

use std::sync::{Arc, OnceLock};

use super::rewards::{Sigmoid, Tolerance};
use super::{dmc_spec, randomize_limited_and_rotational_joints, require, shared_model, Dmc, DmcTask, Physics};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::{assets, Model, SimError};
use crate::spec::ObsField;

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Seconds per agent step.
const CONTROL_TIMESTEP: f64 = 0.025;
/// Torso height counted as standing (m).
const STAND_HEIGHT: f64 = 1.2;
/// Target speed of walk (m/s).
const WALK_SPEED: f64 = 1.0;
/// Target speed of run (m/s).
const RUN_SPEED: f64 = 8.0;

/// The walk and run tasks.
pub struct Walker {
    torso: usize,
    standing: Tolerance,
    moving: Tolerance,
}

/// `dmc/walker-walk`.
pub fn walk() -> Result<Dmc<Walker>, EnvError> {
    build("dmc/walker-walk", WALK_SPEED)
}

/// `dmc/walker-run`.
pub fn run() -> Result<Dmc<Walker>, EnvError> {
    build("dmc/walker-run", RUN_SPEED)
}

fn build(id: &str, speed: f64) -> Result<Dmc<Walker>, EnvError> {
    let model = shared_model(&MODEL, "dmc/walker", assets::DMC_WALKER)?;
    let torso = require(&model, "body", "torso", model.body_id("torso"))?;
    let physics = Physics::new(model, CONTROL_TIMESTEP);
    let layout =
        vec![ObsField::new("orientations", 0, 14), ObsField::new("height", 14, 1), ObsField::new("velocity", 15, 9)];
    // Orientations are cosines and sines; the torso starts at z = 1.3 (rootz = 0); velocities 0.
    let mut ranges = vec![(-1.0, 1.0); 14];
    ranges.push((1.3, 1.3));
    ranges.extend([(0.0, 0.0); 9]);
    let spec = dmc_spec(id, &physics, layout, ranges);
    let task = Walker {
        torso,
        standing: Tolerance::new((STAND_HEIGHT, f64::INFINITY), STAND_HEIGHT / 2.0, Sigmoid::Gaussian, 0.1)?,
        moving: Tolerance::new((speed, f64::INFINITY), speed / 2.0, Sigmoid::Linear, 0.5)?,
    };
    Ok(Dmc::new(spec, physics, task))
}

impl DmcTask for Walker {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let qpos = randomize_limited_and_rotational_joints(physics.model(), rng);
        let qvel = vec![0.0; physics.model().nv()];
        physics.reset_to(&qpos, &qvel);
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        for b in 1..8 {
            let xmat = data.body_xmat(b);
            obs[2 * (b - 1)] = xmat[0][0];
            obs[2 * (b - 1) + 1] = xmat[0][2];
        }
        obs[14] = data.body_xpos(self.torso)[2];
        obs[15..].copy_from_slice(data.qvel());
    }

    fn reward(&self, physics: &Physics, _action: &[f64]) -> f64 {
        let data = physics.data();
        let standing = self.standing.eval(data.body_xpos(self.torso)[2]);
        let upright = (1.0 + data.body_xmat(self.torso)[2][2]) / 2.0;
        let stand_reward = (3.0 * standing + upright) / 4.0;
        let move_reward = self.moving.eval(self.forward_velocity(physics));
        stand_reward * (5.0 * move_reward + 1.0) / 6.0
    }
}

impl Walker {
    /// The torso subtree's centre-of-mass velocity along x (the `torso_subtreelinvel` sensor).
    pub fn forward_velocity(&self, physics: &Physics) -> f64 {
        physics.data().subtree_linvel(physics.model(), self.torso)[0]
    }
}
