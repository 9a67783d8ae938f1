//! Q-networks of dime: DIME's categorical CrossQ critic, SAC's twin Q with Polyak targets,
//! CrossQ's scalar BatchRenorm critic, a value network, and the losses they train on.
//!
//! Why it is shaped this way:
//!
//! - **Losses and targets are free functions** ([`categorical_td_loss`], [`critic_target`],
//!   [`project_onto_atoms`], [`soft_q_target`], [`squared_td_loss`], [`value_loss`]), each named
//!   for its equation in `dime.md`/`baselines.md`, so each is tested alone (golden C51 vectors,
//!   mass conservation, gradient checks) and the agents in `dime-algos` read like the papers.
//! - **Train and eval mode are arguments** ([`ForwardMode`]), never a flag inside the network.
//!   BatchRenorm's running statistics are the critic's state in CrossQ and DIME (there is no
//!   target network), so when they move must be visible at the call site: the joint pass over
//!   `[(s, a); (s', a')]` moves them exactly once per member, an eval call never does.
//! - **The categorical target is computed on the host** in f32 in the official operation order:
//!   it is under a stop-gradient, costs `B·N` operations per member, and so matches the official
//!   projection to float rounding instead of to the accident of a tensor formulation.
//! - **Each critic owns one name-sorted [`dime_nn::ParamStore`] and one [`dime_nn::Adam`] stepped in place**, which
//!   updates the parameters' own storage in place (the same arithmetic as [`dime_nn::Adam`] without
//!   its host round trip, measured at ~12% of a paper-critic update), so updates are deterministic
//!   and report their forward / backward / optimiser split ([`UpdateTimings`]) for the benchmarks.
//! - **The categorical critic has a fused CPU path** (`src/host/`): with f32 parameters on the
//!   CPU, [`CategoricalCritic::update`] runs on plain buffers with `dime_nn::host_gemm` products
//!   and hand-written backward passes (2.7× faster than candle for the cpu preset, ~88% of the
//!   matmul rate for the paper preset), and [`CategoricalCritic::mean_q_and_action_grad`] gives
//!   the actor `Q̄` and its action gradient. The candle path stays as the reference
//!   ([`CategoricalCritic::update_reference`]) that tests hold the host path to.
//! - **Bad input is a [`CriticError`]**, never a panic: mismatched dimensions, an empty or inverted
//!   support, non-finite rewards or bounds.
//!
//! Initialisation is seeded only: every kernel is drawn from the caller's `ChaCha8Rng` (flax's
//! LeCun-normal, zero biases), never from candle's unseeded RNG.

mod batch;
mod categorical;
mod config;
mod descend;
mod error;
mod host;
mod losses;
mod mlp;
mod projection;
mod scalar;
mod support;
mod value;

pub use batch::{CriticBatch, CriticUpdate, UpdateTimings};
pub use categorical::{CategoricalCritic, JointOutput};
pub use config::{Bootstrap, CriticConfig, CriticHead, Normalisation};
pub use error::CriticError;
pub use losses::{categorical_td_loss, soft_q_target, squared_td_loss, value_loss, LOG_EPSILON};
pub use mlp::ForwardMode;
pub use projection::{critic_target, project_onto_atoms, shifted_atoms, TdInputs};
pub use scalar::ScalarCritic;
pub use support::Support;
pub use value::{ValueConfig, ValueNetwork};
