//! DMC `point_mass-easy` and `point_mass-hard` (`dm_control/suite/point_mass.py`): drive a 0.3 kg
//! mass on two damped, limited slides (±0.29 m) to the origin. The two motors (gear 0.1) act
//! through fixed tendons t₁ = dir₁·(x, y) and t₂ = dir₂·(x, y). Euler with implicit damping,
//! h = 0.02 s, contacts disabled.
//!
//! - easy: dir₁ = (1, 0), dir₂ = (0, 1) (the compiled model's tendon coefficients).
//! - hard: at every reset dir₁, dir₂ = normalize(N(0, I₂)), dir₂ redrawn while |dir₁·dir₂| > 0.9,
//!   so the generalized force is `0.1·(u₁·dir₁ + u₂·dir₂)`. dm_control writes them into
//!   `model.wrap_prm`; here each env owns a copy of the model with these tendon coefficients, and the
//!   directions are task parameters (saved in snapshots).
//! - Observation (4): `position = q`, `velocity = q̇`.
//! - Reward: `near · (4 + mean_i tol(u_i, margin 1, quadratic, 0))/5` with
//!   `near = tol(‖target − mass‖, (0, s), margin s)`, gaussian, s = the target's radius (0.015).
//! - Reset: x, y ~ U(−0.29, 0.29), q̇ = 0 (hard: then the directions).

use std::sync::{Arc, OnceLock};

use rand::Rng;
use rand_distr::StandardNormal;

use super::rewards::{Sigmoid, Tolerance};
use super::{dmc_spec, randomize_limited_and_rotational_joints, require, shared_model, Dmc, DmcTask, Physics};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::sim::spatial::{norm3, sub3};
use crate::sim::{assets, Model, SimError, TransmissionSpec};
use crate::spec::ObsField;

static MODEL: OnceLock<Result<Arc<Model>, SimError>> = OnceLock::new();

/// Seconds per agent step.
const CONTROL_TIMESTEP: f64 = 0.02;
/// dm_control redraws dir₂ while `|dir₁·dir₂|` exceeds this.
pub const MAX_DIRECTION_COSINE: f64 = 0.9;

/// What easy and hard share: the geoms of the reward and its two factors.
struct Shared {
    mass: usize,
    target: usize,
    near_target: Tolerance,
    small_control: Tolerance,
}

impl Shared {
    fn observe(physics: &Physics, obs: &mut [f64]) {
        let data = physics.data();
        obs[..2].copy_from_slice(data.qpos());
        obs[2..].copy_from_slice(data.qvel());
    }

    fn reward(&self, physics: &Physics, action: &[f64]) -> f64 {
        let (data, model) = (physics.data(), physics.model());
        let distance = norm3(sub3(data.geom_xpos(model, self.target), data.geom_xpos(model, self.mass)));
        let near = self.near_target.eval(distance);
        let control = action.iter().map(|&u| self.small_control.eval(u)).sum::<f64>() / action.len() as f64;
        near * ((control + 4.0) / 5.0)
    }
}

/// The easy task (identity tendon directions).
pub struct Easy {
    shared: Shared,
}

/// The hard task: tendon directions drawn at every reset.
pub struct Hard {
    shared: Shared,
    /// The compiled model (identity directions), from which each episode's model is derived.
    base: Arc<Model>,
    /// `[dir₁, dir₂]`, the tendon coefficients of the model in the env's physics.
    directions: [[f64; 2]; 2],
}

impl Hard {
    /// The current tendon directions `[dir₁, dir₂]` (dm_control's `wrap_prm` as
    /// `[[dir1_x, dir1_y], [dir2_x, dir2_y]]`).
    pub fn directions(&self) -> [[f64; 2]; 2] {
        self.directions
    }

    /// Give `physics` a model with tendon coefficients `directions`, keeping its state.
    fn apply_directions(&mut self, physics: &mut Physics, directions: [[f64; 2]; 2]) -> Result<(), EnvError> {
        if directions == self.directions {
            return Ok(());
        }
        if let Some(bad) = directions.iter().flatten().find(|x| !x.is_finite()) {
            return Err(EnvError::InvalidConfig(format!("point_mass-hard tendon direction {bad} is not finite")));
        }
        let mut spec = self.base.spec().clone();
        for (actuator, dir) in spec.actuators.iter_mut().zip(directions) {
            // `hard()` checked that each tendon is [(root_x, ·), (root_y, ·)].
            if let TransmissionSpec::FixedTendon(terms) = &mut actuator.transmission {
                for (term, coefficient) in terms.iter_mut().zip(dir) {
                    term.1 = coefficient;
                }
            }
        }
        let model = Arc::new(Model::new(spec)?);
        let (qpos, qvel) = (physics.data().qpos().to_vec(), physics.data().qvel().to_vec());
        let mut rebuilt = Physics::new(model, CONTROL_TIMESTEP);
        rebuilt.set_state(&qpos, &qvel)?;
        *physics = rebuilt;
        self.directions = directions;
        Ok(())
    }
}

impl Dmc<Hard> {
    /// Set the tendon directions `[dir₁, dir₂]` (what dm_control writes into `wrap_prm` at reset;
    /// golden replays set the recorded ones), keeping the physical state. Any finite coefficients
    /// are accepted, as MuJoCo does; non-finite ones are an error and change nothing.
    pub fn set_directions(&mut self, directions: [[f64; 2]; 2]) -> Result<(), EnvError> {
        self.task.apply_directions(&mut self.physics, directions)
    }
}

