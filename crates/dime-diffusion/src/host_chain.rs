//! The chain on host slices: the CPU fast path for training and critic targets.
//!
//! Same mathematics as [`crate::chain`] (hoisted first layer, dime.md §2.7, §3, §10), written
//! as loops over `[B, ·]` row-major `f32` buffers and GEMM calls ([`dime_nn::host_gemm::Gemm`]).
//! candle spends most of a chain evaluation on per-operation allocation, zero-fills and small
//! broadcast ops; here each step is two GEMMs, two skinny products and one fused pass per layer. The time path
//! (`W_t·τ(k) + b_1`, `[K, H]`) and the step sizes (`η_k, ς_k`, `[K, d]`) are tiny and stay in
//! candle: [`HostChain`] takes their values once, and the backward pass
//! ([`crate::host_backward`]) returns their gradients through one candle backward of a
//! surrogate, so every parameter is still trained by the same formulas.
//!
//! A forward pass can keep its activations (a [`Tape`], for the actor update) or reuse one
//! step's buffers (critic targets). Results agree with the candle path to float32 rounding
//! (different summation order in the products; tested).

use candle_core::{DType, Tensor};
use dime_nn::host_gemm::{transpose, Gemm};
use dime_nn::skinny::{rank_product, row_dots};
use dime_nn::Activation;

use crate::score_net::{HostMlp, Track};
use crate::{ChainNoise, DiffusionPolicy, SamplerError};

/// The policy's values at one parameter version, as host vectors.
#[derive(Debug, Clone)]
pub struct HostChain {
    pub(crate) mlp: HostMlp,
    /// η_k, `[K, d]`.
    pub(crate) eta: Vec<f32>,
    /// ς_k, `[K, d]`.
    pub(crate) scale: Vec<f32>,
    /// Σ_i log(√(2π)·ς_{k,i}) per step, the kernels' shared normaliser, `[K]`.
    pub(crate) log_norm: Vec<f32>,
    pub(crate) prior_var: f32,
    pub(crate) prior_std: f32,
    pub(crate) prior_log_norm: f32,
    pub(crate) dims: ChainDims,
    /// Transposed weights for the backward pass, made at its first use.
    transposed: std::sync::OnceLock<TransposedWeights>,
}

/// `Wᵀ` of the main MLP's layers, row-major, so that `∂L/∂input = ∂L/∂output·Wᵀ` reads its
/// right operand contiguously (and the output layer's columns are contiguous rows).
#[derive(Debug, Clone)]
pub(crate) struct TransposedWeights {
    /// `W_lᵀ`, `[H, H]`, per hidden layer after the first.
    pub hidden: Vec<Vec<f32>>,
    /// `W_outᵀ`, `[d, H]`.
    pub output: Vec<f32>,
}

/// Sizes of one chain evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChainDims {
    pub steps: usize,
    pub obs: usize,
    pub action: usize,
    pub width: usize,
    /// Hidden layers of the main MLP, the first (hoisted) one included.
    pub layers: usize,
}

/// A chain evaluation's outputs and, when kept, everything its backward pass needs. The batch
/// is split into row blocks ([`Part`]s), one per CPU thread, that run in parallel; outputs are
/// gathered here in row order.
#[derive(Debug, Clone, Default)]
pub struct Tape {
    pub(crate) batch: usize,
    pub(crate) keep: bool,
    /// Row blocks `(first row, rows)` and their buffers.
    pub(crate) blocks: Vec<(usize, usize)>,
    pub(crate) parts: Vec<Part>,
    /// `a = tanh(x_K)`, `[B, d]`.
    pub action: Vec<f32>,
    /// `ℓ_prior`, `[B]`.
    pub prior_log_prob: Vec<f32>,
    /// `ℓ_path`, `[B]`.
    pub path_log_ratio: Vec<f32>,
    /// `ℓ_tanh`, `[B]`.
    pub tanh_log_det: Vec<f32>,
    final_states: Vec<f32>,
}

