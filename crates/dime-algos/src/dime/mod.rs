//! DIME: soft actor-critic with a diffusion policy and a categorical CrossQ critic.
//! See `README.md` in this folder for what it is and where dime deviates from the official code.

mod agent;
mod config;
mod losses;
mod state;

pub use agent::{DimeAgent, UpdateTimings, DIME_METRICS};
pub use config::{derived_support, DimeConfig, SupportChoice, Temperature};
pub use losses::{actor_loss, temperature_gradient};
