//! The scalar critic on the host (baselines.md §1–2): SAC's update against Polyak targets,
//! CrossQ's joint-pass update, and the actor's view `min_i Q_i(s, a)` with its action gradient.
//! The same sequence and formulas as the candle path of [`ScalarCritic`]; `tests/host_scalar.rs`
//! holds the two to each other.

use std::time::Instant;

use super::net::{backward_train, forward_eval, forward_train, input_grad_eval, MemberGrads, OutputHead, TrainTrace};
use super::params::{MemberSlots, MemberView, ParamViews};
use super::update::{adam_step, move_running_statistics};
use super::{append_pairs, check_action_query, host_values, norm_config, running_stats, sum_action_grads};
use crate::batch::check_batch;
use crate::{CriticBatch, CriticError, CriticUpdate, Normalisation, ScalarCritic, TdInputs, UpdateTimings};

/// `y_b = r_b + m_b·γ·(min_i Q_i(s'_b, a'_b) − α·log π(a'_b|s'_b))` ([`crate::soft_q_target`]),
/// with `next_q[i]` the members' values on the next rows.
fn soft_q_target(next_q: &[&[f32]], td: &TdInputs) -> Vec<f32> {
    (0..td.rewards.len())
        .map(|b| {
            let min_q = next_q.iter().map(|q| q[b]).fold(f32::INFINITY, f32::min);
            let soft_value = min_q - td.alpha * td.next_log_prob[b];
            td.rewards[b] + td.continues[b] * td.gamma * soft_value
        })
        .collect()
}

/// Run `f` once per member, in parallel when there is more than one CPU thread.
fn per_member<T: Send>(members: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    if dime_nn::cpu_threads() > 1 && members > 1 {
        use rayon::prelude::*;
        (0..members).into_par_iter().map(f).collect()
    } else {
        (0..members).map(f).collect()
    }
}

impl ScalarCritic {
    /// The host path of [`ScalarCritic::update`] (f32 parameters on the CPU).
    pub(crate) fn update_host(&mut self, batch: &CriticBatch) -> Result<CriticUpdate, CriticError> {
        let start = Instant::now();
        let rows = check_batch(batch, self.obs_dim, self.action_dim)?;
        batch.td.check()?;
        let (current, next) = {
            let (mut current, mut next) = (Vec::new(), Vec::new());
            append_pairs(&host_values(batch.obs)?, &host_values(batch.actions)?, rows, &mut current);
            append_pairs(&host_values(batch.next_obs)?, &host_values(batch.next_actions)?, rows, &mut next);
            (current, next)
        };
        let config = norm_config(self.normalisation);
        let normalised = self.normalisation != Normalisation::None;
        let n = self.members.len();
        let stats = (0..n).map(|i| running_stats(&self.members[i].norms(), &config)).collect::<Result<Vec<_>, _>>()?;
        let mut views = ParamViews::new();
        let slots = (0..n)
            .map(|i| MemberSlots::lock(&mut views, &self.store, i, &self.widths, normalised))
            .collect::<Result<Vec<_>, _>>()?;
        let members = slots.iter().map(|s| s.view(&views)).collect::<Result<Vec<MemberView>, _>>()?;

        // SAC: targets from the Polyak networks, the current rows alone in train mode.
        // CrossQ: one train-mode pass over [(s, a); (s', a')], targets from its second half.
        let (x, pass_rows, traces, target) = match &self.target {
            Some(target_nets) => {
                let mut target_views = ParamViews::new();
                let target_slots = (0..n)
                    .map(|i| MemberSlots::lock(&mut target_views, &target_nets.store, i, &self.widths, false))
                    .collect::<Result<Vec<_>, _>>()?;
                let target_members =
                    target_slots.iter().map(|s| s.view(&target_views)).collect::<Result<Vec<MemberView>, _>>()?;
                let next_q = per_member(n, |i| {
                    forward_eval(&target_members[i], &next, rows, &[], &config, OutputHead::Linear).probs
                });
                let y = soft_q_target(&next_q.iter().map(Vec::as_slice).collect::<Vec<_>>(), &batch.td);
                let traces = per_member(n, |i| {
                    forward_train(&members[i], &current, rows, &stats[i], &config, OutputHead::Linear)
                });
                (current, rows, traces, y)
            }
            None => {
                let mut joint = current;
                joint.extend_from_slice(&next);
                let traces: Vec<TrainTrace> = per_member(n, |i| {
                    forward_train(&members[i], &joint, 2 * rows, &stats[i], &config, OutputHead::Linear)
                });
                let y = soft_q_target(&traces.iter().map(|t| &t.probs[rows..]).collect::<Vec<_>>(), &batch.td);
                (joint, 2 * rows, traces, y)
            }
        };
        // L = scale·Σ_i mean_b (Q_i − y)² (scale 1 for SAC, ½ for CrossQ): ∂L/∂Q_ib = 2·scale·(Q_ib − y_b)/B
        // on the current rows; the joint pass's next rows get no gradient (y is a stop-gradient).
        let scale = if self.target.is_some() { 1.0f64 } else { 0.5 };
        let (mut loss, mut q_sum) = (0.0f64, 0.0f64);
        let mut output_grads = Vec::with_capacity(n);
        for trace in &traces {
            let q = &trace.probs[..rows];
            let mut grad = vec![0.0f32; pass_rows];
            let mut squares = 0.0f64;
            for ((g, q), y) in grad.iter_mut().zip(q).zip(&target) {
                let error = q - y;
                squares += f64::from(error) * f64::from(error);
                *g = (2.0 * scale as f32 / rows as f32) * error;
            }
            loss += scale * squares / rows as f64;
            q_sum += q.iter().map(|&v| f64::from(v)).sum::<f64>() / rows as f64;
            output_grads.push(grad);
        }
        let forward = start.elapsed();

        let start = Instant::now();
        let grads: Vec<MemberGrads> =
            per_member(n, |i| backward_train(&members[i], &traces[i], &x, pass_rows, &output_grads[i]));
        let backward = start.elapsed();
        drop(members);
        drop(views);
        move_running_statistics(&mut self.members, &traces, &stats, &config)?;
        let start = Instant::now();
        adam_step(&self.store, &mut self.adam, grads)?;
        if self.target.is_some() {
            self.update_targets()?;
        }
        let optimiser = start.elapsed();
        Ok(CriticUpdate { loss, mean_q: q_sum / n as f64, timings: UpdateTimings { forward, backward, optimiser } })
    }

