//! DiffWPO (dmerl.md §6): Wasserstein policy optimisation on the diffusion-augmented MDP, with a
//! learned critic `Q(s̃_k, x_{k+1})`, a KL trust region per denoising step and a learned
//! temperature; with a Gaussian policy, the Gaussian WPO baseline of §9.2. Where this differs from the official REPPO-based code is listed in
//! [`WpoConfig::paper`].

mod agent;
mod config;
mod policy;
mod state;

pub use agent::{WpoAgent, DIFFWPO_METRICS};
pub use config::WpoConfig;
pub use policy::WpoPolicyConfig;
