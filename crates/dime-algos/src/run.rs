//! A run as the `dime` command sees it: the resolved configuration, the run folder, and the
//! construction of the agent it names. A run folder holds `config.toml` (resolved),
//! `provenance.toml`, `metrics.csv`, `checkpoints/` and `curve.svg`.

use std::path::Path;

use dime_envs::{make_unit, Env, EnvConfig};
use serde::{Deserialize, Serialize};

use crate::agent::Agent;
use crate::crossq;
use crate::dime::{DimeAgent, DimeConfig};
use crate::dmerl::diffppo::{DiffPpoAgent, DiffPpoConfig};
use crate::dmerl::diffsac::{DiffSacAgent, DiffSacConfig};
use crate::dmerl::diffwpo::{WpoAgent, WpoConfig};
use crate::error::AlgoError;
use crate::ppo::{PpoAgent, PpoConfig};
use crate::sac::{SacAgent, SacConfig};
use crate::streams::Streams;
use crate::train::LoopConfig;

/// The learning algorithm of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algo {
    /// Diffusion-based maximum-entropy RL (Celik et al., 2025).
    Dime,
    /// Soft actor-critic with a tanh-Gaussian actor and twin Q with Polyak targets (Haarnoja et al., 2018).
    Sac,
    /// SAC without target networks, with BatchRenorm critics and actor (Bhatt, Palenicek et al., 2024).
    Crossq,
    /// Proximal policy optimisation with a Gaussian policy (Schulman et al., 2017), on-policy.
    Ppo,
    /// PPO on the diffusion-augmented MDP (Sanokowski et al., 2025), on-policy.
    Diffppo,
    /// SAC on the diffusion-augmented MDP (dmerl.md §7, inferred), off-policy.
    Diffsac,
    /// Wasserstein policy optimisation on the diffusion-augmented MDP (Sanokowski et al., 2025), on-policy.
    Diffwpo,
    /// Wasserstein policy optimisation with a Gaussian policy (Pfau et al., 2025), DiffWPO's baseline, on-policy.
    Wpo,
}

impl Algo {
    /// Every algorithm `dime train` can run.
    pub const ALL: [Algo; 8] =
        [Algo::Dime, Algo::Sac, Algo::Crossq, Algo::Ppo, Algo::Diffppo, Algo::Diffsac, Algo::Diffwpo, Algo::Wpo];

    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Dime => "dime",
            Algo::Sac => "sac",
            Algo::Crossq => "crossq",
            Algo::Ppo => "ppo",
            Algo::Diffppo => "diffppo",
            Algo::Diffsac => "diffsac",
            Algo::Diffwpo => "diffwpo",
            Algo::Wpo => "wpo",
        }
    }

    /// Parse a command-line name.
    pub fn parse(name: &str) -> Result<Self, AlgoError> {
        Self::ALL.into_iter().find(|a| a.name() == name).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|a| a.name()).collect();
            AlgoError::Config(format!("unknown algorithm `{name}`; known: {}", known.join(", ")))
        })
    }

    /// The preset names this algorithm knows.
    pub fn presets(self) -> &'static [&'static str] {
        match self {
            Algo::Dime => &DimeConfig::PRESETS,
            Algo::Sac => &SacConfig::PRESETS,
            Algo::Crossq => &crossq::PRESETS,
            Algo::Ppo => &PpoConfig::PRESETS,
            Algo::Diffppo => &DiffPpoConfig::PRESETS,
            Algo::Diffsac => &DiffSacConfig::PRESETS,
            Algo::Diffwpo | Algo::Wpo => &WpoConfig::PRESETS,
        }
    }
}

/// The agent-specific part of a run's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum AgentConfig {
    /// DIME's settings.
    Dime(DimeConfig),
    /// SAC's settings.
    Sac(SacConfig),
    /// CrossQ's settings: the SAC agent's, with CrossQ's values.
    Crossq(SacConfig),
    /// PPO's settings.
    Ppo(PpoConfig),
    /// DiffPPO's settings.
    Diffppo(DiffPpoConfig),
    /// DiffSAC's settings.
    Diffsac(DiffSacConfig),
    /// DiffWPO's settings.
    Diffwpo(WpoConfig),
    /// Gaussian WPO's settings.
    Wpo(WpoConfig),
}

