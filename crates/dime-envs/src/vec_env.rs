//! `VecEnv`: n copies of a task stepped together, with same-step autoreset.
//!
//! A lane that ends on a call returns the reward and flags of its final transition, writes its
//! true last observation to `final_obs` (so the learner can bootstrap a truncated transition),
//! resets, and returns the reset observation in `obs` (Gymnasium `AutoresetMode.SAME_STEP`).
//! Lane i seeds its stream with [`lane_seed`]`(seed, i)`, so results never depend on how lanes
//! are scheduled. Observations and actions cross this boundary as f32.
//!
//! Lanes can step on rayon's pool, one lane per task ([`Stepping`]): each lane reads only its
//! own action and writes only its own outputs, so the results are the same bitwise whichever way
//! the lanes run. [`Stepping::Auto`] (the default) times the first calls both ways and keeps the
//! faster: the embedded classic tasks step in about 0.1 µs and stay on the caller's thread,
//! simulator tasks with many lanes use the second core.

use std::time::{Duration, Instant};

use rayon::prelude::*;
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

/// How [`VecEnv::step`] runs its lanes. The results do not depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stepping {
    /// Time the first [`PROBE_CALLS`] calls on the caller's thread and the next as many on
    /// rayon's pool, then keep the faster (one lane or one thread: always sequential).
    Auto,
    /// Every lane on the caller's thread, in lane order.
    Sequential,
    /// The lanes as tasks on rayon's pool.
    Parallel,
}

/// Calls timed each way by [`Stepping::Auto`].
pub const PROBE_CALLS: u32 = 8;

/// Where [`Stepping::Auto`] is in its choice.
#[derive(Debug, Clone, Copy)]
enum Schedule {
    /// `calls` calls done; total time of the sequential and the parallel ones.
    Probing {
        calls: u32,
        sequential: Duration,
        parallel: Duration,
    },
    Decided(bool),
}

/// One lane's scratch space and running episode.
struct Lane {
    env: Box<dyn Env>,
    obs_f64: Vec<f64>,
    act_f64: Vec<f64>,
    running_return: f64,
    running_len: u32,
}

/// N lanes of one task.
pub struct VecEnv {
    lanes: Vec<Lane>,
    seed: u64,
    seeded: bool,
    n_diverged: u64,
    schedule: Schedule,
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
        let lanes = lanes
            .into_iter()
            .map(|env| Lane {
                env,
                obs_f64: vec![0.0; obs_dim],
                act_f64: vec![0.0; act_dim],
                running_return: 0.0,
                running_len: 0,
            })
            .collect();
        let schedule = Schedule::Probing { calls: 0, sequential: Duration::ZERO, parallel: Duration::ZERO };
        Ok(Self { lanes, seed, seeded: false, n_diverged: 0, schedule })
    }

    /// Number of lanes.
    pub fn num_envs(&self) -> usize {
        self.lanes.len()
    }

    /// The spec shared by all lanes.
    pub fn spec(&self) -> &EnvSpec {
        self.lanes[0].env.spec()
    }

    /// Choose how lanes step from now on ([`Stepping::Auto`] probes again).
    pub fn set_stepping(&mut self, stepping: Stepping) {
        self.schedule = match stepping {
            Stepping::Auto => Schedule::Probing { calls: 0, sequential: Duration::ZERO, parallel: Duration::ZERO },
            Stepping::Sequential => Schedule::Decided(false),
            Stepping::Parallel => Schedule::Decided(true),
        };
    }

    /// Whether the lanes step on rayon's pool: decided (`Some`), or still being timed (`None`).
    pub fn steps_in_parallel(&self) -> Option<bool> {
        match self.schedule {
            Schedule::Decided(parallel) => Some(parallel),
            Schedule::Probing { .. } if self.lanes.len() < 2 || rayon::current_num_threads() < 2 => Some(false),
            Schedule::Probing { .. } => None,
        }
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
            lane.env.reset(seed, &mut lane.obs_f64)?;
            to_f32(&lane.obs_f64, &mut obs[i * obs_dim..(i + 1) * obs_dim]);
            lane.running_return = 0.0;
            lane.running_len = 0;
        }
        self.seeded = true;
        Ok(())
    }

    /// Step every lane with its slice of `actions` (`n · act_dim`, native units of the lanes).
    /// On an error the first failing lane's (in lane order) is returned.
    pub fn step(&mut self, actions: &[f32], out: &mut VecStep) -> Result<(), EnvError> {
        let (obs_dim, act_dim) = (self.spec().obs_dim, self.spec().act_dim);
        self.check_len("actions", actions.len(), act_dim)?;
        if !out.fits(self.lanes.len(), obs_dim) {
            return Err(EnvError::InvalidConfig(format!(
                "VecStep buffers do not fit {} lanes of obs_dim {obs_dim}; build them with VecStep::new",
                self.lanes.len()
            )));
        }
        let parallel = match self.steps_in_parallel() {
            Some(parallel) => {
                // One lane or one thread: nothing to time.
                self.schedule = Schedule::Decided(parallel);
                parallel
            }
            None => matches!(self.schedule, Schedule::Probing { calls, .. } if calls >= PROBE_CALLS),
        };
        let started = Instant::now();
        let mut work: Vec<(&mut Lane, LaneOut)> = self.lanes.iter_mut().zip(out.lanes(obs_dim)).collect();
        let run = |(lane, lane_out): &mut (&mut Lane, LaneOut), action: &[f32]| lane.step(action, lane_out);
        let results: Vec<Result<(), EnvError>> = if parallel {
            work.par_iter_mut().zip(actions.par_chunks(act_dim)).map(|(w, a)| run(w, a)).collect()
        } else {
            work.iter_mut().zip(actions.chunks(act_dim)).map(|(w, a)| run(w, a)).collect()
        };
        drop(work);
        self.record_probe(parallel, started.elapsed());
        results.into_iter().collect::<Result<(), EnvError>>()?;
        self.n_diverged += out.diverged.iter().filter(|&&d| d).count() as u64;
        out.n_diverged = self.n_diverged;
        Ok(())
    }

    /// Add one timed call to [`Stepping::Auto`]'s probe; decide after both halves.
    fn record_probe(&mut self, parallel: bool, elapsed: Duration) {
        if let Schedule::Probing { calls, sequential, parallel: parallel_time } = &mut self.schedule {
            *calls += 1;
            match parallel {
                true => *parallel_time += elapsed,
                false => *sequential += elapsed,
            }
            if *calls == 2 * PROBE_CALLS {
                self.schedule = Schedule::Decided(*parallel_time < *sequential);
            }
        }
    }
}

