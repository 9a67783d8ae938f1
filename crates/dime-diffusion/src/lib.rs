//! The DIME diffusion policy (dime.md §2–4, §10).
//!
//! A K-step chain `x_0 → x_1 → … → x_K`, `a = tanh(x_K)`, whose kernels are Euler–Maruyama
//! steps of Langevin dynamics of the prior plus a learned score `f_θ(x, s, k)`, and the
//! per-sample quantity `ℓ = ℓ_prior + ℓ_path + ℓ_tanh` with `E[ℓ] ≥ E[log π(a|s)]`, so that
//! `−E[ℓ]` lower-bounds the policy's entropy.
//!
//! Why it is shaped this way:
//! - **Noise is an input** ([`ChainNoise`], drawn by the caller from a seeded `ChaCha8Rng`):
//!   sampling is a pure function of parameters, observations and noise, so gradient checks
//!   hold the noise fixed and determinism needs no hidden RNG state.
//! - **The parts of ℓ are kept apart** ([`Chain`]): the actor loss and critic target use the
//!   full ℓ while the temperature uses `ℓ_run = ℓ − ℓ_prior`; mixing them is a known pitfall.
//! - **The first layer is hoisted** ([`FirstLayerForm::Hoisted`], dime.md §10): the step index
//!   enters only through `W_t·τ(k) + b`, one bias row per k for the whole batch, and the
//!   observation's `W_s·s` is computed once per sample instead of K times. The plain form is
//!   kept for tests and benchmarks; a run uses one form throughout.
//! - **Acting has its own path** ([`ActingPolicy`]): a frozen copy with the time path
//!   precomputed and no ℓ terms; one observation runs on host slices (candle's per-op
//!   overhead exceeds the arithmetic at batch 1).
//! - **Numerics follow the reference** where float32 rounding is visible: the Fourier argument
//!   uses a fused multiply-add, softplus uses `log1p`, and divisions by σ0² are divisions.
//!
//! The sampler's conditioning input is just a tensor: this crate knows nothing of critics or
//! environments.

mod acting;
mod chain;
mod config;
mod error;
mod host_backward;
mod host_chain;
mod kernels;
mod noise;
mod policy;
mod schedule;
mod score_net;
mod single_step;

pub use acting::{single_noise, ActingPolicy};
pub use chain::Chain;
pub use config::{FirstLayerForm, OutputInit, SamplerConfig, ScoreNetConfig, StepSchedule};
pub use error::SamplerError;
pub use host_chain::{HostChain, Tape};
pub use kernels::{generative_mean, reference_mean, step_sizes, StepSizes};
pub use noise::ChainNoise;
pub use policy::{DiffusionPolicy, FRICTION_RAW, STEP_SIZE_RAW};
pub use schedule::schedule_factors;
pub use score_net::ScoreNet;
pub use single_step::{StepKernel, StepLogProbs};