/// Everything that defines a run; written, resolved, to `config.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Registry id of the task.
    pub task: String,
    /// Root seed of every random stream.
    pub seed: u64,
    /// The preset the agent settings started from (for the record; the settings below are what runs).
    pub preset: String,
    /// Loop settings: budget, warm-up, evaluation and checkpoint cadence.
    #[serde(rename = "loop")]
    pub loop_cfg: LoopConfig,
    /// Task options.
    pub env: EnvConfig,
    /// The algorithm and its settings.
    pub agent: AgentConfig,
}

impl RunConfig {
    /// A run of `algo` with `preset` on `task`, with the loop settings of that preset.
    pub fn from_preset(algo: Algo, preset: &str, task: &str, seed: u64, total_steps: u64) -> Result<Self, AlgoError> {
        let unknown = || {
            let name = algo.name();
            AlgoError::Config(format!("unknown preset `{preset}` for {name}; known: {}", algo.presets().join(", ")))
        };
        let agent = match algo {
            Algo::Dime => AgentConfig::Dime(DimeConfig::preset(preset).ok_or_else(unknown)?),
            Algo::Sac => AgentConfig::Sac(SacConfig::preset(preset).ok_or_else(unknown)?),
            Algo::Crossq => AgentConfig::Crossq(crossq::preset(preset).ok_or_else(unknown)?),
            Algo::Ppo => AgentConfig::Ppo(PpoConfig::preset(preset).ok_or_else(unknown)?),
            Algo::Diffppo => AgentConfig::Diffppo(DiffPpoConfig::preset(preset).ok_or_else(unknown)?),
            Algo::Diffsac => AgentConfig::Diffsac(DiffSacConfig::preset(preset).ok_or_else(unknown)?),
            Algo::Diffwpo => AgentConfig::Diffwpo(WpoConfig::preset(preset).ok_or_else(unknown)?),
            Algo::Wpo => AgentConfig::Wpo(WpoConfig::gaussian_preset(preset).ok_or_else(unknown)?),
        };
        let env = EnvConfig::default();
        dime_envs::spec(task, &env)?;
        // The papers' loop (5000 uniform warm-up steps, 1M buffer); the smoke presets, which
        // exist to exercise the whole pipeline in seconds, start learning after 500 steps.
        let loop_cfg = if matches!(algo, Algo::Ppo | Algo::Diffppo | Algo::Diffwpo | Algo::Wpo) {
            // On-policy: the policy acts from the first step, and the loop's buffer only hands
            // each transition to the agent (one slot).
            LoopConfig {
                total_steps,
                learning_starts: 0,
                eval_every: if preset == "smoke" { 500 } else { 2048 },
                eval_episodes: if preset == "smoke" { 2 } else { 5 },
                checkpoint_every: if preset == "smoke" { 1000 } else { 20_480 },
                replay_capacity: 1,
                num_envs: 1,
            }
        } else if preset == "smoke" {
            LoopConfig {
                total_steps,
                learning_starts: 500,
                eval_every: 500,
                eval_episodes: 2,
                checkpoint_every: 1000,
                replay_capacity: 100_000,
                num_envs: 1,
            }
        } else {
            LoopConfig {
                total_steps,
                learning_starts: 5000,
                eval_every: 1000,
                eval_episodes: 5,
                checkpoint_every: 5000,
                replay_capacity: 1_000_000,
                num_envs: 1,
            }
        };
        Ok(Self { task: task.to_string(), seed, preset: preset.to_string(), loop_cfg, env, agent })
    }

    /// The algorithm.
    pub fn algo(&self) -> Algo {
        match self.agent {
            AgentConfig::Dime(_) => Algo::Dime,
            AgentConfig::Sac(_) => Algo::Sac,
            AgentConfig::Crossq(_) => Algo::Crossq,
            AgentConfig::Ppo(_) => Algo::Ppo,
            AgentConfig::Diffppo(_) => Algo::Diffppo,
            AgentConfig::Diffsac(_) => Algo::Diffsac,
            AgentConfig::Diffwpo(_) => Algo::Diffwpo,
            AgentConfig::Wpo(_) => Algo::Wpo,
        }
    }

    /// Check everything that can be checked before any work starts.
    pub fn validate(&self) -> Result<(), AlgoError> {
        self.loop_cfg.validate()?;
        dime_envs::spec(&self.task, &self.env)?;
        Ok(())
    }

