//! The tanh-Gaussian actor on host buffers (SAC without normalisation, on the CPU): the forward
//! pass of [`TanhGaussianActor::sample`] and a hand-written backward pass, so that an actor update
//! is a handful of GEMMs instead of a candle graph. Same formulas, in the same order, as the
//! candle path; `sac::host_actor::tests` holds the two to each other.
//!
//! Layers: `h_l = act(h_{l−1}·W_l + b_l)`, `μ = h·W_μ + b_μ`, `log σ = bound(h·W_σ + b_σ)`,
//! `u = μ + σ⊙ε`, `a = tanh(u)`, `log π = Σ_i [(−½ε_i² − log σ_i) − ½log 2π − 2(log 2 − u_i −
//! softplus(−2u_i))]`.

use dime_nn::host::product_with_sums;
use dime_nn::host_gemm::{add_column_sums, transpose, Gemm};
use dime_nn::skinny::{rank_product, row_dots};
use dime_nn::Activation;

use super::actor::TanhGaussianActor;
use super::config::LogStdBound;
use crate::error::AlgoError;

/// `½·log(2π)`, as in [`super::losses::tanh_gaussian_log_prob`].
const HALF_LOG_TWO_PI: f32 = 0.918_938_5;

/// A dense layer's values: `W: [fan_in, fan_out]` row-major and `b: [fan_out]`.
#[derive(Debug, Clone)]
struct Dense {
    weight: Vec<f32>,
    bias: Vec<f32>,
    fan_in: usize,
    fan_out: usize,
}

/// The actor's parameters at one version, as host vectors (take a new one after every update).
#[derive(Debug, Clone)]
pub(crate) struct HostActor {
    hidden: Vec<Dense>,
    /// The two heads' kernels transposed, `[d, H]` each, and their biases.
    mean_t: Vec<f32>,
    mean_bias: Vec<f32>,
    log_std_t: Vec<f32>,
    log_std_bias: Vec<f32>,
    activation: Activation,
    bound: LogStdBound,
    obs_dim: usize,
    act_dim: usize,
}

/// What a forward pass keeps for its backward pass (buffers reused across calls).
#[derive(Debug, Clone, Default)]
pub(crate) struct ActorTape {
    rows: usize,
    obs: Vec<f32>,
    /// Per hidden layer: the activation's derivative at its input, and its output, `[R, H]`.
    derivative: Vec<Vec<f32>>,
    post: Vec<Vec<f32>>,
    /// The log-std head before its bound, `[R, d]`.
    raw_log_std: Vec<f32>,
    /// `σ⊙ε`, `[R, d]`.
    scaled_noise: Vec<f32>,
    /// `a = tanh(u)`, `[R, d]`.
    pub action: Vec<f32>,
    /// `log π(a|s)`, `[R]`.
    pub log_prob: Vec<f32>,
}

fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

impl HostActor {
    /// The values of `actor`; `None` when the host path does not apply (normalisation layers, or
    /// parameters that are not f32 on the CPU).
    pub fn new(actor: &TanhGaussianActor) -> Result<Option<Self>, AlgoError> {
        let Some((widths, activation, bound)) = actor.host_shape() else {
            return Ok(None);
        };
        let store = actor.params();
        if !store.iter().all(|(_, v)| v.dtype() == candle_core::DType::F32 && v.device().is_cpu()) {
            return Ok(None);
        }
        let values = |name: &str| -> Result<Vec<f32>, AlgoError> {
            Ok(store.get(name)?.as_tensor().flatten_all()?.to_vec1::<f32>()?)
        };
        let (obs_dim, act_dim) = (widths[0], *widths.last().expect("widths end with the action dimension"));
        let mut hidden = Vec::new();
        for (i, pair) in widths[..widths.len() - 1].windows(2).enumerate() {
            let (weight, bias) = (values(&format!("hidden{i}.weight"))?, values(&format!("hidden{i}.bias"))?);
            hidden.push(Dense { weight, bias, fan_in: pair[0], fan_out: pair[1] });
        }
        let h = hidden.last().map_or(obs_dim, |d| d.fan_out);
        Ok(Some(Self {
            mean_t: transpose(&values("mean.weight")?, h, act_dim),
            mean_bias: values("mean.bias")?,
            log_std_t: transpose(&values("log_std.weight")?, h, act_dim),
            log_std_bias: values("log_std.bias")?,
            hidden,
            activation,
            bound,
            obs_dim,
            act_dim,
        }))
    }

