//! DiffPPO's checkpoint files: `diffppo.safetensors` (policy and value weights, both Adams'
//! moments) and `diffppo_state.json` (counters, observation statistics, the unfinished rollout
//! and the chain waiting for its transition). A loaded agent continues bit for bit.

use serde::{Deserialize, Serialize};

use super::agent::{AugmentedRollout, DiffPpoAgent, PendingChain};
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::onpolicy::Lanes;
use crate::ppo::Normalisers;
use crate::tensor_file::{
    load_moments, load_store, pack_agent_files, put_moments, put_store, unpack_agent_files, Arrays,
};

const ARRAYS_FILE: &str = "diffppo.safetensors";
const STATE_FILE: &str = "diffppo_state.json";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    policy_adam_steps: u64,
    value_adam_steps: u64,
    normalisers: Normalisers,
    lanes: Lanes<PendingChain, AugmentedRollout>,
}

impl DiffPpoAgent {
    /// Everything the agent needs to continue exactly, as checkpoint files.
    pub(crate) fn save_files(&self) -> Result<CheckpointFiles, AlgoError> {
        let mut arrays = Arrays::new();
        put_store(&mut arrays, "policy", self.policy.params())?;
        put_store(&mut arrays, "value", self.value.params())?;
        let (m, v) = self.policy_adam.moments();
        put_moments(&mut arrays, "policy_adam", m, v);
        let (m, v) = self.value_adam.moments();
        put_moments(&mut arrays, "value_adam", m, v);
        let state = State {
            policy_adam_steps: self.policy_adam.steps(),
            value_adam_steps: self.value_adam.steps(),
            normalisers: self.normalisers.clone(),
            lanes: self.lanes.clone(),
        };
        pack_agent_files(ARRAYS_FILE, &arrays, STATE_FILE, &state)
    }

    /// Restore what [`DiffPpoAgent::save_files`] wrote into an agent built with the same configuration.
    pub(crate) fn load_files(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        let (arrays, state): (_, State) = unpack_agent_files(files, ARRAYS_FILE, STATE_FILE)?;
        load_store(&arrays, ARRAYS_FILE, "policy", self.policy.params())?;
        load_store(&arrays, ARRAYS_FILE, "value", self.value.params())?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "policy_adam", self.policy.params().len())?;
        self.policy_adam.restore(m, v, state.policy_adam_steps)?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "value_adam", self.value.params().len())?;
        self.value_adam.restore(m, v, state.value_adam_steps)?;
        if !state.normalisers.fits(&self.normalisers) {
            return Err(AlgoError::CorruptCheckpoint {
                path: STATE_FILE.into(),
                reason: "normalisation statistics that do not fit this agent's configuration".into(),
            });
        }
        self.normalisers = state.normalisers;
        self.lanes = state.lanes;
        Ok(())
    }
}
