//! DiffWPO (dmerl.md §6): Wasserstein policy optimisation on the diffusion-augmented MDP, with a
//! learned critic `Q(s̃_k, x_{k+1})`, a KL trust region per denoising step and a learned
//! temperature. Where this differs from the official REPPO-based code is listed in
//! [`DiffWpoConfig::paper`].

mod agent;
mod config;
mod state;

pub use agent::{DiffWpoAgent, DIFFWPO_METRICS};
pub use config::DiffWpoConfig;
