//! DMC `cheetah-run` (`dm_control/suite/cheetah.py`): a planar cheetah (rootx, rootz, rooty and
//! six leg hinges) running on the ground. Euler, h = 0.01 s, one physics step per agent step,
//! soft ground contacts with μ = 1 (pyramidal), and body geoms that may collide with each other.
//!
//! - Observation (17): `position = qpos[1:]` (8), `velocity = qvel` (9).
//! - Reward: `tol(v_x, (10, ∞), margin 10, linear, 0)` = clamp(v_x/10, 0, 1), with `v_x` the torso
//!   subtree's centre-of-mass velocity (`subtreelinvel` sensor) after the step.
//! - Reset: every limited joint ~ U(range) (rootx, rootz, rooty stay 0), then 200 physics steps
//!   with zero control so the cheetah lands, then time = 0.

use std::sync::{Arc, OnceLock};

use rand::Rng;

use super::rewards::{Sigmoid, Tolerance};
use super::{dmc_spec, require, shared_model, Dmc, DmcTask, Physics};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::{assets, Model, SimError};
use crate::spec::ObsField;

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Seconds per agent step.
const CONTROL_TIMESTEP: f64 = 0.01;
/// Physics steps with zero control after the random pose, before the episode starts.
const SETTLE_STEPS: usize = 200;
/// Target running speed (m/s).
const RUN_SPEED: f64 = 10.0;

/// The run task.
pub struct Run {
    torso: usize,
    speed: Tolerance,
}

/// `dmc/cheetah-run`.
pub fn run() -> Result<Dmc<Run>, EnvError> {
    let model = shared_model(&MODEL, "dmc/cheetah", assets::DMC_CHEETAH)?;
    let torso = require(&model, "body", "torso", model.body_id("torso"))?;
    let physics = Physics::new(model, CONTROL_TIMESTEP);
    let layout = vec![ObsField::new("position", 0, 8), ObsField::new("velocity", 8, 9)];
    let spec = dmc_spec("dmc/cheetah-run", &physics, layout, reset_obs_ranges(physics.model()));
    let task = Run { torso, speed: Tolerance::new((RUN_SPEED, f64::INFINITY), RUN_SPEED, Sigmoid::Linear, 0.0)? };
    Ok(Dmc::new(spec, physics, task))
}

/// Documented ranges of the reset observation: after 2 s of settling the cheetah rests on the
/// ground (rootz within 0.7 m below its initial height, a few decimetres above), possibly turned
/// over (rooty within ±4 rad), its joints inside their ranges up to the soft limits' give
/// (0.2 rad), and still moving by at most a few m/s or rad/s (±20 allowed).
fn reset_obs_ranges(model: &Model) -> Vec<(f64, f64)> {
    let mut ranges = vec![(-0.7, 0.5), (-4.0, 4.0)];
    for joint in &model.spec().joints[3..] {
        let range = joint.limit.as_ref().map_or([-4.0, 4.0], |l| l.range);
        ranges.push((range[0] - 0.2, range[1] + 0.2));
    }
    ranges.extend([(-20.0, 20.0); 9]);
    ranges
}

impl DmcTask for Run {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let mut qpos = physics.model().qpos0().to_vec();
        for (j, joint) in physics.model().spec().joints.iter().enumerate() {
            if let Some(limit) = &joint.limit {
                qpos[physics.model().joint_qpos_adr(j)] = rng.random_range(limit.range[0]..limit.range[1]);
            }
        }
        let qvel = vec![0.0; physics.model().nv()];
        physics.reset_to(&qpos, &qvel);
        let zero = vec![0.0; physics.model().nu()];
        for _ in 0..SETTLE_STEPS {
            if physics.divergence().is_some() {
                return;
            }
            physics.advance(&zero);
        }
        physics.data.set_time(0.0);
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        obs[..8].copy_from_slice(&data.qpos()[1..]);
        obs[8..].copy_from_slice(data.qvel());
    }

    fn reward(&self, physics: &Physics, _action: &[f64]) -> f64 {
        self.speed.eval(self.forward_velocity(physics))
    }
}

impl Run {
    /// The torso subtree's centre-of-mass velocity along x (the `torso_subtreelinvel` sensor).
    pub fn forward_velocity(&self, physics: &Physics) -> f64 {
        physics.data().subtree_linvel(physics.model(), self.torso)[0]
    }
}
