//! End-to-end tests of `cargo xtask reproduce` and `report` (the `xtask` library) with the
//! `dime` binary cargo builds for this package: a tiny suite runs into a report; a `reproduce`
//! killed half-way finishes on restart with the same metrics as an uninterrupted one; a failing
//! run is listed with its log and loses no other run.
//!
//! The tiny suite uses the smoke presets (networks of width 32) with learning from step 200, so
//! each run takes about a second in a debug build.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use xtask::reproduce::{reproduce, Options, Outcome};
use xtask::runs::{latest_checkpoint_steps, run_state, RunState};

const SUITE: &str = r#"description = "Tiny: DIME and SAC smoke presets on Pendulum"
seeds = [0]

[loop]
learning_starts = 200
eval_every = 100
eval_episodes = 1
checkpoint_every = 100

[[algorithm]]
algo = "dime"
preset = "smoke"

[[algorithm]]
algo = "sac"
preset = "smoke"

[[task]]
id = "gym/Pendulum-v1"
steps = 600
steps_for = { sac = 1500 }
threshold = -1400.0

[[task]]
id = "dmc/not-yet-a-task"
steps = 100
"#;

fn write_suite(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, SUITE).unwrap();
    path
}

fn options(suite: &Path, out: &Path) -> Options {
    Options {
        suite: suite.to_path_buf(),
        out: out.to_path_buf(),
        jobs: 1,
        seeds: None,
        threads: None,
        dime: PathBuf::from(env!("CARGO_BIN_EXE_dime")),
        slurm: false,
        report: true,
    }
}

fn run_dir(out: &Path, algo: &str, seed: u64) -> PathBuf {
    out.join("runs/gym_Pendulum-v1").join(format!("{algo}-smoke")).join(format!("seed{seed}"))
}

/// `metrics.csv` without the wall-time column (the only one that may differ between runs).
fn metrics_without_wall_time(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let wall = header.iter().position(|h| *h == "wall_time_s").unwrap();
    text.lines()
        .map(|l| l.split(',').enumerate().filter(|(i, _)| *i != wall).map(|(_, c)| c).collect::<Vec<_>>().join(","))
        .collect()
}

fn attempts(log: &Path) -> usize {
    std::fs::read_to_string(log).unwrap().lines().filter(|l| l.starts_with("== xtask reproduce")).count()
}

/// Not a test on its own: the child process the kill test starts and kills (`reproduce` with
/// the options in `DIME_TEST_REPRODUCE_SUITE` / `_OUT`).
#[test]
#[ignore = "helper process of reproduce_killed_half_way_finishes_with_the_metrics_of_an_uninterrupted_run"]
fn reproduce_helper_process() {
    let (Ok(suite), Ok(out)) = (std::env::var("DIME_TEST_REPRODUCE_SUITE"), std::env::var("DIME_TEST_REPRODUCE_OUT"))
    else {
        return;
    };
    reproduce(&options(Path::new(&suite), Path::new(&out))).unwrap();
}

