//! The `dime` command: list and check tasks (training arrives with the agents).

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use dime::envs::{self, CheckConfig, EnvConfig};

#[derive(Parser)]
#[command(name = "dime", version, about = "Diffusion-based maximum-entropy reinforcement learning")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List what is available.
    List {
        #[command(subcommand)]
        what: ListWhat,
    },
    /// Run the environment conformance checks (determinism, finiteness, dimensions, episode logic) on tasks.
    Check {
        /// Task ids to check; all registered tasks when none is given.
        tasks: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ListWhat {
    /// Registered tasks with their observation and action dimensions and episode length.
    Tasks,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::List { what: ListWhat::Tasks } => list_tasks(),
        Command::Check { tasks } => check(tasks),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn list_tasks() -> Result<()> {
    println!("{:<32} {:>4} {:>4} {:>7}  {:<10} action bounds", "id", "obs", "act", "steps", "physics");
    for id in envs::ids() {
        let spec = envs::spec(id, &EnvConfig::default())?;
        let bounds: Vec<String> =
            spec.act_low.iter().zip(&spec.act_high).map(|(lo, hi)| format!("[{lo}, {hi}]")).collect();
        let bounds = if bounds.windows(2).all(|w| w[0] == w[1]) { bounds[..1].join("") } else { bounds.join(" ") };
        println!(
            "{:<32} {:>4} {:>4} {:>7}  {:<10} {bounds}",
            spec.id, spec.obs_dim, spec.act_dim, spec.max_episode_steps, spec.physics
        );
    }
    Ok(())
}

fn check(tasks: Vec<String>) -> Result<()> {
    let ids: Vec<String> = if tasks.is_empty() { envs::ids().into_iter().map(String::from).collect() } else { tasks };
    let mut failed = 0;
    for id in &ids {
        if let Err(e) = envs::spec(id, &EnvConfig::default()) {
            failed += 1;
            println!("FAIL  {e}");
            continue;
        }
        match envs::check_env(id, &CheckConfig::default()) {
            Ok(report) => println!("ok    {id} ({} steps)", report.steps),
            Err(failures) => {
                failed += 1;
                println!("FAIL  {id}");
                for f in failures {
                    println!("      {f}");
                }
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} task(s) failed their checks", ids.len());
    }
    Ok(())
}
