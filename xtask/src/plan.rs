//! From a suite to runs: ask the `dime` binary what it offers, write one run config per
//! (algorithm, preset, task) with the suite's budget and loop settings, and lay out the output
//! folder:
//!
//! ```text
//! OUT/suite.toml                                   the suite, as given
//! OUT/configs/<algo>-<preset>/<task>.toml          what `dime train --config` gets
//! OUT/runs/<task>/<algo>-<preset>/seed<S>/         the run folders
//! OUT/logs/<task>/<algo>-<preset>-seed<S>.log      each run's output, appended per attempt
//! ```
//!
//! (`<task>` is the task id with `/` replaced by `_`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::runs::{read_config, run_state, RunState};
use crate::suite::{AlgorithmEntry, Catalog, SuiteFile};

/// One (algorithm, preset, task, seed) of a suite, with its paths.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// Algorithm name.
    pub algo: String,
    /// Preset name.
    pub preset: String,
    /// Task id.
    pub task: String,
    /// Root seed.
    pub seed: u64,
    /// Step budget.
    pub steps: u64,
    /// Run folder.
    pub dir: PathBuf,
    /// Run config passed to `dime train --config`.
    pub config: PathBuf,
    /// Log file of the run's `dime` processes.
    pub log: PathBuf,
}

impl PlannedRun {
    /// `dime-cpu gym/Pendulum-v1 seed0`.
    pub fn label(&self) -> String {
        format!("{}-{} {} seed{}", self.algo, self.preset, self.task, self.seed)
    }

    /// Arguments of the `dime` command that starts this run from nothing.
    pub fn train_args(&self) -> Vec<String> {
        let (config, seed, out) = (self.config.display(), self.seed, self.dir.display());
        vec![
            "train".into(),
            "--config".into(),
            config.to_string(),
            "--seed".into(),
            seed.to_string(),
            "--out".into(),
            out.to_string(),
        ]
    }

    /// Arguments of the `dime` command that continues this run.
    pub fn resume_args(&self) -> Vec<String> {
        vec!["resume".into(), self.dir.display().to_string()]
    }

    /// Where the run stands.
    pub fn state(&self) -> Result<RunState> {
        run_state(&self.dir, self.steps)
    }
}

/// `gym/Pendulum-v1` → `gym_Pendulum-v1`, for file names.
pub fn task_slug(task: &str) -> String {
    task.replace('/', "_")
}

