//! Reverse pass of the host chain ([`crate::host_chain`]): gradients of a loss
//! `L(a, ℓ)` that depends on the chain through the actions `a = tanh(x_K)` and the bounds `ℓ`.
//!
//! The caller supplies `∂L/∂a` (`[B, d]`, e.g. from the critic) and `∂L/∂ℓ` (`[B]`, e.g. `α/B`
//! for the actor loss `mean(α·ℓ − Q̄)`). Per step, in reverse (`v = σ0²`, `z_π = (x'−μ)/ς`,
//! `m_q = x' − (x'/v)·η`, `z_q = (x − m_q)/ς`, `ℓ_path = Σ_k (log π_k − log q_k)`), the chain
//! rule is applied to exactly the operations of the forward pass, so it reproduces what
//! autograd computes on the candle path. The kernels' normalisers `Σ log(√(2π)ς)` enter
//! `log π_k` and `log q_k` identically and cancel in `ℓ_path`, so they carry no gradient.
//! `ℓ_prior` depends on `x_0` only, which is noise: no gradient.
//!
//! The MLP weights' gradients are accumulated here; the time path and the step sizes receive
//! theirs through one candle backward of the surrogate
//! `Σ (W_t·τ + b_1) ⊙ G_b + Σ η ⊙ G_η + Σ ς ⊙ G_ς` ([`DiffusionPolicy::host_gradients`]).

use candle_core::Tensor;
use dime_nn::host::product_with_sums;
use dime_nn::host_gemm::{add_column_sums, Gemm};
use dime_nn::skinny::{rank_product, row_dots};

use crate::host_chain::{ChainDims, HostChain, Part, Tape};
use crate::score_net::{names, Track};
use crate::{DiffusionPolicy, SamplerError};

/// Gradients computed on the host, before they are merged with the candle part.
#[derive(Debug, Clone)]
pub(crate) struct HostGrads {
    pub weight_action: Vec<f32>,
    pub weight_obs: Vec<f32>,
    /// `(W, b)` per hidden layer after the first.
    pub hidden: Vec<(Vec<f32>, Vec<f32>)>,
    pub output: (Vec<f32>, Vec<f32>),
    /// `∂L/∂(W_t·τ(k) + b_1)`, `[K, H]`.
    pub bias_rows: Vec<f32>,
    /// `∂L/∂η_k`, `[K, d]`.
    pub eta: Vec<f32>,
    /// `∂L/∂ς_k`, `[K, d]`.
    pub scale: Vec<f32>,
}

impl HostGrads {
    /// `self += other`, entry by entry.
    fn add(&mut self, other: &HostGrads) {
        let pairs = [
            (&mut self.weight_action, &other.weight_action),
            (&mut self.weight_obs, &other.weight_obs),
            (&mut self.output.0, &other.output.0),
            (&mut self.output.1, &other.output.1),
            (&mut self.bias_rows, &other.bias_rows),
            (&mut self.eta, &other.eta),
            (&mut self.scale, &other.scale),
        ];
        let hidden = self.hidden.iter_mut().zip(&other.hidden).flat_map(|((w, b), (ow, ob))| [(w, ow), (b, ob)]);
        for (acc, v) in pairs.into_iter().chain(hidden) {
            acc.iter_mut().zip(v).for_each(|(a, b)| *a += b);
        }
    }
}

impl HostChain {
    /// Back-propagate `∂L/∂a` and `∂L/∂ℓ` through a kept tape: each row block in parallel,
    /// then the blocks' gradients summed in block order (so a fixed thread count gives
    /// bitwise-identical results).
    pub(crate) fn backward(&self, tape: &mut Tape, d_action: &[f32], d_bound: &[f32]) -> HostGrads {
        let d = self.dims.action;
        let block = |(part, &(first, rows)): (&mut Part, &(usize, usize))| {
            self.backward_part(part, &d_action[first * d..(first + rows) * d], &d_bound[first..first + rows])
        };
        let mut grads: Vec<HostGrads> = if tape.parts.len() == 1 {
            tape.parts.iter_mut().zip(&tape.blocks).map(block).collect()
        } else {
            use rayon::prelude::*;
            tape.parts.par_iter_mut().zip(&tape.blocks).map(block).collect()
        };
        let mut total = grads.remove(0);
        for g in &grads {
            total.add(g);
        }
        total
    }

