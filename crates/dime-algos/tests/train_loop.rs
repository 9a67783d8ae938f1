//! The training loop with a counting fake env and a fake agent: wiring counts, determinism,
//! exact resume after an interrupt or from a scheduled checkpoint, damaged checkpoints, NaN guard.

mod common;

use common::{metrics_without_wall_time, StopAt};

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use dime_algos::checkpoint::CheckpointFiles;
use dime_algos::{ActMode, Agent, AlgoError, Batch, LoopConfig, Outcome, ReplayBuffer, Silent, Trainer};
use dime_envs::{Env, EnvError, EnvRng, EnvSpec, ObsField, Task, TaskEnv, TaskStep};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A 1-D task: the observation is the step count within the episode; reward = action; 7-step episodes.
struct CountingTask {
    spec: EnvSpec,
    t: f64,
    steps: Arc<AtomicU64>,
}

impl CountingTask {
    fn env(steps: &Arc<AtomicU64>) -> Box<dyn Env> {
        let spec = EnvSpec {
            id: "test/counting".into(),
            obs_dim: 1,
            act_dim: 1,
            act_low: vec![-1.0],
            act_high: vec![1.0],
            obs_layout: vec![ObsField::new("t", 0, 1)],
            max_episode_steps: 7,
            dt: 1.0,
            physics: "analytic",
            reward_range: (-1.0, 1.0),
            reset_obs_range: vec![(0.0, 1.0)],
            can_terminate: false,
            random_reset: true,
        };
        Box::new(TaskEnv::new(CountingTask { spec, t: 0.0, steps: steps.clone() }))
    }
}

impl Task for CountingTask {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn reset_state(&mut self, rng: &mut EnvRng) {
        self.t = rng.random_range(0.0..1.0);
    }
    fn observe(&self, obs: &mut [f64]) {
        obs[0] = self.t;
    }
    fn advance(&mut self, action: &[f64], _rng: &mut EnvRng) -> TaskStep {
        self.steps.fetch_add(1, Ordering::Relaxed);
        self.t += 1.0;
        TaskStep { reward: action[0], terminated: false }
    }
    fn state(&self) -> Vec<f64> {
        vec![self.t]
    }
    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        self.t = state[0];
        Ok(())
    }
}

/// A fake agent whose single weight moves with every sampled batch, so any difference in
/// replay content, sampling or ordering shows up in its value.
#[derive(Default)]
struct FakeAgent {
    weight: f64,
    explore_acts: u64,
    eval_acts: u64,
    updates: u64,
    nan_at_update: Option<u64>,
    /// Whether it says it learns from several environment lanes.
    lanes_ok: bool,
}

impl Agent for FakeAgent {
    fn act(&mut self, obs: &[f32], mode: ActMode, rng: &mut ChaCha8Rng, action: &mut [f32]) -> Result<(), AlgoError> {
        match mode {
            ActMode::Explore => self.explore_acts += 1,
            ActMode::Eval => self.eval_acts += 1,
        }
        let noise: f64 = rng.random_range(-0.5..0.5);
        action[0] = (self.weight * f64::from(obs[0]) + noise).tanh() as f32;
        Ok(())
    }
    fn update(&mut self, replay: &ReplayBuffer, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        self.updates += 1;
        let mut batch = Batch::default();
        replay.sample_into(4, rng, &mut batch)?;
        let mean_reward = batch.reward.iter().map(|&r| f64::from(r)).sum::<f64>() / 4.0;
        self.weight += 0.01 * mean_reward + 0.001 * f64::from(batch.next_obs[0]);
        let loss = if self.nan_at_update == Some(self.updates) { f64::NAN } else { mean_reward };
        // A "delayed" metric, computed on every other update only.
        let delayed = self.updates.is_multiple_of(2).then_some(self.weight * 2.0);
        Ok(vec![Some(self.weight), Some(loss), delayed])
    }
    fn metric_names(&self) -> Vec<&'static str> {
        vec!["weight", "loss", "delayed"]
    }
    fn supports_parallel_envs(&self) -> bool {
        self.lanes_ok
    }
    fn save(&self) -> Result<CheckpointFiles, AlgoError> {
        let text = format!("{} {} {} {}", self.weight.to_bits(), self.explore_acts, self.eval_acts, self.updates);
        Ok(CheckpointFiles::from([("agent.txt".to_string(), text.into_bytes())]))
    }
    fn load(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        let text = String::from_utf8(files["agent.txt"].clone()).unwrap();
        let v: Vec<u64> = text.split(' ').map(|x| x.parse().unwrap()).collect();
        (self.weight, self.explore_acts, self.eval_acts, self.updates) = (f64::from_bits(v[0]), v[1], v[2], v[3]);
        Ok(())
    }
}