/// Run `dime ARGS` and return its standard output, failing with its output if it fails.
pub fn dime_output(dime: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(dime).args(args).stdin(Stdio::null()).output().with_context(|| {
        format!("cannot start {} (build it with `cargo build --release --bin dime`)", dime.display())
    })?;
    if !out.status.success() {
        bail!(
            "`{} {}` failed ({}):\n{}{}",
            dime.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What `dime list presets` and `dime list tasks` print.
pub fn read_catalog(dime: &Path) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    for line in dime_output(dime, &["list", "presets"])?.lines() {
        let Some((algo, presets)) = line.split_once(':') else { continue };
        let presets = presets.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
        catalog.presets.insert(algo.trim().to_string(), presets);
    }
    let tasks = dime_output(dime, &["list", "tasks"])?;
    catalog.tasks = tasks.lines().skip(1).filter_map(|l| l.split_whitespace().next()).map(String::from).collect();
    if catalog.presets.is_empty() || catalog.tasks.is_empty() {
        bail!("`{} list` printed no algorithms or no tasks", dime.display());
    }
    Ok(catalog)
}

/// Write the run config of (`entry`'s algorithm and preset, `task`) with budget `steps`, the
/// suite's loop settings and the entry's `num_envs` to `path`. The preset's full config comes
/// from `dime` itself: a one-step run into a scratch folder writes it, resolved, as its
/// `config.toml`.
pub fn write_run_config(
    dime: &Path,
    file: &SuiteFile,
    entry: &AlgorithmEntry,
    task: &str,
    steps: u64,
    path: &Path,
) -> Result<()> {
    let (algo, preset) = (entry.algo.get_ref().as_str(), entry.preset.get_ref().as_str());
    let parent = path.parent().context("config path has no folder")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let scratch = parent.join(format!(".template-{}", task_slug(task)));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).with_context(|| format!("removing {}", scratch.display()))?;
    }
    let scratch_s = scratch.display().to_string();
    let args = [
        "train", "--algo", algo, "--preset", preset, "--env", task, "--steps", "1", "--seed", "0", "--out", &scratch_s,
    ];
    dime_output(dime, &args).with_context(|| format!("writing the {algo} {preset} config for {task}"))?;
    let mut config = read_config(&scratch)?;
    std::fs::remove_dir_all(&scratch).with_context(|| format!("removing {}", scratch.display()))?;
    let loop_table =
        config.get_mut("loop").and_then(|l| l.as_table_mut()).context("the run config has no [loop] table")?;
    loop_table.insert("total_steps".into(), toml::Value::Integer(steps as i64));
    let lanes = entry.num_envs.as_ref().map(|n| ("num_envs", *n.get_ref() as i64));
    for (key, value) in file.suite.loop_settings.entries().into_iter().chain(lanes) {
        if !loop_table.contains_key(key) {
            bail!("the run config's [loop] has no `{key}`; this `dime` is older or newer than xtask");
        }
        loop_table.insert(key.into(), toml::Value::Integer(value));
    }
    let text = format!(
        "# Written by `cargo xtask reproduce` from suite {} ({algo} preset `{preset}`, {steps} steps).\n{}",
        file.path.display(),
        toml::to_string_pretty(&config).context("serialising the run config")?
    );
    if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Every run of the suite on the `available` tasks, for `seeds`, under `out`; writes the configs.
pub fn plan_runs(
    dime: &Path,
    file: &SuiteFile,
    available: &[String],
    seeds: &[u64],
    out: &Path,
) -> Result<Vec<PlannedRun>> {
    let mut runs = Vec::new();
    for task in file.suite.tasks.iter().filter(|t| available.contains(t.id.get_ref())) {
        let id = task.id.get_ref();
        for entry in &file.suite.algorithms {
            let (algo, preset) = (entry.algo.get_ref(), entry.preset.get_ref());
            let steps = task.budget(algo);
            let name = format!("{algo}-{preset}");
            let config = out.join("configs").join(&name).join(format!("{}.toml", task_slug(id)));
            write_run_config(dime, file, entry, id, steps, &config)?;
            for &seed in seeds {
                runs.push(PlannedRun {
                    algo: algo.clone(),
                    preset: preset.clone(),
                    task: id.clone(),
                    seed,
                    steps,
                    dir: out.join("runs").join(task_slug(id)).join(&name).join(format!("seed{seed}")),
                    config: config.clone(),
                    log: out.join("logs").join(task_slug(id)).join(format!("{name}-seed{seed}.log")),
                });
            }
        }
    }
    Ok(runs)
}

/// Why an existing run folder cannot continue under the suite's current settings, if it cannot:
/// its task, preset or `[loop]` table differs from the planned config's.
pub fn settings_mismatch(run: &PlannedRun) -> Result<Option<String>> {
    let existing = read_config(&run.dir)?;
    let planned = read_config_file(&run.config)?;
    for key in ["task", "preset", "loop"] {
        if existing.get(key) != planned.get(key) {
            let show = |t: &toml::Table| t.get(key).map_or("(none)".to_string(), |v| v.to_string());
            return Ok(Some(format!(
                "{} was made with {key} = {}, the suite now asks for {}; move the folder away or use another --out",
                run.dir.display(),
                show(&existing),
                show(&planned)
            )));
        }
    }
    Ok(None)
}

fn read_config_file(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.parse().with_context(|| format!("parsing {}", path.display()))
}

/// Parse `--seeds`: a comma-separated list of seeds and inclusive ranges (`0,2,5-7`).
pub fn parse_seeds(text: &str) -> Result<Vec<u64>> {
    let mut seeds = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("--seeds: `{part}` is not a seed or a range like 0-4");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u64, u64) = (a.parse().with_context(bad)?, b.parse().with_context(bad)?);
                if a > b {
                    bail!("--seeds: empty range `{part}`");
                }
                seeds.extend(a..=b);
            }
            None => seeds.push(part.parse().with_context(bad)?),
        }
    }
    seeds.dedup();
    if seeds.is_empty() {
        bail!("--seeds lists no seed");
    }
    Ok(seeds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_as_lists_and_ranges() {
        assert_eq!(parse_seeds("0,2,5-7").unwrap(), vec![0, 2, 5, 6, 7]);
        assert!(parse_seeds("3-1").is_err());
        assert!(parse_seeds("a").unwrap_err().to_string().contains("`a`"));
    }
}
