//! Helpers shared by the agent and loop tests (each test file uses a subset).
#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use dime_algos::{Agent, LoopConfig, Observer, Trainer};
use dime_envs::{make_unit, EnvConfig};

/// The task the agent tests train on.
pub const TASK: &str = "gym/Pendulum-v1";

/// 300 steps, learning after 100, an evaluation episode every 100 steps, a checkpoint at 150.
pub fn loop_cfg() -> LoopConfig {
    LoopConfig {
        total_steps: 300,
        learning_starts: 100,
        eval_every: 100,
        eval_episodes: 1,
        checkpoint_every: 150,
        replay_capacity: 10_000,
    }
}

/// A trainer for `agent` on [`TASK`] with [`loop_cfg`], writing into `dir`.
pub fn trainer<'a>(agent: &'a mut dyn Agent, seed: u64, dir: &Path) -> Trainer<'a> {
    let env = EnvConfig::default();
    let (train, eval) = (make_unit(TASK, &env).unwrap(), make_unit(TASK, &env).unwrap());
    Trainer::new(loop_cfg(), agent, train, eval, seed, Some(dir)).unwrap()
}

/// Resume the run in `dir` with `agent` on [`TASK`].
pub fn resumed<'a>(agent: &'a mut dyn Agent, dir: &Path) -> Trainer<'a> {
    let env = EnvConfig::default();
    let (train, eval) = (make_unit(TASK, &env).unwrap(), make_unit(TASK, &env).unwrap());
    Trainer::resume(loop_cfg(), agent, train, eval, dir).unwrap()
}

/// metrics.csv without the wall-time column, the only one that is not deterministic.
pub fn metrics_without_wall_time(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    text.lines()
        .map(|l| l.split(',').enumerate().filter(|(i, _)| *i != 2).map(|(_, c)| c).collect::<Vec<_>>().join(","))
        .collect()
}

/// Raise the stop flag once `.0` env steps are done.
pub struct StopAt<'a>(pub u64, pub &'a AtomicBool);

impl Observer for StopAt<'_> {
    fn on_step(&mut self, env_steps: u64) {
        if env_steps == self.0 {
            self.1.store(true, Ordering::Relaxed);
        }
    }
}
