//! DMERL (dmerl.md): diffusion policies trained one denoising step at a time on the
//! diffusion-augmented MDP. So far: the augmented MDP ([`AugmentedEnv`]) and DiffPPO
//! ([`diffppo::DiffPpoAgent`]); DiffWPO and DiffSAC are not written yet.

mod augmented;
pub mod diffppo;

pub use augmented::{AugmentedConfig, AugmentedEnv, AugmentedStep, DiscountMode};
