//! PPO with a Gaussian policy (dmerl.md §9.1): the on-policy baseline of DiffPPO, run in the
//! shared training loop (one environment, CleanRL's single-env setting).

mod agent;
mod config;
mod normalise;
pub(crate) mod policy;
mod state;

pub use agent::{PpoAgent, PPO_METRICS};
pub use config::PpoConfig;
pub use normalise::{Normalisers, RewardScaler, RunningMeanStd};
pub use policy::GaussianPolicy;
