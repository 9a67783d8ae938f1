//! Gymnasium `Humanoid-v5` (`gymnasium/envs/mujoco/humanoid_v5.py`): a 3-D humanoid on a free
//! joint with 17 motors (ctrl in ±0.4), RK4 with h = 0.003 s and 5 physics steps per agent step
//! (dt = 0.015 s), terminated when unhealthy. MuJoCo solves this model with PGS limited to 50
//! iterations; the engine solves exactly (design notes §3.9: one step differs by up to ~1e-6).
//!
//! - Observation (348): `qpos[2:]` (22), `qvel` (23), `cinert[1:]` (13 × 10), `cvel[1:]`
//!   (13 × 6), `qfrc_actuator[6:]` (17), `cfrc_ext[1:]` (13 × 6); the com quantities as MuJoCo
//!   leaves them after a step (its last evaluation, RK4's 4th stage).
//! - Reward: `(1.25·v_x + 5·healthy) − (0.1·Σctrl² + min(5e-7·Σ cfrc_ext², 10))`, v_x the
//!   velocity of the mass-weighted mean of the bodies' `xipos` (last evaluation) over the step.
//!   `info`: `x_position`, `y_position`, `distance_from_origin`, `x_velocity`, `y_velocity`,
//!   `reward_survive`, `reward_forward`, `reward_ctrl`, `reward_contact` (Gymnasium's tendon
//!   length and velocity arrays are left out: no effect here).
//! - Healthy: `1 < qpos[2] < 2` (strict). Reset: `qpos, qvel += U(−0.01, 0.01)`.

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
/// Weight of the forward reward.
const FORWARD_REWARD_WEIGHT: f64 = 1.25;
/// Weight of the control cost.
const CTRL_COST_WEIGHT: f64 = 0.1;
/// Weight and cap of the contact cost.
const CONTACT_COST_WEIGHT: f64 = 5e-7;
const CONTACT_COST_MAX: f64 = 10.0;
/// Reward per healthy step.
const HEALTHY_REWARD: f64 = 5.0;
/// Healthy torso heights `qpos[2]` (strict).
const HEALTHY_Z: (f64, f64) = (1.0, 2.0);
/// Half-width of the uniform reset noise.
const RESET_NOISE: f64 = 1e-2;
/// Generalized forces of the free root, left out of `qfrc_actuator` in the observation.
const ROOT_DOFS: usize = 6;

/// The Humanoid task.
pub struct Humanoid {
    dt: f64,
    initial_xy: [f64; 2],
    masses: Vec<f64>,
    total_mass: f64,
}

/// `gym/Humanoid-v5`.
pub fn v5() -> Result<GymMujoco<Humanoid>, EnvError> {
    let model = shared_model(&MODEL, "gym/humanoid", assets::GYM_HUMANOID)?;
    let dt = model.timestep() * f64::from(FRAME_SKIP);
    let (nq, nv, act_dim) = (model.nq(), model.nv(), model.nu());
    let nb = model.spec().bodies.len() - 1;
    let masses: Vec<f64> = model.spec().bodies.iter().map(|b| b.mass).collect();
    let total_mass = masses.iter().sum();
    let qpos0 = model.qpos0().to_vec();
    let [low, high] = model.spec().actuators[0].ctrl_range.unwrap_or([-1.0, 1.0]);
    let physics = Physics::new(model, dt);
    let sizes = [nq - 2, nv, 10 * nb, 6 * nb, nv - ROOT_DOFS, 6 * nb];
    let names = ["qpos[2:]", "qvel", "cinert[1:]", "cvel[1:]", "qfrc_actuator[6:]", "cfrc_ext[1:]"];
    let mut obs_layout = Vec::new();
    let mut offset = 0;
    for (name, len) in names.into_iter().zip(sizes) {
        obs_layout.push(ObsField::new(name, offset, len));
        offset += len;
    }
    // Reset: positions within ±0.01 of qpos0, velocities within ±0.01; com inertias of a
    // standing body (|entries| below 100 kg·m²); body velocities about the com (the root's
    // ±0.01 rad/s about a point up to 2 m away); no actuator force; contact wrenches of the feet
    // resting on the floor (a few hundred N, N·m).
    let mut reset_obs_range: Vec<(f64, f64)> = qpos0[2..].iter().map(|&q| (q - RESET_NOISE, q + RESET_NOISE)).collect();
    reset_obs_range.extend(vec![(-RESET_NOISE, RESET_NOISE); nv]);
    reset_obs_range.extend(vec![(-100.0, 100.0); 10 * nb]);
    reset_obs_range.extend(vec![(-1.0, 1.0); 6 * nb]);
    reset_obs_range.extend(vec![(0.0, 0.0); nv - ROOT_DOFS]);
    reset_obs_range.extend(vec![(-1e4, 1e4); 6 * nb]);
    let spec = EnvSpec {
        id: "gym/Humanoid-v5".into(),
        obs_dim: offset,
        act_dim,
        act_low: vec![low; act_dim],
        act_high: vec![high; act_dim],
        obs_layout,
        max_episode_steps: EPISODE_STEPS,
        dt,
        physics: crate::sim::ENGINE,
        // Trained humanoids move at up to about 8 m/s (1.25·v) plus the alive bonus 5; costs ≤ 10 + 0.3.
        reward_range: (-20.0, 20.0),
        reset_obs_range,
        can_terminate: true,
        random_reset: true,
    };
    let task = Humanoid { dt, initial_xy: [qpos0[0], qpos0[1]], masses, total_mass };
    Ok(GymMujoco::new(spec, physics, task))
}