/// One row block of a chain evaluation (`R` rows).
#[derive(Debug, Clone, Default)]
pub(crate) struct Part {
    pub rows: usize,
    /// Observations `[R, o]`.
    pub obs: Vec<f32>,
    /// Step noise `ε_k`, `[K, R, d]`.
    pub eps: Vec<f32>,
    /// States `x_0..x_K`, `[K+1, R, d]`.
    pub states: Vec<f32>,
    /// `W_s·s`, `[R, H]`.
    pub obs_term: Vec<f32>,
    /// Per layer: pre-activations, `[K, R, H]` when kept (then holding the activation's
    /// derivative at them, once the activation is applied), else `[R, H]`.
    pub pre: Vec<Vec<f32>>,
    /// Per layer: activations, same shapes as `pre`.
    pub post: Vec<Vec<f32>>,
    /// Output layer before the clip, `[K, R, d]` when kept, else `[R, d]`.
    pub raw_score: Vec<f32>,
    /// Kernel means `μ_k`, `[K, R, d]` when kept, else `[R, d]`.
    pub means: Vec<f32>,
    /// `a`, `[R, d]`.
    pub action: Vec<f32>,
    /// `ℓ_prior`, `ℓ_path` (accumulated as `−log_w`), `ℓ_tanh`, each `[R]`.
    pub prior_log_prob: Vec<f32>,
    pub path_log_ratio: Vec<f32>,
    pub tanh_log_det: Vec<f32>,
    /// Backward scratch: `∂L/∂raw_k`, `[K, R, d]`.
    pub d_score: Vec<f32>,
    /// Backward scratch: per layer `∂L/∂pre_k`, `[K, R, H]`.
    pub d_pre: Vec<Vec<f32>>,
}

impl Tape {
    /// The batch size of the last forward pass.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// `ℓ_run = ℓ_path + ℓ_tanh` per sample.
    pub fn running_cost(&self) -> Vec<f32> {
        self.path_log_ratio.iter().zip(&self.tanh_log_det).map(|(p, t)| p + t).collect()
    }

    /// `ℓ = ℓ_run + ℓ_prior` per sample (added in the candle path's order).
    pub fn log_prob_bound(&self) -> Vec<f32> {
        self.running_cost().iter().zip(&self.prior_log_prob).map(|(r, p)| r + p).collect()
    }

    /// The final pre-tanh states `x_K`, `[B, d]`.
    pub fn final_state(&self) -> &[f32] {
        &self.final_states
    }

    /// Gather the blocks' outputs in row order.
    fn gather(&mut self, steps: usize) {
        let (action, prior, path, tanh, last) = (
            &mut self.action,
            &mut self.prior_log_prob,
            &mut self.path_log_ratio,
            &mut self.tanh_log_det,
            &mut self.final_states,
        );
        for buffer in [&mut *action, &mut *prior, &mut *path, &mut *tanh, &mut *last] {
            buffer.clear();
        }
        for part in &self.parts {
            action.extend_from_slice(&part.action);
            prior.extend_from_slice(&part.prior_log_prob);
            path.extend_from_slice(&part.path_log_ratio);
            tanh.extend_from_slice(&part.tanh_log_det);
            let rd = part.action.len();
            last.extend_from_slice(&part.states[steps * rd..(steps + 1) * rd]);
        }
    }
}

/// Row blocks for `batch` rows: one per CPU thread, at least 32 rows each.
fn row_blocks(batch: usize) -> Vec<(usize, usize)> {
    let n = dime_nn::cpu_threads().min(batch / 32).max(1);
    (0..n).map(|i| (i * batch / n, (i + 1) * batch / n - i * batch / n)).collect()
}

fn host(t: &Tensor) -> Result<Vec<f32>, SamplerError> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

impl HostChain {
    /// `Wᵀ` of the main MLP's layers (computed once per `HostChain`).
    pub(crate) fn transposed(&self) -> &TransposedWeights {
        self.transposed.get_or_init(|| {
            let (d, h) = (self.dims.action, self.dims.width);
            TransposedWeights {
                hidden: self.mlp.hidden.iter().map(|(w, _)| transpose(w, h, h)).collect(),
                output: transpose(&self.mlp.output.0, h, d),
            }
        })
    }

