//! Static description of a task: dimensions, bounds, layout, timing.

use serde::Serialize;

/// One named slice of the observation vector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObsField {
    /// Name of the field, e.g. `"position"`.
    pub name: &'static str,
    /// First index of the field in the observation.
    pub offset: usize,
    /// Number of entries.
    pub len: usize,
}

impl ObsField {
    /// A field at `offset` of length `len`.
    pub const fn new(name: &'static str, offset: usize, len: usize) -> Self {
        Self { name, offset, len }
    }
}

/// What a task is: its id, dimensions, action bounds, time limit and documented ranges.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvSpec {
    /// Registry id, e.g. `"gym/Pendulum-v1"`.
    pub id: String,
    /// Length of an observation.
    pub obs_dim: usize,
    /// Length of an action.
    pub act_dim: usize,
    /// Lower action bound per dimension, in the task's native units.
    pub act_low: Vec<f64>,
    /// Upper action bound per dimension, in the task's native units.
    pub act_high: Vec<f64>,
    /// Named slices of the observation; together they cover `0..obs_dim` exactly.
    pub obs_layout: Vec<ObsField>,
    /// Time limit: the step with this index (1-based) is `truncated`.
    pub max_episode_steps: u32,
    /// Seconds of simulated time per agent step.
    pub dt: f64,
    /// The physics behind the task: `"analytic"` or an engine version.
    pub physics: &'static str,
    /// Per-step reward range `(low, high)` for actions inside the bounds; used to size value supports.
    pub reward_range: (f64, f64),
    /// Documented per-entry range `(low, high)` of the reset observation (checked by `check_env`).
    pub reset_obs_range: Vec<(f64, f64)>,
    /// Whether the task can end an episode by termination (goal reached, fallen), not only by the time limit.
    pub can_terminate: bool,
    /// Whether the reset state is random (a different seed gives a different reset observation).
    pub random_reset: bool,
}

/// Outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOut {
    /// Reward of the transition.
    pub reward: f64,
    /// The episode ended in a terminal state (no bootstrapping).
    pub terminated: bool,
    /// The episode hit its time limit (bootstrapping still applies), or the physics diverged.
    pub truncated: bool,
    /// The physics diverged on this step: the episode is truncated, the observation is the last
    /// valid state's and the transition must not be learned from.
    pub diverged: bool,
}

impl StepOut {
    /// The episode is over, by either flag.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}
