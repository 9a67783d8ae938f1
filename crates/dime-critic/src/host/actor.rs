//! The critic as the actor's loss sees it (dime.md §4): eval-mode `Q̄(s, a)` and its gradient to
//! the actions, on the host.

use candle_core::{Device, Tensor, Var};

use super::loss::expected_value;
use super::net::{forward_eval, input_grad_eval, OutputHead};
use super::params::{MemberSlots, ParamViews};
use super::{append_pairs, check_action_query, host_values, norm_config, running_stats, sum_action_grads};
use crate::{CategoricalCritic, CriticError};

impl CategoricalCritic {
    /// Eval-mode mean Q and its action gradient, for the actor update (dime.md §4).
    ///
    /// Contract: `obs` is `[rows, obs_dim]` and `actions` `[rows, action_dim]`, row-major. With
    /// `Q_i(s, a) = Σ_j p_ij(s, a)·z_j` the expected value of member `i`'s eval-mode distribution
    /// (running BatchRenorm statistics), returns
    ///
    /// - `mean_q[b] = (1/n)·Σ_i Q_i(s_b, a_b)`, `[rows]` — the `q_mean` of the DIME actor loss;
    /// - `grad[b, k] = ∂S/∂a_bk` with `S = Σ_b mean_q[b]` (a sum over rows, not a mean: scale by
    ///   `−1/rows` for the loss `mean_b(α·ℓ_b − mean_q[b])`), `[rows, action_dim]`.
    ///
    /// Nothing changes (no running statistics, no parameters); the same inputs give bitwise the
    /// same outputs. This is what `probs_eval` + `expected_value` + autograd to the actions compute,
    /// run on host buffers when the parameters are f32 on the CPU and through candle otherwise.
    /// Mismatched lengths or `rows = 0` are a [`CriticError::Shape`].
    pub fn mean_q_and_action_grad(
        &self,
        obs: &[f32],
        actions: &[f32],
        rows: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), CriticError> {
        check_action_query(obs, actions, rows, self.obs_dim, self.action_dim)?;
        if !super::applies(&self.store) {
            return self.mean_q_and_action_grad_candle(obs, actions, rows);
        }
        let input = self.obs_dim + self.action_dim;
        let mut x = Vec::with_capacity(rows * input);
        append_pairs(obs, actions, rows, &mut x);
        let config = norm_config(self.normalisation);
        let normalised = !matches!(self.normalisation, crate::Normalisation::None);
        let support = self.support.values();
        let atoms = support.len();
        let members = self.members.len();
        let inv_members = 1.0 / members as f32;
        // One member's Q per row and input gradient; members run in parallel on several threads
        // and are combined in member order.
        let member = |i: usize| -> Result<(Vec<f32>, Vec<f32>), CriticError> {
            let stats = running_stats(&self.members[i].norms(), &config)?;
            let mut views = ParamViews::new();
            let view = MemberSlots::lock(&mut views, &self.store, i, &self.widths, normalised)?;
            let view = view.view(&views)?;
            let trace = forward_eval(&view, &x, rows, &stats, &config, OutputHead::Softmax);
            // ∂S/∂x_j = (1/n)·p_j·(z_j − Q_i) for the logits x of member i (softmax backward).
            let mut logit_grad = trace.probs.clone();
            let mut q = vec![0.0f32; rows];
            for (row, q) in logit_grad.chunks_exact_mut(atoms).zip(q.iter_mut()) {
                *q = expected_value(row, support);
                row.iter_mut().zip(support).for_each(|(p, z)| *p *= (z - *q) * inv_members);
            }
            Ok((q, input_grad_eval(&view, &trace, &logit_grad, rows)))
        };
        let per_member: Vec<(Vec<f32>, Vec<f32>)> = if dime_nn::cpu_threads() > 1 && members > 1 {
            use rayon::prelude::*;
            (0..members).into_par_iter().map(member).collect::<Result<_, _>>()?
        } else {
            (0..members).map(member).collect::<Result<_, _>>()?
        };
        let mut q_sum = vec![0.0f32; rows];
        for (q, _) in &per_member {
            q_sum.iter_mut().zip(q).for_each(|(s, q)| *s += q);
        }
        let grad = sum_action_grads(per_member.iter().map(|(_, g)| g), rows, self.obs_dim, self.action_dim);
        let mean_q = q_sum.into_iter().map(|q| q / members as f32).collect();
        Ok((mean_q, grad))
    }

    /// The same through candle autograd (f64 parameters, other devices).
    fn mean_q_and_action_grad_candle(
        &self,
        obs: &[f32],
        actions: &[f32],
        rows: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), CriticError> {
        let (dtype, device) = (self.support_column.dtype(), self.support_column.device());
        let upload = |values: &[f32], cols: usize| -> Result<Tensor, CriticError> {
            Ok(Tensor::from_vec(values.to_vec(), (rows, cols), &Device::Cpu)?.to_dtype(dtype)?.to_device(device)?)
        };
        let obs = upload(obs, self.obs_dim)?;
        let actions = Var::from_tensor(&upload(actions, self.action_dim)?)?;
        let q = self
            .probs_eval(&obs, actions.as_tensor())?
            .iter()
            .map(|p| self.expected_value(p))
            .collect::<Result<Vec<_>, _>>()?;
        let mean_q = Tensor::stack(&q, 0)?.mean(0)?;
        let grads = mean_q.sum_all()?.backward()?;
        let grad = match grads.get(actions.as_tensor()) {
            Some(g) => host_values(g)?,
            None => vec![0.0; rows * self.action_dim],
        };
        Ok((host_values(&mean_q)?, grad))
    }
}
