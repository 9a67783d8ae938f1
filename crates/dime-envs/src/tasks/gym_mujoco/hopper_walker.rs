//! Gymnasium `Hopper-v5` and `Walker2d-v5` (`gymnasium/envs/mujoco/{hopper,walker2d}_v5.py`):
//! planar one- and two-legged walkers (rootx, rootz, rooty and 3 or 6 leg hinges), RK4 with
//! h = 0.002 s and 4 physics steps per agent step (dt = 0.008 s), terminated when unhealthy.
//!
//! - Observation: `qpos[1:]`, then `clip(qvel, −10, 10)`.
//! - Reward: `(x′ − x)/dt + 1·healthy − 1e-3·Σa²` (summed as `(forward + healthy) − ctrl`);
//!   `info`: `x_position`, `z_distance_from_origin` (`qpos[1] − qpos0[1]`), `x_velocity`,
//!   `reward_forward`, `reward_ctrl` (negative), `reward_survive`.
//! - Healthy (strict inequalities), with z = `qpos[1]`, angle = `qpos[2]`:
//!   Hopper: z > 0.7, |angle| < 0.2, every entry of `(qpos[2:], qvel)` inside (−100, 100);
//!   Walker2d: 0.8 < z < 2.0, −1 < angle < 1.
//! - Reset: `qpos = qpos0 + U(−5e-3, 5e-3)`, `qvel = U(−5e-3, 5e-3)`.
//!
//! The `-v4` ids (`gymnasium/envs/mujoco/{hopper,walker2d}_v4.py`) share all of this except: the
//! alive bonus is paid on every step, the terminating one included
//! (`float(healthy or terminate_when_unhealthy)`); `info` holds only `x_position` and `x_velocity`;
//! and Walker2d-v4 uses `walker2d.xml`, whose right foot has μ = 0.9 (v5: 1.9 on both feet).

use std::sync::{Arc, OnceLock};

use super::{sum_of_squares, GymMujoco, GymTask, ResetNoise, EPISODE_STEPS};
use crate::env::TaskStep;
use crate::error::EnvError;
use crate::sim::{assets, Model, SimError};
use crate::spec::{EnvSpec, ObsField};
use crate::tasks::dmc::{shared_model, Physics};

static HOPPER: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();
static WALKER2D: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();
static WALKER2D_V4: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();
/// Walker2d-v4's right-foot friction (`walker2d.xml`).
const WALKER2D_V4_RIGHT_FOOT_FRICTION: f64 = 0.9;

/// Physics steps per agent step.
const FRAME_SKIP: u32 = 4;
/// Weight of the control cost.
const CTRL_COST_WEIGHT: f64 = 1e-3;
/// Reward per healthy step.
const HEALTHY_REWARD: f64 = 1.0;
/// Half-width of the uniform reset noise.
const RESET_NOISE: f64 = 5e-3;
/// Velocity observations are clipped to ±this.
const VELOCITY_CLIP: f64 = 10.0;

/// Which walker, with its health rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One leg, `Hopper-v5`.
    Hopper,
    /// Two legs, `Walker2d-v5`.
    Walker2d,
}

/// Gymnasium task version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `-v4`: alive bonus always paid, `info` with positions and velocity only.
    V4,
    /// `-v5`.
    V5,
}

/// The Hopper / Walker2d task.
pub struct Legged {
    kind: Kind,
    version: Version,
    dt: f64,
    initial_z: f64,
}

/// `gym/Hopper-v5`.
pub fn hopper_v5() -> Result<GymMujoco<Legged>, EnvError> {
    build(Kind::Hopper, Version::V5, shared_model(&HOPPER, "gym/hopper", assets::GYM_HOPPER)?)
}

/// `gym/Walker2d-v5`.
pub fn walker2d_v5() -> Result<GymMujoco<Legged>, EnvError> {
    build(Kind::Walker2d, Version::V5, shared_model(&WALKER2D, "gym/walker2d", assets::GYM_WALKER2D)?)
}

/// `gym/Hopper-v4` (same model as v5).
pub fn hopper_v4() -> Result<GymMujoco<Legged>, EnvError> {
    build(Kind::Hopper, Version::V4, shared_model(&HOPPER, "gym/hopper", assets::GYM_HOPPER)?)
}

/// `gym/Walker2d-v4`: the v5 model with the right foot's friction set back to 0.9.
pub fn walker2d_v4() -> Result<GymMujoco<Legged>, EnvError> {
    let model = WALKER2D_V4
        .get_or_init(|| {
            let json = walker2d_v4_json()
                .map_err(|message| SimError::ModelFormat { model: "gym/walker2d-v4".into(), message })?;
            Model::from_mujoco_json("gym/walker2d-v4", &json).map(Arc::new)
        })
        .clone()
        .map_err(EnvError::Sim)?;
    build(Kind::Walker2d, Version::V4, model)
}