    /// Take the policy's current values (time path and step sizes evaluated in candle).
    pub(crate) fn new(policy: &DiffusionPolicy) -> Result<Self, SamplerError> {
        let plan = policy.plan(Track::Detached)?;
        let tau = policy.net().time_embedding(policy.config().diffusion_steps, Track::Detached)?;
        let bias_rows = policy.net().time_bias_rows(&tau, Track::Detached)?;
        let mlp = policy.net().host_mlp(&bias_rows)?;
        let (eta, scale) = (host(&plan.step_sizes.eta)?, host(&plan.step_sizes.scale)?);
        let cfg = policy.config();
        let d = policy.action_dim();
        let sqrt_two_pi = (2.0 * std::f64::consts::PI).sqrt() as f32;
        let log_norm = scale.chunks_exact(d).map(|row| row.iter().map(|s| (s * sqrt_two_pi).ln()).sum()).collect();
        let sigma0 = cfg.prior_std as f32;
        Ok(Self {
            transposed: std::sync::OnceLock::new(),
            eta,
            scale,
            log_norm,
            prior_var: (cfg.prior_std * cfg.prior_std) as f32,
            prior_std: sigma0,
            prior_log_norm: d as f32 * (sigma0 * sqrt_two_pi).ln(),
            dims: ChainDims {
                steps: cfg.diffusion_steps,
                obs: policy.obs_dim(),
                action: d,
                width: cfg.score_net.hidden_width,
                layers: 1 + mlp.hidden.len(),
            },
            mlp,
        })
    }

    /// Run the chain for `obs: [B, o]` with `noise`, writing every output into `tape`; with
    /// `keep`, also every activation the backward pass needs. Inputs are checked by the caller.
    /// Row blocks run in parallel on the CPU threads; rows are independent, so the values do
    /// not depend on the blocking.
    pub(crate) fn forward(
        &self,
        obs: &[f32],
        noise: &ChainNoise,
        keep: bool,
        tape: &mut Tape,
    ) -> Result<(), SamplerError> {
        let ChainDims { steps, obs: o, action: d, .. } = self.dims;
        let batch = obs.len() / o;
        let (x0, eps) = (host(&noise.x0)?, host(&noise.eps)?);
        if !x0.iter().chain(&eps).all(|v| v.is_finite()) {
            return Err(SamplerError::NonFinite("noise"));
        }
        tape.batch = batch;
        tape.keep = keep;
        tape.blocks = row_blocks(batch);
        tape.parts.resize_with(tape.blocks.len(), Part::default);
        for (part, &(first, rows)) in tape.parts.iter_mut().zip(&tape.blocks) {
            prepare(part, rows, keep, self.dims);
            part.obs.clear();
            part.obs.extend_from_slice(&obs[first * o..(first + rows) * o]);
            part.states[..rows * d].copy_from_slice(&x0[first * d..(first + rows) * d]);
            part.eps.clear();
            for k in 0..steps {
                part.eps.extend_from_slice(&eps[(k * batch + first) * d..(k * batch + first + rows) * d]);
            }
        }
        if tape.parts.len() == 1 {
            self.forward_part(&mut tape.parts[0], keep);
        } else {
            use rayon::prelude::*;
            tape.parts.par_iter_mut().for_each(|part| self.forward_part(part, keep));
        }
        tape.gather(steps);
        Ok(())
    }

