//! What the training loop needs from an agent.

use rand_chacha::ChaCha8Rng;

use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::replay::ReplayBuffer;

/// How an action is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActMode {
    /// Sample from the policy, as during training.
    Explore,
    /// The evaluation mode of the algorithm (DIME evaluates stochastically, like its reference code).
    Eval,
}

/// An off-policy agent: acts in `[-1, 1]^d` and learns from a replay buffer.
pub trait Agent {
    /// Choose an action for one observation, writing it (in `[-1, 1]`) into `action`.
    fn act(&mut self, obs: &[f32], mode: ActMode, rng: &mut ChaCha8Rng, action: &mut [f32]) -> Result<(), AlgoError>;
    /// Choose actions for `lanes` observations stepped together (`obs` is `[lanes, o]`, `actions`
    /// `[lanes, d]`), lane by lane in order. The default calls [`Agent::act`] once per lane; an
    /// agent that samples in batches overrides it with the same result per lane.
    fn act_batch(
        &mut self,
        obs: &[f32],
        lanes: usize,
        mode: ActMode,
        rng: &mut ChaCha8Rng,
        actions: &mut [f32],
    ) -> Result<(), AlgoError> {
        if lanes == 0 || !obs.len().is_multiple_of(lanes) || !actions.len().is_multiple_of(lanes) {
            return Err(AlgoError::Config(format!(
                "act_batch: {} observation and {} action values do not split into {lanes} lanes",
                obs.len(),
                actions.len()
            )));
        }
        let (o, d) = (obs.len() / lanes, actions.len() / lanes);
        for (row, action) in obs.chunks_exact(o).zip(actions.chunks_exact_mut(d)) {
            self.act(row, mode, rng, action)?;
        }
        Ok(())
    }
    /// Whether the agent learns correctly when the loop steps several environments together
    /// ([`crate::LoopConfig::num_envs`] > 1). The loop then hands it one transition per lane and
    /// calls [`Agent::update`] after each, in lane order. Agents that pair the loop's transitions
    /// with decisions they keep themselves must handle lanes to say yes.
    fn supports_parallel_envs(&self) -> bool {
        false
    }
    /// The gradient work of one environment step (it samples its own minibatches).
    /// Returns one entry per name of [`Agent::metric_names`]: `Some(value)` for what this call
    /// computed, `None` for what it did not (e.g. a delayed actor loss).
    fn update(&mut self, replay: &ReplayBuffer, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError>;
    /// Names of the values [`Agent::update`] returns (losses, α, bound, ...).
    fn metric_names(&self) -> Vec<&'static str>;
    /// Weights, optimiser moments and counters, as named files.
    fn save(&self) -> Result<CheckpointFiles, AlgoError>;
    /// Restore what [`Agent::save`] wrote.
    fn load(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError>;
}

/// Refuse `obs` / `actions` that are not `lanes` rows of widths `(o, d)`; `who` names the agent.
pub(crate) fn check_lane_widths(
    who: &str,
    obs: &[f32],
    actions: &[f32],
    lanes: usize,
    (o, d): (usize, usize),
) -> Result<(), AlgoError> {
    if obs.len() != lanes * o || actions.len() != lanes * d {
        return Err(AlgoError::Config(format!(
            "{who} act: {} observation / {} action values for {lanes} lanes of {o} / {d}",
            obs.len(),
            actions.len()
        )));
    }
    Ok(())
}
