//! `cargo xtask report DIR`: aggregate the run folders under DIR into `summary.md` and one plot
//! per task (`<task>.svg`, `<task>.png`).
//!
//! Per task and algorithm, over the finished seeds: the final return (each seed's last
//! evaluation), its mean, IQM and percentile-bootstrap 95% interval, the median steps to reach
//! the suite's threshold, and the wall time per run; DIME's published number where there is one.
//! If DIR holds the `suite.toml` that `reproduce` copies there, its description, task order and
//! thresholds are used and tasks without runs are listed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::paper::dime_result;
use crate::plan::task_slug;
use crate::plot::{write_png, write_svg, Series, TaskPlot};
use crate::reproduce::format_duration;
use crate::runs::{find_runs, read_run, RunRecord};
use crate::stats::{
    bootstrap_mean_interval, iqm, mean, median_steps, steps_to_threshold, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED,
};
use crate::suite::SuiteFile;

/// Resamples per point of a plotted band (fewer than the table's: one interval per evaluation).
const BAND_RESAMPLES: usize = 2000;

/// The statistics of one (task, algorithm, preset).
#[derive(Debug, Clone)]
pub struct GroupStats {
    /// Algorithm name.
    pub algo: String,
    /// Preset name.
    pub preset: String,
    /// Finished seeds (the statistics are over these).
    pub finished: usize,
    /// Seeds with a folder that have not finished.
    pub unfinished: usize,
    /// Mean final return.
    pub mean: f64,
    /// Interquartile mean of the final returns.
    pub iqm: f64,
    /// Bootstrap 95% interval of the mean final return.
    pub interval: (f64, f64),
    /// Median steps to the threshold, when the suite gives one: `(median, seeds that reached it)`.
    pub to_threshold: Option<(Option<f64>, usize)>,
    /// Mean wall time per finished run, seconds.
    pub wall_time_s: f64,
    /// Mean curve with its band, over the finished seeds (all seeds if none finished).
    pub curve: Vec<(f64, f64, f64, f64)>,
}

/// Aggregate `runs` (one task, one algorithm and preset).
pub fn group_stats(runs: &[&RunRecord], threshold: Option<f64>) -> GroupStats {
    let done: Vec<&RunRecord> = runs.iter().copied().filter(|r| r.finished && !r.curve.is_empty()).collect();
    let finals: Vec<f64> = done.iter().filter_map(|r| r.curve.last().map(|p| p.1)).collect();
    let to_threshold = threshold.map(|t| {
        let per_seed: Vec<Option<u64>> = done.iter().map(|r| steps_to_threshold(&r.curve, t)).collect();
        (median_steps(&per_seed), per_seed.iter().filter(|s| s.is_some()).count())
    });
    let walls: Vec<f64> = done.iter().filter_map(|r| r.wall_time_s).collect();
    let curve_runs = if done.is_empty() { runs.to_vec() } else { done.clone() };
    GroupStats {
        algo: runs[0].algo.clone(),
        preset: runs[0].preset.clone(),
        finished: done.len(),
        unfinished: runs.len() - done.len(),
        mean: mean(&finals),
        iqm: iqm(&finals),
        interval: bootstrap_mean_interval(&finals, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED),
        to_threshold,
        wall_time_s: mean(&walls),
        curve: mean_curve(&curve_runs),
    }
}

/// Mean return and bootstrap interval at every evaluation step that all `runs` have.
pub fn mean_curve(runs: &[&RunRecord]) -> Vec<(f64, f64, f64, f64)> {
    let Some(first) = runs.first() else { return Vec::new() };
    let maps: Vec<BTreeMap<u64, f64>> = runs.iter().map(|r| r.curve.iter().copied().collect()).collect();
    first
        .curve
        .iter()
        .filter(|(step, _)| maps.iter().all(|m| m.contains_key(step)))
        .map(|(step, _)| {
            let values: Vec<f64> = maps.iter().map(|m| m[step]).collect();
            let (lo, hi) = bootstrap_mean_interval(&values, BAND_RESAMPLES, BOOTSTRAP_SEED);
            (*step as f64, mean(&values), lo, hi)
        })
        .collect()
}

