//! `cargo xtask compare-env ID|all`: lock-step comparison of embedded tasks with their
//! Gymnasium / dm_control originals.
//!
//! xtask links no dime crate and no Python: it runs the `compare_env` example of `dime-envs`
//! built with the `python` feature (release), which does the comparison through the bridge.
//! The Python packages come from `VIRTUAL_ENV`, or `.venv/` at the workspace root.

use std::path::Path;
use std::process::{Command, ExitStatus};

use anyhow::{bail, Context, Result};

/// Run the comparison for `ids` (or `all`) with the example's options `args`.
pub fn run(root: &Path, ids: &[String], args: &[String]) -> Result<ExitStatus> {
    if ids.is_empty() {
        bail!("name a task (e.g. gym/Hopper-v5) or `all`");
    }
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root)
        .args(["run", "--release", "-p", "dime-envs", "--features", "python", "--example", "compare_env", "--"])
        .args(ids)
        .args(args);
    if std::env::var_os("VIRTUAL_ENV").is_none() {
        let venv = root.join(".venv");
        if !venv.is_dir() {
            bail!("no VIRTUAL_ENV set and no {} (docs/python-bridge.md says how to create it)", venv.display());
        }
        cmd.env("VIRTUAL_ENV", &venv);
        // pyo3's build finds the interpreter through PYO3_PYTHON or PATH: use the venv's.
        if std::env::var_os("PYO3_PYTHON").is_none() {
            cmd.env("PYO3_PYTHON", venv.join("bin").join("python3"));
        }
    }
    cmd.status().context("running cargo for the compare_env example")
}
