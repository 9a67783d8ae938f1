//! Typed errors of `dime-envs`.

use thiserror::Error;

/// Everything that can go wrong when building or stepping an environment.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EnvError {
    /// The task id is not registered; `suggestions` holds the closest known ids.
    #[error("unknown task id `{id}`; did you mean one of: {}? (`dime list tasks` shows all)", suggestions.join(", "))]
    UnknownTask {
        /// The id that was asked for.
        id: String,
        /// Registered ids closest to it, best first.
        suggestions: Vec<String>,
    },
    /// An action or observation buffer has the wrong length.
    #[error("{what} has length {got}, but task `{task}` needs {expected}")]
    WrongLength {
        /// Which buffer (`action`, `observation buffer`, ...).
        what: &'static str,
        /// The task id.
        task: String,
        /// The length the task needs.
        expected: usize,
        /// The length that was passed.
        got: usize,
    },
    /// An action entry is NaN or infinite.
    #[error("action[{index}] = {value} is not finite (task `{task}`)")]
    NonFiniteAction {
        /// The task id.
        task: String,
        /// Position of the offending entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// `step` was called after the episode ended, without a `reset`.
    #[error("task `{task}`: step called after the episode ended; call reset first")]
    StepAfterDone {
        /// The task id.
        task: String,
    },
    /// `step` was called before the first `reset`.
    #[error("task `{task}`: step called before reset")]
    StepBeforeReset {
        /// The task id.
        task: String,
    },
    /// The simulator refused a model or an input, or a step diverged.
    #[error(transparent)]
    Sim(#[from] crate::sim::SimError),
    /// A configuration value is out of its valid range.
    #[error("invalid environment config: {0}")]
    InvalidConfig(String),
}
