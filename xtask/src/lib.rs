//! Project automation for dime, as a library so that the root package's end-to-end tests can
//! drive it with the `dime` binary cargo builds for them (`tests/reproduce.rs`); `main.rs` is the
//! `cargo xtask` command line.
//!
//! - [`suite`]: suite files (`xtask/suites/*.toml`), checked with file and line in every error.
//! - [`plan`], [`reproduce`], [`slurm`]: from a suite to run folders, run locally or on Slurm.
//! - [`runs`]: reading run folders (finished or not, config, learning curve).
//! - [`report`], [`stats`], [`plot`], [`paper`]: `summary.md` and one plot per task.
//! - [`bench`]: the criterion benchmarks and their dated record in `docs/results/`.
//! - [`tidy`]: the architecture checks.

pub mod bench;
pub mod compare_env;
pub mod paper;
pub mod plan;
pub mod plot;
pub mod report;
pub mod reproduce;
pub mod runs;
pub mod slurm;
pub mod stats;
pub mod suite;
pub mod tidy;
