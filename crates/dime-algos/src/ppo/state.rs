//! PPO's checkpoint files: `ppo.safetensors` (network weights and Adam moments) and
//! `ppo_state.json` (counters, the learning rate, normalisation statistics, the unfinished
//! rollouts and the decisions waiting for their transitions). A loaded agent continues bit for bit.

use serde::{Deserialize, Serialize};

use super::agent::{Pending, PpoAgent, Rollout};
use super::normalise::Normalisers;
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::onpolicy::Lanes;
use crate::tensor_file::{
    load_moments, load_store, pack_agent_files, put_moments, put_store, unpack_agent_files, Arrays,
};

const ARRAYS_FILE: &str = "ppo.safetensors";
const STATE_FILE: &str = "ppo_state.json";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    adam_steps: u64,
    learning_rate: f64,
    env_steps: u64,
    normalisers: Normalisers,
    lanes: Lanes<Pending, Rollout>,
}

impl PpoAgent {
    /// Everything the agent needs to continue exactly, as checkpoint files.
    pub(crate) fn save_files(&self) -> Result<CheckpointFiles, AlgoError> {
        let mut arrays = Arrays::new();
        put_store(&mut arrays, "ppo", self.policy.params())?;
        let (m, v) = self.adam.moments();
        put_moments(&mut arrays, "ppo_adam", m, v);
        let state = State {
            adam_steps: self.adam.steps(),
            learning_rate: self.adam.config().lr,
            env_steps: self.env_steps,
            normalisers: self.normalisers.clone(),
            lanes: self.lanes.clone(),
        };
        pack_agent_files(ARRAYS_FILE, &arrays, STATE_FILE, &state)
    }

    /// Restore what [`PpoAgent::save_files`] wrote into an agent built with the same configuration.
    pub(crate) fn load_files(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        let (arrays, state): (_, State) = unpack_agent_files(files, ARRAYS_FILE, STATE_FILE)?;
        load_store(&arrays, ARRAYS_FILE, "ppo", self.policy.params())?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "ppo_adam", self.policy.params().len())?;
        self.adam.restore(m, v, state.adam_steps)?;
        self.adam.set_learning_rate(state.learning_rate);
        if !state.normalisers.fits(&self.normalisers) {
            return Err(AlgoError::CorruptCheckpoint {
                path: STATE_FILE.into(),
                reason: "normalisation statistics that do not fit this agent's configuration".into(),
            });
        }
        self.env_steps = state.env_steps;
        self.normalisers = state.normalisers;
        self.lanes = state.lanes;
        Ok(())
    }
}
