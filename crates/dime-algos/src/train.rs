//! The training loop, generic over the agent and the task.
//!
//! [`Trainer::run`] is the whole algorithm-independent procedure, in the order of the papers'
//! pseudo-code: act (uniform warm-up, then the policy), step, store, learn, evaluate, log,
//! checkpoint. It steps `num_envs` environments together (one `VecEnv`): one batch of actions
//! per vector step, then each lane's transition is stored and learned from in lane order, so
//! every count (budget, warm-up, updates, evaluation and checkpoint cadence) is in environment
//! steps summed over lanes. With one lane it is the plain loop of the off-policy papers; on-policy
//! agents use a one-slot buffer to receive each transition. Everything it owns — env snapshot, replay buffer, stream positions, counters —
//! goes into each checkpoint next to the agent's own files, so a resumed run continues exactly
//! like an uninterrupted one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use dime_envs::{Env, VecEnv, VecEnvSnapshot, VecStep};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

use crate::agent::{ActMode, Agent};
use crate::checkpoint::{latest_checkpoint, read_checkpoint, write_checkpoint, CheckpointFiles};
use crate::error::AlgoError;
use crate::metrics::{truncate_rows_after, MetricsSink};
use crate::replay::{ReplayBuffer, Transition};
use crate::streams::{StreamState, Streams};

/// Settings of the loop itself (the agent has its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopConfig {
    /// Environment steps to run in total.
    pub total_steps: u64,
    /// Uniform random actions for this many steps; updates run once more transitions than this are stored.
    pub learning_starts: u64,
    /// Evaluate every this many environment steps (counted from step 0, warm-up included).
    pub eval_every: u64,
    /// Episodes per evaluation.
    pub eval_episodes: u32,
    /// Write a checkpoint every this many environment steps; 0 writes one only at the end.
    pub checkpoint_every: u64,
    /// Replay buffer capacity in transitions.
    pub replay_capacity: usize,
    /// Environments stepped together (lanes of one `VecEnv`). Every count above is in
    /// environment steps summed over lanes; `total_steps`, `eval_every` and `checkpoint_every`
    /// must be multiples of it. Only agents that support lanes accept more than 1.
    #[serde(default = "one_env")]
    pub num_envs: usize,
}

fn one_env() -> usize {
    1
}

impl LoopConfig {
    /// Reject budgets and cadences that cannot run.
    pub fn validate(&self) -> Result<(), AlgoError> {
        let positive = [
            ("total_steps", self.total_steps),
            ("eval_every", self.eval_every),
            ("eval_episodes", u64::from(self.eval_episodes)),
            ("replay_capacity", self.replay_capacity as u64),
            ("num_envs", self.num_envs as u64),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(AlgoError::Config(format!("{name} must be positive")));
        }
        let n = self.num_envs as u64;
        let cadences = [
            ("total_steps", self.total_steps),
            ("eval_every", self.eval_every),
            ("checkpoint_every", self.checkpoint_every),
        ];
        match cadences.iter().find(|(_, v)| !v.is_multiple_of(n)) {
            Some((name, v)) => Err(AlgoError::Config(format!(
                "{name} = {v} is not a multiple of num_envs = {n}: the loop counts whole vector steps"
            ))),
            None => Ok(()),
        }
    }
}

/// The fixed leading columns of `metrics.csv`; the agent's metric names follow.
pub const METRIC_COLUMNS: [&str; 6] =
    ["env_steps", "episodes", "wall_time_s", "eval_return_mean", "eval_return_std", "train_return_last"];

/// One evaluation's results, as reported to the observer.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// Environment steps done.
    pub env_steps: u64,
    /// Mean undiscounted return over the evaluation episodes.
    pub return_mean: f64,
    /// Standard deviation (population) of those returns.
    pub return_std: f64,
    /// Episodes that ended in a terminal state rather than at the time limit (for goal tasks such
    /// as `toy/multi-goal`: episodes that reached a goal).
    pub terminated: u32,
}

/// Callbacks for progress display; every method has an empty default.
pub trait Observer {
    /// After each environment step.
    fn on_step(&mut self, _env_steps: u64) {}
    /// When a training episode ends.
    fn on_episode(&mut self, _episode_return: f64) {}
    /// After each agent update, with the latest value of each metric named by `Agent::metric_names`
    /// (NaN for one never computed yet).
    fn on_update(&mut self, _names: &[&'static str], _values: &[f64]) {}
    /// After each evaluation.
    fn on_eval(&mut self, _report: &EvalReport) {}
}

/// An observer that shows nothing.
pub struct Silent;
impl Observer for Silent {}

/// How a call to [`Trainer::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The step budget was reached; the final checkpoint is written.
    Finished,
    /// The stop flag was raised; a checkpoint at this step is written.
    Interrupted {
        /// Environment steps done.
        env_steps: u64,
    },
}

/// The loop's own state, saved in every checkpoint as `loop.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoopState {
    env_steps: u64,
    episodes: u64,
    wall_time_s: f64,
    /// Return of the last finished training episode (`None` before the first; JSON has no NaN).
    train_return_last: Option<f64>,
    obs: Vec<f32>,
    /// Latest value of each agent metric (`None` until first computed).
    last_update: Vec<Option<f64>>,
    streams: Vec<StreamState>,
    env: VecEnvSnapshot,
}