impl Humanoid {
    /// Gymnasium's `is_healthy`: `1 < qpos[2] < 2`.
    pub fn is_healthy(&self, physics: &Physics) -> bool {
        let z = physics.data().qpos()[2];
        HEALTHY_Z.0 < z && z < HEALTHY_Z.1
    }

    /// `min(5e-7·Σ cfrc_ext², 10)` over every body.
    pub fn contact_cost(&self, physics: &Physics) -> f64 {
        let data = physics.data();
        let sum: f64 = (0..self.masses.len()).flat_map(|b| data.cfrc_ext(b)).map(|w| w * w).sum();
        (CONTACT_COST_WEIGHT * sum).min(CONTACT_COST_MAX)
    }
}

impl GymTask for Humanoid {
    fn term_names(&self) -> &'static [&'static str] {
        &[
            "x_position",
            "y_position",
            "distance_from_origin",
            "x_velocity",
            "y_velocity",
            "reward_survive",
            "reward_forward",
            "reward_ctrl",
            "reward_contact",
        ]
    }

    fn reset_noise(&self) -> ResetNoise {
        ResetNoise::Uniform { scale: RESET_NOISE }
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        let (qpos, qvel) = (data.qpos(), data.qvel());
        let nb = self.masses.len();
        let mut at = 0;
        let mut put = |values: &[f64]| {
            obs[at..at + values.len()].copy_from_slice(values);
            at += values.len();
        };
        put(&qpos[2..]);
        put(qvel);
        for b in 1..nb {
            put(&data.evaluated_cinert(b));
        }
        for b in 1..nb {
            put(&data.evaluated_cvel(b));
        }
        put(&data.qfrc_actuator()[ROOT_DOFS..]);
        for b in 1..nb {
            put(&data.cfrc_ext(b));
        }
    }

    /// The mass-weighted mean of the bodies' centres of mass (last evaluation), x and y.
    fn position(&self, physics: &Physics) -> [f64; 2] {
        let data = physics.data();
        let mut sum = [0.0; 2];
        for (b, m) in self.masses.iter().enumerate() {
            let xipos = data.evaluated_xipos(b);
            sum = [sum[0] + m * xipos[0], sum[1] + m * xipos[1]];
        }
        [sum[0] / self.total_mass, sum[1] / self.total_mass]
    }

    fn outcome(&self, before: [f64; 2], physics: &Physics, action: &[f64], terms: &mut [f64]) -> TaskStep {
        let after = self.position(physics);
        let x_velocity = (after[0] - before[0]) / self.dt;
        let y_velocity = (after[1] - before[1]) / self.dt;
        let healthy = self.is_healthy(physics);
        let survive = if healthy { HEALTHY_REWARD } else { 0.0 };
        let forward = FORWARD_REWARD_WEIGHT * x_velocity;
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
            survive,
            forward,
            -ctrl_cost,
            -contact_cost,
        ]);
        TaskStep { reward: (forward + survive) - (ctrl_cost + contact_cost), terminated: !healthy }
    }
}
