//! Gymnasium `Ant-v5` (`gymnasium/envs/mujoco/ant_v5.py`): a four-legged body on a free joint,
//! RK4 with h = 0.01 s and 5 physics steps per agent step (dt = 0.05 s), sphere and capsule
//! ground contacts with margins, terminated when unhealthy.
//!
//! - Observation (105): `qpos[2:]` (13), `qvel` (14), `clip(cfrc_ext[1:], −1, 1)` (13 bodies × 6).
//! - Reward: `(x′ − x)/dt + 1·healthy − 0.5·Σa² − 5e-4·Σ clip(cfrc_ext, ±1)²`, summed as
//!   `(forward + healthy) − (ctrl + contact)`, with x the torso's `xpos` as MuJoCo leaves it after
//!   a step: the last evaluation, RK4's 4th stage (design notes §2.11, "last evaluation" rule);
//!   `cfrc_ext` likewise. `info`: `x_position`, `y_position` (`qpos`), `distance_from_origin`,
//!   `x_velocity`, `y_velocity`, `reward_forward`, `reward_ctrl`, `reward_contact`, `reward_survive`.
//! - Healthy: every entry of `(qpos, qvel)` finite and `0.2 ≤ qpos[2] ≤ 1.0` (inclusive).
//! - Reset: `qpos = qpos0 + U(−0.1, 0.1)` on all 15 entries (the quaternion is not renormalized),
//!   `qvel = 0.1·N(0, 1)`.

use std::sync::{Arc, OnceLock};

use super::{sum_of_squares, GymMujoco, GymTask, ResetNoise, EPISODE_STEPS};
use crate::env::TaskStep;
use crate::error::EnvError;
use crate::sim::{assets, Model, SimError};
use crate::spec::{EnvSpec, ObsField};
use crate::tasks::dmc::{require, shared_model, Physics};

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Physics steps per agent step.
const FRAME_SKIP: u32 = 5;
/// Weight of the control cost.
const CTRL_COST_WEIGHT: f64 = 0.5;
/// Weight of the contact cost.
const CONTACT_COST_WEIGHT: f64 = 5e-4;
/// Contact wrenches are clipped to ±this, in the observation and the cost.
const CONTACT_FORCE_CLIP: f64 = 1.0;
/// Reward per healthy step.
const HEALTHY_REWARD: f64 = 1.0;
/// Healthy torso heights `qpos[2]` (inclusive).
const HEALTHY_Z: (f64, f64) = (0.2, 1.0);
/// Reset noise scale.
const RESET_NOISE: f64 = 0.1;

/// The Ant task.
pub struct Ant {
    torso: usize,
    dt: f64,
    initial_xy: [f64; 2],
}

/// `gym/Ant-v5`.
pub fn v5() -> Result<GymMujoco<Ant>, EnvError> {
    let model = shared_model(&MODEL, "gym/ant", assets::GYM_ANT)?;
    let torso = require(&model, "body", "torso", model.body_id("torso"))?;
    let dt = model.timestep() * f64::from(FRAME_SKIP);
    let (nq, nv, nbody, act_dim) = (model.nq(), model.nv(), model.spec().bodies.len(), model.nu());
    let qpos0 = model.qpos0().to_vec();
    let physics = Physics::new(model, dt);
    let n_wrench = 6 * (nbody - 1);
    // Reset: qpos within ±0.1 of qpos0 (z 0.75, quaternion (1, 0, 0, 0), hinges 0); velocities
    // 0.1·N, bounded by 10σ in practice; clipped wrenches within ±1.
    let mut reset_obs_range: Vec<(f64, f64)> = qpos0[2..].iter().map(|&q| (q - RESET_NOISE, q + RESET_NOISE)).collect();
    reset_obs_range.extend(vec![(-10.0 * RESET_NOISE, 10.0 * RESET_NOISE); nv]);
    reset_obs_range.extend(vec![(-CONTACT_FORCE_CLIP, CONTACT_FORCE_CLIP); n_wrench]);
    let spec = EnvSpec {
        id: "gym/Ant-v5".into(),
        obs_dim: nq - 2 + nv + n_wrench,
        act_dim,
        act_low: vec![-1.0; act_dim],
        act_high: vec![1.0; act_dim],
        obs_layout: vec![
            ObsField::new("qpos[2:]", 0, nq - 2),
            ObsField::new("qvel", nq - 2, nv),
            ObsField::new("clip(cfrc_ext[1:])", nq - 2 + nv, n_wrench),
        ],
        max_episode_steps: EPISODE_STEPS,
        dt,
        physics: crate::sim::ENGINE,
        // Trained ants run at up to about 8 m/s; +1 alive bonus; costs ≤ 4 + 0.04.
        reward_range: (-10.0, 10.0),
        reset_obs_range,
        can_terminate: true,
        random_reset: true,
    };
    Ok(GymMujoco::new(spec, physics, Ant { torso, dt, initial_xy: [qpos0[0], qpos0[1]] }))
}

