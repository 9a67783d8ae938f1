//! The Python bridge (feature `python`): any Gymnasium environment as an [`Env`].
//!
//! `py/<name>` builds `gymnasium.make(name)` in an embedded CPython (pyo3 with
//! `auto-initialize`, so the build needs a shared libpython); `py/dm_control/<domain>-<task>`
//! goes through Shimmy and `py/myo...` through MyoSuite. Packages come from the virtual
//! environment named by `VIRTUAL_ENV` (`docs/python-bridge.md`).
//!
//! Why it is shaped this way: the Python half (`bridge.py`, embedded in the crate) does what
//! needs Python libraries — building the env, flattening observations, reading MuJoCo state —
//! and the Rust half keeps what the crate promises for every env: the seeded ChaCha stream (each
//! reset passes Python a seed drawn from it, so runs are deterministic given the Python
//! packages), the time limit and episode state machine, input checks, and typed errors. A Python
//! exception becomes [`EnvError::Python`] with the message and traceback, never a crash.
//!
//! Observations are flat `f64` in the layout of the embedded twins: a `Dict` space is flattened
//! in dm_control's native key order (envs.md §1.3). Actions are in native units (envs.md §1.2).

pub mod lockstep;

pub use lockstep::{LockStep, PyState, StepError, Trace};

use std::collections::BTreeSet;
use std::ffi::CString;
use std::sync::Mutex;

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyModule, PyTuple};
use rand::RngCore;
use rand::SeedableRng;

use crate::env::{check_action, check_obs_len, Env, EnvSnapshot, Phase};
use crate::error::{EnvError, PythonErrorKind};
use crate::registry::EnvConfig;
use crate::rng::{env_rng, EnvRng};
use crate::spec::{EnvSpec, ObsField, StepOut};

const BRIDGE_SRC: &str = include_str!("bridge.py");

static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The embedded `bridge.py`, loaded once per process.
fn bridge_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    let module = MODULE.get_or_try_init(py, || -> PyResult<Py<PyModule>> {
        let code = CString::new(BRIDGE_SRC).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        Ok(PyModule::from_code(py, &code, c"dime_envs/python/bridge.py", c"dime_bridge")?.unbind())
    })?;
    Ok(module.bind(py))
}

/// Turn a Python exception into a typed error with its message and traceback.
pub(crate) fn py_error(py: Python<'_>, id: &str, err: PyErr) -> EnvError {
    let class = err.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
    let kind = match class.as_str() {
        "MissingPackage" => PythonErrorKind::MissingPackage,
        "UnknownEnv" => PythonErrorKind::UnknownTask,
        "Unsupported" => PythonErrorKind::Unsupported,
        "BadObservation" => PythonErrorKind::BadObservation,
        "StateUnsupported" => PythonErrorKind::StateUnsupported,
        _ => PythonErrorKind::Exception,
    };
    let message = format!("{class}: {}", err.value(py));
    let traceback = err.traceback(py).and_then(|t| t.format().ok()).unwrap_or_default();
    EnvError::Python { id: id.to_string(), kind, message, traceback }
}

/// Field names and engine descriptions live as long as the process; each distinct one is
/// leaked once (an env spec holds `&'static str`).
fn intern(s: &str) -> &'static str {
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(found) = names.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// A Gymnasium environment driven from Rust (`py/<name>`).
pub struct PyEnv {
    spec: EnvSpec,
    bridge: Py<PyAny>,
    rng: EnvRng,
    steps: u32,
    phase: Phase,
}

/// What the Python side reports about a new environment.
struct PySpec {
    layout: Vec<(String, usize)>,
    act_low: Vec<f64>,
    act_high: Vec<f64>,
    max_episode_steps: Option<u32>,
    dt: f64,
    versions: String,
}

fn read_spec(bridge: &Bound<'_, PyAny>, module: &Bound<'_, PyModule>, name: &str) -> PyResult<PySpec> {
    Ok(PySpec {
        layout: bridge.call_method0("layout")?.extract()?,
        act_low: bridge.getattr("act_low")?.extract()?,
        act_high: bridge.getattr("act_high")?.extract()?,
        max_episode_steps: bridge.getattr("max_episode_steps")?.extract()?,
        dt: bridge.getattr("dt")?.extract()?,
        versions: module.call_method1("versions", (name,))?.extract()?,
    })
}

