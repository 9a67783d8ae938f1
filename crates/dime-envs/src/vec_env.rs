//! `VecEnv`: n copies of a task stepped together, with same-step autoreset.
//!
//! A lane that ends on a call returns the reward and flags of its final transition, writes its
//! true last observation to `final_obs` (so the learner can bootstrap a truncated transition),
//! resets, and returns the reset observation in `obs` (Gymnasium `AutoresetMode.SAME_STEP`).
//! Lane i seeds its stream with [`lane_seed`]`(seed, i)`, so results never depend on how lanes
//! are scheduled. Observations and actions cross this boundary as f32.

use serde::{Deserialize, Serialize};

use crate::env::{Env, EnvSnapshot};
use crate::error::EnvError;
use crate::registry::{make, EnvConfig};
use crate::rng::lane_seed;
use crate::spec::EnvSpec;

/// Per-lane results of one [`VecEnv::step`]; allocate once with [`VecStep::new`] and reuse.
#[derive(Debug, Clone, PartialEq)]
pub struct VecStep {
    /// Next observation per lane (`n · obs_dim`); the reset observation for lanes that ended.
    pub obs: Vec<f32>,
    /// Reward per lane.
    pub reward: Vec<f32>,
    /// The lane's episode ended in a terminal state.
    pub terminated: Vec<bool>,
    /// The lane's episode hit its time limit (or diverged).
    pub truncated: Vec<bool>,
    /// True last observation of lanes that ended (`n · obs_dim`), valid where `has_final`.
    pub final_obs: Vec<f32>,
    /// The lane ended on this call and `final_obs` holds its last observation.
    pub has_final: Vec<bool>,
    /// The lane's physics diverged or produced a non-finite value: the transition is invalid and must not be stored.
    pub diverged: Vec<bool>,
    /// Undiscounted return of the episode that ended, valid where `has_final`.
    pub episode_return: Vec<f64>,
    /// Length of the episode that ended, valid where `has_final`.
    pub episode_len: Vec<u32>,
    /// Total number of diverged steps since the env was built.
    pub n_diverged: u64,
}

impl VecStep {
    /// Buffers for `n` lanes of observation width `obs_dim`.
    pub fn new(n: usize, obs_dim: usize) -> Self {
        Self {
            obs: vec![0.0; n * obs_dim],
            reward: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            final_obs: vec![0.0; n * obs_dim],
            has_final: vec![false; n],
            diverged: vec![false; n],
            episode_return: vec![0.0; n],
            episode_len: vec![0; n],
            n_diverged: 0,
        }
    }

    /// Whether every buffer has the size `VecStep::new(n, obs_dim)` gives.
    pub fn fits(&self, n: usize, obs_dim: usize) -> bool {
        let per_lane = [
            self.reward.len(),
            self.terminated.len(),
            self.truncated.len(),
            self.has_final.len(),
            self.diverged.len(),
            self.episode_return.len(),
            self.episode_len.len(),
        ];
        self.obs.len() == n * obs_dim && self.final_obs.len() == n * obs_dim && per_lane.iter().all(|&l| l == n)
    }
}

/// Everything needed to continue a [`VecEnv`] exactly: for checkpoints and resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VecEnvSnapshot {
    /// Per-lane env snapshots.
    pub lanes: Vec<EnvSnapshot>,
    /// Whether the lanes were already seeded by a first reset.
    pub seeded: bool,
    /// Return of each lane's running episode so far.
    pub running_return: Vec<f64>,
    /// Length of each lane's running episode so far.
    pub running_len: Vec<u32>,
    /// Diverged steps so far.
    pub n_diverged: u64,
}

/// N lanes of one task.
pub struct VecEnv {
    lanes: Vec<Box<dyn Env>>,
    seed: u64,
    seeded: bool,
    obs_f64: Vec<f64>,
    act_f64: Vec<f64>,
    running_return: Vec<f64>,
    running_len: Vec<u32>,
    n_diverged: u64,
}

impl VecEnv {
    /// `n` lanes of task `id` (native action units), seeded from `seed`.
    pub fn new(id: &str, n: usize, seed: u64, cfg: &EnvConfig) -> Result<Self, EnvError> {
        let lanes = (0..n).map(|_| make(id, cfg)).collect::<Result<Vec<_>, _>>()?;
        Self::from_envs(lanes, seed)
    }

    /// Lanes built by the caller (e.g. with [`crate::make_unit`]); all must share dimensions.
    pub fn from_envs(lanes: Vec<Box<dyn Env>>, seed: u64) -> Result<Self, EnvError> {
        let first = lanes.first().ok_or_else(|| EnvError::InvalidConfig("a VecEnv needs at least one lane".into()))?;
        let (obs_dim, act_dim) = (first.spec().obs_dim, first.spec().act_dim);
        if let Some(bad) = lanes.iter().find(|l| l.spec().obs_dim != obs_dim || l.spec().act_dim != act_dim) {
            return Err(EnvError::InvalidConfig(format!(
                "VecEnv lanes differ: `{}` has dims ({obs_dim}, {act_dim}) but `{}` has ({}, {})",
                first.spec().id,
                bad.spec().id,
                bad.spec().obs_dim,
                bad.spec().act_dim
            )));
        }
        let n = lanes.len();
        Ok(Self {
            lanes,
            seed,
            seeded: false,
            obs_f64: vec![0.0; obs_dim],
            act_f64: vec![0.0; act_dim],
            running_return: vec![0.0; n],
            running_len: vec![0; n],
            n_diverged: 0,
        })
    }

