//! PPO's settings (dmerl.md §9.1) and presets.

use serde::{Deserialize, Serialize};

use crate::error::AlgoError;

/// Everything that defines a PPO learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PpoConfig {
    /// Environment steps per rollout (one environment, as CleanRL's single-env default).
    pub rollout_steps: usize,
    /// Passes over each rollout.
    pub epochs: usize,
    /// Minibatches per pass (`rollout_steps` must divide evenly).
    pub minibatches: usize,
    /// Discount γ.
    pub gamma: f64,
    /// GAE λ.
    pub gae_lambda: f64,
    /// Clip range ε of the probability ratio (and of the value loss when clipped).
    pub clip: f64,
    /// Clip the value loss around the rollout's values, as CleanRL does.
    pub clip_value_loss: bool,
    /// Weight of the value loss.
    pub value_coef: f64,
    /// Weight of the entropy bonus.
    pub entropy_coef: f64,
    /// Global gradient-norm bound.
    pub max_grad_norm: f64,
    /// Adam learning rate (the start value when annealed).
    pub learning_rate: f64,
    /// Adam ε.
    pub adam_eps: f64,
    /// Anneal the learning rate linearly to 0 over the run's step budget (CleanRL's default).
    pub anneal_learning_rate: bool,
    /// Hidden widths of the policy-mean and value networks (tanh, orthogonal init).
    pub hidden_widths: Vec<usize>,
    /// Normalise advantages per minibatch.
    pub normalise_advantages: bool,
    /// Normalise observations with running statistics (clipped to ±`normalisation_clip`).
    pub normalise_observations: bool,
    /// Divide rewards by the running std of the discounted return (clipped to ±`normalisation_clip`).
    pub normalise_rewards: bool,
    /// Clip of normalised observations and rewards.
    pub normalisation_clip: f64,
}

impl PpoConfig {
    /// CleanRL's `ppo_continuous_action.py` defaults (dmerl.md §9.1): 2048 steps, 32 minibatches,
    /// 10 epochs, γ 0.99, λ 0.95, clip 0.2 with a clipped value loss, value weight 0.5, no
    /// entropy bonus, grad-norm 0.5, Adam 3e-4 (ε 1e-5) annealed over the run, 2×64 tanh networks,
    /// observation and reward normalisation clipped to ±10.
    pub fn paper() -> Self {
        Self {
            rollout_steps: 2048,
            epochs: 10,
            minibatches: 32,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip: 0.2,
            clip_value_loss: true,
            value_coef: 0.5,
            entropy_coef: 0.0,
            max_grad_norm: 0.5,
            learning_rate: 3e-4,
            adam_eps: 1e-5,
            anneal_learning_rate: true,
            hidden_widths: vec![64, 64],
            normalise_advantages: true,
            normalise_observations: true,
            normalise_rewards: true,
            normalisation_clip: 10.0,
        }
    }

    /// The CleanRL settings: 64-wide networks already cost little on two cores, so nothing
    /// changes (the run's budget sets the annealing horizon).
    pub fn cpu() -> Self {
        Self::paper()
    }

    /// Tiny rollouts for wiring checks and tests, not for results.
    pub fn smoke() -> Self {
        Self { rollout_steps: 64, epochs: 2, minibatches: 4, hidden_widths: vec![16, 16], ..Self::paper() }
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "paper" => Some(Self::paper()),
            "cpu" => Some(Self::cpu()),
            "smoke" => Some(Self::smoke()),
            _ => None,
        }
    }

    /// The preset names [`PpoConfig::preset`] knows.
    pub const PRESETS: [&'static str; 3] = ["cpu", "paper", "smoke"];

    /// Reject settings that cannot run.
    pub fn validate(&self) -> Result<(), AlgoError> {
        let problem = if self.rollout_steps == 0 || self.epochs == 0 || self.minibatches == 0 {
            Some("rollout_steps, epochs and minibatches must be positive".to_string())
        } else if !self.rollout_steps.is_multiple_of(self.minibatches) {
            Some(format!("{} minibatches do not divide {} rollout steps", self.minibatches, self.rollout_steps))
        } else if !(self.gamma > 0.0 && self.gamma <= 1.0 && (0.0..=1.0).contains(&self.gae_lambda)) {
            Some(format!("gamma {} must be in (0, 1] and gae_lambda {} in [0, 1]", self.gamma, self.gae_lambda))
        } else if !(self.clip > 0.0 && self.learning_rate > 0.0 && self.max_grad_norm > 0.0) {
            Some("clip, learning_rate and max_grad_norm must be positive".to_string())
        } else if self.hidden_widths.is_empty() || self.hidden_widths.contains(&0) {
            Some("hidden_widths must be non-empty and positive".to_string())
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(AlgoError::Config(format!("PPO: {p}"))))
    }
}
