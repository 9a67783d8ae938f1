//! DiffWPO's checkpoint files: `diffwpo.safetensors` (policy and critic weights, both Adams'
//! moments, log α and log λ_KL with theirs) and `diffwpo_state.json` (counters, observation and
//! reward statistics, the unfinished rollout and the chain waiting for its transition). A loaded
//! agent continues bit for bit.

use serde::{Deserialize, Serialize};

use super::agent::{PendingChain, Rollout, WpoAgent};
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::ppo::Normalisers;
use crate::tensor_file::{
    load_moments, load_store, pack_agent_files, put_moments, put_store, unpack_agent_files, Arrays,
};

const ARRAYS_FILE: &str = "diffwpo.safetensors";
const STATE_FILE: &str = "diffwpo_state.json";
const KL_MULTIPLIER: (&str, &str) = ("kl_multiplier", "kl_multiplier_adam");

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    policy_adam_steps: u64,
    q_adam_steps: u64,
    alpha_adam_steps: Option<u64>,
    kl_multiplier_adam_steps: Option<u64>,
    normalisers: Normalisers,
    pending: Option<PendingChain>,
    rollout: Rollout,
}

impl WpoAgent {
    /// Everything the agent needs to continue exactly, as checkpoint files.
    pub(crate) fn save_files(&self) -> Result<CheckpointFiles, AlgoError> {
        let mut arrays = Arrays::new();
        put_store(&mut arrays, "policy", self.policy.params())?;
        put_store(&mut arrays, "q", self.q.params())?;
        let (m, v) = self.policy_adam.moments();
        put_moments(&mut arrays, "policy_adam", m, v);
        let (m, v) = self.q_adam.moments();
        put_moments(&mut arrays, "q_adam", m, v);
        self.temperature.put(&mut arrays)?;
        self.kl_multiplier.put_named(&mut arrays, KL_MULTIPLIER.0, KL_MULTIPLIER.1)?;
        let state = State {
            policy_adam_steps: self.policy_adam.steps(),
            q_adam_steps: self.q_adam.steps(),
            alpha_adam_steps: self.temperature.steps(),
            kl_multiplier_adam_steps: self.kl_multiplier.steps(),
            normalisers: self.normalisers.clone(),
            pending: self.pending.clone(),
            rollout: self.rollout.clone(),
        };
        pack_agent_files(ARRAYS_FILE, &arrays, STATE_FILE, &state)
    }

    /// Restore what [`WpoAgent::save_files`] wrote into an agent built with the same configuration.
    pub(crate) fn load_files(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        let (arrays, state): (_, State) = unpack_agent_files(files, ARRAYS_FILE, STATE_FILE)?;
        load_store(&arrays, ARRAYS_FILE, "policy", self.policy.params())?;
        load_store(&arrays, ARRAYS_FILE, "q", self.q.params())?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "policy_adam", self.policy.params().len())?;
        self.policy_adam.restore(m, v, state.policy_adam_steps)?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "q_adam", self.q.params().len())?;
        self.q_adam.restore(m, v, state.q_adam_steps)?;
        self.temperature.load(&arrays, ARRAYS_FILE, state.alpha_adam_steps)?;
        self.kl_multiplier.load_named(&arrays, ARRAYS_FILE, KL_MULTIPLIER, state.kl_multiplier_adam_steps)?;
        if !state.normalisers.fits(&self.normalisers) {
            return Err(AlgoError::CorruptCheckpoint {
                path: STATE_FILE.into(),
                reason: "normalisation statistics that do not fit this agent's configuration".into(),
            });
        }
        self.normalisers = state.normalisers;
        self.pending = state.pending;
        self.rollout = state.rollout;
        Ok(())
    }
}
