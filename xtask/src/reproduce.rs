//! `cargo xtask reproduce SUITE`: run every missing (algorithm, task, seed) of a suite as its
//! own `dime` process, up to `jobs` at a time, then aggregate.
//!
//! - A finished run is skipped; an interrupted one continues with `dime resume`; a folder
//!   without a checkpoint (killed before its first) is removed and started again.
//! - Runs are independent processes and folders: one failing never touches another. Failures
//!   are listed at the end with their log, and [`Outcome::failures`] makes the exit code say so.
//! - Ctrl-C (SIGINT) stops launching, passes the signal on to the running `dime` processes
//!   (which write a checkpoint and stop) and waits for them; the same command continues later.
//! - Every run gets `threads_per_run` threads from the suite, whatever `jobs` is, so a run's
//!   results do not depend on how many ran beside it.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::plan::{plan_runs, read_catalog, settings_mismatch, PlannedRun};
use crate::runs::{latest_checkpoint_steps, read_curve, RunState};
use crate::slurm::write_slurm_script;
use crate::suite::SuiteFile;

/// Options of one `reproduce` call.
#[derive(Debug, Clone)]
pub struct Options {
    /// The suite file.
    pub suite: PathBuf,
    /// Output folder.
    pub out: PathBuf,
    /// Runs side by side.
    pub jobs: usize,
    /// Seeds to run instead of the suite's.
    pub seeds: Option<Vec<u64>>,
    /// Threads per run instead of the suite's `threads_per_run` (changes results in the last bits).
    pub threads: Option<usize>,
    /// The `dime` binary.
    pub dime: PathBuf,
    /// Write a Slurm job-array script instead of running.
    pub slurm: bool,
    /// Aggregate into `summary.md` and plots at the end.
    pub report: bool,
}

/// A run that did not finish.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `algo-preset task seedS`.
    pub label: String,
    /// What happened.
    pub reason: String,
    /// The run's log file.
    pub log: PathBuf,
}

/// How a `reproduce` call ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Runs of the suite on available tasks.
    pub total: usize,
    /// Runs finished (before or during this call).
    pub finished: usize,
    /// Runs that failed.
    pub failures: Vec<Failure>,
    /// Whether Ctrl-C stopped the call.
    pub interrupted: bool,
    /// Suite tasks this build does not have.
    pub missing_tasks: Vec<String>,
}

static STOP: AtomicBool = AtomicBool::new(false);

fn install_stop_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Failing to install (another handler exists) only loses the graceful stop.
        let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    });
}

/// Run (or, with `slurm`, script) the suite.
pub fn reproduce(opts: &Options) -> Result<Outcome> {
    let file = SuiteFile::read(&opts.suite)?;
    let catalog = read_catalog(&opts.dime)?;
    let availability = file.check(&catalog)?;
    let mut outcome = Outcome::default();
    for (id, close) in &availability.missing {
        let hint = close.as_ref().map(|c| format!(" (did you mean {c}?)")).unwrap_or_default();
        println!("not available yet: {id}{hint}: this build of dime has no such task; its runs are left out");
        outcome.missing_tasks.push(id.clone());
    }
    if availability.available.is_empty() {
        anyhow::bail!("none of the tasks of {} is available in this build of dime", opts.suite.display());
    }
    std::fs::create_dir_all(&opts.out).with_context(|| format!("creating {}", opts.out.display()))?;
    let copy = format!(
        "# suite: {}\n# copied by `cargo xtask reproduce` from {}\n{}",
        file.name(),
        opts.suite.display(),
        file.text
    );
    std::fs::write(opts.out.join("suite.toml"), copy).context("copying the suite")?;
    let seeds = opts.seeds.clone().unwrap_or_else(|| file.suite.seeds.get_ref().clone());
    let threads = opts.threads.unwrap_or(file.suite.threads_per_run);
    let runs = plan_runs(&opts.dime, &file, &availability.available, &seeds, &opts.out)?;
    outcome.total = runs.len();
    if opts.slurm {
        let script = write_slurm_script(&opts.dime, &file.name(), &runs, threads, &opts.out)?;
        println!(
            "wrote {} ({} array tasks); submit it with: sbatch {}",
            script.display(),
            runs.len(),
            script.display()
        );
        return Ok(outcome);
    }
    install_stop_handler();
    run_all(&runs, opts, threads, &mut outcome)?;
    print_end(&outcome);
    if opts.report && outcome.finished > 0 {
        crate::report::write_report(&opts.out, &opts.out)?;
        println!("summary: {}", opts.out.join("summary.md").display());
    }
    Ok(outcome)
}

