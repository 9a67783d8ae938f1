//! Shared machinery of the on-policy algorithms (PPO and the DMERL family): GAE, PPO's losses and
//! WPO's surrogate and trust-region KL, and the per-lane bookkeeping of agents that act for
//! several environments at once.

mod gae;
mod lanes;
mod losses;
mod wpo;

pub use gae::{gae, GaeInputs};
pub use lanes::Lanes;
pub use losses::{
    centred_entropy_advantages, clipped_surrogate_loss, normalise_advantages, ratio_diagnostics, value_loss,
};
pub use wpo::{gaussian_kl, gaussian_log_density, gaussian_score, wpo_surrogate, wpo_surrogate_rows};
