//! SAC: soft actor-critic with a tanh-Gaussian actor and twin Q with Polyak targets.
//! The same agent runs CrossQ with CrossQ's settings (`crate::crossq`).
//! See `README.md` in this folder for what it is and where dime deviates from the reference code.

mod actor;
mod agent;
mod config;
mod host_actor;
mod losses;
mod state;

pub use actor::{ActorSample, TanhGaussianActor};
pub use agent::{SacAgent, SAC_METRICS};
pub use config::{ActorConfig, EntropyCoef, LogStdBound, PolicySchedule, SacConfig, TemperatureSample};
pub use losses::{actor_loss, tanh_gaussian_log_prob, temperature_gradient};
