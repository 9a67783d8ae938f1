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
    /// A `py/...` id in a build without the `python` feature.
    #[error(
        "task `{id}` runs through the Python bridge, which this build leaves out; rebuild with \
         `--features python` (e.g. `cargo run --release --features python -- train --env {id}`), \
         see docs/python-bridge.md"
    )]
    PythonBridgeDisabled {
        /// The id that was asked for.
        id: String,
    },
    /// The Python side of a `py/...` task failed: a missing package, an unknown id, an
    /// environment dime cannot drive, a refused observation, or an exception inside the
    /// environment. Carries the Python message and traceback.
    #[error("task `{id}`: {kind}: {message}{}", if traceback.is_empty() { String::new() } else { format!("\nPython traceback:\n{traceback}") })]
    Python {
        /// The task id (`py/...`).
        id: String,
        /// What went wrong.
        kind: PythonErrorKind,
        /// The Python exception's class and message.
        message: String,
        /// The formatted Python traceback (empty if there is none).
        traceback: String,
    },
}

/// The kinds of [`EnvError::Python`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PythonErrorKind {
    /// A Python package the environment needs cannot be imported.
    MissingPackage,
    /// Gymnasium (or Shimmy, MyoSuite) does not know the environment id.
    UnknownTask,
    /// The environment exists but has spaces or bounds dime cannot use.
    Unsupported,
    /// An observation has another shape or dtype than the observation space promised.
    BadObservation,
    /// The environment's state cannot be saved or restored (no MuJoCo physics).
    StateUnsupported,
    /// Any other Python exception, raised inside the environment.
    Exception,
}

impl std::fmt::Display for PythonErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MissingPackage => "missing Python package",
            Self::UnknownTask => "unknown Python environment",
            Self::Unsupported => "unsupported Python environment",
            Self::BadObservation => "observation refused",
            Self::StateUnsupported => "state cannot be saved",
            Self::Exception => "Python exception in the environment",
        })
    }
}
