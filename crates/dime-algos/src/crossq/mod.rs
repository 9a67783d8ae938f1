//! CrossQ (Bhatt, Palenicek et al., ICLR 2024; baselines.md §2): SAC without target networks,
//! with BatchRenorm in the critic and the actor, a joint critic pass over `[(s, a); (s', a')]`,
//! wide critics and a plain policy delay of 3. It is [`crate::sac::SacAgent`] run with the
//! settings below: every difference from SAC is a configuration value, so this module holds
//! only the presets. See `README.md` in this folder.

mod config;

pub use config::{cpu, paper, preset, smoke, PRESETS};
