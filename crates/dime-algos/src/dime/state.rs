//! DIME's checkpoint files: `dime.safetensors` (policy and critic weights, log α, Adam moments,
//! BatchRenorm running statistics) and `dime_counters.json` (step counters). A loaded agent
//! continues bit for bit like the saved one.

use serde::{Deserialize, Serialize};

use super::agent::DimeAgent;
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::tensor_file::{
    load_batch_renorms, load_moments, load_store, pack_agent_files, put_batch_renorms, put_moments, put_store,
    unpack_agent_files, Arrays,
};

const ARRAYS_FILE: &str = "dime.safetensors";
const COUNTERS_FILE: &str = "dime_counters.json";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Counters {
    critic_updates: u64,
    actor_adam_steps: u64,
    critic_adam_steps: u64,
    alpha_adam_steps: Option<u64>,
    /// Train-mode calls of each BatchRenorm layer, per critic member.
    batch_renorm_steps: Vec<Vec<u64>>,
}

impl DimeAgent {
    /// Everything the agent needs to continue exactly, as checkpoint files.
    pub(crate) fn save_files(&self) -> Result<CheckpointFiles, AlgoError> {
        let mut arrays = Arrays::new();
        put_store(&mut arrays, "policy", self.policy.params())?;
        put_store(&mut arrays, "critic", self.critic.params())?;
        self.temperature.put(&mut arrays)?;
        let (m, v) = self.actor_adam.moments();
        put_moments(&mut arrays, "actor_adam", m, v);
        let (m, v) = self.critic.optimiser().moments();
        put_moments(&mut arrays, "critic_adam", m, v);
        let mut batch_renorm_steps = Vec::new();
        for member in 0..self.critic.members() {
            let prefix = format!("batch_renorm/{member}");
            batch_renorm_steps.push(put_batch_renorms(&mut arrays, &prefix, &self.critic.batch_renorms(member))?);
        }
        let counters = Counters {
            critic_updates: self.n_updates,
            actor_adam_steps: self.actor_adam.steps(),
            critic_adam_steps: self.critic.optimiser().steps(),
            alpha_adam_steps: self.temperature.steps(),
            batch_renorm_steps,
        };
        pack_agent_files(ARRAYS_FILE, &arrays, COUNTERS_FILE, &counters)
    }

    /// Restore what [`DimeAgent::save_files`] wrote into an agent built with the same configuration.
    pub(crate) fn load_files(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        // Copies of the policy are dropped first, so that none outlives a load that fails halfway.
        (self.acting, self.host_chain) = (None, None);
        let (arrays, counters): (_, Counters) = unpack_agent_files(files, ARRAYS_FILE, COUNTERS_FILE)?;
        load_store(&arrays, ARRAYS_FILE, "policy", self.policy.params())?;
        load_store(&arrays, ARRAYS_FILE, "critic", self.critic.params())?;
        self.temperature.load(&arrays, ARRAYS_FILE, counters.alpha_adam_steps)?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "actor_adam", self.policy.params().len())?;
        self.actor_adam.restore(m, v, counters.actor_adam_steps)?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "critic_adam", self.critic.params().len())?;
        self.critic.optimiser_mut().restore(m, v, counters.critic_adam_steps)?;
        for member in 0..self.critic.members() {
            let steps = counters.batch_renorm_steps.get(member).cloned().unwrap_or_default();
            let (prefix, norms) = (format!("batch_renorm/{member}"), self.critic.batch_renorms_mut(member));
            load_batch_renorms(&arrays, ARRAYS_FILE, COUNTERS_FILE, &prefix, norms, &steps)?;
        }
        self.n_updates = counters.critic_updates;
        Ok(())
    }
}