    /// Number of lanes.
    pub fn num_envs(&self) -> usize {
        self.lanes.len()
    }

    /// The spec shared by all lanes.
    pub fn spec(&self) -> &EnvSpec {
        self.lanes[0].spec()
    }

    fn check_len(&self, what: &'static str, got: usize, per_lane: usize) -> Result<(), EnvError> {
        let expected = per_lane * self.lanes.len();
        if got != expected {
            return Err(EnvError::WrongLength { what, task: self.spec().id.clone(), expected, got });
        }
        Ok(())
    }

    /// Reset every lane, writing `n · obs_dim` observations. The first call seeds lane i with
    /// `lane_seed(seed, i)`; later calls continue each lane's stream.
    pub fn reset(&mut self, obs: &mut [f32]) -> Result<(), EnvError> {
        let obs_dim = self.spec().obs_dim;
        self.check_len("observation buffer", obs.len(), obs_dim)?;
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            let seed = (!self.seeded).then(|| lane_seed(self.seed, i));
            lane.reset(seed, &mut self.obs_f64)?;
            to_f32(&self.obs_f64, &mut obs[i * obs_dim..(i + 1) * obs_dim]);
            self.running_return[i] = 0.0;
            self.running_len[i] = 0;
        }
        self.seeded = true;
        Ok(())
    }

    /// Step every lane with its slice of `actions` (`n · act_dim`, native units of the lanes).
    pub fn step(&mut self, actions: &[f32], out: &mut VecStep) -> Result<(), EnvError> {
        let (obs_dim, act_dim) = (self.spec().obs_dim, self.spec().act_dim);
        self.check_len("actions", actions.len(), act_dim)?;
        if !out.fits(self.lanes.len(), obs_dim) {
            return Err(EnvError::InvalidConfig(format!(
                "VecStep buffers do not fit {} lanes of obs_dim {obs_dim}; build them with VecStep::new",
                self.lanes.len()
            )));
        }
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            for (d, &a) in self.act_f64.iter_mut().zip(&actions[i * act_dim..(i + 1) * act_dim]) {
                *d = f64::from(a);
            }
            let step = lane.step(&self.act_f64, &mut self.obs_f64)?;
            let lane_obs = i * obs_dim..(i + 1) * obs_dim;
            let finite = !step.diverged && step.reward.is_finite() && self.obs_f64.iter().all(|x| x.is_finite());
            out.diverged[i] = !finite;
            out.terminated[i] = finite && step.terminated;
            out.truncated[i] = !finite || step.truncated;
            out.reward[i] = if finite { step.reward as f32 } else { 0.0 };
            out.has_final[i] = false;
            if !finite {
                self.n_diverged += 1;
            } else {
                self.running_return[i] += step.reward;
                self.running_len[i] += 1;
            }
            if finite && step.done() {
                to_f32(&self.obs_f64, &mut out.final_obs[lane_obs.clone()]);
                out.has_final[i] = true;
                out.episode_return[i] = self.running_return[i];
                out.episode_len[i] = self.running_len[i];
            }
            if !finite || step.done() {
                lane.reset(None, &mut self.obs_f64)?;
                self.running_return[i] = 0.0;
                self.running_len[i] = 0;
            }
            to_f32(&self.obs_f64, &mut out.obs[lane_obs]);
        }
        out.n_diverged = self.n_diverged;
        Ok(())
    }
}

impl VecEnv {
    /// The complete state of every lane and of the episode bookkeeping.
    pub fn snapshot(&self) -> VecEnvSnapshot {
        VecEnvSnapshot {
            lanes: self.lanes.iter().map(|l| l.snapshot()).collect(),
            seeded: self.seeded,
            running_return: self.running_return.clone(),
            running_len: self.running_len.clone(),
            n_diverged: self.n_diverged,
        }
    }

    /// Continue from a snapshot of a `VecEnv` of the same task and lane count.
    pub fn restore(&mut self, snapshot: &VecEnvSnapshot) -> Result<(), EnvError> {
        let n = self.lanes.len();
        if snapshot.lanes.len() != n || snapshot.running_return.len() != n || snapshot.running_len.len() != n {
            return Err(EnvError::WrongLength {
                what: "VecEnv snapshot lanes",
                task: self.spec().id.clone(),
                expected: n,
                got: snapshot.lanes.len(),
            });
        }
        for (lane, snap) in self.lanes.iter_mut().zip(&snapshot.lanes) {
            lane.restore(snap)?;
        }
        self.seeded = snapshot.seeded;
        self.running_return.clone_from(&snapshot.running_return);
        self.running_len.clone_from(&snapshot.running_len);
        self.n_diverged = snapshot.n_diverged;
        Ok(())
    }
}

fn to_f32(src: &[f64], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s as f32;
    }
}
