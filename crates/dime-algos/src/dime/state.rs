//! DIME's checkpoint files: `dime.safetensors` (policy and critic weights, log α, Adam moments,
//! BatchRenorm running statistics) and `dime_counters.json` (step counters). A loaded agent
//! continues bit for bit like the saved one.

use candle_core::{Device, Tensor};
use dime_nn::ParamStore;
use serde::{Deserialize, Serialize};

use super::agent::DimeAgent;
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::tensor_file::{from_safetensors, to_safetensors, Array, Arrays};

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

fn put_store(arrays: &mut Arrays, prefix: &str, store: &ParamStore) -> Result<(), AlgoError> {
    for (name, var) in store.iter() {
        let values = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        arrays.insert(format!("{prefix}/{name}"), Array { shape: var.dims().to_vec(), values });
    }
    Ok(())
}

fn put_moments(arrays: &mut Arrays, prefix: &str, first: &[Vec<f32>], second: &[Vec<f32>]) {
    for (i, (m, v)) in first.iter().zip(second).enumerate() {
        arrays.insert(format!("{prefix}/m/{i:04}"), Array { shape: vec![m.len()], values: m.clone() });
        arrays.insert(format!("{prefix}/v/{i:04}"), Array { shape: vec![v.len()], values: v.clone() });
    }
}

fn take<'a>(arrays: &'a Arrays, name: &str) -> Result<&'a Array, AlgoError> {
    arrays
        .get(name)
        .ok_or_else(|| AlgoError::CorruptCheckpoint { path: ARRAYS_FILE.into(), reason: format!("`{name}` missing") })
}

fn load_store(arrays: &Arrays, prefix: &str, store: &ParamStore) -> Result<(), AlgoError> {
    for (name, var) in store.iter() {
        let a = take(arrays, &format!("{prefix}/{name}"))?;
        if a.shape != var.dims() {
            let reason = format!("`{prefix}/{name}` has shape {:?}, the agent {:?}", a.shape, var.dims());
            return Err(AlgoError::CorruptCheckpoint { path: ARRAYS_FILE.into(), reason });
        }
        store.set(name, &Tensor::from_slice(&a.values, a.shape.as_slice(), &Device::Cpu)?)?;
    }
    Ok(())
}

/// First and second Adam moments, one host vector per variable.
type Moments = (Vec<Vec<f32>>, Vec<Vec<f32>>);

fn load_moments(arrays: &Arrays, prefix: &str, count: usize) -> Result<Moments, AlgoError> {
    let get = |which: &str| -> Result<Vec<Vec<f32>>, AlgoError> {
        (0..count).map(|i| Ok(take(arrays, &format!("{prefix}/{which}/{i:04}"))?.values.clone())).collect()
    };
    Ok((get("m")?, get("v")?))
}

impl DimeAgent {
    /// Everything the agent needs to continue exactly, as checkpoint files.
    pub(crate) fn save_files(&self) -> Result<CheckpointFiles, AlgoError> {
        let mut arrays = Arrays::new();
        put_store(&mut arrays, "policy", self.policy.params())?;
        put_store(&mut arrays, "critic", self.critic.params())?;
        put_store(&mut arrays, "temperature", &self.log_alpha)?;
        let (m, v) = self.actor_adam.moments();
        put_moments(&mut arrays, "actor_adam", m, v);
        let (m, v) = self.critic.optimiser().moments();
        put_moments(&mut arrays, "critic_adam", m, v);
        if let Some(adam) = &self.alpha_adam {
            let (m, v) = adam.moments();
            put_moments(&mut arrays, "alpha_adam", m, v);
        }
        let mut batch_renorm_steps = Vec::new();
        for member in 0..self.critic.members() {
            let mut steps = Vec::new();
            for (layer, norm) in self.critic.batch_renorms(member).into_iter().enumerate() {
                for (what, t) in [("mean", norm.running_mean()), ("var", norm.running_var())] {
                    let values = t.flatten_all()?.to_vec1::<f32>()?;
                    arrays.insert(
                        format!("batch_renorm/{member}/{layer}/{what}"),
                        Array { shape: t.dims().to_vec(), values },
                    );
                }
                steps.push(norm.steps());
            }
            batch_renorm_steps.push(steps);
        }
        let counters = Counters {
            critic_updates: self.n_updates,
            actor_adam_steps: self.actor_adam.steps(),
            critic_adam_steps: self.critic.optimiser().steps(),
            alpha_adam_steps: self.alpha_adam.as_ref().map(|a| a.steps()),
            batch_renorm_steps,
        };
        let mut files = CheckpointFiles::new();
        files.insert(ARRAYS_FILE.into(), to_safetensors(&arrays)?);
        files.insert(COUNTERS_FILE.into(), serde_json::to_vec_pretty(&counters).expect("counters serialise"));
        Ok(files)
    }

    /// Restore what [`DimeAgent::save_files`] wrote into an agent built with the same configuration.
    pub(crate) fn load_files(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        let missing =
            |f: &str| AlgoError::CorruptCheckpoint { path: f.into(), reason: "missing from the checkpoint".into() };
        let arrays = from_safetensors(files.get(ARRAYS_FILE).ok_or_else(|| missing(ARRAYS_FILE))?, ARRAYS_FILE)?;
        let counters: Counters =
            serde_json::from_slice(files.get(COUNTERS_FILE).ok_or_else(|| missing(COUNTERS_FILE))?)
                .map_err(|e| AlgoError::CorruptCheckpoint { path: COUNTERS_FILE.into(), reason: e.to_string() })?;
        load_store(&arrays, "policy", self.policy.params())?;
        load_store(&arrays, "critic", self.critic.params())?;
        load_store(&arrays, "temperature", &self.log_alpha)?;
        let (m, v) = load_moments(&arrays, "actor_adam", self.policy.params().len())?;
        self.actor_adam.restore(m, v, counters.actor_adam_steps)?;
        let (m, v) = load_moments(&arrays, "critic_adam", self.critic.params().len())?;
        self.critic.optimiser_mut().restore(m, v, counters.critic_adam_steps)?;
        if let (Some(adam), Some(steps)) = (self.alpha_adam.as_mut(), counters.alpha_adam_steps) {
            let (m, v) = load_moments(&arrays, "alpha_adam", 1)?;
            adam.restore(m, v, steps)?;
        }
        for member in 0..self.critic.members() {
            let steps = counters.batch_renorm_steps.get(member).cloned().unwrap_or_default();
            for (layer, norm) in self.critic.batch_renorms_mut(member).into_iter().enumerate() {
                let get = |what: &str| -> Result<Tensor, AlgoError> {
                    let a = take(&arrays, &format!("batch_renorm/{member}/{layer}/{what}"))?;
                    Ok(Tensor::from_slice(&a.values, a.shape.as_slice(), &Device::Cpu)?)
                };
                let count = *steps.get(layer).ok_or_else(|| AlgoError::CorruptCheckpoint {
                    path: COUNTERS_FILE.into(),
                    reason: format!("no BatchRenorm step count for member {member} layer {layer}"),
                })?;
                norm.set_state(&get("mean")?, &get("var")?, count)?;
            }
        }
        self.n_updates = counters.critic_updates;
        self.acting = None;
        Ok(())
    }
}