#[test]
fn reproduce_killed_half_way_finishes_with_the_metrics_of_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path());

    // 1. Start reproduce in its own process group; kill the group (reproduce and its dime child,
    //    without any chance to checkpoint) once the first run (DIME) has finished and the second
    //    (SAC, 1500 steps, a checkpoint every 100) has a checkpoint but is not finished.
    let killed = tmp.path().join("killed");
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new(std::env::current_exe().unwrap())
            .args(["reproduce_helper_process", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("DIME_TEST_REPRODUCE_SUITE", &suite)
            .env("DIME_TEST_REPRODUCE_OUT", &killed)
            .stdout(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let (first, second) = (run_dir(&killed, "dime", 0), run_dir(&killed, "sac", 0));
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let first_done = run_state(&first, 600).unwrap() == RunState::Finished;
        let second_at = latest_checkpoint_steps(&second).ok().flatten();
        if first_done && second_at.is_some_and(|s| s < 1500) {
            break;
        }
        assert!(second_at.is_none(), "the second run finished before the kill; poll faster or give it more steps");
        assert!(child.try_wait().unwrap().is_none(), "reproduce ended before it was killed");
        assert!(Instant::now() < deadline, "no checkpoint of the second run within 300 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: kill(2) on the process group we created (negative pid), with a valid signal.
    assert_eq!(unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) }, 0);
    child.wait().unwrap();
    let RunState::Interrupted { steps } = run_state(&second, 1500).unwrap() else {
        panic!("second run not interrupted")
    };
    assert!(steps < 1500);
    let first_metrics = std::fs::read_to_string(first.join("metrics.csv")).unwrap();

    // 2. The same command again: skips the finished run, resumes the interrupted one.
    let outcome = reproduce(&options(&suite, &killed)).unwrap();
    assert_eq!((outcome.total, outcome.finished, outcome.failures.len()), (2, 2, 0), "{outcome:?}");
    assert_eq!(outcome.missing_tasks, vec!["dmc/not-yet-a-task".to_string()]);
    assert_eq!(std::fs::read_to_string(first.join("metrics.csv")).unwrap(), first_metrics, "finished run untouched");
    assert_eq!(
        attempts(&killed.join("logs/gym_Pendulum-v1/dime-smoke-seed0.log")),
        1,
        "finished run not started again"
    );
    assert_eq!(attempts(&killed.join("logs/gym_Pendulum-v1/sac-smoke-seed0.log")), 2, "train, then resume");

    // 3. An uninterrupted suite into another folder gives the same metrics, row for row.
    let clean = tmp.path().join("clean");
    let outcome = reproduce(&options(&suite, &clean)).unwrap();
    assert_eq!((outcome.finished, outcome.failures.len()), (2, 0));
    for algo in ["dime", "sac"] {
        let (a, b) = (
            metrics_without_wall_time(&run_dir(&killed, algo, 0)),
            metrics_without_wall_time(&run_dir(&clean, algo, 0)),
        );
        assert_eq!(a.len(), if algo == "dime" { 7 } else { 16 }, "header and one row per 100 steps");
        assert_eq!(a, b, "{algo}: resumed and uninterrupted metrics differ");
    }

    // 4. The report: a table row per algorithm, the missing task listed, one plot in two formats.
    let summary = std::fs::read_to_string(clean.join("summary.md")).unwrap();
    assert!(summary.starts_with("# tiny: summary"), "{summary}");
    for row in ["| dime | smoke | 1 |", "| sac | smoke | 1 |", "dmc/not-yet-a-task: no runs"] {
        assert!(summary.contains(row), "`{row}` missing from:\n{summary}");
    }
    for plot in ["gym_Pendulum-v1.svg", "gym_Pendulum-v1.png"] {
        assert!(std::fs::metadata(clean.join(plot)).unwrap().len() > 1000, "{plot}");
    }
    // The table's final return is the last row's return (one seed: mean = IQM = both bounds).
    let last = metrics_without_wall_time(&run_dir(&clean, "dime", 0)).last().unwrap().clone();
    let final_return: f64 = last.split(',').nth(2).unwrap().parse().unwrap();
    let cell = format!("{final_return:.1}");
    assert!(summary.contains(&format!("| dime | smoke | 1 | {cell} | {cell} | [{cell}, {cell}] |")), "{summary}");
}

#[test]
fn a_failing_run_is_listed_with_its_log_and_the_others_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("two-seeds.toml");
    let text = SUITE.replace("seeds = [0]", "seeds = [0, 1]").replace("steps_for = { sac = 1500 }", "");
    let text = text.split("[[algorithm]]\nalgo = \"sac\"").next().unwrap().to_string()
        + &text[text.find("[[task]]").unwrap()..];
    std::fs::write(&suite, text).unwrap();
    // A dime that fails to train seed 1.
    let wrapper = tmp.path().join("dime-failing-seed1");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\ncase \"$*\" in *'--seed 1 '*) echo 'boom: seed 1 refused' >&2; exit 3;; esac\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_dime")
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = tmp.path().join("out");
    let Outcome { total, finished, failures, .. } =
        reproduce(&Options { dime: wrapper, jobs: 2, ..options(&suite, &out) }).unwrap();
    assert_eq!((total, finished, failures.len()), (2, 1, 1));
    assert_eq!(failures[0].label, "dime-smoke gym/Pendulum-v1 seed1");
    let log = std::fs::read_to_string(&failures[0].log).unwrap();
    assert!(log.contains("boom: seed 1 refused"), "{log}");
    assert_eq!(run_state(&run_dir(&out, "dime", 0), 600).unwrap(), RunState::Finished);
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("| dime | smoke | 1 |"), "the finished seed is reported:\n{summary}");
}

#[test]
fn slurm_writes_one_array_task_per_run_with_the_same_command_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path());
    let out = tmp.path().join("out");
    let outcome = reproduce(&Options { slurm: true, seeds: Some(vec![3, 4]), ..options(&suite, &out) }).unwrap();
    assert_eq!((outcome.total, outcome.finished), (4, 0), "nothing runs");
    assert!(!out.join("runs").exists(), "no run folder is made");
    let script = std::fs::read_to_string(out.join("slurm-tiny.sh")).unwrap();
    assert!(script.contains("#SBATCH --array=0-3"), "{script}");
    let config = std::path::absolute(out.join("configs/sac-smoke/gym_Pendulum-v1.toml")).unwrap();
    let run = std::path::absolute(run_dir(&out, "sac", 4)).unwrap();
    let train = format!("TRAIN=('train' '--config' '{}' '--seed' '4' '--out' '{}')", config.display(), run.display());
    assert!(script.contains(&train), "{train}\nnot in:\n{script}");
    // bash accepts it.
    let status = Command::new("bash").args(["-n"]).arg(out.join("slurm-tiny.sh")).status().unwrap();
    assert!(status.success());
}

#[test]
fn an_algorithm_entry_with_num_envs_writes_it_into_its_run_configs() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SUITE.replace("algo = \"sac\"\npreset = \"smoke\"", "algo = \"sac\"\npreset = \"smoke\"\nnum_envs = 4");
    let file = xtask::suite::SuiteFile::parse(Path::new("lanes.toml"), &text).unwrap();
    let dime = PathBuf::from(env!("CARGO_BIN_EXE_dime"));
    let runs = xtask::plan::plan_runs(&dime, &file, &["gym/Pendulum-v1".to_string()], &[0], tmp.path()).unwrap();
    let lanes = |algo: &str| {
        let run = runs.iter().find(|r| r.algo == algo).unwrap();
        let config: toml::Table = std::fs::read_to_string(&run.config).unwrap().parse().unwrap();
        config["loop"]["num_envs"].as_integer().unwrap()
    };
    assert_eq!((lanes("dime"), lanes("sac")), (1, 4));
}
