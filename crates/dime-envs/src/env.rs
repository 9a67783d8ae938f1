//! The `Env` trait, and `TaskEnv`, which turns a bare `Task` into an `Env` by adding
//! input validation, the RNG, the time limit and the episode state machine once for all tasks.

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::EnvError;
use crate::rng::{env_rng, EnvRng};
use crate::sim::SimError;
use crate::spec::{EnvSpec, StepOut};

/// Everything needed to continue an env exactly where it was: for checkpoints and resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSnapshot {
    /// The task's physical state, as [`Task::state`] returns it.
    pub task_state: Vec<f64>,
    /// Seed of the env's ChaCha stream.
    pub rng_seed: [u8; 32],
    /// Stream number of the env's ChaCha stream.
    pub rng_stream: u64,
    /// Position in the env's ChaCha stream, in 32-bit words.
    pub rng_word_pos: u128,
    /// Steps taken in the current episode.
    pub steps: u32,
    /// 0 = never reset, 1 = running, 2 = episode over.
    pub phase: u8,
}

/// A single environment instance, stepped with actions in the task's native units.
///
/// Contract: same seed and same actions give bitwise-identical observations, rewards and
/// flags; `step` does not allocate; bad input is an error, never a panic.
pub trait Env: Send {
    /// The task's static description.
    fn spec(&self) -> &EnvSpec;
    /// Start an episode, writing the first observation into `obs` (length `obs_dim`).
    /// `Some(seed)` reseeds the env's stream; `None` continues it.
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<(), EnvError>;
    /// Apply `action` (length `act_dim`, native units), writing the next observation into `obs`.
    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Result<StepOut, EnvError>;
    /// Named scalar terms of the last step's reward (Gymnasium `info`); empty by default.
    fn reward_terms(&self) -> &[(&'static str, f64)] {
        &[]
    }
    /// The env's complete state: restoring it continues bitwise-identically.
    fn snapshot(&self) -> EnvSnapshot;
    /// Continue from a snapshot taken of an env of the same task.
    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError>;
}

/// Reward and termination computed by a task's dynamics; the time limit is added by [`TaskEnv`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskStep {
    /// Reward of the transition.
    pub reward: f64,
    /// The task reached a terminal state.
    pub terminated: bool,
}

/// The physics and reward of one task, without episode bookkeeping.
///
/// Implementors may assume `action.len() == act_dim`, every entry finite, and
/// `obs.len() == obs_dim`; [`TaskEnv`] checks these before calling.
pub trait Task: Send {
    /// The task's static description.
    fn spec(&self) -> &EnvSpec;
    /// Draw a new initial state from `rng`.
    fn reset_state(&mut self, rng: &mut EnvRng);
    /// Write the observation of the current state.
    fn observe(&self, obs: &mut [f64]);
    /// Advance the state by one agent step under `action`; `rng` serves stochastic dynamics.
    fn advance(&mut self, action: &[f64], rng: &mut EnvRng) -> TaskStep;
    /// Named scalar terms of the last step's reward.
    fn reward_terms(&self) -> &[(&'static str, f64)] {
        &[]
    }
    /// Why the last `reset_state` or `advance` could not produce a valid state (the physics
    /// diverged), or `None`. A task that reports a divergence keeps its last valid state;
    /// [`TaskEnv`] then ends the episode as truncated, flags [`StepOut::diverged`] and logs a warning.
    fn divergence(&self) -> Option<&SimError> {
        None
    }
    /// The physical state as numbers, complete enough that [`Task::set_state`] continues exactly.
    fn state(&self) -> Vec<f64>;
    /// Restore a state returned by [`Task::state`]; a vector of the wrong length is an error.
    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError>;
}

/// Check the length of a saved task state.
pub(crate) fn check_state_len(spec: &EnvSpec, state: &[f64], expected: usize) -> Result<(), EnvError> {
    if state.len() != expected {
        return Err(EnvError::WrongLength {
            what: "saved task state",
            task: spec.id.clone(),
            expected,
            got: state.len(),
        });
    }
    Ok(())
}

/// Where an env is in its episode cycle (shared by every `Env` that keeps the cycle itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    NeverReset,
    Running,
    Done,
}

impl Phase {
    /// The number an [`EnvSnapshot`] stores.
    pub(crate) fn code(self) -> u8 {
        match self {
            Phase::NeverReset => 0,
            Phase::Running => 1,
            Phase::Done => 2,
        }
    }