/// One lane's slots in a [`VecStep`].
struct LaneOut<'a> {
    obs: &'a mut [f32],
    final_obs: &'a mut [f32],
    reward: &'a mut f32,
    terminated: &'a mut bool,
    truncated: &'a mut bool,
    has_final: &'a mut bool,
    diverged: &'a mut bool,
    episode_return: &'a mut f64,
    episode_len: &'a mut u32,
}

impl VecStep {
    /// The buffers split into one [`LaneOut`] per lane.
    fn lanes(&mut self, obs_dim: usize) -> impl Iterator<Item = LaneOut<'_>> {
        let flags = self.terminated.iter_mut().zip(self.truncated.iter_mut()).zip(self.has_final.iter_mut());
        let episode = self.episode_return.iter_mut().zip(self.episode_len.iter_mut());
        self.obs
            .chunks_mut(obs_dim)
            .zip(self.final_obs.chunks_mut(obs_dim))
            .zip(self.reward.iter_mut())
            .zip(flags)
            .zip(self.diverged.iter_mut())
            .zip(episode)
            .map(|(((((obs, final_obs), reward), ((terminated, truncated), has_final)), diverged), ep)| LaneOut {
                obs,
                final_obs,
                reward,
                terminated,
                truncated,
                has_final,
                diverged,
                episode_return: ep.0,
                episode_len: ep.1,
            })
    }
}

impl Lane {
    /// Step with `action` (f32, native units) and fill `out`; a lane whose episode ended (or
    /// whose physics diverged) is reset, its true last observation kept in `out.final_obs`.
    fn step(&mut self, action: &[f32], out: &mut LaneOut) -> Result<(), EnvError> {
        for (d, &a) in self.act_f64.iter_mut().zip(action) {
            *d = f64::from(a);
        }
        let step = self.env.step(&self.act_f64, &mut self.obs_f64)?;
        let finite = !step.diverged && step.reward.is_finite() && self.obs_f64.iter().all(|x| x.is_finite());
        *out.diverged = !finite;
        *out.terminated = finite && step.terminated;
        *out.truncated = !finite || step.truncated;
        *out.reward = if finite { step.reward as f32 } else { 0.0 };
        *out.has_final = false;
        if finite {
            self.running_return += step.reward;
            self.running_len += 1;
        }
        if finite && step.done() {
            to_f32(&self.obs_f64, out.final_obs);
            *out.has_final = true;
            *out.episode_return = self.running_return;
            *out.episode_len = self.running_len;
        }
        if !finite || step.done() {
            self.env.reset(None, &mut self.obs_f64)?;
            self.running_return = 0.0;
            self.running_len = 0;
        }
        to_f32(&self.obs_f64, out.obs);
        Ok(())
    }
}

impl VecEnv {
    /// The complete state of every lane and of the episode bookkeeping.
    pub fn snapshot(&self) -> VecEnvSnapshot {
        VecEnvSnapshot {
            lanes: self.lanes.iter().map(|l| l.env.snapshot()).collect(),
            seeded: self.seeded,
            running_return: self.lanes.iter().map(|l| l.running_return).collect(),
            running_len: self.lanes.iter().map(|l| l.running_len).collect(),
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
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            lane.env.restore(&snapshot.lanes[i])?;
            lane.running_return = snapshot.running_return[i];
            lane.running_len = snapshot.running_len[i];
        }
        self.seeded = snapshot.seeded;
        self.n_diverged = snapshot.n_diverged;
        Ok(())
    }
}

fn to_f32(src: &[f64], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s as f32;
    }
}
