//! Agents, buffers, the training loop and checkpoints for dime.
//!
//! This is the only crate that composes the layers (`dime-nn`, `dime-diffusion`, `dime-critic`,
//! `dime-envs`). What exists so far is the tensor-free machinery every agent shares:
//!
//! - [`ReplayBuffer`]: flat `f32` columns, seeded uniform sampling, terminated and truncated
//!   kept apart, serialisable for checkpoints;
//! - [`checkpoint`]: crash-safe checkpoint folders (temp folder, then rename) with a checksummed
//!   manifest, so a damaged file is refused with an error that names it;
//! - [`MetricsSink`]: the `metrics.csv` writer, flushed row by row and reopenable on resume;
//! - [`Streams`]: the run's independent random streams derived from one root seed;
//! - [`Trainer`]: the off-policy loop, generic over any [`Agent`], with evaluation, metrics,
//!   scheduled and interrupt-time checkpoints, exact resume and a non-finite guard.
//!
//! The agents: [`dime::DimeAgent`] and [`sac::SacAgent`], which also runs CrossQ with the
//! settings of [`crossq`].

mod agent;
pub mod checkpoint;
pub mod crossq;
pub mod dime;
pub mod dmerl;
mod error;
mod metrics;
pub mod onpolicy;
pub mod ppo;
mod replay;
pub mod run;
pub mod sac;
mod streams;
pub mod temperature;
pub mod tensor_file;
mod train;

pub use agent::{ActMode, Agent};
pub use error::AlgoError;
pub use metrics::{truncate_rows_after, MetricsSink};
pub use replay::{Batch, Minibatch, ReplayBuffer, Transition};
pub use streams::{StreamState, Streams};
pub use train::{EvalReport, LoopConfig, Observer, Outcome, Silent, Trainer, METRIC_COLUMNS};
