//! DMC `humanoid-run` (`dm_control/suite/humanoid.py`): a 3-D humanoid on a free joint with 21
//! hinges, Euler, h = 0.005 s, 5 physics steps per agent step (0.025 s), sphere and capsule
//! contacts with the ground and between body parts.
//!
//! - Observation (67), in dm_control's key order: `joint_angles = qpos[7:]` (21), `head_height` =
//!   head z (1), `extremities` (12) = `(xpos[limb] − xpos[torso])·R_torso` for left hand, left
//!   foot, right hand, right foot, `torso_vertical` = torso `xmat` row z (3), `com_velocity` =
//!   torso subtree's centre-of-mass velocity (3), `velocity = qvel` (27).
//! - Reward: `small_control · (standing · upright) · move` with
//!   `standing = tol(head_z, (1.4, ∞), margin 0.35)`, `upright = tol(zz_torso, (0.9, ∞), linear,
//!   margin 1.9, 0)`, `small_control = (4 + mean tol(u, margin 1, quadratic, 0))/5`,
//!   `move = (5·tol(‖v_xy‖, (10, ∞), linear, margin 10, 0) + 1)/6`.
//! - Reset: repeat {limited hinges ~ U(range); root quaternion = normalize(U[0, 1)⁴); root
//!   position qpos0 (0, 0, 1.5)} until the pose has no contact.

use std::sync::{Arc, OnceLock};

use super::rewards::{Sigmoid, Tolerance};
use super::{dmc_spec, randomize_limited_and_rotational_joints, require, shared_model, Dmc, DmcTask, Physics};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::spatial::sub3;
use crate::sim::{assets, Model, SimError};
use crate::spec::ObsField;

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Seconds per agent step.
const CONTROL_TIMESTEP: f64 = 0.025;
/// Head height counted as standing (m).
const STAND_HEIGHT: f64 = 1.4;
/// Target running speed (m/s).
const RUN_SPEED: f64 = 10.0;
/// Reset attempts before giving up on a contact-free pose (dm_control loops without a limit; a
/// random pose 1.5 m up is contact-free almost always).
const MAX_RESET_ATTEMPTS: usize = 10_000;

/// The run task.
pub struct Run {
    torso: usize,
    head: usize,
    /// left hand, left foot, right hand, right foot.
    limbs: [usize; 4],
    standing: Tolerance,
    upright: Tolerance,
    small_control: Tolerance,
    moving: Tolerance,
}

/// `dmc/humanoid-run`.
pub fn run() -> Result<Dmc<Run>, EnvError> {
    let model = shared_model(&MODEL, "dmc/humanoid", assets::DMC_HUMANOID)?;
    let body = |name: &str| require(&model, "body", name, model.body_id(name));
    let (torso, head) = (body("torso")?, body("head")?);
    let limbs = [body("left_hand")?, body("left_foot")?, body("right_hand")?, body("right_foot")?];
    let (nq, nv) = (model.nq(), model.nv());
    let mut ranges: Vec<(f64, f64)> = model.spec().joints[1..]
        .iter()
        .map(|j| j.limit.as_ref().map_or((-std::f64::consts::PI, std::f64::consts::PI), |l| (l.range[0], l.range[1])))
        .collect();
    // Head at most 1.5 m + the torso-to-head distance (< 0.5 m) up; limbs within 2 m of the
    // torso; unit-vector rows; zero velocities.
    ranges.push((0.0, 2.0));
    ranges.extend([(-2.0, 2.0); 12]);
    ranges.extend([(-1.0, 1.0); 3]);
    ranges.extend([(0.0, 0.0); 3]);
    ranges.extend(vec![(0.0, 0.0); nv]);
    let physics = Physics::new(model, CONTROL_TIMESTEP);
    let layout = vec![
        ObsField::new("joint_angles", 0, nq - 7),
        ObsField::new("head_height", nq - 7, 1),
        ObsField::new("extremities", nq - 6, 12),
        ObsField::new("torso_vertical", nq + 6, 3),
        ObsField::new("com_velocity", nq + 9, 3),
        ObsField::new("velocity", nq + 12, nv),
    ];
    let spec = dmc_spec("dmc/humanoid-run", &physics, layout, ranges);
    let task = Run {
        torso,
        head,
        limbs,
        standing: Tolerance::new((STAND_HEIGHT, f64::INFINITY), STAND_HEIGHT / 4.0, Sigmoid::Gaussian, 0.1)?,
        upright: Tolerance::new((0.9, f64::INFINITY), 1.9, Sigmoid::Linear, 0.0)?,
        small_control: Tolerance::new((0.0, 0.0), 1.0, Sigmoid::Quadratic, 0.0)?,
        moving: Tolerance::new((RUN_SPEED, f64::INFINITY), RUN_SPEED, Sigmoid::Linear, 0.0)?,
    };
    Ok(Dmc::new(spec, physics, task))
}

impl DmcTask for Run {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let qvel = vec![0.0; physics.model().nv()];
        for _ in 0..MAX_RESET_ATTEMPTS {
            let qpos = randomize_limited_and_rotational_joints(physics.model(), rng);
            physics.reset_to(&qpos, &qvel);
            if physics.divergence().is_some() || physics.data().contacts().is_empty() {
                return;
            }
        }
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let (data, model) = (physics.data(), physics.model());
        let nq = model.nq();
        obs[..nq - 7].copy_from_slice(&data.qpos()[7..]);
        obs[nq - 7] = data.body_xpos(self.head)[2];
        let (torso_pos, frame) = (data.body_xpos(self.torso), data.body_xmat(self.torso));
        for (k, &limb) in self.limbs.iter().enumerate() {
            let v = sub3(data.body_xpos(limb), torso_pos);
            for j in 0..3 {
                // (xpos[limb] − xpos[torso]) · R: the vector in the torso frame.
                obs[nq - 6 + 3 * k + j] = v[0] * frame[0][j] + v[1] * frame[1][j] + v[2] * frame[2][j];
            }
        }
        obs[nq + 6..nq + 9].copy_from_slice(&frame[2]);
        obs[nq + 9..nq + 12].copy_from_slice(&data.subtree_linvel(model, self.torso));
        obs[nq + 12..].copy_from_slice(data.qvel());
    }

    fn reward(&self, physics: &Physics, action: &[f64]) -> f64 {
        let data = physics.data();
        let standing = self.standing.eval(data.body_xpos(self.head)[2]);
        let upright = self.upright.eval(data.body_xmat(self.torso)[2][2]);
        let stand_reward = standing * upright;
        let control = action.iter().map(|&u| self.small_control.eval(u)).sum::<f64>() / action.len() as f64;
        let small_control = (4.0 + control) / 5.0;
        let v = data.subtree_linvel(physics.model(), self.torso);
        let speed = (v[0] * v[0] + v[1] * v[1]).sqrt();
        let moving = (5.0 * self.moving.eval(speed) + 1.0) / 6.0;
        small_control * stand_reward * moving
    }
}
