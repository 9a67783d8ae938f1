//! `cargo xtask <task>`: project automation that needs no tools beyond cargo.
//!
//! - `tidy`: checks the architecture invariants a machine can check (crate dependency rules,
//!   dependencies pinned once in the workspace, paths named in `docs/` exist).
//! - `learn-check`: the short learning checks that are too slow for `cargo test`.
//! - `bench`: the criterion benchmarks of `dime-bench`.

mod tidy;

use std::process::Command;

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask <tidy | learn-check | bench [criterion args]>";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root()?;
    match args.first().map(String::as_str) {
        Some("tidy") => tidy::run(&root),
        Some("learn-check") => learn_check(&root),
        Some("bench") => cargo(&root, &[&["bench", "-p", "dime-bench", "--"], &to_strs(&args[1..])[..]].concat()),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown xtask `{other}`\n{USAGE}"),
    }
}

fn to_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> Result<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    Ok(dir.parent().context("xtask has no parent directory")?.to_path_buf())
}

/// Run `cargo <args>` in the workspace root, failing if it fails.
fn cargo(root: &std::path::Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(cargo).args(args).current_dir(root).status().context("could not start cargo")?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Learning checks, in release mode: each is an `#[ignore]`d test target run explicitly.
fn learn_check(root: &std::path::Path) -> Result<()> {
    cargo(
        root,
        &["test", "--release", "-p", "dime-diffusion", "--test", "learn_check", "--", "--ignored", "--nocapture"],
    )
}