const LOOP_FILE: &str = "loop.json";
const REPLAY_FILE: &str = "replay.bin";

/// A training run in progress: the agent, its envs, buffer, streams and counters.
pub struct Trainer<'a> {
    cfg: LoopConfig,
    agent: &'a mut dyn Agent,
    env: VecEnv,
    eval_env: Box<dyn Env>,
    replay: ReplayBuffer,
    streams: Streams,
    state: LoopState,
    run_dir: Option<PathBuf>,
    metrics: Option<MetricsSink>,
}

impl<'a> Trainer<'a> {
    /// Start a new run on `train_envs` (one per lane, `cfg.num_envs` of them). Every env takes
    /// actions in `[-1, 1]` (see `dime_envs::make_unit`). With a `run_dir`, metrics go to
    /// `run_dir/metrics.csv` and checkpoints to `run_dir/checkpoints/`.
    pub fn new(
        cfg: LoopConfig,
        agent: &'a mut dyn Agent,
        train_envs: Vec<Box<dyn Env>>,
        eval_env: Box<dyn Env>,
        seed: u64,
        run_dir: Option<&Path>,
    ) -> Result<Self, AlgoError> {
        check_lanes(&cfg, agent, train_envs.len())?;
        let (obs_dim, act_dim) = (eval_env.spec().obs_dim, eval_env.spec().act_dim);
        let mut streams = Streams::new(seed);
        let mut env = VecEnv::from_envs(train_envs, streams.env.next_u64())?;
        let mut obs = vec![0.0; obs_dim * cfg.num_envs];
        env.reset(&mut obs)?;
        let state = LoopState {
            env_steps: 0,
            episodes: 0,
            wall_time_s: 0.0,
            train_return_last: None,
            obs,
            last_update: vec![None; agent.metric_names().len()],
            streams: Vec::new(),
            env: env.snapshot(),
        };
        let replay = ReplayBuffer::new(obs_dim, act_dim, cfg.replay_capacity)?;
        let metrics = run_dir.map(|d| open_metrics(d, agent)).transpose()?;
        Ok(Self { cfg, agent, env, eval_env, replay, streams, state, run_dir: run_dir.map(Path::to_path_buf), metrics })
    }

    /// Continue the run in `run_dir` from its latest checkpoint (the agent's files are loaded too).
    /// Metrics rows written after that checkpoint are dropped, since they will be written again.
    pub fn resume(
        cfg: LoopConfig,
        agent: &'a mut dyn Agent,
        train_envs: Vec<Box<dyn Env>>,
        eval_env: Box<dyn Env>,
        run_dir: &Path,
    ) -> Result<Self, AlgoError> {
        check_lanes(&cfg, agent, train_envs.len())?;
        let root = run_dir.join("checkpoints");
        let name = latest_checkpoint(&root)?
            .ok_or_else(|| AlgoError::Config(format!("no checkpoint in {}", root.display())))?;
        let dir = root.join(&name);
        let mut files = read_checkpoint(&dir)?;
        let corrupt = |reason: String| AlgoError::CorruptCheckpoint { path: dir.join(LOOP_FILE), reason };
        let loop_bytes = files.remove(LOOP_FILE).ok_or_else(|| corrupt("missing".into()))?;
        let state: LoopState = serde_json::from_slice(&loop_bytes).map_err(|e| corrupt(e.to_string()))?;
        let replay_bytes = files.remove(REPLAY_FILE).ok_or_else(|| corrupt(format!("{REPLAY_FILE} missing")))?;
        let replay = ReplayBuffer::from_bytes(&replay_bytes)?;
        let streams =
            Streams::load(&state.streams).ok_or_else(|| corrupt("stream list has the wrong length".into()))?;
        agent.load(&files)?;
        let mut env = VecEnv::from_envs(train_envs, 0)?;
        env.restore(&state.env)?;
        let metrics_path = run_dir.join("metrics.csv");
        if metrics_path.exists() {
            truncate_rows_after(&metrics_path, state.env_steps as f64)?;
        }
        let metrics = Some(open_metrics(run_dir, agent)?);
        Ok(Self { cfg, agent, env, eval_env, replay, streams, state, run_dir: Some(run_dir.to_path_buf()), metrics })
    }