struct Running {
    index: usize,
    child: Child,
    started: Instant,
}

fn run_all(runs: &[PlannedRun], opts: &Options, threads: usize, outcome: &mut Outcome) -> Result<()> {
    let mut queue = VecDeque::new();
    for (i, run) in runs.iter().enumerate() {
        match run.state()? {
            RunState::Finished => outcome.finished += 1,
            RunState::Interrupted { .. } | RunState::NoCheckpoint => match settings_mismatch(run)? {
                Some(reason) => outcome.failures.push(Failure { label: run.label(), reason, log: run.log.clone() }),
                None => queue.push_back(i),
            },
            RunState::Absent => queue.push_back(i),
        }
    }
    println!(
        "{} runs: {} finished already, {} to run, {} jobs, {threads} thread(s) each; output in {}",
        runs.len(),
        outcome.finished,
        queue.len(),
        opts.jobs,
        opts.out.display()
    );
    let mut progress = Progress::new(runs);
    let mut running: Vec<Running> = Vec::new();
    let mut forwarded = false;
    loop {
        let stopping = STOP.load(Ordering::SeqCst);
        while !stopping && running.len() < opts.jobs.max(1) {
            let Some(index) = queue.pop_front() else { break };
            match start(&runs[index], &opts.dime, threads) {
                Ok(child) => running.push(Running { index, child, started: Instant::now() }),
                Err(e) => {
                    let run = &runs[index];
                    outcome.failures.push(Failure {
                        label: run.label(),
                        reason: format!("{e:#}"),
                        log: run.log.clone(),
                    });
                }
            }
        }
        if stopping && !forwarded {
            forwarded = true;
            outcome.interrupted = true;
            progress.line(&format!("stopping: waiting for {} running run(s) to write a checkpoint", running.len()));
            running.iter().for_each(|r| interrupt(&r.child));
        }
        if running.is_empty() && (queue.is_empty() || stopping) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        let mut still = Vec::new();
        for mut r in running.drain(..) {
            match r.child.try_wait().context("waiting for a dime process")? {
                None => still.push(r),
                Some(status) => {
                    let run = &runs[r.index];
                    let took = format_duration(r.started.elapsed());
                    match run.state()? {
                        RunState::Finished => {
                            outcome.finished += 1;
                            progress.line(&format!("finished {} ({took})", run.label()));
                        }
                        RunState::Interrupted { steps } if outcome.interrupted => {
                            progress.line(&format!("stopped {} at {steps} steps ({took})", run.label()));
                        }
                        _ => {
                            let reason = format!("`dime` exited with {status} before the end of the run");
                            progress.line(&format!("FAILED {}: {reason}; log: {}", run.label(), run.log.display()));
                            outcome.failures.push(Failure { label: run.label(), reason, log: run.log.clone() });
                        }
                    }
                }
            }
        }
        running = still;
        let active: Vec<usize> = running.iter().map(|r| r.index).collect();
        progress.update(runs, &active, outcome);
    }
    progress.finish();
    Ok(())
}

/// Start the `dime` process of `run`: `resume` if it has a checkpoint, otherwise `train` (after
/// removing a folder that has none). Output goes to the run's log.
fn start(run: &PlannedRun, dime: &Path, threads: usize) -> Result<Child> {
    let args = match run.state()? {
        RunState::Interrupted { .. } => run.resume_args(),
        RunState::NoCheckpoint => {
            std::fs::remove_dir_all(&run.dir).with_context(|| format!("removing {}", run.dir.display()))?;
            run.train_args()
        }
        _ => run.train_args(),
    };
    let log_dir = run.log.parent().context("log path has no folder")?;
    std::fs::create_dir_all(log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&run.log)
        .with_context(|| format!("opening {}", run.log.display()))?;
    writeln!(log, "== xtask reproduce: {} {}", dime.display(), args.join(" "))?;
    let err = log.try_clone()?;
    println!("start {} ({})", run.label(), args[0]);
    Command::new(dime)
        .args(&args)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env("CANDLE_NUM_THREADS", threads.to_string())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .with_context(|| format!("starting {}", dime.display()))
}

