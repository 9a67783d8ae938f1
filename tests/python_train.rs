//! `dime train --env py/...` through the Python bridge (feature `python`): one task per family
//! (Gymnasium MuJoCo, dm_control through Shimmy, MyoSuite), every agent on a cheap task, and a
//! resume from a checkpoint taken mid-episode. Needs the virtual environment of
//! docs/python-bridge.md (`VIRTUAL_ENV`, or `.venv/` at the workspace root).
#![cfg(feature = "python")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn venv() -> PathBuf {
    if let Some(v) = std::env::var_os("VIRTUAL_ENV") {
        return PathBuf::from(v);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv");
    assert!(root.is_dir(), "no VIRTUAL_ENV and no {} (see docs/python-bridge.md)", root.display());
    root
}

fn dime(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dime"))
        .args(args)
        .env("VIRTUAL_ENV", venv())
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("dime binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Train `algo` (smoke preset) on `env` for `steps` steps; check the run folder and the
/// evaluation rows (every 500 steps, learning from step 500 for the off-policy agents).
fn train(algo: &str, env: &str, steps: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let steps_s = steps.to_string();
    let args = ["train", "--algo", algo, "--env", env, "--preset", "smoke", "--steps", &steps_s, "--seed", "1"];
    let (ok, text) = dime(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert!(ok, "{algo} on {env}: {text}");
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let rows = metrics.lines().skip(1).count();
    assert_eq!(rows as u32, steps / 500, "{algo} on {env}: one row per 500 steps:\n{metrics}");
    assert!(out.join("checkpoints/LATEST").exists(), "{algo} on {env}: no checkpoint");
    let provenance = std::fs::read_to_string(out.join("provenance.toml")).unwrap();
    assert!(provenance.contains("python ("), "{provenance}");
    dir
}

#[test]
fn gymnasium_mujoco_hopper_trains_through_the_bridge() {
    // 1000 steps: the second evaluation row (step 1000) comes after 500 updates, so every
    // agent metric is computed.
    let dir = train("sac", "py/Hopper-v5", 1000);
    let metrics = std::fs::read_to_string(dir.path().join("run/metrics.csv")).unwrap();
    assert!(!metrics.lines().last().unwrap().contains("NaN"), "{metrics}");
}

#[test]
fn dm_control_through_shimmy_trains_through_the_bridge() {
    train("dime", "py/dm_control/cartpole-swingup", 700);
}

#[test]
fn myosuite_trains_through_the_bridge() {
    train("sac", "py/myoElbowPose1D6MRandom-v0", 700);
}

#[test]
fn every_agent_trains_on_a_bridged_task() {
    for algo in ["dime", "sac", "crossq", "ppo", "diffppo", "diffsac", "diffwpo", "wpo"] {
        train(algo, "py/Pendulum-v1", 500);
    }
}

#[test]
fn a_bridged_run_resumes_from_a_mid_episode_checkpoint_exactly() {
    // Run A: 1500 steps straight. Run B: 1000 steps (its last checkpoint is at step 1000;
    // Hopper's random-action episodes last ~20-60 steps, so it is taken mid-episode and holds
    // the MuJoCo state), then its budget raised to 1500 and `dime resume`d. The metrics rows must
    // agree in every column but wall time.
    let a = train("sac", "py/Hopper-v5", 1500);
    let b = train("sac", "py/Hopper-v5", 1000);
    let b_run = b.path().join("run");
    let config = std::fs::read_to_string(b_run.join("config.toml")).unwrap();
    assert!(config.contains("total_steps = 1000\n"), "{config}");
    std::fs::write(b_run.join("config.toml"), config.replace("total_steps = 1000\n", "total_steps = 1500\n")).unwrap();
    let (ok, text) = dime(&["resume", b_run.to_str().unwrap()]);
    assert!(ok, "{text}");
    let strip = |path: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let wall = header.iter().position(|h| h.contains("wall")).unwrap_or(usize::MAX);
        text.lines()
            .map(|l| l.split(',').enumerate().filter(|(i, _)| *i != wall).map(|(_, c)| c).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(strip(&a.path().join("run/metrics.csv")), strip(&b_run.join("metrics.csv")));
}

/// An exception inside the Python environment stops `dime train` with an error that carries
/// the Python message and traceback (not a crash without a message).
#[test]
fn a_python_exception_stops_training_with_its_message_and_traceback() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dime_faulty_env.py"),
        r#"
import gymnasium as gym, numpy as np
from gymnasium import spaces

class Faulty(gym.Env):
    observation_space = spaces.Box(-1.0, 1.0, (3,), np.float64)
    action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(3), {}
    def step(self, action):
        self.t += 1
        if self.t == 50:
            raise ValueError("dime test: joint 3 left the model")
        return np.zeros(3), 0.0, False, self.t >= 100, {}

gym.register("DimeFaulty-v0", entry_point=Faulty, max_episode_steps=100)
"#,
    )
    .unwrap();
    let out = dir.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_dime"))
        .args([
            "train",
            "--algo",
            "sac",
            "--preset",
            "smoke",
            "--steps",
            "300",
            "--env",
            "py/dime_faulty_env:DimeFaulty-v0",
            "--out",
        ])
        .arg(&out)
        .env("VIRTUAL_ENV", venv())
        .env("PYTHONPATH", dir.path())
        .output()
        .expect("dime binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the run must fail: {stderr}");
    assert_eq!(output.status.code(), Some(1), "an error exit, not a crash: {:?}\n{stderr}", output.status);
    assert!(stderr.contains("ValueError: dime test: joint 3 left the model"), "{stderr}");
    assert!(stderr.contains("Python traceback") && stderr.contains("in step"), "{stderr}");
}
