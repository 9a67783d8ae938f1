//! Gymnasium `HalfCheetah-v5` (`gymnasium/envs/mujoco/half_cheetah_v5.py`): the planar cheetah of
//! `half_cheetah.xml`, Euler with h = 0.01 s and 5 physics steps per agent step (dt = 0.05 s),
//! ground contacts only (μ = 0.4, solimp (0, 0.8, 0.01)), never terminating.
//!
//! - Observation (17): `qpos[1:]` (8), `qvel` (9).
//! - Reward: `(x′ − x)/dt − 0.1·Σa²`, x = `qpos[0]`; `info`: `x_position` (x′), `x_velocity`,
//!   `reward_forward`, `reward_ctrl` (negative).
//! - Reset: `qpos = qpos0 + U(−0.1, 0.1)`, `qvel = 0.1·N(0, 1)`.
//!
//! `HalfCheetah-v4` (`half_cheetah_v4.py`) is the same task; only its `info` names the forward
//! reward `reward_run`.

use std::sync::{Arc, OnceLock};

use super::{sum_of_squares, GymMujoco, GymTask, ResetNoise, EPISODE_STEPS};
use crate::env::TaskStep;
use crate::error::EnvError;
use crate::sim::{assets, Model, SimError};
use crate::spec::{EnvSpec, ObsField};
use crate::tasks::dmc::{shared_model, Physics};

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Physics steps per agent step.
const FRAME_SKIP: u32 = 5;
/// Weight of the control cost.
const CTRL_COST_WEIGHT: f64 = 0.1;
/// Weight of the forward reward.
const FORWARD_REWARD_WEIGHT: f64 = 1.0;
/// Reset noise scale.
const RESET_NOISE: f64 = 0.1;

/// The HalfCheetah task.
pub struct HalfCheetah {
    dt: f64,
    v4: bool,
}

/// `gym/HalfCheetah-v5`.
pub fn v5() -> Result<GymMujoco<HalfCheetah>, EnvError> {
    build(false)
}

/// `gym/HalfCheetah-v4`.
pub fn v4() -> Result<GymMujoco<HalfCheetah>, EnvError> {
    build(true)
}

fn build(v4: bool) -> Result<GymMujoco<HalfCheetah>, EnvError> {
    let model = shared_model(&MODEL, "gym/halfcheetah", assets::GYM_HALFCHEETAH)?;
    // Gymnasium's dt = opt.timestep · frame_skip, in that order.
    let dt = model.timestep() * f64::from(FRAME_SKIP);
    let physics = Physics::new(model, dt);
    let act_dim = physics.model().nu();
    // Reset: positions within ±0.1 of qpos0 (= 0); velocities 0.1·N, bounded by 10 σ in practice.
    let mut reset_obs_range = vec![(-RESET_NOISE, RESET_NOISE); 8];
    reset_obs_range.extend([(-10.0 * RESET_NOISE, 10.0 * RESET_NOISE); 9]);
    let spec = EnvSpec {
        id: if v4 { "gym/HalfCheetah-v4" } else { "gym/HalfCheetah-v5" }.into(),
        obs_dim: 17,
        act_dim,
        act_low: vec![-1.0; act_dim],
        act_high: vec![1.0; act_dim],
        obs_layout: vec![ObsField::new("qpos[1:]", 0, 8), ObsField::new("qvel", 8, 9)],
        max_episode_steps: EPISODE_STEPS,
        dt,
        physics: crate::sim::ENGINE,
        // Forward speeds stay within about ±15 m/s even for trained agents; the control cost is ≤ 0.6.
        reward_range: (-20.0, 20.0),
        reset_obs_range,
        can_terminate: false,
        random_reset: true,
    };
    Ok(GymMujoco::new(spec, physics, HalfCheetah { dt, v4 }))
}

impl GymTask for HalfCheetah {
    fn term_names(&self) -> &'static [&'static str] {
        if self.v4 {
            &["x_position", "x_velocity", "reward_run", "reward_ctrl"]
        } else {
            &["x_position", "x_velocity", "reward_forward", "reward_ctrl"]
        }
    }

    fn reset_noise(&self) -> ResetNoise {
        ResetNoise::UniformNormal { qpos: RESET_NOISE, qvel: RESET_NOISE }
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        obs[..8].copy_from_slice(&data.qpos()[1..]);
        obs[8..].copy_from_slice(data.qvel());
    }

    fn outcome(&self, before: [f64; 2], physics: &Physics, action: &[f64], terms: &mut [f64]) -> TaskStep {
        let x_before = before[0];
        let x_after = physics.data().qpos()[0];
        let x_velocity = (x_after - x_before) / self.dt;
        let forward = FORWARD_REWARD_WEIGHT * x_velocity;
        let ctrl_cost = CTRL_COST_WEIGHT * sum_of_squares(action);
        terms.copy_from_slice(&[x_after, x_velocity, forward, -ctrl_cost]);
        TaskStep { reward: forward - ctrl_cost, terminated: false }
    }
}
