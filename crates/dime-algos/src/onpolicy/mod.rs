//! Shared machinery of the on-policy algorithms (PPO and the DMERL family): GAE, PPO's losses and
//! WPO's surrogate and trust-region KL.

mod gae;
mod losses;
mod wpo;

pub use gae::{gae, GaeInputs};
pub use losses::{clipped_surrogate_loss, normalise_advantages, ratio_diagnostics, value_loss};
pub use wpo::{gaussian_kl, gaussian_log_density, gaussian_score, wpo_surrogate, wpo_surrogate_rows};