    /// Environment steps done so far.
    pub fn env_steps(&self) -> u64 {
        self.state.env_steps
    }

    /// Run until the step budget is spent or `stop` is raised; checkpoint either way.
    pub fn run(&mut self, stop: &AtomicBool, observer: &mut dyn Observer) -> Result<Outcome, AlgoError> {
        // Subnormal gradients would slow the CPU products down many times (see dime_nn).
        dime_nn::flush_denormals();
        let lanes = self.cfg.num_envs;
        let (obs_dim, act_dim) = (self.state.obs.len() / lanes, self.env.spec().act_dim);
        let mut actions = vec![0.0f32; lanes * act_dim];
        let mut out = VecStep::new(lanes, obs_dim);
        let names = self.agent.metric_names();
        let started = Instant::now();
        let wall_offset = self.state.wall_time_s;
        while self.state.env_steps < self.cfg.total_steps {
            if stop.load(Ordering::Relaxed) {
                self.state.wall_time_s = wall_offset + started.elapsed().as_secs_f64();
                self.checkpoint()?;
                return Ok(Outcome::Interrupted { env_steps: self.state.env_steps });
            }
            // 1. Act in every lane: uniform in [-1, 1] during warm-up, the policy afterwards.
            if self.state.env_steps < self.cfg.learning_starts {
                actions.iter_mut().for_each(|a| *a = self.streams.policy.random_range(-1.0..=1.0));
            } else {
                let (obs, rng) = (&self.state.obs, &mut self.streams.policy);
                self.agent.act_batch(obs, lanes, ActMode::Explore, rng, &mut actions)?;
            }
            // 2. Step every lane; then, lane by lane, store (s, a, r, s', terminated) with the true
            // final s' when the episode ended, and 3. learn, once more transitions than
            // `learning_starts` are stored.
            self.env.step(&actions, &mut out)?;
            for lane in 0..lanes {
                self.store(lane, &actions[lane * act_dim..(lane + 1) * act_dim], &out, observer)?;
                self.state.env_steps += 1;
                if self.state.env_steps > self.cfg.learning_starts {
                    self.learn(&names, observer)?;
                }
                observer.on_step(self.state.env_steps);
            }
            self.state.obs.copy_from_slice(&out.obs);
            // 4. Evaluate and log; checkpoint on schedule.
            if self.state.env_steps.is_multiple_of(self.cfg.eval_every) {
                self.state.wall_time_s = wall_offset + started.elapsed().as_secs_f64();
                let report = self.evaluate()?;
                self.log(&report)?;
                observer.on_eval(&report);
            }
            let every = self.cfg.checkpoint_every;
            if every > 0 && self.state.env_steps.is_multiple_of(every) && self.state.env_steps < self.cfg.total_steps {
                self.state.wall_time_s = wall_offset + started.elapsed().as_secs_f64();
                self.checkpoint()?;
            }
        }
        self.state.wall_time_s = wall_offset + started.elapsed().as_secs_f64();
        self.checkpoint()?;
        Ok(Outcome::Finished)
    }

    /// Store lane `lane`'s transition of the last vector step (unless it diverged) and count its
    /// episode if it ended.
    fn store(
        &mut self,
        lane: usize,
        action: &[f32],
        out: &VecStep,
        observer: &mut dyn Observer,
    ) -> Result<(), AlgoError> {
        let o = out.obs.len() / self.cfg.num_envs;
        let rows = lane * o..(lane + 1) * o;
        if !out.diverged[lane] {
            let next_obs = if out.has_final[lane] { &out.final_obs[rows.clone()] } else { &out.obs[rows.clone()] };
            self.replay.push(Transition {
                obs: &self.state.obs[rows],
                action,
                reward: out.reward[lane],
                next_obs,
                terminated: out.terminated[lane],
                truncated: out.truncated[lane],
            })?;
        }
        if out.has_final[lane] {
            self.state.episodes += 1;
            self.state.train_return_last = Some(out.episode_return[lane]);
            observer.on_episode(out.episode_return[lane]);
        }
        Ok(())
    }

