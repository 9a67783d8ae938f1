//! Lock-step comparison of an embedded task with its original (Gymnasium, dm_control).
//!
//! The original is put at the pure-Rust task's state (`set_state` for Gymnasium MuJoCo,
//! `physics.reset_context()` for dm_control, `state` for classic control) and both are stepped
//! with the same actions. "err" is envs.md §3.9's `max(|Δqpos|, |Δqvel| / max(1, max|qvel|))`.

use pyo3::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{py_error, PyEnv};
use crate::env::Env;
use crate::error::EnvError;
use crate::registry::{make, EnvConfig};

/// The `py/...` name of the original of an embedded task, if it has one.
pub fn original_of(id: &str) -> Option<String> {
    if let Some(name) = id.strip_prefix("gym/") {
        return Some(name.to_string());
    }
    id.strip_prefix("dmc/").map(|task| format!("dm_control/{task}"))
}

/// A state of the original, split like the Rust task's snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct PyState {
    /// Generalised positions (classic control: the first half of `state`).
    pub qpos: Vec<f64>,
    /// Generalised velocities.
    pub qvel: Vec<f64>,
}

/// One compared step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepError {
    /// envs.md's state error after the step.
    pub state: f64,
    /// Largest absolute observation difference.
    pub obs: f64,
    /// Absolute reward difference.
    pub reward: f64,
    /// `terminated` agreed.
    pub flags_agree: bool,
}

/// An embedded task and its original, stepped together.
pub struct LockStep {
    rust: Box<dyn Env>,
    py: PyEnv,
    nq: usize,
    nv: usize,
    obs_r: Vec<f64>,
    obs_p: Vec<f64>,
    f32_actions: bool,
}

/// envs.md §3.9's err between two (qpos, qvel) pairs.
pub fn state_error(a: &PyState, b: &PyState) -> f64 {
    let dq = a.qpos.iter().zip(&b.qpos).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    let scale = b.qvel.iter().map(|v| v.abs()).fold(1.0, f64::max);
    let dv = a.qvel.iter().zip(&b.qvel).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    dq.max(dv / scale)
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

impl LockStep {
    /// Build the embedded task `id` and its original.
    pub fn new(id: &str) -> Result<Self, EnvError> {
        let name = original_of(id).ok_or_else(|| EnvError::InvalidConfig(format!("task `{id}` has no original")))?;
        let cfg = EnvConfig::default();
        let rust = make(id, &cfg)?;
        let py = PyEnv::new(&name, &format!("py/{name}"), &cfg)?;
        if py.spec().obs_dim != rust.spec().obs_dim || py.spec().act_dim != rust.spec().act_dim {
            return Err(EnvError::InvalidConfig(format!(
                "`{id}` has obs/act dims {}/{}, its original {}/{}",
                rust.spec().obs_dim,
                rust.spec().act_dim,
                py.spec().obs_dim,
                py.spec().act_dim
            )));
        }
        let (nq, nv) = Python::attach(|py_| {
            let dims = py.call(py_, "nq_nv", ())?;
            dims.extract::<Option<(usize, usize)>>().map_err(|e| py_error(py_, &py.spec().id, e))
        })?
        .unwrap_or((1, 1));
        let (obs_r, obs_p) = (vec![0.0; rust.spec().obs_dim], vec![0.0; rust.spec().obs_dim]);
        let f32_actions = rust.spec().physics == "analytic";
        Ok(Self { rust, py, nq, nv, obs_r, obs_p, f32_actions })
    }

    /// The embedded task.
    pub fn rust(&self) -> &dyn Env {
        self.rust.as_ref()
    }

    /// The Rust task's (qpos, qvel) and the rest of its saved state.
    fn rust_state(&self) -> (PyState, Vec<f64>) {
        let s = self.rust.snapshot().task_state;
        let (nq, nv) = (self.nq, self.nv);
        (PyState { qpos: s[..nq].to_vec(), qvel: s[nq..nq + nv].to_vec() }, s[nq + nv..].to_vec())
    }

    /// The original's (qpos, qvel).
    pub fn py_state(&self) -> Result<PyState, EnvError> {
        Python::attach(|py| {
            let v: Vec<f64> =
                self.py.call(py, "qpos_qvel", ())?.extract().map_err(|e| py_error(py, &self.py.spec().id, e))?;
            Ok(PyState { qpos: v[..self.nq].to_vec(), qvel: v[self.nq..].to_vec() })
        })
    }

    /// Reset the Rust task with `seed` and put the original at its state (and task parameters:
    /// reacher's target, point_mass-hard's directions, MountainCar's float32 flag).
    pub fn reset(&mut self, seed: u64) -> Result<(), EnvError> {
        self.rust.reset(Some(seed), &mut self.obs_r)?;
        self.py.reset(Some(seed), &mut self.obs_p)?;
        self.sync()
    }

    /// Put the original at the Rust task's current state.
    pub fn sync(&mut self) -> Result<(), EnvError> {
        let (state, extras) = self.rust_state();
        let extras = if self.rust.spec().id.starts_with("gym/") && self.nq > 1 { Vec::new() } else { extras };
        Python::attach(|py| self.py.call(py, "set_qpos_qvel", (state.qpos, state.qvel, extras)).map(|_| ()))
    }

    /// Step both with `action` (native units) and compare.
    pub fn step(&mut self, action: &[f64]) -> Result<StepError, EnvError> {
        let r = self.rust.step(action, &mut self.obs_r)?;
        let p = self.py.step(action, &mut self.obs_p)?;
        let (rs, _) = self.rust_state();
        let ps = self.py_state()?;
        Ok(StepError {
            state: state_error(&rs, &ps),
            obs: max_abs_diff(&self.obs_r, &self.obs_p),
            reward: (r.reward - p.reward).abs(),
            flags_agree: r.terminated == p.terminated,
        })
    }
}

/// Per-step errors of one lock-step run.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Error of each step.
    pub steps: Vec<StepError>,
    /// Whether the episode ended (either side) before the requested number of steps.
    pub ended_early: bool,
}