fn build_shared(id: &str) -> Result<(Arc<Model>, Physics, crate::spec::EnvSpec, Shared), EnvError> {
    let model = shared_model(&MODEL, "dmc/point_mass", assets::DMC_POINT_MASS)?;
    let mass = require(&model, "geom", "pointmass", model.geom_id("pointmass"))?;
    let target = require(&model, "geom", "target", model.geom_id("target"))?;
    let target_size = model.spec().geoms[target].size[0];
    let limits: Vec<(f64, f64)> =
        model.spec().joints.iter().map(|j| j.limit.as_ref().map_or((0.0, 0.0), |l| (l.range[0], l.range[1]))).collect();
    let physics = Physics::new(model.clone(), CONTROL_TIMESTEP);
    let layout = vec![ObsField::new("position", 0, 2), ObsField::new("velocity", 2, 2)];
    let mut ranges = limits;
    ranges.extend([(0.0, 0.0); 2]);
    let spec = dmc_spec(id, &physics, layout, ranges);
    let shared = Shared {
        mass,
        target,
        near_target: Tolerance::new((0.0, target_size), target_size, Sigmoid::Gaussian, 0.1)?,
        small_control: Tolerance::new((0.0, 0.0), 1.0, Sigmoid::Quadratic, 0.0)?,
    };
    Ok((model, physics, spec, shared))
}

/// `dmc/point_mass-easy`.
pub fn easy() -> Result<Dmc<Easy>, EnvError> {
    let (_, physics, spec, shared) = build_shared("dmc/point_mass-easy")?;
    Ok(Dmc::new(spec, physics, Easy { shared }))
}

/// `dmc/point_mass-hard`. Until the first reset the directions are the easy ones.
pub fn hard() -> Result<Dmc<Hard>, EnvError> {
    let (model, physics, spec, shared) = build_shared("dmc/point_mass-hard")?;
    // The directions are written into the two tendons' (root_x, root_y) coefficients, as
    // dm_control's `wrap_prm[[0, 1]]` and `wrap_prm[[2, 3]]`: check the model has that layout.
    let x = require(&model, "joint", "root_x", model.joint_id("root_x"))?;
    let y = require(&model, "joint", "root_y", model.joint_id("root_y"))?;
    let mut directions = [[0.0; 2]; 2];
    let actuators = &model.spec().actuators;
    if actuators.len() != 2 {
        return Err(EnvError::InvalidConfig(format!(
            "point_mass-hard needs 2 actuators, the model has {}",
            actuators.len()
        )));
    }
    for (actuator, dir) in actuators.iter().zip(&mut directions) {
        match &actuator.transmission {
            TransmissionSpec::FixedTendon(terms) if terms.len() == 2 && terms[0].0 == x && terms[1].0 == y => {
                *dir = [terms[0].1, terms[1].1];
            }
            _ => {
                return Err(EnvError::InvalidConfig(format!(
                    "point_mass-hard: actuator `{}` must drive a fixed tendon on (root_x, root_y)",
                    actuator.name
                )))
            }
        }
    }
    Ok(Dmc::new(spec, physics, Hard { shared, base: model, directions }))
}

impl DmcTask for Easy {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        let qpos = randomize_limited_and_rotational_joints(physics.model(), rng);
        physics.reset_to(&qpos, &[0.0, 0.0]);
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        Shared::observe(physics, obs);
    }

    fn reward(&self, physics: &Physics, action: &[f64]) -> f64 {
        self.shared.reward(physics, action)
    }
}

/// A unit vector in a direction drawn from N(0, I₂) (`normalize(randn(2))`).
fn random_direction(rng: &mut EnvRng) -> [f64; 2] {
    loop {
        let v: [f64; 2] = [rng.sample(StandardNormal), rng.sample(StandardNormal)];
        let norm = v[0].hypot(v[1]);
        // A zero draw has probability 0; redraw rather than divide by it.
        if norm > 0.0 {
            return [v[0] / norm, v[1] / norm];
        }
    }
}

/// dm_control's draw: dir₁, then dir₂ until `|dir₁·dir₂| ≤ 0.9`.
fn random_directions(rng: &mut EnvRng) -> [[f64; 2]; 2] {
    let first = random_direction(rng);
    loop {
        let second = random_direction(rng);
        if (first[0] * second[0] + first[1] * second[1]).abs() <= MAX_DIRECTION_COSINE {
            return [first, second];
        }
    }
}

impl DmcTask for Hard {
    fn initialize_episode(&mut self, physics: &mut Physics, rng: &mut EnvRng) {
        // dm_control's order: joints first, then the directions.
        let qpos = randomize_limited_and_rotational_joints(physics.model(), rng);
        let directions = random_directions(rng);
        if let Err(e) = self.apply_directions(physics, directions) {
            // Unreachable for finite unit vectors; keep the previous (consistent) directions.
            tracing::error!("point_mass-hard: could not set the drawn tendon directions: {e}");
        }
        physics.reset_to(&qpos, &[0.0, 0.0]);
    }

    fn observe(&self, physics: &Physics, obs: &mut [f64]) {
        Shared::observe(physics, obs);
    }

    fn reward(&self, physics: &Physics, action: &[f64]) -> f64 {
        self.shared.reward(physics, action)
    }

    /// `[dir1_x, dir1_y, dir2_x, dir2_y]`, dm_control's `wrap_prm` order.
    fn parameters(&self) -> Vec<f64> {
        self.directions.iter().flatten().copied().collect()
    }

    fn restore_parameters(&mut self, physics: &mut Physics, parameters: &[f64]) -> Result<(), EnvError> {
        let [a, b, c, d] = parameters else {
            return Err(EnvError::InvalidConfig(format!(
                "point_mass-hard needs 4 direction parameters, got {}",
                parameters.len()
            )));
        };
        self.apply_directions(physics, [[*a, *b], [*c, *d]])
    }
}
