//! `cargo xtask <task>`: project automation that needs no tools beyond cargo.
//!
//! - `tidy`: checks the architecture invariants a machine can check (crate dependency rules,
//!   dependencies pinned once in the workspace, paths named in `docs/` exist).
//! - `reproduce SUITE`: runs a suite of `xtask/suites/` (missing runs only), then `report`.
//! - `report DIR`: `summary.md` and one plot per task from the runs under DIR.
//! - `bench`: the criterion benchmarks of `dime-bench`, recorded under `docs/results/`.
//! - `learn-check`: the short learning checks that are too slow for `cargo test`.
//! - `compare-env ID|all`: lock-step comparison of embedded tasks with their Python originals.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use xtask::{bench, compare_env, plan, report, reproduce, suite, tidy};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Project automation for dime")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Check the machine-checkable architecture invariants.
    Tidy,
    /// Run every missing (algorithm, task, seed) of a suite, resuming interrupted runs; then report.
    Reproduce {
        /// Suite name in xtask/suites/ (quick, cpu-classic, dmerl-classic, paper-dmc, paper-gym) or a suite file.
        suite: String,
        /// Runs side by side.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Seeds instead of the suite's: a list with ranges, e.g. 0,1 or 0-4.
        #[arg(long)]
        seeds: Option<String>,
        /// Output folder (default: runs/suites/<suite>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Threads per run instead of the suite's threads_per_run (changes results in the last bits).
        #[arg(long)]
        threads: Option<usize>,
        /// Write a Slurm job-array script (one array task per run) instead of running.
        #[arg(long)]
        slurm: bool,
        /// The dime binary (default: build it with `cargo build --release --bin dime`).
        #[arg(long)]
        dime: Option<PathBuf>,
    },
    /// Aggregate the runs under DIR into summary.md and one plot per task (SVG and PNG).
    Report {
        /// Folder of runs, e.g. runs/suites/quick.
        dir: PathBuf,
        /// Where to write summary.md and the plots (default: DIR).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the criterion benchmarks and write docs/results/bench-<date>.md.
    Bench {
        /// Arguments passed on to criterion (e.g. a filter).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The short learning checks (release mode).
    LearnCheck,
    /// Step embedded tasks in lock-step with their Python originals (needs the Python packages
    /// of docs/python-bridge.md): per-step errors, divergence steps, random-action statistics.
    CompareEnv {
        /// Task ids (e.g. gym/Hopper-v5, dmc/cartpole-swingup) or `all`.
        ids: Vec<String>,
        /// Seeds per task.
        #[arg(long, default_value_t = 3)]
        seeds: u64,
        /// Random-action steps per seed.
        #[arg(long, default_value_t = 100)]
        steps: u64,
        /// Random-action episodes per side for the statistics (0: none).
        #[arg(long, default_value_t = 0)]
        episodes: u64,
    },
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let root = workspace_root()?;
    match Cli::parse().task {
        Task::Tidy => tidy::run(&root)?,
        Task::Reproduce { suite, jobs, seeds, out, threads, slurm, dime } => {
            let suite_path = suite::resolve_suite_path(&root, &suite);
            let name = suite_path.file_stem().map_or_else(|| "suite".into(), |s| s.to_string_lossy().into_owned());
            let dime = match dime {
                Some(path) => path,
                None => build_dime(&root)?,
            };
            let opts = reproduce::Options {
                suite: suite_path,
                out: out.unwrap_or_else(|| root.join("runs").join("suites").join(name)),
                jobs,
                seeds: seeds.as_deref().map(plan::parse_seeds).transpose()?,
                threads,
                dime,
                slurm,
                report: true,
            };
            let outcome = reproduce::reproduce(&opts)?;
            if !outcome.failures.is_empty() {
                bail!("{} of {} runs failed (listed above with their logs)", outcome.failures.len(), outcome.total);
            }
            if outcome.interrupted {
                eprintln!("interrupted");
                return Ok(ExitCode::from(130));
            }
        }
        Task::Report { dir, out } => {
            let path = report::write_report(&dir, out.as_deref().unwrap_or(&dir))?;
            println!("wrote {}", path.display());
        }
        Task::Bench { args } => {
            bench::run(&root, &args)?;
        }
        Task::LearnCheck => learn_check(&root)?,
        Task::CompareEnv { ids, seeds, steps, episodes } => {
            let opts =
                ["--seeds", &seeds.to_string(), "--steps", &steps.to_string(), "--episodes", &episodes.to_string()]
                    .map(String::from);
            if !compare_env::run(&root, &ids, &opts)?.success() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    Ok(dir.parent().context("xtask has no parent directory")?.to_path_buf())
}

/// Run `cargo <args>` in the workspace root, failing if it fails.
fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(cargo).args(args).current_dir(root).status().context("could not start cargo")?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Build the release `dime` binary and return its path.
fn build_dime(root: &Path) -> Result<PathBuf> {
    cargo(root, &["build", "--release", "--bin", "dime"])?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok(target.join("release").join("dime"))
}

/// Learning checks, in release mode: each crate's `learn_check` test target holds `#[ignore]`d
/// tests, run here explicitly (sampler, critic, then the agents: about 1.5 hours on 2 cores).
fn learn_check(root: &Path) -> Result<()> {
    for package in ["dime-diffusion", "dime-critic", "dime-algos"] {
        cargo(root, &["test", "--release", "-p", package, "--test", "learn_check", "--", "--ignored", "--nocapture"])?;
    }
    Ok(())
}
