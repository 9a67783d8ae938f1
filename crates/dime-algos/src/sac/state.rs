//! SAC's checkpoint files: `sac.safetensors` (actor and critic weights, target critics, log α,
//! Adam moments, BatchRenorm running statistics when CrossQ uses them) and `sac_counters.json`
//! (step counters). A loaded agent continues bit for bit like the saved one.

use serde::{Deserialize, Serialize};

use super::agent::SacAgent;
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::tensor_file::{
    load_batch_renorms, load_moments, load_store, pack_agent_files, put_batch_renorms, put_moments, put_store,
    unpack_agent_files, Arrays,
};

const ARRAYS_FILE: &str = "sac.safetensors";
const COUNTERS_FILE: &str = "sac_counters.json";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Counters {
    critic_updates: u64,
    actor_adam_steps: u64,
    critic_adam_steps: u64,
    alpha_adam_steps: Option<u64>,
    /// Train-mode calls of each BatchRenorm layer of the actor (empty for SAC).
    actor_batch_renorm_steps: Vec<u64>,
    /// Train-mode calls of each BatchRenorm layer, per critic member (empty lists for SAC).
    critic_batch_renorm_steps: Vec<Vec<u64>>,
}

impl SacAgent {
    /// Everything the agent needs to continue exactly, as checkpoint files.
    pub(crate) fn save_files(&self) -> Result<CheckpointFiles, AlgoError> {
        let mut arrays = Arrays::new();
        put_store(&mut arrays, "actor", self.actor.params())?;
        put_store(&mut arrays, "critic", self.critic.params())?;
        if let Some(target) = self.critic.target_params() {
            put_store(&mut arrays, "critic_target", target)?;
        }
        self.temperature.put(&mut arrays)?;
        let (m, v) = self.actor_adam.moments();
        put_moments(&mut arrays, "actor_adam", m, v);
        let (m, v) = self.critic.optimiser().moments();
        put_moments(&mut arrays, "critic_adam", m, v);
        let actor_batch_renorm_steps =
            put_batch_renorms(&mut arrays, "actor_batch_renorm", &self.actor.batch_renorms())?;
        let mut critic_batch_renorm_steps = Vec::new();
        for member in 0..self.cfg.critic.members {
            let prefix = format!("critic_batch_renorm/{member}");
            critic_batch_renorm_steps.push(put_batch_renorms(
                &mut arrays,
                &prefix,
                &self.critic.batch_renorms(member),
            )?);
        }
        let counters = Counters {
            critic_updates: self.n_updates,
            actor_adam_steps: self.actor_adam.steps(),
            critic_adam_steps: self.critic.optimiser().steps(),
            alpha_adam_steps: self.temperature.steps(),
            actor_batch_renorm_steps,
            critic_batch_renorm_steps,
        };
        pack_agent_files(ARRAYS_FILE, &arrays, COUNTERS_FILE, &counters)
    }

    /// Restore what [`SacAgent::save_files`] wrote into an agent built with the same configuration.
    pub(crate) fn load_files(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        let (arrays, counters): (_, Counters) = unpack_agent_files(files, ARRAYS_FILE, COUNTERS_FILE)?;
        load_store(&arrays, ARRAYS_FILE, "actor", self.actor.params())?;
        load_store(&arrays, ARRAYS_FILE, "critic", self.critic.params())?;
        if let Some(target) = self.critic.target_params() {
            load_store(&arrays, ARRAYS_FILE, "critic_target", target)?;
        }
        self.temperature.load(&arrays, ARRAYS_FILE, counters.alpha_adam_steps)?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "actor_adam", self.actor.params().len())?;
        self.actor_adam.restore(m, v, counters.actor_adam_steps)?;
        let (m, v) = load_moments(&arrays, ARRAYS_FILE, "critic_adam", self.critic.params().len())?;
        self.critic.optimiser_mut().restore(m, v, counters.critic_adam_steps)?;
        let norms = self.actor.batch_renorms_mut();
        let steps = &counters.actor_batch_renorm_steps;
        load_batch_renorms(&arrays, ARRAYS_FILE, COUNTERS_FILE, "actor_batch_renorm", norms, steps)?;
        for member in 0..self.cfg.critic.members {
            let steps = counters.critic_batch_renorm_steps.get(member).cloned().unwrap_or_default();
            let (prefix, norms) = (format!("critic_batch_renorm/{member}"), self.critic.batch_renorms_mut(member));
            load_batch_renorms(&arrays, ARRAYS_FILE, COUNTERS_FILE, &prefix, norms, &steps)?;
        }
        self.n_updates = counters.critic_updates;
        Ok(())
    }
}