/// The per-step reward range of `py/<name>`: the embedded twin's where there is one, `[0, 1]`
/// for dm_control, otherwise `[-10, 10]` (a stated guess; it sizes DIME's derived support).
fn reward_range(name: &str, cfg: &EnvConfig) -> (f64, f64) {
    let twin = match name.strip_prefix("dm_control/") {
        Some(task) => format!("dmc/{}", task.split("-v").next().unwrap_or(task)),
        None => format!("gym/{name}"),
    };
    if let Ok(spec) = crate::registry::spec(&twin, cfg) {
        return spec.reward_range;
    }
    if name.starts_with("dm_control/") {
        return (0.0, 1.0);
    }
    tracing::warn!(task = name, "no embedded twin: reward range taken as [-10, 10]");
    (-10.0, 10.0)
}

impl PyEnv {
    /// Build `py/<name>`; `id` is the full id for messages and the spec.
    pub fn new(name: &str, id: &str, cfg: &EnvConfig) -> Result<Self, EnvError> {
        let (bridge, py_spec) = Python::attach(|py| {
            let run = || -> PyResult<(Py<PyAny>, PySpec)> {
                let module = bridge_module(py)?;
                let bridge = module.getattr("Bridge")?.call1((name,))?;
                let spec = read_spec(&bridge, module, name)?;
                Ok((bridge.unbind(), spec))
            };
            run().map_err(|e| py_error(py, id, e))
        })?;
        let mut obs_layout = Vec::with_capacity(py_spec.layout.len());
        let mut offset = 0;
        for (field, len) in &py_spec.layout {
            obs_layout.push(ObsField::new(intern(field), offset, *len));
            offset += len;
        }
        let physics = intern(&format!("python ({})", py_spec.versions));
        let spec = EnvSpec {
            id: id.to_string(),
            obs_dim: offset,
            act_dim: py_spec.act_low.len(),
            act_low: py_spec.act_low,
            act_high: py_spec.act_high,
            obs_layout,
            max_episode_steps: py_spec.max_episode_steps.unwrap_or(u32::MAX),
            dt: py_spec.dt,
            physics,
            reward_range: reward_range(name, cfg),
            reset_obs_range: vec![(f64::NEG_INFINITY, f64::INFINITY); offset],
            can_terminate: !name.starts_with("dm_control/"),
            random_reset: true,
        };
        Ok(Self { spec, bridge, rng: env_rng(0), steps: 0, phase: Phase::NeverReset })
    }

    /// Whether an episode is running (reset, not yet ended).
    pub fn is_running(&self) -> bool {
        self.phase == Phase::Running
    }

    /// Call a bridge method, mapping a Python exception to [`EnvError::Python`].
    pub(crate) fn call<'py, A>(&self, py: Python<'py>, method: &str, args: A) -> Result<Bound<'py, PyAny>, EnvError>
    where
        A: pyo3::call::PyCallArgs<'py>,
    {
        self.bridge.bind(py).call_method1(method, args).map_err(|e| py_error(py, &self.spec.id, e))
    }

    fn copy_obs(&self, py: Python<'_>, array: &Bound<'_, PyAny>, obs: &mut [f64]) -> Result<(), EnvError> {
        PyBuffer::<f64>::get(array)
            .and_then(|buffer| buffer.copy_to_slice(py, obs))
            .map_err(|e| py_error(py, &self.spec.id, e))
    }
}