impl Trace {
    /// First step (1-based) whose state error exceeds `threshold`.
    pub fn divergence(&self, threshold: f64) -> Option<usize> {
        self.steps.iter().position(|s| s.state > threshold).map(|i| i + 1)
    }

    /// Largest state error over the first `n` steps.
    pub fn max_state(&self, n: usize) -> f64 {
        self.steps.iter().take(n).map(|s| s.state).fold(0.0, f64::max)
    }
}

/// Uniform actions in the task's native bounds from `rng`.
pub fn random_action(env: &dyn Env, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let spec = env.spec();
    spec.act_low.iter().zip(&spec.act_high).map(|(lo, hi)| rng.random_range(*lo..=*hi)).collect()
}

/// Run `n` steps of uniform random actions (stream `action_seed`) from the reset of `seed`.
/// With `resync`, the original is put back at the Rust state before every step (one-step
/// errors); without, both run free (divergence).
pub fn run(ls: &mut LockStep, seed: u64, action_seed: u64, n: usize, resync: bool) -> Result<Trace, EnvError> {
    ls.reset(seed)?;
    let mut rng = ChaCha8Rng::seed_from_u64(action_seed);
    let mut steps = Vec::with_capacity(n);
    for _ in 0..n {
        let mut action = random_action(ls.rust(), &mut rng);
        if ls.f32_actions {
            // Classic control takes float32 actions in Gymnasium (the golden files' protocol).
            action.iter_mut().for_each(|a| *a = f64::from(*a as f32));
        }
        if resync {
            ls.sync()?;
        }
        steps.push(ls.step(&action)?);
        if ls.rust.snapshot().phase == 2 || !ls.py.is_running() {
            return Ok(Trace { steps, ended_early: true });
        }
    }
    Ok(Trace { steps, ended_early: false })
}

/// Per-episode return and length under uniform random actions, for `episodes` seeds from 0.
pub fn episode_stats(env: &mut dyn Env, episodes: u64, max_steps: u32) -> Result<(Vec<f64>, Vec<f64>), EnvError> {
    let mut obs = vec![0.0; env.spec().obs_dim];
    let (mut returns, mut lengths) = (Vec::new(), Vec::new());
    for k in 0..episodes {
        env.reset(Some(k), &mut obs)?;
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + k);
        let (mut ret, mut len) = (0.0, 0u32);
        loop {
            let action = random_action(env, &mut rng);
            let out = env.step(&action, &mut obs)?;
            ret += out.reward;
            len += 1;
            if out.done() || len >= max_steps {
                break;
            }
        }
        returns.push(ret);
        lengths.push(f64::from(len));
    }
    Ok((returns, lengths))
}

/// Mean and sample standard deviation.
pub fn mean_std(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

pub use crate::stats::ks_test;

/// Tolerances of envs.md §3.9 for the lock-step checks of one task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Median one-step state error.
    pub one_step_median: f64,
    /// Largest one-step state error.
    pub one_step_max: f64,
    /// Largest state error of a free run over its first `free_steps` steps.
    pub free_run: f64,
    /// Steps of the free run the bound covers.
    pub free_steps: usize,
    /// Observations and rewards must be bitwise equal (classic control).
    pub exact: bool,
}

