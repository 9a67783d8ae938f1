//! `cargo xtask bench [CRITERION ARGS]`: run the benchmarks of `dime-bench` and write a dated
//! record, `docs/results/bench-<date>.md`: machine, threads, versions, every criterion figure
//! of this run with the ratio to its same-run baseline, and the agents bench's own report
//! (left out when criterion arguments, such as a filter, are given).
//!
//! Baselines are the matmul benchmarks that do the same work: within a group, the benchmark
//! whose id contains `matmul` (`actor_update/matmul_baseline_same_macs`); otherwise the
//! benchmark with the same id in a group whose name contains `matmul`
//! (`critic_update/cpu/1t` → `matmul_same_flops/cpu/1t`). The ratio is baseline time over
//! figure time: the figure's rate as a fraction of the matmul rate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// One criterion result.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Group name.
    pub group: String,
    /// Benchmark id within the group.
    pub function: String,
    /// Mean time per iteration, nanoseconds.
    pub mean_ns: f64,
    /// Elements per iteration, when the benchmark declares a throughput.
    pub elements: Option<u64>,
}

#[derive(Deserialize)]
struct BenchmarkJson {
    group_id: String,
    function_id: Option<String>,
    throughput: Option<BTreeMap<String, u64>>,
}

#[derive(Deserialize)]
struct Estimates {
    mean: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

/// Criterion results under `criterion_dir` written at or after `since`.
pub fn read_figures(criterion_dir: &Path, since: SystemTime) -> Result<Vec<Figure>> {
    let mut figures = Vec::new();
    let mut stack = vec![criterion_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            let estimates = path.join("estimates.json");
            if path.file_name().is_some_and(|n| n == "new") && estimates.is_file() {
                let modified = std::fs::metadata(&estimates)?.modified()?;
                if modified < since {
                    continue;
                }
                let read = |p: PathBuf| std::fs::read(&p).with_context(|| format!("reading {}", p.display()));
                let bench: BenchmarkJson = serde_json::from_slice(&read(path.join("benchmark.json"))?)?;
                let est: Estimates = serde_json::from_slice(&read(estimates)?)?;
                figures.push(Figure {
                    group: bench.group_id,
                    function: bench.function_id.unwrap_or_default(),
                    mean_ns: est.mean.point_estimate,
                    elements: bench.throughput.and_then(|t| t.get("Elements").copied()),
                });
            } else {
                stack.push(path);
            }
        }
    }
    figures.sort_by(|a, b| (&a.group, &a.function).cmp(&(&b.group, &b.function)));
    Ok(figures)
}

fn is_baseline(f: &Figure) -> bool {
    f.group.contains("matmul") || f.function.contains("matmul")
}

/// The same-run baseline of `figure` among `all`, if it has one.
pub fn baseline_of<'a>(figure: &Figure, all: &'a [Figure]) -> Option<&'a Figure> {
    if is_baseline(figure) {
        return None;
    }
    all.iter()
        .find(|b| b.group == figure.group && b.function.contains("matmul"))
        .or_else(|| all.iter().find(|b| b.group.contains("matmul") && b.function == figure.function))
}

/// The record's table: every figure, its rate, and its ratio to its baseline.
pub fn figures_table(figures: &[Figure]) -> String {
    let mut md = String::from(
        "| benchmark | mean time | throughput | baseline | ratio to baseline |\n| --- | --- | --- | --- | --- |\n",
    );
    for f in figures {
        let time = match f.mean_ns {
            t if t >= 1e6 => format!("{:.3} ms", t / 1e6),
            t if t >= 1e3 => format!("{:.3} µs", t / 1e3),
            t => format!("{t:.1} ns"),
        };
        let rate = f.elements.map_or("—".into(), |e| per_second(e as f64 / f.mean_ns * 1e9));
        let (base, ratio) = match baseline_of(f, figures) {
            Some(b) => (format!("{}/{}", b.group, b.function), format!("{:.2}", b.mean_ns / f.mean_ns)),
            None if is_baseline(f) => ("(is a baseline)".into(), "—".into()),
            None => ("—".into(), "—".into()),
        };
        let _ = writeln!(md, "| {}/{} | {time} | {rate} | {base} | {ratio} |", f.group, f.function);
    }
    md
}

/// `12.3 G/s`, `4.56 M/s`, `789 /s` (elements per second; for the FLOP benchmarks, FLOP/s).
fn per_second(rate: f64) -> String {
    match rate {
        r if r >= 1e9 => format!("{:.2} G/s", r / 1e9),
        r if r >= 1e6 => format!("{:.2} M/s", r / 1e6),
        r if r >= 1e3 => format!("{:.2} k/s", r / 1e3),
        r => format!("{r:.0} /s"),
    }
}