    /// The chain for one row block (its inputs already loaded).
    fn forward_part(&self, tape: &mut Part, keep: bool) {
        let ChainDims { steps, obs: o, action: d, width: h, layers } = self.dims;
        let batch = tape.rows;
        let (bd, bh) = (batch * d, batch * h);
        Gemm::new(batch, o, h).run(&tape.obs, &self.mlp.weight_obs, &mut tape.obs_term);
        let transposed = self.transposed();
        for k in 0..steps {
            let slot = if keep { k } else { 0 };
            let (x, rest) = tape.states[k * bd..].split_at_mut(bd);
            // First layer: (W_s·s + W_x·x_k) + (W_t·τ(k) + b_1); the time row is added with
            // the activation. `d` is a few columns: a skinny product, not a GEMM.
            let pre = &mut tape.pre[0][slot * bh..(slot + 1) * bh];
            rank_product(x, &self.mlp.weight_action, h, Some(&tape.obs_term), pre);
            let time_row = &self.mlp.bias_rows[k * h..(k + 1) * h];
            activate(self.mlp.activation, keep, pre, time_row, &mut tape.post[0][slot * bh..(slot + 1) * bh]);
            for l in 1..layers {
                let (weight, bias) = &self.mlp.hidden[l - 1];
                let (below, above) = tape.post.split_at_mut(l);
                let input = &below[l - 1][slot * bh..(slot + 1) * bh];
                let pre = &mut tape.pre[l][slot * bh..(slot + 1) * bh];
                Gemm::new(batch, h, h).run(input, weight, pre);
                activate(self.mlp.activation, keep, pre, bias, &mut above[0][slot * bh..(slot + 1) * bh]);
            }
            // Output layer, `[R, H]·[H, d]`: one dot product per row and action dimension.
            let raw = &mut tape.raw_score[slot * bd..(slot + 1) * bd];
            fill_rows(raw, &self.mlp.output.1);
            row_dots(&tape.post[layers - 1][slot * bh..(slot + 1) * bh], &transposed.output, h, true, raw);
            let mean = &mut tape.means[slot * bd..(slot + 1) * bd];
            let x_next = &mut rest[..bd];
            self.kernel_step(k, x, raw, &tape.eps[k * bd..(k + 1) * bd], mean, x_next, &mut tape.path_log_ratio);
        }
        self.finish(tape);
    }

    /// One kernel step for every row: `μ = x + η ⊙ (clip(f) − x/σ0²)`, `x' = μ + ς ⊙ ε`, and
    /// `log_w += log q_k(x|x') − log π_k(x'|x)` accumulated in `log_w` (negated in `finish`).
    #[allow(clippy::too_many_arguments)]
    fn kernel_step(
        &self,
        k: usize,
        x: &[f32],
        raw: &[f32],
        eps: &[f32],
        mean: &mut [f32],
        x_next: &mut [f32],
        log_w: &mut [f32],
    ) {
        let d = self.dims.action;
        let (eta, scale) = (&self.eta[k * d..(k + 1) * d], &self.scale[k * d..(k + 1) * d]);
        let (v, clip, norm) = (self.prior_var, self.mlp.output_clip, self.log_norm[k]);
        for (b, w) in log_w.iter_mut().enumerate() {
            let (mut quad_pi, mut quad_q) = (0.0f32, 0.0f32);
            for i in 0..d {
                let j = b * d + i;
                let f = raw[j].clamp(-clip, clip);
                let mu = x[j] + (f - x[j] / v) * eta[i];
                let xn = mu + eps[j] * scale[i];
                let z_pi = (xn - mu) / scale[i];
                let reference_mean = xn - xn / v * eta[i];
                let z_q = (x[j] - reference_mean) / scale[i];
                quad_pi += z_pi * z_pi;
                quad_q += z_q * z_q;
                mean[j] = mu;
                x_next[j] = xn;
            }
            let log_pi = quad_pi * -0.5 - norm;
            let log_q = quad_q * -0.5 - norm;
            *w += log_q - log_pi;
        }
    }

