//! The `dime` command: train, resume and evaluate agents; list and check tasks.

mod curve;
mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use dime::algos::run::{create_run_dir, read_run_config, Algo, RunConfig};
use dime::algos::{Outcome, Trainer};
use dime::envs::{self, make_unit, CheckConfig, EnvConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "dime", version, about = "Diffusion-based maximum-entropy reinforcement learning")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train an agent; with no options, DIME (cpu preset) on gym/Pendulum-v1 for 15 000 steps.
    Train(TrainArgs),
    /// Continue an interrupted run from its latest checkpoint.
    Resume {
        /// The run folder.
        dir: PathBuf,
    },
    /// Evaluate the latest checkpoint of a run.
    Eval {
        /// The run folder.
        dir: PathBuf,
        /// Number of evaluation episodes.
        #[arg(long, default_value_t = 10)]
        episodes: u32,
    },
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

#[derive(clap::Args)]
struct TrainArgs {
    /// Algorithm (`dime list algorithms`).
    #[arg(long, default_value = "dime")]
    algo: String,
    /// Task id (`dime list tasks`).
    #[arg(long, default_value = "gym/Pendulum-v1")]
    env: String,
    /// Preset of the algorithm's settings (`dime list presets`).
    #[arg(long, default_value = "cpu")]
    preset: String,
    /// Environment steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Root seed of every random stream.
    #[arg(long)]
    seed: Option<u64>,
    /// Run folder (default: runs/<algo>-<task>-seed<seed>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// A full run configuration (TOML, as a run's config.toml); --steps, --seed and --num-envs override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Environments stepped together (on-policy agents and the replay-based DIME, SAC and
    /// CrossQ); step budgets, evaluation and checkpoint cadences must be multiples of it.
    #[arg(long)]
    num_envs: Option<usize>,
}

#[derive(Subcommand)]
enum ListWhat {
    /// Registered tasks with their observation and action dimensions and episode length.
    Tasks,
    /// Algorithms `dime train` can run.
    Algorithms,
    /// The presets of each algorithm.
    Presets,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Train(args) => train(args),
        Command::Resume { dir } => resume(&dir),
        Command::Eval { dir, episodes } => eval(&dir, episodes),
        Command::List { what: ListWhat::Tasks } => list_tasks(),
        Command::List { what: ListWhat::Algorithms } => {
            Algo::ALL.iter().for_each(|a| println!("{}", a.name()));
            Ok(())
        }
        Command::List { what: ListWhat::Presets } => {
            Algo::ALL.iter().for_each(|a| println!("{}: {}", a.name(), a.presets().join(", ")));
            Ok(())
        }
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

/// Default budget of `dime train`: enough for DIME to swing Pendulum up on most seeds.
const DEFAULT_STEPS: u64 = 15_000;

fn train(args: TrainArgs) -> Result<()> {
    let mut config = match &args.config {
        Some(file) => {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
            RunConfig::from_toml(&text).with_context(|| format!("in {}", file.display()))?
        }
        None => {
            let algo = Algo::parse(&args.algo)?;
            RunConfig::from_preset(algo, &args.preset, &args.env, 0, DEFAULT_STEPS)?
        }
    };
    if let Some(steps) = args.steps {
        config.loop_cfg.total_steps = steps;
    }
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(lanes) = args.num_envs {
        config.loop_cfg.num_envs = lanes;
    }
    config.validate()?;
    let (mut agent, resolved) = config.build_agent()?;
    let dir = args.out.unwrap_or_else(|| {
        let task = config.task.replace('/', "_");
        PathBuf::from("runs").join(format!("{}-{task}-seed{}", config.algo().name(), config.seed))
    });
    create_run_dir(&dir, &resolved)?;
    write_provenance(&dir, &resolved)?;
    println!("run folder: {}", dir.display());
    let train_envs = resolved.train_envs()?;
    let eval_env = make_unit(&resolved.task, &resolved.env)?;
    let trainer =
        Trainer::new(resolved.loop_cfg.clone(), agent.as_mut(), train_envs, eval_env, resolved.seed, Some(&dir))?;
    drive(trainer, &dir, &resolved)
}

fn resume(dir: &Path) -> Result<()> {
    let config = read_run_config(dir)?;
    let (mut agent, _) = config.build_agent()?;
    let train_envs = config.train_envs()?;
    let eval_env = make_unit(&config.task, &config.env)?;
    let trainer = Trainer::resume(config.loop_cfg.clone(), agent.as_mut(), train_envs, eval_env, dir)?;
    println!("resuming {} at {} steps", dir.display(), trainer.env_steps());
    drive(trainer, dir, &config)
}

/// Run to the end or to Ctrl-C, with a progress bar; then draw the curve.
fn drive(mut trainer: Trainer, dir: &Path, config: &RunConfig) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).context("installing the Ctrl-C handler")?;
    let mut progress = progress::Progress::new(config.loop_cfg.total_steps, trainer.env_steps());
    let outcome = trainer.run(&stop, &mut progress);
    progress.finish();
    let outcome = outcome.with_context(|| format!("run in {}", dir.display()))?;
    let title = format!("{} on {} (seed {})", config.algo().name(), config.task, config.seed);
    if let Err(e) = curve::plot_curve(&dir.join("metrics.csv"), &dir.join("curve.svg"), &title) {
        eprintln!("warning: no curve drawn: {e:#}");
    }
    match outcome {
        Outcome::Finished => println!("finished; metrics, checkpoint and curve.svg in {}", dir.display()),
        Outcome::Interrupted { env_steps } => {
            println!(
                "interrupted at {env_steps} steps; checkpoint written. Continue with: dime resume {}",
                dir.display()
            )
        }
    }
    Ok(())
}

fn eval(dir: &Path, episodes: u32) -> Result<()> {
    if episodes == 0 {
        bail!("--episodes must be positive");
    }
    let mut config = read_run_config(dir)?;
    config.loop_cfg.eval_episodes = episodes;
    let (mut agent, _) = config.build_agent()?;
    let train_envs = config.train_envs()?;
    let eval_env = make_unit(&config.task, &config.env)?;
    let mut trainer = Trainer::resume(config.loop_cfg.clone(), agent.as_mut(), train_envs, eval_env, dir)?;
    let report = trainer.evaluate()?;
    let ended = match dime_envs::spec(&config.task, &config.env)?.can_terminate {
        true => format!("; {} of {episodes} ended in a terminal state", report.terminated),
        false => String::new(),
    };
    println!(
        "{} after {} steps: return {:.2} ± {:.2} over {episodes} episodes{ended}",
        config.task, report.env_steps, report.return_mean, report.return_std
    );
    Ok(())
}

/// `provenance.toml`: what produced the run (version, git revision, threads, seed).
fn write_provenance(dir: &Path, config: &RunConfig) -> Result<()> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(["-C", env!("CARGO_MANIFEST_DIR")])
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let revision = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain"]).map(|s| !s.is_empty());
    let spec = envs::spec(&config.task, &config.env)?;
    let text = format!(
        "dime_version = \"{}\"\ngit_revision = \"{revision}\"\ngit_dirty = {}\ndevice = \"cpu\"\ncandle_threads = {}\nseed = {}\ntask_physics = \"{}\"\n",
        env!("CARGO_PKG_VERSION"),
        dirty.map_or("\"unknown\"".to_string(), |d| d.to_string()),
        candle_core_threads(),
        config.seed,
        spec.physics,
    );
    std::fs::write(dir.join("provenance.toml"), text).context("writing provenance.toml")
}

fn candle_core_threads() -> usize {
    dime::nn::cpu_threads()
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