fn cfg(total_steps: u64) -> LoopConfig {
    LoopConfig {
        total_steps,
        learning_starts: 10,
        eval_every: 20,
        eval_episodes: 2,
        checkpoint_every: 25,
        replay_capacity: 1000,
        num_envs: 1,
    }
}

struct Run {
    agent: FakeAgent,
    train_steps: Arc<AtomicU64>,
    eval_steps: Arc<AtomicU64>,
}

fn envs(run: &Run) -> (Box<dyn Env>, Box<dyn Env>) {
    (CountingTask::env(&run.train_steps), CountingTask::env(&run.eval_steps))
}

fn new_run() -> Run {
    Run { agent: FakeAgent::default(), train_steps: Arc::default(), eval_steps: Arc::default() }
}

fn full_run(seed: u64, dir: &Path) -> Run {
    let mut run = new_run();
    let (train, eval) = envs(&run);
    let mut trainer = Trainer::new(cfg(60), &mut run.agent, vec![train], eval, seed, Some(dir)).unwrap();
    assert_eq!(trainer.run(&AtomicBool::new(false), &mut Silent).unwrap(), Outcome::Finished);
    run
}

#[test]
fn wiring_counts_env_steps_updates_and_evaluations() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = new_run();
    let (train, eval) = envs(&run);
    let mut trainer = Trainer::new(cfg(50), &mut run.agent, vec![train], eval, 0, Some(dir.path())).unwrap();
    trainer.run(&AtomicBool::new(false), &mut Silent).unwrap();
    drop(trainer);
    assert_eq!(run.train_steps.load(Ordering::Relaxed), 50);
    // Updates run after env steps 11..=50 (more than 10 transitions stored): 40.
    assert_eq!(run.agent.updates, 40);
    // The policy acts from step index 10 on (the first 10 actions are uniform warm-up): 40.
    assert_eq!(run.agent.explore_acts, 40);
    // Evaluations after steps 20 and 40, 2 episodes × 7 steps each.
    assert_eq!(run.eval_steps.load(Ordering::Relaxed), 28);
    assert_eq!(run.agent.eval_acts, 28);
    let rows = metrics_without_wall_time(dir.path());
    assert_eq!(rows.len(), 3, "header + 2 evaluation rows");
    assert!(rows[1].starts_with("20,2,") && rows[2].starts_with("40,5,"), "steps and episodes: {rows:?}");
    // Checkpoints at 25 (scheduled) and 50 (end); LATEST names the last.
    let latest = std::fs::read_to_string(dir.path().join("checkpoints/LATEST")).unwrap();
    assert_eq!(latest, "step_0000000050");
}

#[test]
fn same_seed_is_bitwise_identical_and_another_seed_differs() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ra, rb, rc) = (full_run(7, a.path()), full_run(7, b.path()), full_run(8, c.path()));
    assert_eq!(metrics_without_wall_time(a.path()), metrics_without_wall_time(b.path()));
    assert_eq!(ra.agent.weight.to_bits(), rb.agent.weight.to_bits());
    assert_ne!(metrics_without_wall_time(a.path()), metrics_without_wall_time(c.path()));
    assert_ne!(ra.agent.weight.to_bits(), rc.agent.weight.to_bits());
}

