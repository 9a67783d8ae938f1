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