    /// The backward pass of one row block. The step loop only propagates `∂L/∂x` and stores
    /// every step's pre-activation gradients; the weight gradients are then one product per
    /// layer over all K steps at once (`[H, K·R]·[K·R, n]`), cheaper than K small ones.
    fn backward_part(&self, tape: &mut Part, d_action: &[f32], d_bound: &[f32]) -> HostGrads {
        let ChainDims { steps, obs: o, action: d, width: h, layers } = self.dims;
        let batch = tape.rows;
        let (bd, bh) = (batch * d, batch * h);
        let mut g = HostGrads {
            weight_action: vec![0.0; d * h],
            weight_obs: vec![0.0; o * h],
            hidden: self.mlp.hidden.iter().map(|(w, b)| (vec![0.0; w.len()], vec![0.0; b.len()])).collect(),
            output: (vec![0.0; h * d], vec![0.0; d]),
            bias_rows: vec![0.0; steps * h],
            eta: vec![0.0; steps * d],
            scale: vec![0.0; steps * d],
        };
        // ∂L/∂x_K = ∂L/∂a·(1 − a²) + ∂L/∂ℓ·∂ℓ_tanh/∂x_K, with ∂ℓ_tanh/∂x = 2·tanh(x).
        let mut dx: Vec<f32> = (0..bd)
            .map(|j| {
                let a = tape.action[j];
                d_action[j] * (1.0 - a * a) + d_bound[j / d] * 2.0 * a
            })
            .collect();
        let mut d_score = std::mem::take(&mut tape.d_score);
        let mut d_pre = std::mem::take(&mut tape.d_pre);
        d_score.resize(steps * bd, 0.0);
        d_pre.resize(layers, Vec::new());
        d_pre.iter_mut().for_each(|buffer| buffer.resize(steps * bh, 0.0));
        let mut dh = vec![0.0f32; bh];
        // ∂L/∂(W_s·s), summed over the steps.
        let mut d_obs_term = vec![0.0f32; bh];
        let transposed = self.transposed();
        for k in (0..steps).rev() {
            let span = k * bh..(k + 1) * bh;
            let score_k = &mut d_score[k * bd..(k + 1) * bd];
            self.kernel_step_backward(k, tape, d_bound, &mut dx, score_k, &mut g);
            // raw = h_L·W_out + b_out, so ∂L/∂h_L = ∂L/∂raw·W_outᵀ.
            rank_product(score_k, &transposed.output, h, None, &mut dh);
            for l in (0..layers).rev() {
                // The kept tape holds act'(pre) where the pre-activations were. The bias
                // gradients (b_l, or bias_rows[k] and W_s·s for the first layer) are gathered
                // in the same pass.
                let dz = &mut d_pre[l][span.clone()];
                let derivative = &tape.pre[l][span.clone()];
                match l {
                    0 => product_with_sums(
                        &dh,
                        derivative,
                        dz,
                        &mut g.bias_rows[k * h..(k + 1) * h],
                        Some(&mut d_obs_term),
                    ),
                    _ => product_with_sums(&dh, derivative, dz, &mut g.hidden[l - 1].1, None),
                }
                if l > 0 {
                    Gemm::new(batch, h, h).run(dz, &transposed.hidden[l - 1], &mut dh);
                }
            }
            // First layer: W_x·x_k + W_s·s + bias_rows[k].
            row_dots(&d_pre[0][span], &self.mlp.weight_action, h, true, &mut dx);
        }
        let rows = steps * batch;
        Gemm::new(h, rows, d).a_t().run(&tape.post[layers - 1], &d_score, &mut g.output.0);
        add_column_sums(&d_score, &mut g.output.1);
        // Hidden layer l ≥ 1 reads the activations of layer l − 1.
        for (((dw, _), input), dz) in g.hidden.iter_mut().zip(&tape.post).zip(&d_pre[1..]) {
            Gemm::new(h, rows, h).a_t().run(input, dz, dw);
        }
        Gemm::new(d, rows, h).a_t().run(&tape.states[..rows * d], &d_pre[0], &mut g.weight_action);
        Gemm::new(o, batch, h).a_t().run(&tape.obs, &d_obs_term, &mut g.weight_obs);
        tape.d_score = d_score;
        tape.d_pre = d_pre;
        g
    }

