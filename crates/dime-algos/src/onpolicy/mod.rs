//! Shared machinery of the on-policy algorithms (PPO and the DMERL family): GAE and PPO's losses.

mod gae;
mod losses;

pub use gae::{gae, GaeInputs};
pub use losses::{clipped_surrogate_loss, normalise_advantages, ratio_diagnostics, value_loss};