    /// One agent update; its metrics must be finite.
    fn learn(&mut self, names: &[&'static str], observer: &mut dyn Observer) -> Result<(), AlgoError> {
        let values = self.agent.update(&self.replay, &mut self.streams.replay)?;
        if values.len() != names.len() {
            return Err(AlgoError::Config(format!(
                "agent returned {} metrics for {} names",
                values.len(),
                names.len()
            )));
        }
        for ((name, value), last) in names.iter().zip(&values).zip(&mut self.state.last_update) {
            let Some(value) = *value else { continue };
            if !value.is_finite() {
                return Err(AlgoError::NonFinite { env_steps: self.state.env_steps, name, value });
            }
            *last = Some(value);
        }
        let latest: Vec<f64> = self.state.last_update.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        observer.on_update(names, &latest);
        Ok(())
    }

    /// Run `eval_episodes` episodes on the evaluation env, each reset with a seed from its own stream.
    pub fn evaluate(&mut self) -> Result<EvalReport, AlgoError> {
        let spec = self.eval_env.spec().clone();
        let mut obs = vec![0.0; spec.obs_dim];
        let mut obs32 = vec![0.0f32; spec.obs_dim];
        let mut action = vec![0.0f32; spec.act_dim];
        let mut action64 = vec![0.0; spec.act_dim];
        let mut returns = Vec::with_capacity(self.cfg.eval_episodes as usize);
        let mut terminated = 0;
        for _ in 0..self.cfg.eval_episodes {
            self.eval_env.reset(Some(self.streams.eval_env.next_u64()), &mut obs)?;
            let mut total = 0.0;
            loop {
                obs32.iter_mut().zip(&obs).for_each(|(d, s)| *d = *s as f32);
                self.agent.act(&obs32, ActMode::Eval, &mut self.streams.eval_policy, &mut action)?;
                action64.iter_mut().zip(&action).for_each(|(d, s)| *d = f64::from(*s));
                let step = self.eval_env.step(&action64, &mut obs)?;
                total += step.reward;
                if step.done() {
                    terminated += u32::from(step.terminated);
                    break;
                }
            }
            returns.push(total);
        }
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
        Ok(EvalReport { env_steps: self.state.env_steps, return_mean: mean, return_std: var.sqrt(), terminated })
    }

    fn log(&mut self, report: &EvalReport) -> Result<(), AlgoError> {
        let Some(sink) = self.metrics.as_mut() else { return Ok(()) };
        let s = &self.state;
        let mut row = vec![
            s.env_steps as f64,
            s.episodes as f64,
            s.wall_time_s,
            report.return_mean,
            report.return_std,
            s.train_return_last.unwrap_or(f64::NAN),
        ];
        row.extend(s.last_update.iter().map(|v| v.unwrap_or(f64::NAN)));
        sink.write_row(&row)
    }

    /// Write a checkpoint of the loop, the replay buffer and the agent (no-op without a run folder).
    fn checkpoint(&mut self) -> Result<(), AlgoError> {
        let Some(run_dir) = &self.run_dir else { return Ok(()) };
        self.state.streams = self.streams.save();
        self.state.env = self.env.snapshot();
        let mut files: CheckpointFiles = self.agent.save()?;
        for reserved in [LOOP_FILE, REPLAY_FILE] {
            if files.contains_key(reserved) {
                return Err(AlgoError::Config(format!("agent file name `{reserved}` is reserved by the loop")));
            }
        }
        files.insert(LOOP_FILE.into(), serde_json::to_vec(&self.state).expect("loop state serialises"));
        files.insert(REPLAY_FILE.into(), self.replay.to_bytes());
        let root = run_dir.join("checkpoints");
        let name = format!("step_{:010}", self.state.env_steps);
        write_checkpoint(&root, &name, &files)?;
        prune_old_checkpoints(&root, &name)
    }
}

/// The loop's lane count must match the envs given, and an agent must support lanes to get more than one.
fn check_lanes(cfg: &LoopConfig, agent: &dyn Agent, envs: usize) -> Result<(), AlgoError> {
    cfg.validate()?;
    if envs != cfg.num_envs {
        return Err(AlgoError::Config(format!("{envs} training envs given for num_envs = {}", cfg.num_envs)));
    }
    if cfg.num_envs > 1 && !agent.supports_parallel_envs() {
        return Err(AlgoError::Config(format!(
            "num_envs = {}: this algorithm learns from one environment at a time; set num_envs = 1",
            cfg.num_envs
        )));
    }
    Ok(())
}

fn open_metrics(run_dir: &Path, agent: &dyn Agent) -> Result<MetricsSink, AlgoError> {
    std::fs::create_dir_all(run_dir).map_err(|e| AlgoError::io("creating", run_dir, e))?;
    let mut columns: Vec<&str> = METRIC_COLUMNS.to_vec();
    columns.extend(agent.metric_names());
    MetricsSink::open(&run_dir.join("metrics.csv"), &columns)
}

/// Keep the newest checkpoint and the one before it; remove older `step_*` folders.
fn prune_old_checkpoints(root: &Path, newest: &str) -> Result<(), AlgoError> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .map_err(|e| AlgoError::io("listing", root, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("step_") && n.as_str() <= newest)
        .collect();
    names.sort();
    let keep = names.len().saturating_sub(2);
    for old in &names[..keep] {
        let path = root.join(old);
        std::fs::remove_dir_all(&path).map_err(|e| AlgoError::io("removing", &path, e))?;
    }
    Ok(())
}