/// envs.md's tolerance for `id`: bit-exact classic control (§3.9 stage 0), contact-free DMC
/// (stage 1: one step 1e-9, cartpole limit steps 1e-6; 300-step free run 1e-7, cartpole-swingup
/// 1e-6), contact tasks (stage 2: one-step median 1e-9 and maximum 1e-6, Humanoid-v5 2e-6;
/// first 10 free steps 1e-5).
pub fn tolerance(id: &str) -> Tolerance {
    let exact = Tolerance { one_step_median: 0.0, one_step_max: 0.0, free_run: 0.0, free_steps: 200, exact: true };
    match id {
        "gym/Pendulum-v1" | "gym/MountainCarContinuous-v0" => exact,
        "dmc/cartpole-balance" | "dmc/cartpole-swingup" => {
            Tolerance { one_step_median: 1e-9, one_step_max: 1e-6, free_run: 1e-6, free_steps: 300, exact: false }
        }
        "dmc/pendulum-swingup"
        | "dmc/acrobot-swingup"
        | "dmc/point_mass-easy"
        | "dmc/point_mass-hard"
        | "dmc/reacher-easy"
        | "dmc/reacher-hard" => {
            Tolerance { one_step_median: 1e-9, one_step_max: 1e-9, free_run: 1e-7, free_steps: 300, exact: false }
        }
        // Stage 3 bounds only the maximum: MuJoCo's PGS-50 answer is up to 8.1e-7 from the exact one.
        "gym/Humanoid-v5" => {
            Tolerance { one_step_median: 2e-6, one_step_max: 2e-6, free_run: 1e-5, free_steps: 10, exact: false }
        }
        // Not envs.md's 1e-6: on rare steps MuJoCo's Newton solver stops at its tolerance (1e-8
        // on the scaled cost gain) short of the optimum, so its answer is 4e-8..2e-5 from the
        // exact one dime computes (golden files: 3.7e-6, 5.8e-6; lock-step: 2.0e-5 at seed 1
        // step 52; MuJoCo run to convergence matches dime to 8e-16 on all of them, see
        // tests/walker_solver_tolerance.rs). The bound records the deviation instead of hiding it.
        "dmc/walker-walk" | "dmc/walker-run" => {
            Tolerance { one_step_median: 1e-9, one_step_max: 5e-5, free_run: 1e-5, free_steps: 10, exact: false }
        }
        _ => Tolerance { one_step_median: 1e-9, one_step_max: 1e-6, free_run: 1e-5, free_steps: 10, exact: false },
    }
}

/// Lock-step results of one task over several seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The embedded task.
    pub id: String,
    /// One-step state errors (the original re-synced before each step), all seeds.
    pub one_step: Vec<f64>,
    /// Largest one-step observation / reward difference.
    pub one_step_obs: f64,
    /// Largest one-step reward difference (Ant/Humanoid excepted, see docs).
    pub one_step_reward: f64,
    /// Free runs, one per seed.
    pub free: Vec<Trace>,
}

impl Comparison {
    /// Median and maximum of the one-step errors.
    pub fn one_step_median_max(&self) -> (f64, f64) {
        let mut e = self.one_step.clone();
        e.sort_by(f64::total_cmp);
        let median = if e.is_empty() { 0.0 } else { e[e.len() / 2] };
        (median, e.last().copied().unwrap_or(0.0))
    }

    /// Largest free-run state error over the first `n` steps of every seed.
    pub fn free_max(&self, n: usize) -> f64 {
        self.free.iter().map(|t| t.max_state(n)).fold(0.0, f64::max)
    }

    /// Largest free-run observation and reward differences over the first `n` steps.
    pub fn free_obs_reward(&self, n: usize) -> (f64, f64) {
        let steps = self.free.iter().flat_map(|t| t.steps.iter().take(n));
        steps.fold((0.0, 0.0), |(o, r), s| (f64::max(o, s.obs), f64::max(r, s.reward)))
    }

    /// Whether every free-run step agreed on `terminated`.
    pub fn flags_agree(&self) -> bool {
        self.free.iter().all(|t| t.steps.iter().all(|s| s.flags_agree))
    }
}

/// Compare `id` with its original for `seeds` seeds of `steps` random-action steps each.
pub fn compare(id: &str, seeds: u64, steps: usize) -> Result<Comparison, EnvError> {
    let mut ls = LockStep::new(id)?;
    let mut c = Comparison {
        id: id.to_string(),
        one_step: Vec::new(),
        one_step_obs: 0.0,
        one_step_reward: 0.0,
        free: Vec::new(),
    };
    for seed in 0..seeds {
        let one = run(&mut ls, seed, 1000 + seed, steps, true)?;
        for s in &one.steps {
            c.one_step.push(s.state);
            c.one_step_obs = c.one_step_obs.max(s.obs);
            c.one_step_reward = c.one_step_reward.max(s.reward);
        }
        c.free.push(run(&mut ls, seed, 1000 + seed, steps, false)?);
    }
    Ok(c)
}
