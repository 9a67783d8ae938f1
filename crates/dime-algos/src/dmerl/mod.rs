//! DMERL (dmerl.md): diffusion policies trained one denoising step at a time on the
//! diffusion-augmented MDP. So far: the augmented MDP ([`AugmentedEnv`]), DiffPPO
//! ([`diffppo::DiffPpoAgent`]) and DiffSAC ([`diffsac::DiffSacAgent`]); DiffWPO is not written yet.

mod augmented;
pub mod diffppo;
pub mod diffsac;

pub use augmented::{AugmentedConfig, AugmentedEnv, AugmentedStep, DiscountMode};
