//! DMERL (dmerl.md): diffusion policies trained one denoising step at a time on the
//! diffusion-augmented MDP. So far: the augmented MDP ([`AugmentedEnv`]), DiffPPO
//! ([`diffppo::DiffPpoAgent`]), DiffSAC ([`diffsac::DiffSacAgent`]) and DiffWPO
//! ([`diffwpo::DiffWpoAgent`]).

mod augmented;
pub mod diffppo;
pub mod diffsac;
pub mod diffwpo;
pub mod net;

pub use augmented::{AugmentedConfig, AugmentedEnv, AugmentedStep, DiscountMode, SoftStep};
