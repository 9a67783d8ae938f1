//! Pure-Rust continuous-control environments for dime.
//!
//! This crate has no tensor library on purpose: observations and actions are plain `f64`
//! slices (f32 at the [`VecEnv`] boundary), so a physics bug can never hide behind autograd
//! and the crate can be used alone. Every task is a [`Task`] (dynamics and reward only);
//! [`TaskEnv`] adds the parts all tasks share once: the seeded ChaCha stream, input checks
//! (wrong lengths and non-finite actions are errors, never panics), the time limit, and the
//! rule that stepping a finished episode is an error.
//!
//! Classic-control tasks reproduce Gymnasium bit for bit, including its float32 roundings;
//! the golden tests in `tests/` replay recorded trajectories to prove it.
//!
//! The DeepMind Control Suite tasks (`dmc/*`, [`tasks::dmc`]) and the Gymnasium MuJoCo tasks
//! (`gym/HalfCheetah-v5`, `Hopper`, `Walker2d`, `Ant`, `Humanoid`, [`tasks::gym_mujoco`]) run on
//! [`sim`], a pure-Rust reduced-coordinate rigid-body engine with MuJoCo's soft contacts that
//! follows MuJoCo's step operation by operation, so one step from a state recorded with
//! dm_control or Gymnasium agrees to about 1e-14. A physics step that diverges never returns NaN:
//! the episode ends `truncated` with [`StepOut::diverged`] set.
//!
//! ```
//! use dime_envs::{make, EnvConfig};
//! let mut env = make("gym/Pendulum-v1", &EnvConfig::default()).unwrap();
//! let mut obs = vec![0.0; env.spec().obs_dim];
//! env.reset(Some(0), &mut obs).unwrap();
//! let out = env.step(&[0.5], &mut obs).unwrap();
//! assert!(out.reward <= 0.0);
//! ```

mod check;
mod env;
mod error;
#[cfg(feature = "python")]
pub mod python;
mod registry;
mod rng;
pub mod sim;
mod spec;
pub mod stats;
pub mod tasks;
mod vec_env;
mod wrappers;

pub use check::{check_env, check_env_with, CheckConfig, Failure, Property, Report};
pub use env::{Env, EnvSnapshot, Task, TaskEnv, TaskStep};
pub use error::{EnvError, PythonErrorKind};
pub use registry::{close_matches, ids, make, make_unit, spec, EnvConfig};
pub use rng::{env_rng, lane_seed, splitmix64, EnvRng};
pub use spec::{EnvSpec, ObsField, StepOut};
pub use vec_env::{Stepping, VecEnv, VecEnvSnapshot, VecStep, PROBE_CALLS};
pub use wrappers::{rescale_from_unit, rescale_to_unit, RescaleAction};
