//! DiffSAC (dmerl.md §7): SAC on the diffusion-augmented MDP.
//!
//! **Inferred.** No DiffSAC code is public and the paper's algorithm box is unverified; this is
//! dmerl.md §7 implemented as written — SAC applied to the augmented MDP of §3, one denoising step
//! per actor sample — with the SAC baseline's critic, batch and optimisers so that a comparison
//! with SAC isolates the policy class. Every choice the spec leaves open is stated where it is
//! made ([`DiffSacConfig`], the agent's module docs).

mod agent;
mod config;
mod state;

pub use agent::{DiffSacAgent, DIFFSAC_METRICS};
pub use config::DiffSacConfig;