    /// Step k in reverse: on entry `dx` holds `∂L/∂x_{k+1}`; on exit it holds the part of
    /// `∂L/∂x_k` that does not pass through the score network, and `d_score` holds `∂L/∂raw_k`
    /// (the output layer before the clip). `∂L/∂η_k` and `∂L/∂ς_k` are accumulated into `g`.
    fn kernel_step_backward(
        &self,
        k: usize,
        tape: &Part,
        d_bound: &[f32],
        dx: &mut [f32],
        d_score: &mut [f32],
        g: &mut HostGrads,
    ) {
        let d = self.dims.action;
        let bd = tape.rows * d;
        let (x, x_next) = (&tape.states[k * bd..(k + 1) * bd], &tape.states[(k + 1) * bd..(k + 2) * bd]);
        let (mean, raw, eps) =
            (&tape.means[k * bd..(k + 1) * bd], &tape.raw_score[k * bd..(k + 1) * bd], &tape.eps[k * bd..(k + 1) * bd]);
        let (eta, scale) = (&self.eta[k * d..(k + 1) * d], &self.scale[k * d..(k + 1) * d]);
        let (v, clip) = (self.prior_var, self.mlp.output_clip);
        let (d_eta, d_scale) = (&mut g.eta[k * d..(k + 1) * d], &mut g.scale[k * d..(k + 1) * d]);
        for j in 0..bd {
            let (i, gb) = (j % d, d_bound[j / d]);
            let (s, e, xk, xn, mu) = (scale[i], eta[i], x[j], x_next[j], mean[j]);
            // log π_k = −½ z_π² − norm, upstream +gb.
            let z_pi = (xn - mu) / s;
            let dz_pi = -z_pi * gb;
            let mut dxn = dx[j] + dz_pi / s;
            let mut dmu = -dz_pi / s;
            let mut ds = -dz_pi * z_pi / s;
            // log q_k = −½ z_q² − norm, upstream −gb.
            let reference_mean = xn - xn / v * e;
            let z_q = (xk - reference_mean) / s;
            let dz_q = z_q * gb;
            let mut dxk = dz_q / s;
            let d_reference = -dz_q / s;
            ds -= dz_q * z_q / s;
            dxn += d_reference * (1.0 - e / v);
            let mut de = -d_reference * xn / v;
            // x' = μ + ς ⊙ ε.
            dmu += dxn;
            ds += dxn * eps[j];
            // μ = x + (clip(raw) − x/v) ⊙ η.
            let f = raw[j].clamp(-clip, clip);
            dxk += dmu * (1.0 - e / v);
            de += dmu * (f - xk / v);
            d_score[j] = if raw[j].abs() <= clip { dmu * e } else { 0.0 };
            d_eta[i] += de;
            d_scale[i] += ds;
            dx[j] = dxk;
        }
    }
}

impl DiffusionPolicy {
    /// Gradients of a loss `L(a, ℓ)` with respect to every parameter, in [`Self::params`] order,
    /// from a tape kept by [`Self::forward_host`]. `d_action: [B, d]` is `∂L/∂a`, `d_bound: [B]`
    /// is `∂L/∂ℓ`. Equals autograd through [`Self::sample`] up to float32 rounding (tested).
    pub fn host_gradients(
        &self,
        chain: &HostChain,
        tape: &mut Tape,
        d_action: &[f32],
        d_bound: &[f32],
    ) -> Result<Vec<Vec<f32>>, SamplerError> {
        let (batch, d) = (tape.batch, self.action_dim());
        if !tape.keep || d_action.len() != batch * d || d_bound.len() != batch || chain.dims.action != d {
            return Err(SamplerError::InvalidConfig(format!(
                "host_gradients needs a kept tape and ∂L/∂a of [{batch}, {d}] and ∂L/∂ℓ of [{batch}]; got {} and {}",
                d_action.len(),
                d_bound.len()
            )));
        }
        let g = chain.backward(tape, d_action, d_bound);
        let (steps, h) = (chain.dims.steps, chain.dims.width);
        let dev = candle_core::Device::Cpu;
        let tau = self.net().time_embedding(steps, Track::Gradient)?;
        let bias_rows = self.net().time_bias_rows(&tau, Track::Gradient)?;
        let sizes = self.step_sizes()?;
        let dtype = bias_rows.dtype();
        let weight = |values: Vec<f32>, shape: (usize, usize)| -> Result<Tensor, SamplerError> {
            Ok(Tensor::from_vec(values, shape, &dev)?.to_dtype(dtype)?.to_device(bias_rows.device())?)
        };
        let surrogate = ((bias_rows.mul(&weight(g.bias_rows, (steps, h))?)?.sum_all()?
            + sizes.eta.mul(&weight(g.eta, (steps, d))?)?.sum_all()?)?
            + sizes.scale.mul(&weight(g.scale, (steps, d))?)?.sum_all()?)?;
        let mut grads = dime_nn::host_gradients(self.params(), &surrogate.backward()?)?;
        let order = self.params().names();
        let mut put = |name: &str, values: Vec<f32>| {
            let i = order.iter().position(|n| n == name).expect("every score-net variable is in the store");
            grads[i] = values;
        };
        put(names::FIRST_ACTION, g.weight_action);
        put(names::FIRST_OBS, g.weight_obs);
        for (i, (w, b)) in g.hidden.into_iter().enumerate() {
            put(&format!("{}.weight", names::hidden(i + 1)), w);
            put(&format!("{}.bias", names::hidden(i + 1)), b);
        }
        put(&format!("{}.weight", names::OUTPUT), g.output.0);
        put(&format!("{}.bias", names::OUTPUT), g.output.1);
        Ok(grads)
    }
}