/// The Walker2d-v5 dump with `foot_geom`'s sliding friction replaced.
fn walker2d_v4_json() -> Result<String, String> {
    let mut value: serde_json::Value = serde_json::from_str(assets::GYM_WALKER2D).map_err(|e| e.to_string())?;
    let geoms = value["geoms"].as_array_mut().ok_or("no geom list")?;
    let foot = geoms.iter_mut().find(|g| g["name"] == "foot_geom").ok_or("no geom `foot_geom`")?;
    foot["friction"][0] = WALKER2D_V4_RIGHT_FOOT_FRICTION.into();
    Ok(value.to_string())
}

fn build(kind: Kind, version: Version, model: Arc<Model>) -> Result<GymMujoco<Legged>, EnvError> {
    // Gymnasium's dt = opt.timestep · frame_skip, in that order.
    let dt = model.timestep() * f64::from(FRAME_SKIP);
    let (nq, nv, act_dim) = (model.nq(), model.nv(), model.nu());
    let initial_z = model.qpos0()[1];
    // Reset: every coordinate within ±5e-3 of qpos0 (velocities of 0).
    let mut reset_obs_range: Vec<(f64, f64)> =
        model.qpos0()[1..].iter().map(|&q| (q - RESET_NOISE, q + RESET_NOISE)).collect();
    reset_obs_range.extend(vec![(-RESET_NOISE, RESET_NOISE); nv]);
    let physics = Physics::new(model, dt);
    let id = match (kind, version) {
        (Kind::Hopper, Version::V5) => "gym/Hopper-v5",
        (Kind::Walker2d, Version::V5) => "gym/Walker2d-v5",
        (Kind::Hopper, Version::V4) => "gym/Hopper-v4",
        (Kind::Walker2d, Version::V4) => "gym/Walker2d-v4",
    };
    let spec = EnvSpec {
        id: id.into(),
        obs_dim: nq - 1 + nv,
        act_dim,
        act_low: vec![-1.0; act_dim],
        act_high: vec![1.0; act_dim],
        obs_layout: vec![ObsField::new("qpos[1:]", 0, nq - 1), ObsField::new("clip(qvel)", nq - 1, nv)],
        max_episode_steps: EPISODE_STEPS,
        dt,
        physics: crate::sim::ENGINE,
        // Forward speeds of trained walkers stay below about 8 m/s; +1 alive bonus, control cost ≤ 6e-3.
        reward_range: (-10.0, 10.0),
        reset_obs_range,
        can_terminate: true,
        random_reset: true,
    };
    Ok(GymMujoco::new(spec, physics, Legged { kind, version, dt, initial_z }))
}

impl Legged {
    /// Gymnasium's `is_healthy` for the current state.
    pub fn is_healthy(&self, physics: &Physics) -> bool {
        let (qpos, qvel) = (physics.data().qpos(), physics.data().qvel());
        let (z, angle) = (qpos[1], qpos[2]);
        match self.kind {
            Kind::Hopper => {
                let state_ok = qpos[2..].iter().chain(qvel).all(|&s| -100.0 < s && s < 100.0);
                state_ok && 0.7 < z && -0.2 < angle && angle < 0.2
            }
            Kind::Walker2d => 0.8 < z && z < 2.0 && -1.0 < angle && angle < 1.0,
        }
    }
}

impl GymTask for Legged {
    fn term_names(&self) -> &'static [&'static str] {
        match self.version {
            Version::V5 => &[
                "x_position",
                "z_distance_from_origin",
                "x_velocity",
                "reward_forward",
                "reward_ctrl",
                "reward_survive",
            ],
            Version::V4 => &["x_position", "x_velocity"],
        }
    }

    fn reset_noise(&self) -> ResetNoise {
        ResetNoise::Uniform { scale: RESET_NOISE }
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let (qpos, qvel) = (physics.data().qpos(), physics.data().qvel());
        let n = qpos.len() - 1;
        obs[..n].copy_from_slice(&qpos[1..]);
        for (o, v) in obs[n..].iter_mut().zip(qvel) {
            *o = v.clamp(-VELOCITY_CLIP, VELOCITY_CLIP);
        }
    }

    fn outcome(&self, before: [f64; 2], physics: &Physics, action: &[f64], terms: &mut [f64]) -> TaskStep {
        let x_before = before[0];
        let qpos = physics.data().qpos();
        let x_velocity = (qpos[0] - x_before) / self.dt;
        let healthy = self.is_healthy(physics);
        // v4 pays the bonus when healthy or when unhealthy states terminate (always, here).
        let survive = if healthy || self.version == Version::V4 { HEALTHY_REWARD } else { 0.0 };
        let ctrl_cost = CTRL_COST_WEIGHT * sum_of_squares(action);
        match self.version {
            Version::V5 => {
                terms.copy_from_slice(&[qpos[0], qpos[1] - self.initial_z, x_velocity, x_velocity, -ctrl_cost, survive])
            }
            Version::V4 => terms.copy_from_slice(&[qpos[0], x_velocity]),
        }
        TaskStep { reward: (x_velocity + survive) - ctrl_cost, terminated: !healthy }
    }
}
