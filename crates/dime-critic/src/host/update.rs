//! DIME's critic update (dime.md §5.3–5.6) on the host: joint train-mode pass, target
//! `P = (1/n)·Σ_i Proj(p_i(s', a'))`, [`crate::categorical_td_loss`] and its gradient, one
//! in-place Adam step. The same sequence as the candle path of `CategoricalCritic::update`.

use std::time::Instant;

use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor};

use super::loss::{expected_value_sum, td_loss_and_logit_grad};
use super::net::{backward_train, forward_train, MemberGrads, OutputHead, TrainTrace};
use super::params::{MemberSlots, ParamViews};
use super::{append_pairs, host_values, norm, norm_config, running_stats};
use crate::batch::check_batch;
use crate::projection::ProjectionPlan;
use crate::{shifted_atoms, CategoricalCritic, CriticBatch, CriticError, CriticUpdate, UpdateTimings};

impl CategoricalCritic {
    /// The host path of [`CategoricalCritic::update`] (f32 parameters on the CPU).
    pub(crate) fn update_host(&mut self, batch: &CriticBatch) -> Result<CriticUpdate, CriticError> {
        let start = Instant::now();
        let rows = check_batch(batch, self.obs_dim, self.action_dim)?;
        let joint_rows = 2 * rows;
        let atoms = self.support.atoms();
        let mut x = Vec::with_capacity(joint_rows * self.widths[0]);
        append_pairs(&host_values(batch.obs)?, &host_values(batch.actions)?, rows, &mut x);
        append_pairs(&host_values(batch.next_obs)?, &host_values(batch.next_actions)?, rows, &mut x);
        let config = norm_config(self.normalisation);
        let normalised = !matches!(self.normalisation, crate::Normalisation::None);
        let stats = (0..self.members.len())
            .map(|i| running_stats(&self.members[i].norms(), &config))
            .collect::<Result<Vec<_>, _>>()?;

        let mut views = ParamViews::new();
        let slots = (0..self.members.len())
            .map(|i| MemberSlots::lock(&mut views, &self.store, i, &self.widths, normalised))
            .collect::<Result<Vec<_>, _>>()?;
        let members = slots.iter().map(|s| s.view(&views)).collect::<Result<Vec<_>, _>>()?;
        // Members are independent until the shared target: with more than one CPU thread they
        // run in parallel (each product then stays on its member's thread).
        let parallel = dime_nn::cpu_threads() > 1 && members.len() > 1;
        let traces: Vec<TrainTrace> = if parallel {
            use rayon::prelude::*;
            members
                .par_iter()
                .zip(&stats)
                .map(|(m, s)| forward_train(m, &x, joint_rows, s, &config, OutputHead::Softmax))
                .collect()
        } else {
            members
                .iter()
                .zip(&stats)
                .map(|(m, s)| forward_train(m, &x, joint_rows, s, &config, OutputHead::Softmax))
                .collect()
        };
        // The joint pass moves every layer's running statistics once, as the candle path's does.
        move_running_statistics(&mut self.members, &traces, &stats, &config)?;

        let current = rows * atoms;
        let plan = ProjectionPlan::new(&self.support, &shifted_atoms(&self.support, &batch.td)?)?;
        let mut target = vec![0.0f32; current];
        for trace in &traces {
            for (t, p) in target.iter_mut().zip(plan.project(&trace.probs[current..])?) {
                *t += p;
            }
        }
        let count = traces.len() as f32;
        target.iter_mut().for_each(|t| *t /= count);

        let (mut loss, mut q_sum) = (0.0f64, 0.0f64);
        let mut logit_grads = Vec::with_capacity(traces.len());
        for trace in &traces {
            let mut grad = vec![0.0f32; joint_rows * atoms];
            let probs = &trace.probs[..current];
            loss += td_loss_and_logit_grad(probs, &target, self.entropy_coef as f32, atoms, &mut grad[..current]);
            q_sum += expected_value_sum(probs, self.support.values()) / rows as f64;
            logit_grads.push(grad);
        }
        let forward = start.elapsed();

        let start = Instant::now();
        let grads: Vec<MemberGrads> = if parallel {
            use rayon::prelude::*;
            members
                .par_iter()
                .zip(&traces)
                .zip(&logit_grads)
                .map(|((m, t), g)| backward_train(m, t, &x, joint_rows, g))
                .collect()
        } else {
            members
                .iter()
                .zip(&traces)
                .zip(&logit_grads)
                .map(|((m, t), g)| backward_train(m, t, &x, joint_rows, g))
                .collect()
        };
        let backward = start.elapsed();

        // The read locks on the parameters must be gone before Adam writes them.
        drop(members);
        drop(views);
        let start = Instant::now();
        adam_step(&self.store, &mut self.adam, grads)?;
        let optimiser = start.elapsed();
        Ok(CriticUpdate {
            loss,
            mean_q: q_sum / self.members.len() as f64,
            timings: UpdateTimings { forward, backward, optimiser },
        })
    }
}

/// Move each train-mode pass's BatchRenorm running statistics once (from `stats`, the values
/// the pass read), member by member.
pub(super) fn move_running_statistics(
    members: &mut [crate::mlp::Mlp],
    traces: &[TrainTrace],
    stats: &[Vec<norm::RunningStats>],
    config: &dime_nn::BatchRenormConfig,
) -> Result<(), CriticError> {
    for ((member, trace), stats) in members.iter_mut().zip(traces).zip(stats) {
        for ((layer, cache), old) in member.norms_mut().into_iter().zip(trace.norm_caches()).zip(stats) {
            let (mean, var) = norm::moved_statistics(old, cache, config);
            let width = mean.len();
            let (mean, var) =
                (Tensor::from_vec(mean, (1, width), &Device::Cpu)?, Tensor::from_vec(var, (1, width), &Device::Cpu)?);
            layer.set_state(&mean, &var, layer.steps() + 1)?;
        }
    }
    Ok(())
}

/// One in-place Adam step on `store` with every member's gradients.
pub(super) fn adam_step(
    store: &dime_nn::ParamStore,
    adam: &mut dime_nn::Adam,
    grads: Vec<MemberGrads>,
) -> Result<(), CriticError> {
    let mut grad_store = GradStore::default();
    for (i, member) in grads.into_iter().enumerate() {
        for (name, values) in named_grads(i, member) {
            let var = store.get(&name)?;
            grad_store.insert(var.as_tensor(), Tensor::from_vec(values, var.shape(), &Device::Cpu)?);
        }
    }
    Ok(adam.step_in_place(store, &grad_store)?)
}

/// Member `i`'s gradients under their `ParamStore` names (as `crate::mlp::Mlp::new` registers them).
fn named_grads(i: usize, grads: MemberGrads) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    if let Some(n) = grads.input_norm {
        out.push((format!("q{i}.input_norm.scale"), n.scale));
        out.push((format!("q{i}.input_norm.bias"), n.bias));
    }
    for (k, (weight, bias, norm)) in grads.hidden.into_iter().enumerate() {
        out.push((format!("q{i}.hidden{k}.weight"), weight));
        out.push((format!("q{i}.hidden{k}.bias"), bias));
        if let Some(n) = norm {
            out.push((format!("q{i}.hidden{k}_norm.scale"), n.scale));
            out.push((format!("q{i}.hidden{k}_norm.bias"), n.bias));
        }
    }
    out.push((format!("q{i}.output.weight"), grads.output.0));
    out.push((format!("q{i}.output.bias"), grads.output.1));
    out
}