impl Env for PyEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<(), EnvError> {
        check_obs_len(&self.spec, obs)?;
        if let Some(seed) = seed {
            self.rng = env_rng(seed);
        }
        // NumPy's legacy seeding (dm_control) takes seeds below 2^32.
        let py_seed = self.rng.next_u32();
        self.phase = Phase::Done;
        Python::attach(|py| {
            let array = self.call(py, "reset", (py_seed,))?;
            self.copy_obs(py, &array, obs)
        })?;
        self.steps = 0;
        self.phase = Phase::Running;
        Ok(())
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Result<StepOut, EnvError> {
        match self.phase {
            Phase::NeverReset => return Err(EnvError::StepBeforeReset { task: self.spec.id.clone() }),
            Phase::Done => return Err(EnvError::StepAfterDone { task: self.spec.id.clone() }),
            Phase::Running => {}
        }
        check_action(&self.spec, action)?;
        check_obs_len(&self.spec, obs)?;
        // An exception leaves the Python env in an unknown state: the episode is over.
        self.phase = Phase::Done;
        let (reward, terminated, py_truncated) = Python::attach(|py| {
            let tuple = PyTuple::new(py, action.iter().copied()).map_err(|e| py_error(py, &self.spec.id, e))?;
            let out = self.call(py, "step", (tuple,))?;
            let (array, reward, terminated, truncated): (Bound<'_, PyAny>, f64, bool, bool) =
                out.extract().map_err(|e| py_error(py, &self.spec.id, e))?;
            self.copy_obs(py, &array, obs)?;
            Ok::<_, EnvError>((reward, terminated, truncated))
        })?;
        self.steps += 1;
        let diverged = !reward.is_finite() || obs.iter().any(|x| !x.is_finite());
        if diverged {
            tracing::warn!(task = %self.spec.id, step = self.steps, "non-finite observation or reward, episode truncated");
        }
        let truncated = py_truncated || self.steps >= self.spec.max_episode_steps || diverged;
        if !(terminated || truncated) {
            self.phase = Phase::Running;
        }
        Ok(StepOut { reward: if diverged { 0.0 } else { reward }, terminated, truncated, diverged })
    }

    /// The MuJoCo physics state (`mj_getState`, full physics) when the env is mid-episode and
    /// has one; empty otherwise. A failure is logged and yields an empty state, which
    /// [`Env::restore`] then refuses for a running episode.
    fn snapshot(&self) -> EnvSnapshot {
        let task_state = if self.phase == Phase::Running {
            Python::attach(|py| {
                match self
                    .call(py, "get_state", ())
                    .and_then(|s| s.extract::<Vec<f64>>().map_err(|e| py_error(py, &self.spec.id, e)))
                {
                    Ok(state) => state,
                    Err(err) => {
                        tracing::warn!(task = %self.spec.id, "snapshot without physics state: {err}");
                        Vec::new()
                    }
                }
            })
        } else {
            Vec::new()
        };
        EnvSnapshot {
            task_state,
            rng_seed: self.rng.get_seed(),
            rng_stream: self.rng.get_stream(),
            rng_word_pos: self.rng.get_word_pos(),
            steps: self.steps,
            phase: self.phase.code(),
        }
    }

    /// Continue from a snapshot: a running episode is reset (with a seed that does not touch
    /// the env's stream) and its MuJoCo state set; the step counters follow.
    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let phase = Phase::from_code(snapshot.phase)?;
        if phase == Phase::Running {
            if snapshot.task_state.is_empty() {
                return Err(EnvError::Python {
                    id: self.spec.id.clone(),
                    kind: PythonErrorKind::StateUnsupported,
                    message: "the checkpoint holds no physics state for this environment (it has no MuJoCo \
                              model dime can read), so it cannot continue mid-episode"
                        .into(),
                    traceback: String::new(),
                });
            }
            Python::attach(|py| {
                self.call(py, "set_state", (snapshot.task_state.clone(), snapshot.steps, 0u32)).map(|_| ())
            })?;
        }
        let mut rng = EnvRng::from_seed(snapshot.rng_seed);
        rng.set_stream(snapshot.rng_stream);
        rng.set_word_pos(snapshot.rng_word_pos);
        self.rng = rng;
        self.steps = snapshot.steps;
        self.phase = phase;
        Ok(())
    }
}

/// Build `py/<name>` (the registry's entry point).
pub(crate) fn make(name: &str, id: &str, cfg: &EnvConfig) -> Result<Box<dyn Env>, EnvError> {
    Ok(Box::new(PyEnv::new(name, id, cfg)?))
}
