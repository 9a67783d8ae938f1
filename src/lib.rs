//! dime: diffusion-based maximum-entropy reinforcement learning in Rust.
//!
//! This root crate re-exports the layers so that one dependency gives all of them:
//! [`envs`] (tasks, no tensor library), [`nn`] (tensor building blocks on candle),
//! [`diffusion`] (the diffusion policy and its entropy bound), [`critic`] (Q-networks) and
//! [`algos`] (agents and the training loop, the only layer that composes the others).
//! The `dime` command-line program lives in `src/main.rs`.

pub use dime_algos as algos;
pub use dime_critic as critic;
pub use dime_diffusion as diffusion;
pub use dime_envs as envs;
pub use dime_nn as nn;