#[test]
fn resume_after_an_interrupt_matches_the_uninterrupted_run() {
    let (full, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let reference = full_run(3, full.path());

    let mut first = new_run();
    let (train, eval) = envs(&first);
    let stop = AtomicBool::new(false);
    let mut trainer = Trainer::new(cfg(60), &mut first.agent, vec![train], eval, 3, Some(split.path())).unwrap();
    assert_eq!(trainer.run(&stop, &mut StopAt(33, &stop)).unwrap(), Outcome::Interrupted { env_steps: 33 });
    drop(trainer);

    let mut second = new_run();
    let (train, eval) = envs(&second);
    let mut trainer = Trainer::resume(cfg(60), &mut second.agent, vec![train], eval, split.path()).unwrap();
    assert_eq!(trainer.env_steps(), 33);
    assert_eq!(trainer.run(&AtomicBool::new(false), &mut Silent).unwrap(), Outcome::Finished);
    drop(trainer);
    assert_eq!(metrics_without_wall_time(full.path()), metrics_without_wall_time(split.path()));
    assert_eq!(reference.agent.weight.to_bits(), second.agent.weight.to_bits());
    assert_eq!(reference.agent.updates, second.agent.updates);
}

#[test]
fn a_checkpoint_before_the_first_update_resumes() {
    // Regression: metrics not computed yet were saved as NaN, which JSON writes as null and
    // could not read back; `dime train` with a budget inside the warm-up then failed to resume.
    let (full, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    full_run(9, full.path());
    let mut first = new_run();
    let (train, eval) = envs(&first);
    let stop = AtomicBool::new(false);
    let mut trainer = Trainer::new(cfg(60), &mut first.agent, vec![train], eval, 9, Some(split.path())).unwrap();
    assert_eq!(trainer.run(&stop, &mut StopAt(5, &stop)).unwrap(), Outcome::Interrupted { env_steps: 5 });
    drop(trainer);
    let mut second = new_run();
    let (train, eval) = envs(&second);
    let mut trainer = Trainer::resume(cfg(60), &mut second.agent, vec![train], eval, split.path()).unwrap();
    trainer.run(&AtomicBool::new(false), &mut Silent).unwrap();
    drop(trainer);
    assert_eq!(metrics_without_wall_time(full.path()), metrics_without_wall_time(split.path()));
}

#[test]
fn resume_from_an_older_checkpoint_rewrites_the_later_metrics_rows() {
    // A crash after step 45 (rows for step 40 written, last checkpoint at 25): point LATEST back at 25.
    let (full, crashed) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    full_run(4, full.path());
    let mut first = new_run();
    let (train, eval) = envs(&first);
    let stop = AtomicBool::new(false);
    let mut trainer = Trainer::new(cfg(60), &mut first.agent, vec![train], eval, 4, Some(crashed.path())).unwrap();
    trainer.run(&stop, &mut StopAt(45, &stop)).unwrap();
    drop(trainer);
    let ckpts = crashed.path().join("checkpoints");
    std::fs::remove_dir_all(ckpts.join("step_0000000045")).unwrap();
    std::fs::write(ckpts.join("LATEST"), "step_0000000025").unwrap();

    let mut second = new_run();
    let (train, eval) = envs(&second);
    let mut trainer = Trainer::resume(cfg(60), &mut second.agent, vec![train], eval, crashed.path()).unwrap();
    trainer.run(&AtomicBool::new(false), &mut Silent).unwrap();
    assert_eq!(metrics_without_wall_time(full.path()), metrics_without_wall_time(crashed.path()));
}

#[test]
fn a_damaged_checkpoint_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    full_run(5, dir.path());
    let replay = dir.path().join("checkpoints/step_0000000060/replay.bin");
    let mut bytes = std::fs::read(&replay).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&replay, bytes).unwrap();
    let mut run = new_run();
    let (train, eval) = envs(&run);
    let err = Trainer::resume(cfg(60), &mut run.agent, vec![train], eval, dir.path()).err().expect("must refuse");
    assert!(err.to_string().contains("replay.bin"), "{err}");
}

#[test]
fn a_non_finite_update_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = new_run();
    // Update k happens after env step 10 + k: update 20 is at step 30, after the checkpoint at 25.
    run.agent.nan_at_update = Some(20);
    let (train, eval) = envs(&run);
    let mut trainer = Trainer::new(cfg(60), &mut run.agent, vec![train], eval, 6, Some(dir.path())).unwrap();
    let err = trainer.run(&AtomicBool::new(false), &mut Silent).unwrap_err();
    assert!(matches!(err, AlgoError::NonFinite { env_steps: 30, name: "loss", .. }), "{err}");
    assert!(err.to_string().contains("last good checkpoint"), "{err}");
    drop(trainer);
    let ckpts = dir.path().join("checkpoints");
    assert_eq!(std::fs::read_to_string(ckpts.join("LATEST")).unwrap(), "step_0000000025");
    dime_algos::checkpoint::read_checkpoint(&ckpts.join("step_0000000025")).expect("intact");
}

#[test]
fn invalid_budgets_are_refused_before_any_work() {
    let mut run = new_run();
    let (train, eval) = envs(&run);
    let bad = LoopConfig { total_steps: 0, ..cfg(10) };
    let err = Trainer::new(bad, &mut run.agent, vec![train], eval, 0, None).err().expect("refused");
    assert!(err.to_string().contains("total_steps"), "{err}");
    assert_eq!(run.train_steps.load(Ordering::Relaxed), 0);
}

