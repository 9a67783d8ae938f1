//! Shared machinery of the on-policy algorithms (PPO and the DMERL family): so far GAE.

mod gae;

pub use gae::{gae, GaeInputs};
