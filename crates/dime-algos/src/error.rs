//! Typed errors of `dime-algos`.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong in buffers, checkpoints and runs.
#[derive(Debug, Error)]
pub enum AlgoError {
    /// A transition or batch request does not fit the buffer's shape.
    #[error("replay buffer: {0}")]
    Replay(String),
    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`writing`, `reading`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A configuration value is invalid, or a run cannot start as asked.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An input to a call is malformed: wrong length, non-finite values.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An environment call failed.
    #[error(transparent)]
    Env(#[from] dime_envs::EnvError),
    /// An update produced a non-finite value; the run stops and its last checkpoint stays as it was.
    #[error(
        "non-finite {name} = {value} after {env_steps} env steps; the run stopped, its last good checkpoint is intact"
    )]
    NonFinite {
        /// Environment steps done when it happened.
        env_steps: u64,
        /// Which metric.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// An error of the tensor layer.
    #[error(transparent)]
    Nn(#[from] dime_nn::NnError),
    /// An error of the diffusion policy.
    #[error(transparent)]
    Sampler(#[from] dime_diffusion::SamplerError),
    /// An error of a critic.
    #[error(transparent)]
    Critic(#[from] dime_critic::CriticError),
    /// An error raised by candle.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// A checkpoint file is missing, truncated or does not match its checksum.
    #[error("checkpoint {path} is damaged: {reason}")]
    CorruptCheckpoint {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl AlgoError {
    /// An I/O error with the path it concerns.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action, path: path.into(), source }
    }
}
