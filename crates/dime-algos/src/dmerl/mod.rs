//! DMERL (dmerl.md): diffusion policies trained one denoising step at a time on the
//! diffusion-augmented MDP. So far: the augmented MDP ([`AugmentedEnv`]).

mod augmented;

pub use augmented::{AugmentedConfig, AugmentedEnv, AugmentedStep, DiscountMode};
