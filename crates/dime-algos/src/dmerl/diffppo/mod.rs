//! DiffPPO (dmerl.md §5): PPO on the diffusion-augmented MDP.

mod agent;
mod config;
mod state;

pub use agent::{DiffPpoAgent, DIFFPPO_METRICS};
pub use config::DiffPpoConfig;
