//! The Python bridge (feature `python`): spec, stepping, seeding, snapshots and bad input.
//! Needs a virtual environment with the packages of docs/python-bridge.md: `VIRTUAL_ENV`, or
//! `.venv/` at the workspace root.
#![cfg(feature = "python")]

use std::path::Path;
use std::sync::Once;

use dime_envs::{make, Env, EnvConfig, EnvError, PythonErrorKind};
use pyo3::prelude::*;

/// Point the bridge at the workspace's `.venv` unless `VIRTUAL_ENV` is set; fail loudly if neither exists.
fn venv() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("VIRTUAL_ENV").is_none() {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv");
            assert!(root.is_dir(), "no VIRTUAL_ENV and no {} (see docs/python-bridge.md)", root.display());
            std::env::set_var("VIRTUAL_ENV", root.canonicalize().unwrap());
        }
    });
}

fn py_make(id: &str) -> Box<dyn Env> {
    venv();
    make(id, &EnvConfig::default()).unwrap_or_else(|e| panic!("{id}: {e}"))
}

fn kind(err: &EnvError) -> Option<PythonErrorKind> {
    match err {
        EnvError::Python { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[test]
fn hopper_spec_matches_the_embedded_twin_and_steps() {
    let mut env = py_make("py/Hopper-v5");
    let twin = dime_envs::spec("gym/Hopper-v5", &EnvConfig::default()).unwrap();
    let spec = env.spec().clone();
    assert_eq!((spec.obs_dim, spec.act_dim), (twin.obs_dim, twin.act_dim));
    assert_eq!((spec.act_low.clone(), spec.act_high.clone()), (twin.act_low, twin.act_high));
    assert_eq!(spec.max_episode_steps, 1000);
    assert!((spec.dt - 0.008).abs() < 1e-15, "dt {}", spec.dt);
    assert!(spec.physics.contains("mujoco 3."), "{}", spec.physics);
    let mut obs = vec![0.0; spec.obs_dim];
    assert!(matches!(env.step(&[0.0; 3], &mut obs), Err(EnvError::StepBeforeReset { .. })));
    env.reset(Some(3), &mut obs).unwrap();
    let first = obs.clone();
    let out = env.step(&[0.1, -0.2, 0.3], &mut obs).unwrap();
    assert!(out.reward.is_finite() && obs != first);
    assert!(matches!(env.step(&[0.0; 2], &mut obs), Err(EnvError::WrongLength { .. })));
    assert!(matches!(env.step(&[f64::NAN, 0.0, 0.0], &mut obs), Err(EnvError::NonFiniteAction { .. })));
}

#[test]
fn same_seed_same_trajectory_other_seed_other_reset() {
    let run = |seed| {
        let mut env = py_make("py/dm_control/cartpole-swingup");
        let mut obs = vec![0.0; env.spec().obs_dim];
        env.reset(Some(seed), &mut obs).unwrap();
        let mut all = obs.clone();
        for t in 0..20 {
            env.step(&[((t as f64) * 0.37).sin()], &mut obs).unwrap();
            all.extend_from_slice(&obs);
        }
        all
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5)[..5], run(6)[..5]);
}

#[test]
fn dm_control_layout_is_dm_controls_native_key_order() {
    let env = py_make("py/dm_control/walker-walk");
    let twin = dime_envs::spec("dmc/walker-walk", &EnvConfig::default()).unwrap();
    let names: Vec<_> = env.spec().obs_layout.iter().map(|f| (f.name, f.offset, f.len)).collect();
    let twin_names: Vec<_> = twin.obs_layout.iter().map(|f| (f.name, f.offset, f.len)).collect();
    assert_eq!(names, twin_names);
    assert_eq!(env.spec().max_episode_steps, 1000);
    assert_eq!(env.spec().reward_range, twin.reward_range);
}

#[test]
fn snapshot_restores_mid_episode_exactly() {
    let mut a = py_make("py/Hopper-v5");
    let mut obs = vec![0.0; a.spec().obs_dim];
    a.reset(Some(11), &mut obs).unwrap();
    for _ in 0..5 {
        a.step(&[0.3, -0.1, 0.2], &mut obs).unwrap();
    }
    let snap = a.snapshot();
    assert!(!snap.task_state.is_empty());
    let mut b = py_make("py/Hopper-v5");
    b.restore(&snap).unwrap();
    let mut obs_b = obs.clone();
    for _ in 0..10 {
        let ra = a.step(&[0.2, 0.2, -0.4], &mut obs).unwrap();
        let rb = b.step(&[0.2, 0.2, -0.4], &mut obs_b).unwrap();
        assert_eq!((ra.reward.to_bits(), ra.terminated), (rb.reward.to_bits(), rb.terminated));
        assert_eq!(obs, obs_b);
        if ra.done() {
            break;
        }
    }
}

#[test]
fn unknown_task_and_missing_package_are_typed_errors() {
    venv();
    let err = make("py/NoSuchTask-v9", &EnvConfig::default()).err().expect("unknown id must fail");
    assert_eq!(kind(&err), Some(PythonErrorKind::UnknownTask), "{err}");
    assert!(err.to_string().contains("NoSuchTask"), "{err}");
    let err = make("py/dime_no_such_module:Env-v0", &EnvConfig::default()).err().expect("must fail");
    assert!(kind(&err).is_some(), "{err}");
    assert!(err.to_string().contains("dime_no_such_module"), "{err}");
}

/// Registers environments that misbehave on purpose (in the bridge's interpreter).
fn register_faulty_envs() {
    static ONCE: Once = Once::new();
    venv();
    let _ = py_make("py/Pendulum-v1"); // loads the bridge, which adds the venv's packages
    ONCE.call_once(|| {
        Python::attach(|py| {
            py.run(
                cr#"
import gymnasium as gym, numpy as np
from gymnasium import spaces

class Faulty(gym.Env):
    def __init__(self, mode="raise"):
        self.mode = mode
        self.observation_space = spaces.Box(-1.0, 1.0, (3,), np.float64)
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.t = 0
    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        if self.mode == "int_obs":
            return np.zeros(3, dtype=np.int64), {}
        if self.mode == "short_obs":
            return np.zeros(2), {}
        return np.zeros(3), {}
    def step(self, action):
        self.t += 1
        if self.t == 3:
            raise RuntimeError("dime test: the simulator exploded at t = 3")
        return np.zeros(3), 0.0, False, False, {}

for mode in ("raise", "int_obs", "short_obs"):
    gym.register(f"dime_test/Faulty-{mode}-v0", entry_point=Faulty, kwargs={"mode": mode}, disable_env_checker=True)
"#,
                None,
                None,
            )
            .unwrap();
        });
    });
}

#[test]
fn a_python_exception_is_a_typed_error_with_message_and_traceback() {
    register_faulty_envs();
    let mut env = py_make("py/dime_test/Faulty-raise-v0");
    let mut obs = vec![0.0; 3];
    env.reset(Some(0), &mut obs).unwrap();
    env.step(&[0.0, 0.0], &mut obs).unwrap();
    env.step(&[0.0, 0.0], &mut obs).unwrap();
    let err = env.step(&[0.0, 0.0], &mut obs).unwrap_err();
    let EnvError::Python { kind, message, traceback, .. } = &err else { panic!("not a Python error: {err}") };
    assert_eq!(*kind, PythonErrorKind::Exception);
    assert!(message.contains("RuntimeError") && message.contains("exploded at t = 3"), "{message}");
    assert!(traceback.contains("in step"), "{traceback}");
    // The episode is over: the env asks for a reset instead of stepping a broken state.
    assert!(matches!(env.step(&[0.0, 0.0], &mut obs), Err(EnvError::StepAfterDone { .. })));
    env.reset(None, &mut obs).unwrap();
}

#[test]
fn observations_of_the_wrong_dtype_or_shape_are_refused_at_reset() {
    register_faulty_envs();
    for (id, what) in [("py/dime_test/Faulty-int_obs-v0", "int64"), ("py/dime_test/Faulty-short_obs-v0", "(2,)")] {
        let mut env = py_make(id);
        let mut obs = vec![0.0; 3];
        let err = env.reset(Some(0), &mut obs).unwrap_err();
        assert_eq!(kind(&err), Some(PythonErrorKind::BadObservation), "{err}");
        let text = err.to_string();
        assert!(text.contains("expected observation of shape (3,)") && text.contains(what), "{text}");
    }
}