    /// `ℓ_path = −log_w`, the prior term of `x_0`, `a = tanh(x_K)` and `ℓ_tanh`.
    fn finish(&self, tape: &mut Part) {
        let d = self.dims.action;
        let bd = tape.rows * d;
        tape.path_log_ratio.iter_mut().for_each(|w| *w = -*w);
        for (b, lp) in tape.prior_log_prob.iter_mut().enumerate() {
            let quad: f32 = tape.states[b * d..(b + 1) * d].iter().map(|x| (x / self.prior_std).powi(2)).sum();
            *lp = quad * -0.5 - self.prior_log_norm;
        }
        let x_final = &tape.states[self.dims.steps * bd..];
        for (b, cost) in tape.tanh_log_det.iter_mut().enumerate() {
            // ℓ_tanh = −Σ_i 2·(log 2 − x − softplus(−2x)).
            *cost = -x_final[b * d..(b + 1) * d]
                .iter()
                .map(|&x| 2.0 * ((std::f32::consts::LN_2 - x) - softplus(-2.0 * x)))
                .sum::<f32>();
        }
        for (a, &x) in tape.action.iter_mut().zip(x_final) {
            *a = x.tanh();
        }
    }
}

impl DiffusionPolicy {
    /// The CPU fast path's view of the current parameters. Take a new one after every
    /// parameter update: it does not follow later changes.
    pub fn host_chain(&self) -> Result<HostChain, SamplerError> {
        HostChain::new(self)
    }

    /// The chain on host slices for observations `obs: [B, o]` (row-major) and `noise`, outputs
    /// into `tape` (its buffers are reused across calls). With `keep`, the tape also holds what
    /// [`DiffusionPolicy::host_gradients`] needs. Same values as [`DiffusionPolicy::sample`] up to
    /// float32 rounding; same typed errors for a wrong width, mismatched noise or non-finite input.
    pub fn forward_host(
        &self,
        chain: &HostChain,
        obs: &[f32],
        noise: &ChainNoise,
        keep: bool,
        tape: &mut Tape,
    ) -> Result<(), SamplerError> {
        let o = self.obs_dim();
        if obs.is_empty() || !obs.len().is_multiple_of(o) {
            return Err(SamplerError::ObservationWidth { expected: o, got: vec![obs.len()] });
        }
        noise.check(self.config().diffusion_steps, obs.len() / o, self.action_dim())?;
        if !obs.iter().all(|v| v.is_finite()) {
            return Err(SamplerError::NonFinite("observation"));
        }
        if chain.dims.obs != o || chain.dims.action != self.action_dim() {
            return Err(SamplerError::InvalidConfig("host chain taken from a policy of other dimensions".into()));
        }
        chain.forward(obs, noise, keep, tape)
    }
}

/// Resize a block's buffers for `batch` rows and zero the accumulators.
fn prepare(tape: &mut Part, batch: usize, keep: bool, dims: ChainDims) {
    let ChainDims { steps, action: d, width: h, layers, .. } = dims;
    let slots = if keep { steps } else { 1 };
    tape.rows = batch;
    tape.states.resize((steps + 1) * batch * d, 0.0);
    tape.obs_term.resize(batch * h, 0.0);
    tape.pre.resize(layers, Vec::new());
    tape.post.resize(layers, Vec::new());
    for buffer in tape.pre.iter_mut().chain(tape.post.iter_mut()) {
        buffer.resize(slots * batch * h, 0.0);
    }
    tape.raw_score.resize(slots * batch * d, 0.0);
    tape.means.resize(slots * batch * d, 0.0);
    tape.action.resize(batch * d, 0.0);
    for per_row in [&mut tape.prior_log_prob, &mut tape.path_log_ratio, &mut tape.tanh_log_det] {
        per_row.clear();
        per_row.resize(batch, 0.0);
    }
}

/// Every row of `m` set to `row`.
fn fill_rows(m: &mut [f32], row: &[f32]) {
    for r in m.chunks_exact_mut(row.len()) {
        r.copy_from_slice(row);
    }
}

/// `post = act(pre + bias)` (bias broadcast over rows); with `keep`, `pre` is then overwritten
/// with `act'(pre + bias)`, all the backward pass needs of it.
fn activate(activation: Activation, keep: bool, pre: &mut [f32], bias: &[f32], post: &mut [f32]) {
    match keep {
        true => activation.apply_keeping_derivative(pre, Some(bias), post),
        false => activation.apply_into(pre, Some(bias), post),
    }
}

fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}
