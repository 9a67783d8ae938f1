//! End-to-end tests of the `dime` binary.

use std::process::Command;

fn dime(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dime")).args(args).output().expect("dime binary runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn list_tasks_prints_every_registered_task_with_its_dimensions() {
    let (ok, stdout, _) = dime(&["list", "tasks"]);
    assert!(ok);
    for id in dime::envs::ids() {
        let spec = dime::envs::spec(id, &Default::default()).unwrap();
        let row = stdout.lines().find(|l| l.starts_with(id)).unwrap_or_else(|| panic!("{id} missing:\n{stdout}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cols[1..4],
            [spec.obs_dim.to_string(), spec.act_dim.to_string(), spec.max_episode_steps.to_string()]
        );
    }
}

#[test]
fn checking_an_unknown_task_fails_with_close_matches() {
    let (ok, stdout, stderr) = dime(&["check", "gym/pendulum"]);
    assert!(!ok, "exit code must say it failed");
    assert!(stdout.contains("gym/Pendulum-v1"), "suggests the close match: {stdout}{stderr}");
}

#[test]
fn checking_a_task_passes() {
    let (ok, stdout, stderr) = dime(&["check", "toy/multi-goal"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.starts_with("ok"));
}

#[test]
fn train_writes_a_run_folder_and_eval_and_resume_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let (ok, stdout, stderr) = dime(&["train", "--preset", "smoke", "--steps", "1200", "--seed", "4", "--out", run_s]);
    assert!(ok, "{stdout}{stderr}");
    for file in ["config.toml", "provenance.toml", "metrics.csv", "curve.svg", "checkpoints/LATEST"] {
        assert!(run.join(file).exists(), "{file} missing");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    // The smoke preset learns from step 500 and evaluates every 500 steps: rows at 500 and 1000,
    // the second with every agent metric computed.
    assert_eq!(metrics.lines().count(), 3, "header and two evaluations:\n{metrics}");
    assert!(metrics.lines().nth(2).is_some_and(|l| l.starts_with("1000,") && !l.contains("NaN")), "{metrics}");
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("seed = 4") && config.contains("derived_from_task"), "{config}");

    let (ok, stdout, stderr) = dime(&["eval", run_s, "--episodes", "2"]);
    assert!(ok && stdout.contains("over 2 episodes"), "{stdout}{stderr}");

    // A finished run resumes to "finished" without redoing work.
    let (ok, stdout, stderr) = dime(&["resume", run_s]);
    assert!(ok && stdout.contains("at 1200 steps"), "{stdout}{stderr}");

    // The folder holds a run: a new run there is refused before any work.
    let (ok, _, stderr) = dime(&["train", "--preset", "smoke", "--steps", "10", "--out", run_s]);
    assert!(!ok && stderr.contains("already holds"), "{stderr}");

    // A config file is the whole run: here learning starts at 200 and the budget is 1000 steps.
    let edited = config
        .replace("learning_starts = 500", "learning_starts = 200")
        .replace("total_steps = 1200", "total_steps = 1000");
    assert!(edited.contains("learning_starts = 200\n") && edited.contains("total_steps = 1000\n"), "{edited}");
    let file = dir.path().join("edited.toml");
    std::fs::write(&file, edited).unwrap();
    let second = dir.path().join("second");
    let (ok, stdout, stderr) = dime(&["train", "--config", file.to_str().unwrap(), "--out", second.to_str().unwrap()]);
    assert!(ok, "{stdout}{stderr}");
    let metrics = std::fs::read_to_string(second.join("metrics.csv")).unwrap();
    let rows: Vec<&str> = metrics.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{metrics}");
    assert!(rows.iter().all(|l| !l.contains("NaN")), "learning started before the first evaluation: {metrics}");
}

#[test]
fn bad_train_requests_fail_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let out = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["train", "--algo", "dqn", "--out", out], "unknown algorithm"),
        (vec!["train", "--preset", "huge", "--out", out], "unknown preset"),
        (vec!["train", "--env", "gym/Pendulum-v0", "--out", out], "gym/Pendulum-v1"),
        (vec!["train", "--steps", "0", "--out", out], "total_steps"),
        (vec!["train", "--num-envs", "0", "--out", out], "num_envs must be positive"),
        (vec!["train", "--num-envs", "7", "--out", out], "not a multiple of num_envs = 7"),
        (vec!["train", "--algo", "diffsac", "--num-envs", "2", "--out", out], "one environment at a time"),
    ] {
        let (ok, stdout, stderr) = dime(&args);
        assert!(!ok && stderr.contains(needle), "{args:?}: {stdout}{stderr}");
        assert!(!dir.path().join("x").exists(), "{args:?} created the run folder");
    }
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "task = \"gym/Pendulum-v1\"\nsurprise = 1\n").unwrap();
    let (ok, _, stderr) = dime(&["train", "--config", bad.to_str().unwrap(), "--out", out]);
    assert!(!ok && stderr.contains("bad.toml"), "{stderr}");
}

#[test]
fn on_policy_training_steps_several_environments_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("lanes");
    let run_s = run.to_str().unwrap();
    let args =
        ["train", "--algo", "diffppo", "--preset", "smoke", "--num-envs", "4", "--steps", "1000", "--out", run_s];
    let (ok, stdout, stderr) = dime(&args);
    assert!(ok, "{stdout}{stderr}");
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("num_envs = 4"), "{config}");
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    // The smoke preset evaluates every 500 steps: rows at 500 and 1000.
    let steps: Vec<&str> = metrics.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(steps, ["500", "1000"], "{metrics}");
    let (ok, stdout, stderr) = dime(&["eval", run_s, "--episodes", "2"]);
    assert!(ok, "{stdout}{stderr}");
}

/// SIGTERM (a cluster's preemption, `kill`) stops a run the way Ctrl-C does: with a checkpoint
/// that `dime resume` continues.
#[cfg(unix)]
#[test]
fn sigterm_stops_a_run_with_a_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dime"))
        .args(["train", "--algo", "sac", "--preset", "smoke", "--steps", "1000000", "--out"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("dime binary runs");
    // Wait for the first evaluation row, so that the run is well under way.
    let metrics = dir.join("metrics.csv");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&metrics).map_or(0, |t| t.lines().count()) < 2 {
        assert!(started.elapsed().as_secs() < 120, "no evaluation within two minutes");
        assert!(child.try_wait().unwrap().is_none(), "dime ended early");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: `kill` with a valid pid and signal number has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    assert!(status.success(), "an interrupted run exits normally: {status}");
    let latest = std::fs::read_to_string(dir.join("checkpoints").join("LATEST")).expect("a checkpoint was written");
    assert!(!latest.trim().is_empty());
}