    /// Eval-mode `min_i Q_i(s, a)` and its gradient to the actions, for the SAC actor loss
    /// `mean_b(α·log π − min_i Q_i)` (baselines.md §1).
    ///
    /// Contract: `obs: [rows, obs_dim]`, `actions: [rows, action_dim]`, row-major. Returns
    /// `min_q: [rows]` and `grad: [rows, action_dim]` with `grad[b, k] = ∂S/∂a_bk` for
    /// `S = Σ_b min_i Q_i(s_b, a_b)` (a sum: scale by `−1/rows` for the loss). The gradient of a
    /// row goes through every member whose value equals the minimum (candle's `min` backward).
    /// Nothing changes; on parameters that are not f32 on the CPU the result comes from candle
    /// autograd through [`ScalarCritic::q_values_eval`].
    pub fn min_q_and_action_grad(
        &self,
        obs: &[f32],
        actions: &[f32],
        rows: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), CriticError> {
        check_action_query(obs, actions, rows, self.obs_dim, self.action_dim)?;
        if !super::applies(&self.store) {
            return self.min_q_and_action_grad_candle(obs, actions, rows);
        }
        let input = self.obs_dim + self.action_dim;
        let mut x = Vec::with_capacity(rows * input);
        append_pairs(obs, actions, rows, &mut x);
        let config = norm_config(self.normalisation);
        let normalised = self.normalisation != Normalisation::None;
        let n = self.members.len();
        let stats = (0..n).map(|i| running_stats(&self.members[i].norms(), &config)).collect::<Result<Vec<_>, _>>()?;
        let mut views = ParamViews::new();
        let slots = (0..n)
            .map(|i| MemberSlots::lock(&mut views, &self.store, i, &self.widths, normalised))
            .collect::<Result<Vec<_>, _>>()?;
        let members = slots.iter().map(|s| s.view(&views)).collect::<Result<Vec<MemberView>, _>>()?;
        let traces = per_member(n, |i| forward_eval(&members[i], &x, rows, &stats[i], &config, OutputHead::Linear));
        let min_q: Vec<f32> =
            (0..rows).map(|b| traces.iter().map(|t| t.probs[b]).fold(f32::INFINITY, f32::min)).collect();
        let input_grads = per_member(n, |i| {
            let selected: Vec<f32> =
                traces[i].probs.iter().zip(&min_q).map(|(q, m)| if q == m { 1.0 } else { 0.0 }).collect();
            input_grad_eval(&members[i], &traces[i], &selected, rows)
        });
        Ok((min_q, sum_action_grads(&input_grads, rows, self.obs_dim, self.action_dim)))
    }

    /// The same through candle autograd (f64 parameters, other devices).
    fn min_q_and_action_grad_candle(
        &self,
        obs: &[f32],
        actions: &[f32],
        rows: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), CriticError> {
        use candle_core::{Device, Tensor, Var};
        let first = self.store.iter().next().map(|(_, v)| v).ok_or(CriticError::Unsupported("no parameters"))?;
        let (dtype, device) = (first.dtype(), first.device().clone());
        let upload = |values: &[f32], cols: usize| -> Result<Tensor, CriticError> {
            Ok(Tensor::from_vec(values.to_vec(), (rows, cols), &Device::Cpu)?.to_dtype(dtype)?.to_device(&device)?)
        };
        let obs = upload(obs, self.obs_dim)?;
        let actions = Var::from_tensor(&upload(actions, self.action_dim)?)?;
        let q = self.q_values_eval(&obs, actions.as_tensor())?;
        let min_q = Tensor::stack(&q, 0)?.min(0)?;
        let grads = min_q.sum_all()?.backward()?;
        let grad = match grads.get(actions.as_tensor()) {
            Some(g) => host_values(g)?,
            None => vec![0.0; rows * self.action_dim],
        };
        Ok((host_values(&min_q)?, grad))
    }
}