    /// Read a config file (TOML); unknown keys are errors.
    pub fn from_toml(text: &str) -> Result<Self, AlgoError> {
        toml::from_str(text).map_err(|e| AlgoError::Config(e.to_string()))
    }

    /// The config as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("configs serialise")
    }

    /// The training envs, one per lane (`loop.num_envs`), each taking actions in `[-1, 1]`.
    pub fn train_envs(&self) -> Result<Vec<Box<dyn Env>>, AlgoError> {
        (0..self.loop_cfg.num_envs).map(|_| Ok(make_unit(&self.task, &self.env)?)).collect()
    }

    /// Build the agent this config names, initialised from the run's `init` stream, and return it
    /// with the configuration as resolved for the task (e.g. a derived critic support). More than
    /// one env lane is refused here, before any work, for agents that learn from one env, and
    /// for on-policy agents whose rollout is not a whole number of vector steps.
    pub fn build_agent(&self) -> Result<(Box<dyn Agent>, RunConfig), AlgoError> {
        let env = make_unit(&self.task, &self.env)?;
        let spec = env.spec();
        let mut init = Streams::new(self.seed).init;
        let mut resolved = self.clone();
        let agent: Box<dyn Agent> = match &self.agent {
            AgentConfig::Dime(cfg) => {
                let agent = DimeAgent::new(cfg.clone(), spec.obs_dim, spec.act_dim, spec.reward_range, &mut init)?;
                resolved.agent = AgentConfig::Dime(agent.config().clone());
                Box::new(agent)
            }
            AgentConfig::Sac(cfg) | AgentConfig::Crossq(cfg) => {
                Box::new(SacAgent::new(cfg.clone(), spec.obs_dim, spec.act_dim, &mut init)?)
            }
            AgentConfig::Ppo(cfg) => Box::new(
                PpoAgent::new(cfg.clone(), spec.obs_dim, spec.act_dim, &mut init)?
                    .with_anneal_horizon(self.loop_cfg.total_steps),
            ),
            AgentConfig::Diffppo(cfg) => {
                Box::new(DiffPpoAgent::new(cfg.clone(), spec.obs_dim, spec.act_dim, &mut init)?)
            }
            AgentConfig::Diffsac(cfg) => {
                Box::new(DiffSacAgent::new(cfg.clone(), spec.obs_dim, spec.act_dim, &mut init)?)
            }
            AgentConfig::Diffwpo(cfg) | AgentConfig::Wpo(cfg) => {
                Box::new(WpoAgent::new(cfg.clone(), spec.obs_dim, spec.act_dim, &mut init)?)
            }
        };
        let lanes = self.loop_cfg.num_envs;
        if lanes > 1 && !agent.supports_parallel_envs() {
            let name = self.algo().name();
            return Err(AlgoError::Config(format!("num_envs = {lanes}: {name} learns from one environment at a time")));
        }
        let rollout_steps = match &self.agent {
            AgentConfig::Ppo(cfg) => Some(cfg.rollout_steps),
            AgentConfig::Diffppo(cfg) => Some(cfg.rollout_steps),
            _ => None,
        };
        if let Some(steps) = rollout_steps.filter(|steps| steps % lanes != 0) {
            return Err(AlgoError::Config(format!(
                "rollout_steps = {steps} is not a multiple of num_envs = {lanes}: a rollout holds whole vector steps"
            )));
        }
        Ok((agent, resolved))
    }
}

/// Prepare `dir` for a new run of `config`: create it, or accept it if it is empty; a folder
/// holding another run is an error (use `dime resume` to continue one).
pub fn create_run_dir(dir: &Path, config: &RunConfig) -> Result<(), AlgoError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| AlgoError::io("reading", dir, e))?;
        if entries.next().is_some() {
            return Err(AlgoError::Config(format!(
                "{} already holds files (a previous run?); use `dime resume {}` or choose another --out",
                dir.display(),
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| AlgoError::io("creating", dir, e))?;
    let path = dir.join("config.toml");
    std::fs::write(&path, config.to_toml()).map_err(|e| AlgoError::io("writing", &path, e))
}

/// Read the resolved config of the run in `dir`.
pub fn read_run_config(dir: &Path) -> Result<RunConfig, AlgoError> {
    let path = dir.join("config.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| AlgoError::io("reading", &path, e))?;
    RunConfig::from_toml(&text).map_err(|e| AlgoError::Config(format!("{}: {e}", path.display())))
}
