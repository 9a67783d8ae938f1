//! The 2-D four-goal task of Soft Q-Learning (`softqlearning/environments/multigoal.py`),
//! used to show that a policy can be multimodal: four equally good goals around the origin.

use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::env::{check_state_len, Task, TaskStep};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::spec::{EnvSpec, ObsField};

/// The four goal positions.
pub const GOALS: [[f64; 2]; 4] = [[5.0, 0.0], [-5.0, 0.0], [0.0, 5.0], [0.0, -5.0]];
/// The position is clipped to `[−BOX, BOX]²`.
const BOX: f64 = 7.0;

/// Coefficients of the multi-goal task (defaults are the Soft Q-Learning example's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MultiGoalConfig {
    /// Weight of the action cost `‖a‖²` (with the clipped action).
    pub action_cost_coeff: f64,
    /// Weight of the squared distance to the nearest goal.
    pub distance_cost_coeff: f64,
    /// Bonus added when the nearest goal is closer than `goal_radius`.
    pub goal_reward: f64,
    /// Distance to a goal below which the episode terminates with the bonus.
    pub goal_radius: f64,
    /// Standard deviation of the reset position around the origin.
    pub init_sigma: f64,
    /// Standard deviation of the Gaussian noise added to every move (0 = deterministic).
    pub dynamics_sigma: f64,
    /// Time limit in steps.
    pub max_episode_steps: u32,
}

impl Default for MultiGoalConfig {
    fn default() -> Self {
        Self {
            action_cost_coeff: 30.0,
            distance_cost_coeff: 1.0,
            goal_reward: 10.0,
            goal_radius: 1.0,
            init_sigma: 0.1,
            dynamics_sigma: 0.0,
            max_episode_steps: 30,
        }
    }
}

impl MultiGoalConfig {
    /// Reject values that make the task meaningless.
    pub fn validate(&self) -> Result<(), EnvError> {
        let nonneg = [
            ("action_cost_coeff", self.action_cost_coeff),
            ("distance_cost_coeff", self.distance_cost_coeff),
            ("goal_radius", self.goal_radius),
            ("init_sigma", self.init_sigma),
            ("dynamics_sigma", self.dynamics_sigma),
        ];
        for (name, v) in nonneg {
            if !(v.is_finite() && v >= 0.0) {
                return Err(EnvError::InvalidConfig(format!("multi_goal.{name} = {v} must be finite and >= 0")));
            }
        }
        if !self.goal_reward.is_finite() {
            return Err(EnvError::InvalidConfig("multi_goal.goal_reward must be finite".into()));
        }
        if self.max_episode_steps == 0 {
            return Err(EnvError::InvalidConfig("multi_goal.max_episode_steps must be > 0".into()));
        }
        Ok(())
    }
}

/// Distance from `p` to the nearest goal.
pub fn nearest_goal_distance(p: [f64; 2]) -> f64 {
    GOALS.iter().map(|g| ((p[0] - g[0]).powi(2) + (p[1] - g[1]).powi(2)).sqrt()).fold(f64::INFINITY, f64::min)
}

/// How many of the four goals have a final position within `radius` (Soft Q-Learning's diagnostic).
pub fn goals_reached(final_positions: &[[f64; 2]], radius: f64) -> usize {
    GOALS
        .iter()
        .filter(|g| final_positions.iter().any(|p| ((p[0] - g[0]).powi(2) + (p[1] - g[1]).powi(2)).sqrt() < radius))
        .count()
}

/// A point mass in the plane moved directly by the (clipped) action.
pub struct MultiGoal {
    spec: EnvSpec,
    cfg: MultiGoalConfig,
    position: [f64; 2],
}

impl MultiGoal {
    /// The task with coefficients `cfg`.
    pub fn new(cfg: MultiGoalConfig) -> Result<Self, EnvError> {
        cfg.validate()?;
        // Worst reward: the largest action cost plus the farthest point of the box from every goal, a corner.
        let worst_distance_sq = nearest_goal_distance([BOX, BOX]).powi(2);
        let spec = EnvSpec {
            id: "toy/multi-goal".into(),
            obs_dim: 2,
            act_dim: 2,
            act_low: vec![-1.0; 2],
            act_high: vec![1.0; 2],
            obs_layout: vec![ObsField::new("position", 0, 2)],
            max_episode_steps: cfg.max_episode_steps,
            dt: 1.0,
            physics: "analytic",
            reward_range: (
                -2.0 * cfg.action_cost_coeff - cfg.distance_cost_coeff * worst_distance_sq,
                cfg.goal_reward.max(0.0),
            ),
            reset_obs_range: vec![(-BOX, BOX); 2],
            can_terminate: true,
            random_reset: cfg.init_sigma > 0.0,
        };
        Ok(Self { spec, cfg, position: [0.0; 2] })
    }

    /// Place the point at `p` (tests).
    pub fn set_position(&mut self, p: [f64; 2]) {
        self.position = p;
    }

    /// Reward of arriving at `next` with clipped action `a`: `−c_a‖a‖² − c_d·min_g‖s' − g‖² (+ bonus)`.
    pub fn reward(&self, a: [f64; 2], next: [f64; 2]) -> (f64, bool) {
        let d = nearest_goal_distance(next);
        let at_goal = d < self.cfg.goal_radius;
        let action_cost = self.cfg.action_cost_coeff * (a[0] * a[0] + a[1] * a[1]);
        let bonus = if at_goal { self.cfg.goal_reward } else { 0.0 };
        (-action_cost - self.cfg.distance_cost_coeff * d * d + bonus, at_goal)
    }
}

impl Task for MultiGoal {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset_state(&mut self, rng: &mut EnvRng) {
        for p in &mut self.position {
            let n: f64 = rng.sample(StandardNormal);
            *p = (self.cfg.init_sigma * n).clamp(-BOX, BOX);
        }
    }

    fn observe(&self, obs: &mut [f64]) {
        obs.copy_from_slice(&self.position);
    }

    fn advance(&mut self, action: &[f64], rng: &mut EnvRng) -> TaskStep {
        let a = [action[0].clamp(-1.0, 1.0), action[1].clamp(-1.0, 1.0)];
        let mut next = [self.position[0] + a[0], self.position[1] + a[1]];
        if self.cfg.dynamics_sigma > 0.0 {
            for p in &mut next {
                let n: f64 = rng.sample(StandardNormal);
                *p += self.cfg.dynamics_sigma * n;
            }
        }
        let next = [next[0].clamp(-BOX, BOX), next[1].clamp(-BOX, BOX)];
        let (reward, terminated) = self.reward(a, next);
        self.position = next;
        TaskStep { reward, terminated }
    }

    fn state(&self) -> Vec<f64> {
        self.position.to_vec()
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        check_state_len(&self.spec, state, 2)?;
        self.position = [state[0], state[1]];
        Ok(())
    }
}
