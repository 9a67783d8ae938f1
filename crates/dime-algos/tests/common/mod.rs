//! Helpers shared by the agent and loop tests (each test file uses a subset).
#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use dime_algos::{Agent, LoopConfig, Observer, Outcome, Silent, Trainer};
use dime_envs::{make_unit, Env, EnvConfig};

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
        num_envs: 1,
    }
}

/// A trainer for `agent` on [`TASK`] with [`loop_cfg`], writing into `dir`.
pub fn trainer<'a>(agent: &'a mut dyn Agent, seed: u64, dir: &Path) -> Trainer<'a> {
    let env = EnvConfig::default();
    let (train, eval) = (make_unit(TASK, &env).unwrap(), make_unit(TASK, &env).unwrap());
    Trainer::new(loop_cfg(), agent, vec![train], eval, seed, Some(dir)).unwrap()
}

/// Resume the run in `dir` with `agent` on [`TASK`].
pub fn resumed<'a>(agent: &'a mut dyn Agent, dir: &Path) -> Trainer<'a> {
    let env = EnvConfig::default();
    let (train, eval) = (make_unit(TASK, &env).unwrap(), make_unit(TASK, &env).unwrap());
    Trainer::resume(loop_cfg(), agent, vec![train], eval, dir).unwrap()
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

/// A trainer for `agent` on [`TASK`] with loop settings `cfg`, writing into `dir`.
pub fn trainer_with<'a>(cfg: &LoopConfig, agent: &'a mut dyn Agent, seed: u64, dir: &Path) -> Trainer<'a> {
    let (train, eval) = lane_envs(cfg.num_envs);
    Trainer::new(cfg.clone(), agent, train, eval, seed, Some(dir)).unwrap()
}

/// `lanes` training envs and an evaluation env of [`TASK`].
pub fn lane_envs(lanes: usize) -> (Vec<Box<dyn Env>>, Box<dyn Env>) {
    let env = EnvConfig::default();
    ((0..lanes).map(|_| make_unit(TASK, &env).unwrap()).collect(), make_unit(TASK, &env).unwrap())
}

/// The bit patterns of every parameter of `stores`, in order.
pub fn params_checksum(stores: &[&dime_nn::ParamStore]) -> Vec<u32> {
    let mut bits = Vec::new();
    for store in stores {
        for (_, var) in store.iter() {
            bits.extend(var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().map(|x| x.to_bits()));
        }
    }
    bits
}

/// Two runs of `build(2)` give the same metrics (but wall time) and parameters; `build(3)` differs.
pub fn assert_seeded_runs<A: Agent>(cfg: &LoopConfig, build: impl Fn(u64) -> A, checksum: impl Fn(&A) -> Vec<u32>) {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut agents = [build(2), build(2), build(3)];
    for ((a, seed), dir) in agents.iter_mut().zip([2, 2, 3]).zip(&dirs) {
        trainer_with(cfg, a, seed, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    }
    assert_eq!(metrics_without_wall_time(dirs[0].path()), metrics_without_wall_time(dirs[1].path()));
    assert_eq!(checksum(&agents[0]), checksum(&agents[1]));
    assert_ne!(metrics_without_wall_time(dirs[0].path()), metrics_without_wall_time(dirs[2].path()));
    assert_ne!(checksum(&agents[0]), checksum(&agents[2]));
}

/// A run of `build(4)` stopped after `stop_at` steps (a whole number of vector steps) and resumed into a fresh agent (`build(99)`)
/// ends with the metrics and parameters of an uninterrupted run; returns both agents for further checks.
pub fn assert_resumes_exactly<A: Agent>(
    cfg: &LoopConfig,
    stop_at: u64,
    build: impl Fn(u64) -> A,
    checksum: impl Fn(&A) -> Vec<u32>,
) -> (A, A) {
    let (full, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut reference = build(4);
    trainer_with(cfg, &mut reference, 4, full.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    let mut first = build(4);
    let stop = AtomicBool::new(false);
    let outcome = trainer_with(cfg, &mut first, 4, split.path()).run(&stop, &mut StopAt(stop_at, &stop)).unwrap();
    assert_eq!(outcome, Outcome::Interrupted { env_steps: stop_at });
    let mut second = build(99);
    let (train, eval) = lane_envs(cfg.num_envs);
    let mut resumed = Trainer::resume(cfg.clone(), &mut second, train, eval, split.path()).unwrap();
    assert_eq!(resumed.run(&AtomicBool::new(false), &mut Silent).unwrap(), Outcome::Finished);
    drop(resumed);
    assert_eq!(metrics_without_wall_time(full.path()), metrics_without_wall_time(split.path()));
    assert_eq!(checksum(&reference), checksum(&second));
    (reference, second)
}

/// The on-policy agents' loop: 100 steps from the first, an evaluation and a checkpoint every 50,
/// a one-slot buffer.
pub fn on_policy_loop() -> LoopConfig {
    LoopConfig {
        total_steps: 100,
        learning_starts: 0,
        eval_every: 50,
        eval_episodes: 1,
        checkpoint_every: 50,
        replay_capacity: 1,
        num_envs: 1,
    }
}