/// `YYYY-MM-DD` (UTC) of `time`.
pub fn date(time: SystemTime) -> String {
    let days = time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil-from-days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".into(), |o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// Run `cargo ARGS` in `root`, echoing its standard output and returning it.
fn cargo_captured(root: &Path, args: &[&str]) -> Result<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: cargo {}", args.join(" "));
    let mut child = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start cargo")?;
    let mut captured = String::new();
    for line in BufReader::new(child.stdout.take().context("no stdout")?).lines() {
        let line = line?;
        println!("{line}");
        captured.push_str(&line);
        captured.push('\n');
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(captured)
}

/// Run the benchmarks (criterion `args` passed on) and write the record; returns its path.
pub fn run(root: &Path, args: &[String]) -> Result<PathBuf> {
    let started = SystemTime::now();
    let mut criterion =
        vec!["bench", "-p", "dime-bench", "--bench", "envs", "--bench", "diffusion", "--bench", "critic", "--"];
    criterion.extend(args.iter().map(String::as_str));
    cargo_captured(root, &criterion)?;
    // The agents bench takes no criterion filter; a filtered run leaves it out.
    let agents = match args.is_empty() {
        true => cargo_captured(root, &["bench", "-p", "dime-bench", "--bench", "agents"])?,
        false => "(not run: criterion arguments were given)\n".to_string(),
    };
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let figures = read_figures(&target.join("criterion"), started)?;
    let path = root.join("docs").join("results").join(format!("bench-{}.md", date(started)));
    std::fs::create_dir_all(path.parent().context("no parent")?)?;
    std::fs::write(&path, record(root, &figures, &agents, args))?;
    println!("record: {}", path.display());
    Ok(path)
}

fn record(root: &Path, figures: &[Figure], agents: &str, args: &[String]) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| "unset".into());
    let root_s = root.display().to_string();
    let revision = command_line("git", &["-C", &root_s, "rev-parse", "--short=12", "HEAD"]);
    let dirty = !command_line("git", &["-C", &root_s, "status", "--porcelain"]).is_empty();
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let version_of = |name: &str| {
        lock.split("[[package]]")
            .find(|p| p.contains(&format!("name = \"{name}\"\n")))
            .and_then(|p| {
                p.lines()
                    .find(|l| l.starts_with("version"))
                    .map(|l| l.trim_start_matches("version = ").trim_matches('"').to_string())
            })
            .unwrap_or_else(|| "unknown".into())
    };
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks, {}\n", date(SystemTime::now()));
    let _ =
        writeln!(md, "Written by `cargo xtask bench{}`.\n", args.iter().map(|a| format!(" {a}")).collect::<String>());
    let _ = writeln!(md, "- machine: {cpu}, {cores} logical cores");
    let _ = writeln!(
        md,
        "- threads: RAYON_NUM_THREADS={}, CANDLE_NUM_THREADS={}",
        env("RAYON_NUM_THREADS"),
        env("CANDLE_NUM_THREADS")
    );
    let _ = writeln!(
        md,
        "- versions: {}; dime revision {revision}{}; candle-core {}, gemm {}",
        command_line("rustc", &["-V"]),
        if dirty { "+dirty" } else { "" },
        version_of("candle-core"),
        version_of("gemm")
    );
    let _ = writeln!(md, "\n## Criterion figures (this run)\n\n{}", figures_table(figures));
    let _ = writeln!(
        md,
        "## Agents (`crates/dime-bench/benches/agents.rs`, same-run matmul rate inside)\n\n```text\n{}```",
        agents
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(group: &str, function: &str, mean_ns: f64) -> Figure {
        Figure { group: group.into(), function: function.into(), mean_ns, elements: None }
    }

    #[test]
    fn each_figure_finds_its_same_work_matmul() {
        let all = vec![
            fig("actor_update", "matmul_baseline_same_macs", 100.0),
            fig("actor_update", "update_k16_b256_host", 160.0),
            fig("critic_update", "cpu/1t", 400.0),
            fig("matmul_same_flops", "cpu/1t", 300.0),
            fig("env_step", "gym_Pendulum-v1", 5.0),
        ];
        assert_eq!(baseline_of(&all[1], &all), Some(&all[0]));
        assert_eq!(baseline_of(&all[2], &all), Some(&all[3]));
        assert_eq!(baseline_of(&all[4], &all), None);
        assert_eq!(baseline_of(&all[0], &all), None, "a baseline has none");
        let table = figures_table(&all);
        // 100 / 160 = 0.625 → 0.62 (round half to even in the formatting of 0.625), 300 / 400 = 0.75.
        assert!(table.contains("| critic_update/cpu/1t | 400.0 ns | — | matmul_same_flops/cpu/1t | 0.75 |"), "{table}");
        // 1000 elements in 250 ns = 4 G/s.
        let with_rate = Figure { elements: Some(1000), ..fig("critic_update", "paper/1t", 250.0) };
        assert!(figures_table(&[with_rate]).contains("| 250.0 ns | 4.00 G/s |"));
        assert!(
            table.contains("update_k16_b256_host | 160.0 ns | — | actor_update/matmul_baseline_same_macs | 0.6"),
            "{table}"
        );
    }

    #[test]
    fn dates_are_civil_utc() {
        let at = |secs: u64| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        assert_eq!(date(at(0)), "1970-01-01");
        // 2024-02-29 00:00:00 UTC is 1 709 164 800 s after the epoch (leap day).
        assert_eq!(date(at(1_709_164_800)), "2024-02-29");
        assert_eq!(date(at(1_709_164_800 + 86_400)), "2024-03-01");
    }

    #[test]
    fn only_results_written_since_the_start_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("critic_update/cpu_1t/new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("benchmark.json"), r#"{"group_id":"critic_update","function_id":"cpu/1t","value_str":null,"throughput":{"Elements":1000},"full_id":"x","directory_name":"y","title":"z"}"#).unwrap();
        std::fs::write(new.join("estimates.json"), r#"{"mean":{"point_estimate":250.0,"confidence_interval":{}}}"#)
            .unwrap();
        let before = SystemTime::now() - std::time::Duration::from_secs(60);
        let figures = read_figures(dir.path(), before).unwrap();
        assert_eq!(
            figures,
            vec![Figure {
                group: "critic_update".into(),
                function: "cpu/1t".into(),
                mean_ns: 250.0,
                elements: Some(1000)
            }]
        );
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        assert!(read_figures(dir.path(), later).unwrap().is_empty());
    }
}