    /// `a = tanh(μ + σ⊙ε)` and `log π(a|s)` for `obs: [rows, o]`, `noise: [rows, d]`, into `tape`.
    pub fn forward(&self, obs: &[f32], noise: &[f32], tape: &mut ActorTape) {
        let (o, d) = (self.obs_dim, self.act_dim);
        let rows = obs.len() / o;
        tape.rows = rows;
        tape.obs.clear();
        tape.obs.extend_from_slice(obs);
        tape.derivative.resize(self.hidden.len(), Vec::new());
        tape.post.resize(self.hidden.len(), Vec::new());
        for (l, dense) in self.hidden.iter().enumerate() {
            let (done, rest) = tape.post.split_at_mut(l);
            let input: &[f32] = if l == 0 { &tape.obs } else { &done[l - 1] };
            let pre = &mut tape.derivative[l];
            pre.resize(rows * dense.fan_out, 0.0);
            if dense.fan_in <= 32 {
                rank_product(input, &dense.weight, dense.fan_out, None, pre);
            } else {
                Gemm::new(rows, dense.fan_in, dense.fan_out).run(input, &dense.weight, pre);
            }
            rest[0].resize(rows * dense.fan_out, 0.0);
            self.activation.apply_keeping_derivative(pre, Some(&dense.bias), &mut rest[0]);
        }
        let h: &[f32] = tape.post.last().map_or(&tape.obs, |v| v);
        let width = h.len() / rows;
        let mut mean = vec![0.0f32; rows * d];
        tape.raw_log_std.resize(rows * d, 0.0);
        for (row, r) in mean.chunks_exact_mut(d).zip(tape.raw_log_std.chunks_exact_mut(d)) {
            row.copy_from_slice(&self.mean_bias);
            r.copy_from_slice(&self.log_std_bias);
        }
        row_dots(h, &self.mean_t, width, true, &mut mean);
        row_dots(h, &self.log_std_t, width, true, &mut tape.raw_log_std);
        tape.scaled_noise.resize(rows * d, 0.0);
        tape.action.resize(rows * d, 0.0);
        tape.log_prob.clear();
        tape.log_prob.resize(rows, 0.0);
        for b in 0..rows {
            let mut sum = 0.0f32;
            for i in 0..d {
                let j = b * d + i;
                let log_std = self.bounded(tape.raw_log_std[j]);
                let scaled = log_std.exp() * noise[j];
                let u = mean[j] + scaled;
                let gaussian = noise[j] * noise[j] * -0.5 - log_std;
                let tanh_log_det = ((-u + std::f32::consts::LN_2) - softplus(u * -2.0)) * 2.0;
                sum += (gaussian - HALF_LOG_TWO_PI) - tanh_log_det;
                tape.scaled_noise[j] = scaled;
                tape.action[j] = u.tanh();
            }
            tape.log_prob[b] = sum;
        }
    }

    /// `log σ` from the head's raw value ([`TanhGaussianActor::heads`]' bound).
    fn bounded(&self, raw: f32) -> f32 {
        match self.bound {
            LogStdBound::TanhSquash { min, max } => {
                let half_range = 0.5 * (max - min);
                raw.tanh() * half_range as f32 + (min + half_range) as f32
            }
            LogStdBound::Clip { min, max } => raw.clamp(min as f32, max as f32),
        }
    }

    /// `∂(log σ)/∂raw`.
    fn bound_derivative(&self, raw: f32) -> f32 {
        match self.bound {
            LogStdBound::TanhSquash { min, max } => {
                let t = raw.tanh();
                (0.5 * (max - min)) as f32 * (1.0 - t * t)
            }
            LogStdBound::Clip { min, max } => f32::from(raw >= min as f32 && raw <= max as f32),
        }
    }