    /// The phase a snapshot's number stands for.
    pub(crate) fn from_code(code: u8) -> Result<Self, EnvError> {
        match code {
            0 => Ok(Phase::NeverReset),
            1 => Ok(Phase::Running),
            2 => Ok(Phase::Done),
            other => Err(EnvError::InvalidConfig(format!("snapshot has unknown phase {other}"))),
        }
    }
}

/// A [`Task`] with its random stream, time limit and checks: the standard [`Env`].
pub struct TaskEnv<T: Task> {
    task: T,
    rng: EnvRng,
    steps: u32,
    phase: Phase,
}

impl<T: Task> TaskEnv<T> {
    /// Wrap `task`; its stream starts from seed 0 until a seeded reset.
    pub fn new(task: T) -> Self {
        Self { task, rng: env_rng(0), steps: 0, phase: Phase::NeverReset }
    }

    /// The task inside (for tests and golden replays).
    pub fn task(&self) -> &T {
        &self.task
    }

    /// Mutable access to the task inside, e.g. to set a recorded state in a golden replay.
    pub fn task_mut(&mut self) -> &mut T {
        &mut self.task
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> u32 {
        self.steps
    }
}

/// Check an observation buffer's length.
pub(crate) fn check_obs_len(spec: &EnvSpec, obs: &[f64]) -> Result<(), EnvError> {
    if obs.len() != spec.obs_dim {
        return Err(EnvError::WrongLength {
            what: "observation buffer",
            task: spec.id.clone(),
            expected: spec.obs_dim,
            got: obs.len(),
        });
    }
    Ok(())
}

/// Check an action's length and that every entry is finite.
pub(crate) fn check_action(spec: &EnvSpec, action: &[f64]) -> Result<(), EnvError> {
    if action.len() != spec.act_dim {
        return Err(EnvError::WrongLength {
            what: "action",
            task: spec.id.clone(),
            expected: spec.act_dim,
            got: action.len(),
        });
    }
    if let Some((index, &value)) = action.iter().enumerate().find(|(_, a)| !a.is_finite()) {
        return Err(EnvError::NonFiniteAction { task: spec.id.clone(), index, value });
    }
    Ok(())
}

impl<T: Task> Env for TaskEnv<T> {
    fn spec(&self) -> &EnvSpec {
        self.task.spec()
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<(), EnvError> {
        check_obs_len(self.task.spec(), obs)?;
        if let Some(seed) = seed {
            self.rng = env_rng(seed);
        }
        self.task.reset_state(&mut self.rng);
        if let Some(err) = self.task.divergence() {
            self.phase = Phase::Done;
            return Err(EnvError::Sim(err.clone()));
        }
        self.task.observe(obs);
        self.steps = 0;
        self.phase = Phase::Running;
        Ok(())
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Result<StepOut, EnvError> {
        let spec = self.task.spec();
        match self.phase {
            Phase::NeverReset => return Err(EnvError::StepBeforeReset { task: spec.id.clone() }),
            Phase::Done => return Err(EnvError::StepAfterDone { task: spec.id.clone() }),
            Phase::Running => {}
        }
        check_action(spec, action)?;
        check_obs_len(spec, obs)?;
        let max_steps = spec.max_episode_steps;
        let out = self.task.advance(action, &mut self.rng);
        self.task.observe(obs);
        self.steps += 1;
        let diverged = self.task.divergence();
        if let Some(err) = diverged {
            let task = &self.task.spec().id;
            tracing::warn!(task = %task, step = self.steps, "physics diverged, episode truncated: {err}");
        }
        let truncated = self.steps >= max_steps || diverged.is_some();
        if out.terminated || truncated {
            self.phase = Phase::Done;
        }
        Ok(StepOut { reward: out.reward, terminated: out.terminated, truncated, diverged: diverged.is_some() })
    }

    fn reward_terms(&self) -> &[(&'static str, f64)] {
        self.task.reward_terms()
    }

    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            task_state: self.task.state(),
            rng_seed: self.rng.get_seed(),
            rng_stream: self.rng.get_stream(),
            rng_word_pos: self.rng.get_word_pos(),
            steps: self.steps,
            phase: self.phase.code(),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let phase = Phase::from_code(snapshot.phase)?;
        self.task.set_state(&snapshot.task_state)?;
        let mut rng = EnvRng::from_seed(snapshot.rng_seed);
        rng.set_stream(snapshot.rng_stream);
        rng.set_word_pos(snapshot.rng_word_pos);
        self.rng = rng;
        self.steps = snapshot.steps;
        self.phase = phase;
        Ok(())
    }
}