/// Ask a running `dime` to stop with a checkpoint (SIGINT, what Ctrl-C sends).
fn interrupt(child: &Child) {
    #[cfg(unix)]
    // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped) and a valid signal.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    #[cfg(not(unix))]
    let _ = child;
}

fn print_end(outcome: &Outcome) {
    println!("{} of {} runs finished", outcome.finished, outcome.total);
    if !outcome.missing_tasks.is_empty() {
        println!("not run (tasks not available yet): {}", outcome.missing_tasks.join(", "));
    }
    for f in &outcome.failures {
        println!("FAILED {}: {}\n       log: {}", f.label, f.reason, f.log.display());
        if let Ok(text) = std::fs::read_to_string(&f.log) {
            let tail: Vec<&str> = text.lines().rev().take(3).collect();
            tail.iter().rev().for_each(|l| println!("       | {l}"));
        }
    }
    if outcome.interrupted {
        println!("interrupted: run the same command again to continue");
    }
}

/// The overall progress line: runs and environment steps done, elapsed time, estimate.
struct Progress {
    started: Instant,
    steps_at_start: u64,
    total_steps: u64,
    last_print: Instant,
    terminal: bool,
}

impl Progress {
    fn new(runs: &[PlannedRun]) -> Self {
        let steps_at_start = runs.iter().map(steps_done).sum();
        let total_steps = runs.iter().map(|r| r.steps).sum();
        let terminal = std::io::stdout().is_terminal();
        Self { started: Instant::now(), steps_at_start, total_steps, last_print: Instant::now(), terminal }
    }

    /// Print an event on its own line.
    fn line(&mut self, text: &str) {
        if self.terminal {
            print!("\r\x1b[K");
        }
        println!("{text}");
    }

    fn update(&mut self, runs: &[PlannedRun], active: &[usize], outcome: &Outcome) {
        let every = if self.terminal { Duration::from_secs(1) } else { Duration::from_secs(30) };
        if self.last_print.elapsed() < every {
            return;
        }
        self.last_print = Instant::now();
        let done: u64 = runs.iter().map(steps_done).sum();
        let elapsed = self.started.elapsed();
        let new = done.saturating_sub(self.steps_at_start);
        let eta = match new {
            0 => String::new(),
            n => {
                let left = self.total_steps.saturating_sub(done) as f64 / n as f64 * elapsed.as_secs_f64();
                format!(", about {} left", format_duration(Duration::from_secs_f64(left)))
            }
        };
        let text = format!(
            "[{}/{} runs finished, {} running, {} failed] {done}/{} steps ({:.0}%), {} elapsed{eta}",
            outcome.finished,
            runs.len(),
            active.len(),
            outcome.failures.len(),
            self.total_steps,
            100.0 * done as f64 / self.total_steps.max(1) as f64,
            format_duration(elapsed)
        );
        if self.terminal {
            print!("\r\x1b[K{text}");
            let _ = std::io::stdout().flush();
        } else {
            println!("{text}");
        }
    }

    fn finish(&mut self) {
        if self.terminal {
            println!();
        }
    }
}

/// Environment steps a run has done: its last evaluation row, or its checkpoint, or its budget.
fn steps_done(run: &PlannedRun) -> u64 {
    let checkpoint = latest_checkpoint_steps(&run.dir).ok().flatten().unwrap_or(0);
    let logged = read_curve(&run.dir.join("metrics.csv")).ok().and_then(|(c, _)| c.last().map(|p| p.0)).unwrap_or(0);
    checkpoint.max(logged).min(run.steps)
}

/// `1h02m`, `3m05s`, `42s`.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}
