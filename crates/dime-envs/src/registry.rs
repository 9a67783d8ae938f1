//! Tasks by id: `make("gym/Pendulum-v1", &EnvConfig::default())`.

use serde::{Deserialize, Serialize};

use crate::env::{Env, TaskEnv};
use crate::error::EnvError;
use crate::spec::EnvSpec;
use crate::tasks::{dmc, gym_mujoco};
use crate::tasks::{MountainCarContinuous, MultiGoal, MultiGoalConfig, Pendulum};
use crate::wrappers::RescaleAction;

/// Task options that are not part of the id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvConfig {
    /// Coefficients and noise of `toy/multi-goal`.
    pub multi_goal: MultiGoalConfig,
}

type Constructor = fn(&EnvConfig) -> Result<Box<dyn Env>, EnvError>;

/// One registered task: its id, other names it answers to, and how to build it.
struct Entry {
    id: &'static str,
    aliases: &'static [&'static str],
    build: Constructor,
}

const REGISTRY: &[Entry] = &[
    Entry { id: "gym/Pendulum-v1", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(Pendulum::new()))) },
    Entry {
        id: "gym/MountainCarContinuous-v0",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(MountainCarContinuous::new()))),
    },
    Entry {
        id: "toy/multi-goal",
        aliases: &["sql/MultiGoal-v0"],
        build: |cfg| Ok(Box::new(TaskEnv::new(MultiGoal::new(cfg.multi_goal.clone())?))),
    },
    Entry { id: "dmc/acrobot-swingup", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::acrobot::swingup()?))) },
    Entry {
        id: "dmc/cartpole-balance",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(dmc::cartpole::balance()?))),
    },
    Entry {
        id: "dmc/cartpole-swingup",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(dmc::cartpole::swingup()?))),
    },
    Entry {
        id: "dmc/pendulum-swingup",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(dmc::pendulum::swingup()?))),
    },
    Entry { id: "dmc/point_mass-easy", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::point_mass::easy()?))) },
    Entry { id: "dmc/point_mass-hard", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::point_mass::hard()?))) },
    Entry { id: "dmc/reacher-easy", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::reacher::easy()?))) },
    Entry { id: "dmc/reacher-hard", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::reacher::hard()?))) },
    Entry {
        id: "gym/HalfCheetah-v5",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(gym_mujoco::half_cheetah::v5()?))),
    },
    Entry {
        id: "gym/Hopper-v5",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(gym_mujoco::hopper_walker::hopper_v5()?))),
    },
    Entry {
        id: "gym/Walker2d-v5",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(gym_mujoco::hopper_walker::walker2d_v5()?))),
    },
    Entry { id: "gym/Ant-v5", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(gym_mujoco::ant::v5()?))) },
    Entry { id: "gym/Humanoid-v5", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(gym_mujoco::humanoid::v5()?))) },
    Entry {
        id: "gym/HalfCheetah-v4",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(gym_mujoco::half_cheetah::v4()?))),
    },
    Entry {
        id: "gym/Hopper-v4",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(gym_mujoco::hopper_walker::hopper_v4()?))),
    },
    Entry {
        id: "gym/Walker2d-v4",
        aliases: &[],
        build: |_| Ok(Box::new(TaskEnv::new(gym_mujoco::hopper_walker::walker2d_v4()?))),
    },
    Entry { id: "dmc/cheetah-run", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::cheetah::run()?))) },
    Entry { id: "dmc/hopper-hop", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::hopper::hop()?))) },
    Entry { id: "dmc/humanoid-run", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::humanoid::run()?))) },
    Entry { id: "dmc/walker-walk", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::walker::walk()?))) },
    Entry { id: "dmc/walker-run", aliases: &[], build: |_| Ok(Box::new(TaskEnv::new(dmc::walker::run()?))) },
];

/// Every registered id, in registry order.
pub fn ids() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.id).collect()
}

fn find(id: &str) -> Result<&'static Entry, EnvError> {
    REGISTRY
        .iter()
        .find(|e| e.id == id || e.aliases.contains(&id))
        .ok_or_else(|| EnvError::UnknownTask { id: id.to_string(), suggestions: close_matches(id) })
}

/// Registered ids closest to `id` (case-insensitive edit similarity), best first; all ids if none is close.
pub fn close_matches(id: &str) -> Vec<String> {
    let needle = id.to_lowercase();
    let mut scored: Vec<(f64, &str)> = REGISTRY
        .iter()
        .map(|e| {
            let hay = e.id.to_lowercase();
            let name = hay.rsplit('/').next().unwrap_or(&hay).to_string();
            let score = strsim::jaro_winkler(&needle, &hay).max(strsim::jaro_winkler(&needle, &name));
            (score, e.id)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let close: Vec<String> = scored.iter().filter(|(s, _)| *s >= 0.7).take(3).map(|(_, id)| id.to_string()).collect();
    if close.is_empty() {
        ids().into_iter().map(String::from).collect()
    } else {
        close
    }
}

/// Build the task `id` with actions in its native units. `py/<name>` ids go through the
/// Python bridge (feature `python`; without it they are [`EnvError::PythonBridgeDisabled`]).
pub fn make(id: &str, cfg: &EnvConfig) -> Result<Box<dyn Env>, EnvError> {
    if let Some(name) = id.strip_prefix("py/") {
        return make_python(name, id, cfg);
    }
    (find(id)?.build)(cfg)
}

#[cfg(feature = "python")]
fn make_python(name: &str, id: &str, cfg: &EnvConfig) -> Result<Box<dyn Env>, EnvError> {
    crate::python::make(name, id, cfg)
}

#[cfg(not(feature = "python"))]
fn make_python(_name: &str, id: &str, _cfg: &EnvConfig) -> Result<Box<dyn Env>, EnvError> {
    Err(EnvError::PythonBridgeDisabled { id: id.to_string() })
}

/// Build the task `id` with actions in `[-1, 1]^d` (what a learner uses).
pub fn make_unit(id: &str, cfg: &EnvConfig) -> Result<Box<dyn Env>, EnvError> {
    Ok(Box::new(RescaleAction::new(make(id, cfg)?)))
}

/// The spec of task `id` under `cfg`.
pub fn spec(id: &str, cfg: &EnvConfig) -> Result<EnvSpec, EnvError> {
    Ok(make(id, cfg)?.spec().clone())
}