/// 60 steps on 4 lanes: learning after 10, evaluations every 20, checkpoints every 20.
fn lanes_cfg() -> LoopConfig {
    LoopConfig { num_envs: 4, checkpoint_every: 20, ..cfg(60) }
}

fn lane_envs(run: &Run, lanes: usize) -> (Vec<Box<dyn Env>>, Box<dyn Env>) {
    ((0..lanes).map(|_| CountingTask::env(&run.train_steps)).collect(), CountingTask::env(&run.eval_steps))
}

fn lanes_run(seed: u64, dir: &Path, stop_at: Option<u64>) -> (Run, Outcome) {
    let mut run = Run { agent: FakeAgent { lanes_ok: true, ..FakeAgent::default() }, ..new_run() };
    let (train, eval) = lane_envs(&run, 4);
    let mut trainer = Trainer::new(lanes_cfg(), &mut run.agent, train, eval, seed, Some(dir)).unwrap();
    let stop = AtomicBool::new(false);
    let outcome = match stop_at {
        Some(at) => trainer.run(&stop, &mut StopAt(at, &stop)).unwrap(),
        None => trainer.run(&stop, &mut Silent).unwrap(),
    };
    drop(trainer);
    (run, outcome)
}

#[test]
fn lanes_count_every_env_step_and_update_once_per_transition() {
    let dir = tempfile::tempdir().unwrap();
    let (run, outcome) = lanes_run(0, dir.path(), None);
    assert_eq!(outcome, Outcome::Finished);
    assert_eq!(run.train_steps.load(Ordering::Relaxed), 60);
    // One update per stored transition once more than 10 are stored: steps 11..=60.
    assert_eq!(run.agent.updates, 50);
    // Vector steps starting at 0, 4 and 8 are warm-up (uniform); the other 12 act on 4 lanes.
    assert_eq!(run.agent.explore_acts, 48);
    // Evaluations at 20, 40 and 60, 2 episodes of 7 steps each.
    assert_eq!(run.agent.eval_acts, 3 * 2 * 7);
    assert_eq!(run.eval_steps.load(Ordering::Relaxed), 3 * 2 * 7);
    let text = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    let steps: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(steps, ["20", "40", "60"]);
    // Each lane's 7-step episodes end at its 7th and 14th step: 4 episodes by step 40, 8 by 60.
    let episodes: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(episodes, ["0", "4", "8"]);
}

#[test]
fn lanes_resume_exactly_after_an_interrupt() {
    let (full, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (reference, _) = lanes_run(5, full.path(), None);
    // Stop is checked between vector steps: raised at 26, the run stops at 28.
    let (_, outcome) = lanes_run(5, split.path(), Some(26));
    assert_eq!(outcome, Outcome::Interrupted { env_steps: 28 });
    let mut second = Run { agent: FakeAgent { lanes_ok: true, ..FakeAgent::default() }, ..new_run() };
    let (train, eval) = lane_envs(&second, 4);
    let mut trainer = Trainer::resume(lanes_cfg(), &mut second.agent, train, eval, split.path()).unwrap();
    assert_eq!(trainer.run(&AtomicBool::new(false), &mut Silent).unwrap(), Outcome::Finished);
    drop(trainer);
    assert_eq!(metrics_without_wall_time(full.path()), metrics_without_wall_time(split.path()));
    assert_eq!(reference.agent.weight.to_bits(), second.agent.weight.to_bits());
    assert_eq!(reference.agent.updates, second.agent.updates);
}

#[test]
fn lanes_are_refused_for_agents_without_them_and_for_partial_vector_steps() {
    let mut run = new_run();
    let (train, eval) = lane_envs(&run, 4);
    let err = Trainer::new(lanes_cfg(), &mut run.agent, train, eval, 0, None).err().expect("refused");
    assert!(err.to_string().contains("one environment at a time"), "{err}");

    run.agent.lanes_ok = true;
    let (train, eval) = lane_envs(&run, 4);
    let odd = LoopConfig { eval_every: 10, ..lanes_cfg() };
    let err = Trainer::new(odd, &mut run.agent, train, eval, 0, None).err().expect("refused");
    assert!(err.to_string().contains("eval_every = 10 is not a multiple of num_envs = 4"), "{err}");

    let (train, eval) = lane_envs(&run, 3);
    let err = Trainer::new(lanes_cfg(), &mut run.agent, train, eval, 0, None).err().expect("refused");
    assert!(err.to_string().contains("3 training envs given for num_envs = 4"), "{err}");
    assert_eq!(run.train_steps.load(Ordering::Relaxed), 0);
}
