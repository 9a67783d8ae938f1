//! DiffSAC's checkpoint files: `diffsac.safetensors` (policy and critic weights, target critics,
//! log α, Adam moments), `diffsac_state.json` (counters and the chain waiting for its
//! transition) and `diffsac_chains.bin` (the stored transitions with their chains, in the replay
//! buffer's own checked format). A loaded agent continues bit for bit.

use serde::{Deserialize, Serialize};

use super::agent::{DiffSacAgent, PendingChain};
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::replay::ReplayBuffer;
use crate::tensor_file::{
    load_moments, load_store, pack_agent_files, put_moments, put_store, unpack_agent_files, Arrays,
};

const ARRAYS_FILE: &str = "diffsac.safetensors";
const STATE_FILE: &str = "diffsac_state.json";
const CHAINS_FILE: &str = "diffsac_chains.bin";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    critic_updates: u64,
    actor_adam_steps: u64,
    critic_adam_steps: u64,
    alpha_adam_steps: Option<u64>,
    pending: Option<PendingChain>,
}

impl DiffSacAgent {
    /// Everything the agent needs to continue exactly, as checkpoint files.
    pub(crate) fn save_files(&self) -> Result<CheckpointFiles, AlgoError> {
        let mut arrays = Arrays::new();
        put_store(&mut arrays, "policy", self.policy.params())?;
        put_store(&mut arrays, "critic", self.critic.params())?;
        if let Some(target) = self.critic.target_params() {
            put_store(&mut arrays, "critic_target", target)?;
        }
        self.temperature.put(&mut arrays)?;
        let (m, v) = self.actor_adam.moments();
        put_moments(&mut arrays, "actor_adam", m, v);
        let (m, v) = self.critic.optimiser().moments();
        put_moments(&mut arrays, "critic_adam", m, v);
        let state = State {
            critic_updates: self.n_updates,
            actor_adam_steps: self.actor_adam.steps(),
            critic_adam_steps: self.critic.optimiser().steps(),
            alpha_adam_steps: self.temperature.steps(),
            pending: self.pending.clone(),
        };
        let mut files = pack_agent_files(ARRAYS_FILE, &arrays, STATE_FILE, &state)?;
        if let Some(chains) = &self.chains {
            files.insert(CHAINS_FILE.into(), chains.to_bytes());
        }
        Ok(files)
    }

    /// Restore what [`DiffSacAgent::save_files`] wrote into an agent built with the same configuration.
    pub(crate) fn load_files(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        let (arrays, state): (_, State) = unpack_agent_files(files, ARRAYS_FILE, STATE_FILE)?;
        load_store(&arrays, ARRAYS_FILE, "policy", self.policy.params())?;
        load_store(&arrays, ARRAYS_FILE, "critic", self.critic.params())?;
        if let Some(target) = self.critic.target_params() {
            load_store(&arrays, ARRAYS_FILE, "critic_target", target)?;
        }
        self.temperature.load(&arrays, ARRAYS_FILE, state.alpha_adam_steps)?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "actor_adam", self.policy.params().len())?;
        self.actor_adam.restore(m, v, state.actor_adam_steps)?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "critic_adam", self.critic.params().len())?;
        self.critic.optimiser_mut().restore(m, v, state.critic_adam_steps)?;
        self.chains = match files.get(CHAINS_FILE) {
            None => None,
            Some(bytes) => {
                let chains = ReplayBuffer::from_bytes(bytes)
                    .map_err(|e| AlgoError::CorruptCheckpoint { path: CHAINS_FILE.into(), reason: e.to_string() })?;
                let width = (self.cfg.sampler.diffusion_steps + 1) * self.act_dim;
                if chains.dims() != (self.obs_dim, width) {
                    return Err(AlgoError::CorruptCheckpoint {
                        path: CHAINS_FILE.into(),
                        reason: format!("chains of widths {:?}, expected ({}, {width})", chains.dims(), self.obs_dim),
                    });
                }
                Some(chains)
            }
        };
        self.n_updates = state.critic_updates;
        self.pending = state.pending;
        Ok(())
    }
}