/// Aggregate the runs under `dir` into `out/summary.md` and `out/<task>.{svg,png}`.
pub fn write_report(dir: &Path, out: &Path) -> Result<PathBuf> {
    if !dir.is_dir() {
        bail!("{} is not a folder of runs", dir.display());
    }
    let suite = match dir.join("suite.toml") {
        p if p.is_file() => Some(SuiteFile::read(&p)?),
        _ => None,
    };
    let mut runs = Vec::new();
    let mut unreadable = Vec::new();
    for run_dir in find_runs(dir)? {
        match read_run(&run_dir) {
            Ok(run) => runs.push(run),
            Err(e) => unreadable.push(format!("{e:#}")),
        }
    }
    if runs.is_empty() {
        bail!("no run folders (config.toml and metrics.csv) under {}", dir.display());
    }
    // Tasks in suite order, then any others; algorithms likewise.
    let mut tasks: Vec<String> =
        suite.iter().flat_map(|s| s.suite.tasks.iter().map(|t| t.id.get_ref().clone())).collect();
    let mut extra: Vec<String> = runs.iter().map(|r| r.task.clone()).filter(|t| !tasks.contains(t)).collect();
    extra.sort();
    extra.dedup();
    tasks.extend(extra);
    let algo_rank = |algo: &str, preset: &str| {
        let listed = suite.as_ref().and_then(|s| {
            s.suite.algorithms.iter().position(|a| a.algo.get_ref() == algo && a.preset.get_ref() == preset)
        });
        (listed.unwrap_or(usize::MAX), algo.to_string(), preset.to_string())
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;

    let mut md = String::new();
    let title = suite_name(suite.as_ref(), dir);
    writeln!(md, "# {title}: summary\n")?;
    if let Some(s) = &suite {
        writeln!(md, "{}\n", s.suite.description.trim())?;
    }
    let mut revisions: Vec<String> = runs.iter().filter_map(|r| r.revision.clone()).collect();
    revisions.sort();
    revisions.dedup();
    writeln!(
        md,
        "Written by `cargo xtask report` from {} runs (dime revision {}).\n",
        runs.len(),
        if revisions.is_empty() { "unknown".into() } else { revisions.join(", ") }
    )?;
    md.push_str(
        "Final return: each seed's last evaluation (mean return over the evaluation episodes). Over the \
         finished seeds: mean, IQM (mean of the middle 50%, scipy's `trim_mean(x, 0.25)`) and a \
         percentile-bootstrap 95% interval of the mean (10 000 resamples, fixed seed). Steps to threshold: \
         median over seeds of the first evaluation at or above it (seeds that never reach it count as \
         never; in brackets, how many reached it). The plots show the mean over seeds with the \
         bootstrap 95% interval of the mean as a band.\n\n",
    );
    let mut not_run = Vec::new();
    for task in &tasks {
        let task_runs: Vec<&RunRecord> = runs.iter().filter(|r| &r.task == task).collect();
        if task_runs.is_empty() {
            not_run.push(task.clone());
            continue;
        }
        let threshold = suite
            .as_ref()
            .and_then(|s| s.suite.tasks.iter().find(|t| t.id.get_ref() == task))
            .and_then(|t| t.threshold);
        let mut keys: Vec<(String, String)> = task_runs.iter().map(|r| (r.algo.clone(), r.preset.clone())).collect();
        keys.sort_by_key(|(a, p)| algo_rank(a, p));
        keys.dedup();
        let groups: Vec<GroupStats> = keys
            .iter()
            .map(|(a, p)| {
                let members: Vec<&RunRecord> =
                    task_runs.iter().copied().filter(|r| &r.algo == a && &r.preset == p).collect();
                group_stats(&members, threshold)
            })
            .collect();
        write_task_section(&mut md, task, &task_runs, &groups, threshold)?;
        let paper = dime_result(task);
        let plot = TaskPlot {
            title: task.clone(),
            series: groups
                .iter()
                .map(|g| Series {
                    label: {
                        let n = g.finished.max(g.unfinished);
                        format!("{} ({}), {n} seed{}", g.algo, g.preset, if n == 1 { "" } else { "s" })
                    },
                    points: g.curve.clone(),
                })
                .collect(),
            reference: paper.map(|p| ("DIME, paper (final)".to_string(), p.mean)),
        };
        let slug = task_slug(task);
        write_svg(&plot, &out.join(format!("{slug}.svg")))?;
        write_png(&plot, &out.join(format!("{slug}.png")))?;
        writeln!(md, "![{task}]({slug}.png) ([SVG]({slug}.svg))\n")?;
    }
    if !not_run.is_empty() {
        writeln!(md, "## Not run\n")?;
        for task in not_run {
            writeln!(md, "- {task}: no runs (not available in this build of dime when the suite ran)")?;
        }
        md.push('\n');
    }
    if !unreadable.is_empty() {
        writeln!(md, "## Unreadable run folders\n")?;
        unreadable.iter().try_for_each(|u| writeln!(md, "- {u}"))?;
    }
    let path = out.join("summary.md");
    std::fs::write(&path, md).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The suite's name from the first line `reproduce` writes into its copy (`# suite: NAME`), or
/// the folder's name.
fn suite_name(suite: Option<&SuiteFile>, dir: &Path) -> String {
    let from_copy = suite.and_then(|s| s.text.lines().next()?.strip_prefix("# suite: ").map(|n| n.trim().to_string()));
    from_copy.unwrap_or_else(|| {
        dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned())
    })
}

fn write_task_section(
    md: &mut String,
    task: &str,
    runs: &[&RunRecord],
    groups: &[GroupStats],
    threshold: Option<f64>,
) -> Result<()> {
    let mut budgets: Vec<u64> = runs.iter().map(|r| r.total_steps).collect();
    budgets.sort();
    budgets.dedup();
    let budgets: Vec<String> = budgets.iter().map(|b| b.to_string()).collect();
    writeln!(md, "## {task}\n")?;
    let threshold_text = threshold.map_or(String::new(), |t| format!("; threshold {t}"));
    writeln!(md, "Budget {} environment steps{threshold_text}.\n", budgets.join(" / "))?;
    let paper = dime_result(task);
    let threshold_col = threshold.map_or(String::new(), |t| format!(" steps to {t} |"));
    let paper_col = if paper.is_some() { " DIME (paper) |" } else { "" };
    writeln!(md, "| algorithm | preset | seeds | final return (mean) | IQM | 95% interval |{threshold_col} wall time per run |{paper_col}")?;
    let columns = 7 + usize::from(threshold.is_some()) + usize::from(paper.is_some());
    writeln!(md, "|{}", " --- |".repeat(columns))?;
    for g in groups {
        let seeds = match g.unfinished {
            0 => g.finished.to_string(),
            u => format!("{} (+{u} unfinished)", g.finished),
        };
        let number = |v: f64| if v.is_finite() { format!("{v:.1}") } else { "—".into() };
        let interval =
            if g.finished > 0 { format!("[{}, {}]", number(g.interval.0), number(g.interval.1)) } else { "—".into() };
        let reached = match g.to_threshold {
            Some((Some(m), k)) => format!(" {m:.0} ({k}/{}) |", g.finished),
            Some((None, k)) => format!(" not reached ({k}/{}) |", g.finished),
            None => String::new(),
        };
        let wall = if g.wall_time_s.is_finite() {
            format_duration(std::time::Duration::from_secs_f64(g.wall_time_s))
        } else {
            "—".into()
        };
        let paper_cell = match paper {
            Some(p) if g.algo == "dime" => format!(" {:.1} ± {:.1} ({}) |", p.mean, p.std, p.note),
            Some(_) => " — |".into(),
            None => String::new(),
        };
        writeln!(
            md,
            "| {} | {} | {seeds} | {} | {} | {interval} |{reached} {wall} |{paper_cell}",
            g.algo,
            g.preset,
            number(g.mean),
            number(g.iqm)
        )?;
    }
    md.push('\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seed: u64, curve: &[(u64, f64)], finished: bool) -> RunRecord {
        RunRecord {
            dir: PathBuf::from(format!("seed{seed}")),
            task: "gym/Pendulum-v1".into(),
            algo: "dime".into(),
            preset: "cpu".into(),
            seed,
            total_steps: 3000,
            curve: curve.to_vec(),
            wall_time_s: Some(10.0 * (seed + 1) as f64),
            finished,
            revision: None,
        }
    }

    #[test]
    fn group_statistics_use_finished_seeds_and_their_last_evaluation() {
        let a = record(0, &[(1000, -1500.0), (2000, -900.0), (3000, -300.0)], true);
        let b = record(1, &[(1000, -1300.0), (2000, -350.0), (3000, -200.0)], true);
        let c = record(2, &[(1000, -1400.0), (2000, -500.0), (3000, -700.0)], true);
        let unfinished = record(3, &[(1000, 0.0)], false);
        let g = group_stats(&[&a, &b, &c, &unfinished], Some(-400.0));
        assert_eq!((g.finished, g.unfinished), (3, 1));
        // Finals −300, −200, −700: mean −400; n = 3 keeps all values, so the IQM is −400 too.
        assert_eq!(g.mean, -400.0);
        assert_eq!(g.iqm, -400.0);
        // Steps to −400: seed 0 at 3000, seed 1 at 2000, seed 2 never → median 3000, 2 of 3.
        assert_eq!(g.to_threshold, Some((Some(3000.0), 2)));
        // Wall times 10, 20, 30 → 20 (the unfinished run's 40 left out).
        assert_eq!(g.wall_time_s, 20.0);
        // The curve: means over the three finished seeds at each step.
        let means: Vec<(f64, f64)> = g.curve.iter().map(|p| (p.0, p.1)).collect();
        assert_eq!(means, vec![(1000.0, -1400.0), (2000.0, -1750.0 / 3.0), (3000.0, -400.0)]);
        assert!(g.curve.iter().all(|p| p.2 <= p.1 && p.1 <= p.3));
    }

    /// A finished run folder as `dime train` leaves it, with evaluation returns `returns` at
    /// steps 1000, 2000, ….
    fn fake_run(dir: &Path, task: &str, seed: u64, returns: &[f64]) {
        std::fs::create_dir_all(dir.join("checkpoints")).unwrap();
        let steps = 1000 * returns.len();
        let config = format!("task = \"{task}\"\nseed = {seed}\npreset = \"cpu\"\n\n[loop]\ntotal_steps = {steps}\n\n[agent.dime]\ngamma = 0.99\n");
        std::fs::write(dir.join("config.toml"), config).unwrap();
        let mut metrics = String::from("env_steps,episodes,wall_time_s,eval_return_mean,eval_return_std\n");
        for (i, r) in returns.iter().enumerate() {
            metrics.push_str(&format!("{},{i},{},{r},0\n", 1000 * (i + 1), 60 * (i + 1)));
        }
        std::fs::write(dir.join("metrics.csv"), metrics).unwrap();
        std::fs::write(dir.join("checkpoints/LATEST"), format!("step_{steps:010}")).unwrap();
    }

    #[test]
    fn the_summary_puts_the_papers_dime_number_beside_ours() {
        let tmp = tempfile::tempdir().unwrap();
        fake_run(&tmp.path().join("a"), "dmc/cheetah-run", 0, &[100.0, 500.0]);
        fake_run(&tmp.path().join("b"), "dmc/cheetah-run", 1, &[200.0, 700.0]);
        let summary = std::fs::read_to_string(write_report(tmp.path(), tmp.path()).unwrap()).unwrap();
        // Finals 500 and 700: mean and IQM 600; the bootstrap interval of two values spans them;
        // wall time 120 s per run; DIME's released cheetah-run number is 898.4 ± 45.1.
        let row = "| dime | cpu | 2 | 600.0 | 600.0 | [500.0, 700.0] | 2m00s | 898.4 ± 45.1 (";
        assert!(summary.contains(row), "{row}\nnot in:\n{summary}");
        assert!(tmp.path().join("dmc_cheetah-run.png").is_file() && tmp.path().join("dmc_cheetah-run.svg").is_file());
    }

    #[test]
    fn the_curve_uses_only_steps_every_seed_has() {
        let a = record(0, &[(500, 1.0), (1000, 2.0), (1500, 3.0)], false);
        let b = record(1, &[(500, 3.0), (1000, 4.0)], false);
        let curve = mean_curve(&[&a, &b]);
        let steps: Vec<f64> = curve.iter().map(|p| p.0).collect();
        assert_eq!(steps, vec![500.0, 1000.0]);
        assert_eq!(curve[1].1, 3.0);
    }
}