    /// Gradients of a loss `L(a, log π)` from `d_action = ∂L/∂a` (`[R, d]`) and `d_log_prob =
    /// ∂L/∂log π` (`[R]`), in the order of [`TanhGaussianActor::params`].
    pub fn backward(
        &self,
        actor: &TanhGaussianActor,
        tape: &ActorTape,
        d_action: &[f32],
        d_log_prob: &[f32],
    ) -> Result<Vec<Vec<f32>>, AlgoError> {
        let (rows, d) = (tape.rows, self.act_dim);
        // u = μ + σ⊙ε: ∂L/∂u = ∂L/∂a·(1 − a²) + ∂L/∂log π·2·tanh(u) (the Jacobian term's
        // derivative); ∂L/∂μ = ∂L/∂u; ∂L/∂log σ = ∂L/∂u·σε − ∂L/∂log π.
        let mut d_mean = vec![0.0f32; rows * d];
        let mut d_raw = vec![0.0f32; rows * d];
        for j in 0..rows * d {
            let (a, g_lp) = (tape.action[j], d_log_prob[j / d]);
            let du = d_action[j] * (1.0 - a * a) + g_lp * 2.0 * a;
            d_mean[j] = du;
            d_raw[j] = (du * tape.scaled_noise[j] - g_lp) * self.bound_derivative(tape.raw_log_std[j]);
        }
        let h: &[f32] = tape.post.last().map_or(&tape.obs, |v| v);
        let width = h.len() / rows;
        let head_grads = |dz: &[f32]| {
            let mut weight_t = vec![0.0f32; d * width];
            Gemm::new(d, rows, width).a_t().run(dz, h, &mut weight_t);
            let mut bias = vec![0.0f32; d];
            add_column_sums(dz, &mut bias);
            (transpose(&weight_t, d, width), bias)
        };
        let (mean_w, mean_b) = head_grads(&d_mean);
        let (log_std_w, log_std_b) = head_grads(&d_raw);
        // ∂L/∂h = ∂L/∂μ·W_μᵀ + ∂L/∂raw·W_σᵀ.
        let mut dh = vec![0.0f32; rows * width];
        rank_product(&d_mean, &self.mean_t, width, None, &mut dh);
        let base = dh.clone();
        rank_product(&d_raw, &self.log_std_t, width, Some(&base), &mut dh);
        let mut named = vec![
            ("log_std.bias".to_string(), log_std_b),
            ("log_std.weight".to_string(), log_std_w),
            ("mean.bias".to_string(), mean_b),
            ("mean.weight".to_string(), mean_w),
        ];
        let mut dz = Vec::new();
        for (l, dense) in self.hidden.iter().enumerate().rev() {
            dz.resize(rows * dense.fan_out, 0.0);
            let mut bias = vec![0.0f32; dense.fan_out];
            product_with_sums(&dh, &tape.derivative[l], &mut dz, &mut bias, None);
            let input: &[f32] = if l == 0 { &tape.obs } else { &tape.post[l - 1] };
            let mut weight = vec![0.0f32; dense.fan_in * dense.fan_out];
            Gemm::new(dense.fan_in, rows, dense.fan_out).a_t().run(input, &dz, &mut weight);
            named.push((format!("hidden{l}.bias"), bias));
            named.push((format!("hidden{l}.weight"), weight));
            if l > 0 {
                dh.resize(rows * dense.fan_in, 0.0);
                Gemm::new(rows, dense.fan_out, dense.fan_in).b_t().run(&dz, &dense.weight, &mut dh);
            }
        }
        actor
            .params()
            .names()
            .iter()
            .map(|name| {
                let i = named.iter().position(|(n, _)| n == name);
                i.map(|i| std::mem::take(&mut named[i].1))
                    .ok_or_else(|| AlgoError::Config(format!("host actor: no gradient for parameter `{name}`")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
