//! Tensor building blocks on candle for dime.
//!
//! This crate knows nothing of reinforcement learning: it holds the layers, activations,
//! initialisers, optimiser and small numerical helpers that the diffusion sampler and the
//! critics are built from. Its shape follows three measured facts about candle on the CPU
//! (see `architecture.md` §6):
//!
//! - **Bias adds are rank-1 matrix products** on the training path ([`Linear::forward`]):
//!   candle's CPU sum over dimension 0, which the backward of a broadcast add needs, is 50–70×
//!   slower than the same sum written as a product with a ones vector. Column statistics in
//!   [`BatchRenorm`] are written the same way.
//! - **All randomness comes from the caller's `ChaCha8Rng`** ([`init`]): candle's CPU RNG cannot
//!   be seeded, so values are drawn on the host and uploaded with `Tensor::from_vec`.
//! - **The optimiser works on host slices** ([`Adam`], [`clip`]): candle's AdamW is about ten
//!   full-size tensor ops per parameter; a fused loop over the raw values is several times
//!   faster and makes gradient clipping and NaN handling plain, testable functions.
//!
//! Parameters live in a [`ParamStore`], a name-sorted map of `Var`s, so every place where order
//! matters (optimiser state, Polyak averaging, checkpoints) iterates in one fixed order.

mod activation;
mod adam_in_place;
mod batch_renorm;
pub mod clip;
mod cpu_map;
mod denormals;
mod density;
mod device;
mod error;
mod fourier;
mod gelu;
pub mod host;
pub mod host_gemm;
pub mod init;
mod linear;
mod optim;
mod params;
mod polyak;
pub mod skinny;
mod softplus;

pub use activation::Activation;
pub use batch_renorm::{BatchRenorm, BatchRenormConfig};
pub use denormals::{flush_denormals, flush_denormals_on_this_thread};
pub use density::{diag_gaussian_log_density, tanh_log_det_jacobian};
pub use device::{cpu_threads, DeviceChoice};
pub use error::NnError;
pub use fourier::FourierTimeFeatures;
pub use gelu::gelu;
pub use linear::{add_row_rank1, Linear};
pub use optim::{host_gradients, Adam, AdamConfig};
pub use params::ParamStore;
pub use polyak::polyak_update;
pub use softplus::{inverse_softplus, mish, softplus};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, NnError>;
