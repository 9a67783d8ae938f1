//! Run folders as `dime train` writes them, read from outside: whether a run is finished,
//! interrupted or unusable, and its configuration and learning curve.
//!
//! The `dime` binary has no "finished" marker; a run is finished when its latest checkpoint
//! (`checkpoints/LATEST`, naming `step_<env steps>`) is at its step budget (`loop.total_steps`
//! of its `config.toml`). The loop writes that checkpoint only after the last step and its
//! evaluation, and an interrupted run's checkpoints are all below the budget.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Where a run folder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// No folder yet.
    Absent,
    /// A folder without a completed checkpoint (killed before its first one): nothing to resume.
    NoCheckpoint,
    /// A checkpoint below the budget: `dime resume` continues it.
    Interrupted {
        /// Environment steps of the latest checkpoint.
        steps: u64,
    },
    /// The final checkpoint is written.
    Finished,
}

/// Environment steps of the latest completed checkpoint of the run in `dir`, if any.
pub fn latest_checkpoint_steps(dir: &Path) -> Result<Option<u64>> {
    let pointer = dir.join("checkpoints").join("LATEST");
    let name = match std::fs::read_to_string(&pointer) {
        Ok(name) => name,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", pointer.display())),
    };
    let steps = name.trim().strip_prefix("step_").and_then(|s| s.parse().ok());
    match steps {
        Some(steps) => Ok(Some(steps)),
        None => bail!("{} names `{}`, not a `step_<n>` checkpoint", pointer.display(), name.trim()),
    }
}

/// The state of the run in `dir` with step budget `budget`.
pub fn run_state(dir: &Path, budget: u64) -> Result<RunState> {
    if !dir.exists() {
        return Ok(RunState::Absent);
    }
    Ok(match latest_checkpoint_steps(dir)? {
        None => RunState::NoCheckpoint,
        Some(steps) if steps >= budget => RunState::Finished,
        Some(steps) => RunState::Interrupted { steps },
    })
}

/// Read a run's `config.toml` as a TOML table.
pub fn read_config(dir: &Path) -> Result<toml::Table> {
    let path = dir.join("config.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    text.parse().with_context(|| format!("parsing {}", path.display()))
}

/// What a report needs of one run.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The run folder.
    pub dir: PathBuf,
    /// Task id.
    pub task: String,
    /// Algorithm name.
    pub algo: String,
    /// Preset the agent settings started from.
    pub preset: String,
    /// Root seed.
    pub seed: u64,
    /// Step budget.
    pub total_steps: u64,
    /// `(env_steps, eval_return_mean)` of every evaluation, in step order.
    pub curve: Vec<(u64, f64)>,
    /// Wall time of the last evaluation row, seconds (the run's training time up to it).
    pub wall_time_s: Option<f64>,
    /// Whether the final checkpoint is written.
    pub finished: bool,
    /// `git_revision` from `provenance.toml`, with `+dirty` when the tree had changes.
    pub revision: Option<String>,
}

/// Read the run in `dir`.
pub fn read_run(dir: &Path) -> Result<RunRecord> {
    let config = read_config(dir)?;
    let context = || format!("{}/config.toml", dir.display());
    let get_str = |key: &str| config.get(key).and_then(|v| v.as_str()).map(String::from);
    let task = get_str("task").with_context(|| format!("{}: no `task`", context()))?;
    let preset = get_str("preset").with_context(|| format!("{}: no `preset`", context()))?;
    let seed = config.get("seed").and_then(|v| v.as_integer()).with_context(|| format!("{}: no `seed`", context()))?;
    let total_steps = config
        .get("loop")
        .and_then(|l| l.get("total_steps"))
        .and_then(|v| v.as_integer())
        .with_context(|| format!("{}: no `loop.total_steps`", context()))?;
    let algo = config
        .get("agent")
        .and_then(|a| a.as_table())
        .and_then(|a| a.keys().next().cloned())
        .with_context(|| format!("{}: no `[agent.<algorithm>]`", context()))?;
    let (curve, wall_time_s) = read_curve(&dir.join("metrics.csv"))?;
    let finished = latest_checkpoint_steps(dir)?.is_some_and(|s| s >= total_steps as u64);
    let revision = std::fs::read_to_string(dir.join("provenance.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|p| {
            let rev = p.get("git_revision")?.as_str()?.chars().take(12).collect::<String>();
            let dirty = p.get("git_dirty").and_then(|d| d.as_bool()).unwrap_or(false);
            Some(if dirty { format!("{rev}+dirty") } else { rev })
        });
    Ok(RunRecord {
        dir: dir.to_path_buf(),
        task,
        algo,
        preset,
        seed: seed as u64,
        total_steps: total_steps as u64,
        curve,
        wall_time_s,
        finished,
        revision,
    })
}

/// `(env_steps, eval_return_mean)` per evaluation.
pub type Curve = Vec<(u64, f64)>;

/// The rows of a `metrics.csv` as a [`Curve`], and the last row's wall time.
pub fn read_curve(path: &Path) -> Result<(Curve, Option<f64>)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), None)),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let column = |name: &str| {
        header.iter().position(|h| *h == name).with_context(|| format!("{}: no column `{name}`", path.display()))
    };
    let (steps_col, return_col, wall_col) = (column("env_steps")?, column("eval_return_mean")?, column("wall_time_s")?);
    let mut curve = Vec::new();
    let mut wall = None;
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let cell = |c: usize| -> Result<f64> {
            let text = cells.get(c).with_context(|| format!("{}:{}: short row", path.display(), i + 2))?;
            text.parse().with_context(|| format!("{}:{}: `{text}` is not a number", path.display(), i + 2))
        };
        curve.push((cell(steps_col)? as u64, cell(return_col)?));
        wall = Some(cell(wall_col)?);
    }
    Ok((curve, wall))
}

/// Every run folder (holding `config.toml` and `metrics.csv`) under `root`, sorted.
pub fn find_runs(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.join("config.toml").is_file() && dir.join("metrics.csv").is_file() {
            found.push(dir);
            continue;
        }
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_the_latest_checkpoint_against_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        assert_eq!(run_state(&run, 1000).unwrap(), RunState::Absent);
        std::fs::create_dir_all(run.join("checkpoints")).unwrap();
        std::fs::write(run.join("config.toml"), "").unwrap();
        assert_eq!(run_state(&run, 1000).unwrap(), RunState::NoCheckpoint);
        std::fs::write(run.join("checkpoints/LATEST"), "step_0000000500").unwrap();
        assert_eq!(run_state(&run, 1000).unwrap(), RunState::Interrupted { steps: 500 });
        std::fs::write(run.join("checkpoints/LATEST"), "step_0000001000").unwrap();
        assert_eq!(run_state(&run, 1000).unwrap(), RunState::Finished);
        std::fs::write(run.join("checkpoints/LATEST"), "garbage").unwrap();
        assert!(run_state(&run, 1000).unwrap_err().to_string().contains("garbage"));
    }
}