impl Ant {
    /// Gymnasium's `is_healthy`: a finite state with the torso height `qpos[2]` in [0.2, 1.0].
    pub fn is_healthy(&self, physics: &Physics) -> bool {
        let (qpos, qvel) = (physics.data().qpos(), physics.data().qvel());
        let finite = qpos.iter().chain(qvel).all(|v| v.is_finite());
        finite && HEALTHY_Z.0 <= qpos[2] && qpos[2] <= HEALTHY_Z.1
    }

    /// `5e-4·Σ clip(cfrc_ext, ±1)²` over every body (the world's row is zero).
    pub fn contact_cost(&self, physics: &Physics) -> f64 {
        let data = physics.data();
        let mut sum = 0.0;
        for b in 0..physics.model().spec().bodies.len() {
            for w in data.cfrc_ext(b) {
                let c = w.clamp(-CONTACT_FORCE_CLIP, CONTACT_FORCE_CLIP);
                sum += c * c;
            }
        }
        CONTACT_COST_WEIGHT * sum
    }
}

impl GymTask for Ant {
    fn term_names(&self) -> &'static [&'static str] {
        &[
            "x_position",
            "y_position",
            "distance_from_origin",
            "x_velocity",
            "y_velocity",
            "reward_forward",
            "reward_ctrl",
            "reward_contact",
            "reward_survive",
        ]
    }

    fn reset_noise(&self) -> ResetNoise {
        ResetNoise::UniformNormal { qpos: RESET_NOISE, qvel: RESET_NOISE }
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        let (qpos, qvel) = (data.qpos(), data.qvel());
        let (np, nv) = (qpos.len() - 2, qvel.len());
        obs[..np].copy_from_slice(&qpos[2..]);
        obs[np..np + nv].copy_from_slice(qvel);
        for (b, chunk) in obs[np + nv..].chunks_exact_mut(6).enumerate() {
            for (o, w) in chunk.iter_mut().zip(data.cfrc_ext(b + 1)) {
                *o = w.clamp(-CONTACT_FORCE_CLIP, CONTACT_FORCE_CLIP);
            }
        }
    }

    fn position(&self, physics: &Physics) -> [f64; 2] {
        let xpos = physics.data().evaluated_xpos(self.torso);
        [xpos[0], xpos[1]]
    }

    fn outcome(&self, before: [f64; 2], physics: &Physics, action: &[f64], terms: &mut [f64]) -> TaskStep {
        let after = self.position(physics);
        let x_velocity = (after[0] - before[0]) / self.dt;
        let y_velocity = (after[1] - before[1]) / self.dt;
        let healthy = self.is_healthy(physics);
        let survive = if healthy { HEALTHY_REWARD } else { 0.0 };
        let ctrl_cost = CTRL_COST_WEIGHT * sum_of_squares(action);
        let contact_cost = self.contact_cost(physics);
        let qpos = physics.data().qpos();
        let (dx, dy) = (qpos[0] - self.initial_xy[0], qpos[1] - self.initial_xy[1]);
        terms.copy_from_slice(&[
            qpos[0],
            qpos[1],
            (dx * dx + dy * dy).sqrt(),
            x_velocity,
            y_velocity,
            x_velocity,
            -ctrl_cost,
            -contact_cost,
            survive,
        ]);
        TaskStep { reward: (x_velocity + survive) - (ctrl_cost + contact_cost), terminated: !healthy }
    }
}
