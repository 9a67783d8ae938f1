//! One member on host slices: `x → [BRN] → (Dense → ReLU → [BRN]) × H → Dense → [softmax]`
//! (dime.md §5.1 with the categorical head; baselines.md §1–2 with the scalar one), forward in train mode with what its backward pass needs, the backward pass to
//! every parameter, and the eval-mode forward with the backward pass to the input.
//!
//! Dense products go through [`Gemm`] (`Y = X·W` into rows pre-filled with the bias; `∂W = Xᵀ·∂Y`
//! and `∂X = ∂Y·Wᵀ` read through transposed strides). ReLU's backward passes the gradient where
//! its output is positive (candle also passes it at an input of exactly 0, a measure-zero case).

use dime_nn::host_gemm::Gemm;
use dime_nn::BatchRenormConfig;

use super::loss::softmax_rows;
use super::norm::{self, NormCache, NormGrads, RunningStats};
use super::params::{DenseView, MemberView};

/// What follows the output layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputHead {
    /// Row softmax: probabilities over the atoms (the categorical critic).
    Softmax,
    /// Nothing: the output layer's values (the scalar critic).
    Linear,
}

/// `Y = X·W + b` for `X: [rows, fan_in]`.
fn dense_forward(x: &[f32], rows: usize, dense: DenseView) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * dense.fan_out);
    for _ in 0..rows {
        out.extend_from_slice(dense.bias);
    }
    Gemm::new(rows, dense.fan_in, dense.fan_out).acc().run(x, dense.weight, &mut out);
    out
}

/// `∂X = ∂Y·Wᵀ`, `[rows, fan_in]`.
fn dense_input_grad(grad: &[f32], rows: usize, dense: DenseView) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * dense.fan_in];
    Gemm::new(rows, dense.fan_out, dense.fan_in).b_t().run(grad, dense.weight, &mut out);
    out
}

/// `(∂W, ∂b) = (Xᵀ·∂Y, Σ_rows ∂Y)`.
fn dense_param_grads(x: &[f32], grad: &[f32], rows: usize, dense: DenseView) -> (Vec<f32>, Vec<f32>) {
    let mut weight = vec![0.0f32; dense.fan_in * dense.fan_out];
    Gemm::new(dense.fan_in, rows, dense.fan_out).a_t().run(x, grad, &mut weight);
    (weight, column_sums(grad, dense.fan_out))
}

/// `Σ_rows g[r, j]` of `g: [rows, n]` (the bias gradient of a layer).
fn column_sums(grad: &[f32], n: usize) -> Vec<f32> {
    super::simd::vectorised(|| {
        let mut sums = vec![0.0f32; n];
        for row in grad.chunks_exact(n) {
            sums.iter_mut().zip(row).for_each(|(s, g)| *s += g);
        }
        sums
    })
}

fn relu_in_place(values: &mut [f32]) {
    super::simd::vectorised(|| relu_in_place_kernel(values))
}

#[inline(always)]
fn relu_in_place_kernel(values: &mut [f32]) {
    values.iter_mut().for_each(|v| *v = v.max(0.0));
}

/// `grad ← grad·[out > 0]` for ReLU outputs `out`.
fn relu_backward(out: &[f32], grad: &mut [f32]) {
    super::simd::vectorised(|| relu_backward_kernel(out, grad))
}

#[inline(always)]
fn relu_backward_kernel(out: &[f32], grad: &mut [f32]) {
    // A select rather than a conditional store, so that the loop vectorises.
    grad.iter_mut().zip(out).for_each(|(g, &o)| *g = if o > 0.0 { *g } else { 0.0 });
}

/// A train-mode BatchRenorm layer's cache and output.
struct NormTrace {
    cache: NormCache,
    output: Vec<f32>,
}

/// A hidden layer's ReLU output (the BatchRenorm input) and its BatchRenorm, if any.
struct HiddenTrace {
    activation: Vec<f32>,
    norm: Option<NormTrace>,
}

impl HiddenTrace {
    fn output(&self) -> &[f32] {
        self.norm.as_ref().map_or(&self.activation, |n| &n.output)
    }
}

/// Everything one train-mode pass keeps for its backward pass.
pub(crate) struct TrainTrace {
    input_norm: Option<NormTrace>,
    hidden: Vec<HiddenTrace>,
    /// The head's outputs `[R, N]`: probabilities (softmax head) or values (linear head).
    pub probs: Vec<f32>,
}

impl TrainTrace {
    /// The running-statistics caches, input layer first (the order of `Mlp::norms`).
    pub fn norm_caches(&self) -> impl Iterator<Item = &NormCache> {
        self.input_norm.iter().chain(self.hidden.iter().filter_map(|h| h.norm.as_ref())).map(|n| &n.cache)
    }
}

/// Gradients of one member's parameters.
pub(crate) struct MemberGrads {
    pub input_norm: Option<NormGrads>,
    /// Per hidden layer: `(∂W, ∂b, BatchRenorm gradients)`.
    pub hidden: Vec<(Vec<f32>, Vec<f32>, Option<NormGrads>)>,
    pub output: (Vec<f32>, Vec<f32>),
}

/// Train-mode forward of one member over `x: [rows, input]`; `stats` holds the running statistics
/// of its BatchRenorm layers, input first.
pub(crate) fn forward_train(
    member: &MemberView,
    x: &[f32],
    rows: usize,
    stats: &[RunningStats],
    config: &BatchRenormConfig,
    head: OutputHead,
) -> TrainTrace {
    let mut stats = stats.iter();
    let mut norm_layer = |input: &[f32], view, width: usize| {
        let layer_stats = stats.next().expect("one running-statistics entry per BatchRenorm layer");
        let mut output = vec![0.0f32; input.len()];
        let cache = norm::forward_train(input, width, view, layer_stats, config, &mut output);
        NormTrace { cache, output }
    };
    let input_width = x.len() / rows;
    let input_norm = member.input_norm.map(|view| norm_layer(x, view, input_width));
    let mut hidden: Vec<HiddenTrace> = Vec::with_capacity(member.hidden.len());
    for (dense, norm_view) in &member.hidden {
        let input = hidden.last().map_or_else(|| input_norm.as_ref().map_or(x, |n| &n.output[..]), HiddenTrace::output);
        let mut activation = dense_forward(input, rows, *dense);
        relu_in_place(&mut activation);
        let norm = norm_view.map(|view| norm_layer(&activation, view, dense.fan_out));
        hidden.push(HiddenTrace { activation, norm });
    }
    let last = hidden.last().map_or_else(|| input_norm.as_ref().map_or(x, |n| &n.output[..]), HiddenTrace::output);
    let mut probs = dense_forward(last, rows, member.output);
    if head == OutputHead::Softmax {
        softmax_rows(&mut probs, member.output.fan_out);
    }
    TrainTrace { input_norm, hidden, probs }
}

/// Backward pass of one member from `logit_grad: [rows, N]` to every parameter.
pub(crate) fn backward_train(
    member: &MemberView,
    trace: &TrainTrace,
    x: &[f32],
    rows: usize,
    logit_grad: &[f32],
) -> MemberGrads {
    let network_input: &[f32] = trace.input_norm.as_ref().map_or(x, |n| &n.output);
    let layer_input = |k: usize| -> &[f32] {
        if k == 0 {
            network_input
        } else {
            trace.hidden[k - 1].output()
        }
    };
    let depth = member.hidden.len();
    let output = dense_param_grads(layer_input(depth), logit_grad, rows, member.output);
    let needs_input_grad = |k: usize| k > 0 || member.input_norm.is_some();
    let mut grad = if needs_input_grad(depth) { dense_input_grad(logit_grad, rows, member.output) } else { Vec::new() };
    let mut hidden = Vec::with_capacity(depth);
    for k in (0..depth).rev() {
        let (dense, norm_view) = member.hidden[k];
        let layer = &trace.hidden[k];
        let norm_grads = match (norm_view, &layer.norm) {
            (Some(view), Some(n)) => Some(norm::backward_train(&layer.activation, view, &n.cache, &mut grad, true)),
            _ => None,
        };
        relu_backward(&layer.activation, &mut grad);
        let (weight, bias) = dense_param_grads(layer_input(k), &grad, rows, dense);
        hidden.push((weight, bias, norm_grads));
        grad = if needs_input_grad(k) { dense_input_grad(&grad, rows, dense) } else { Vec::new() };
    }
    hidden.reverse();
    let input_norm = match (member.input_norm, &trace.input_norm) {
        (Some(view), Some(n)) => Some(norm::backward_train(x, view, &n.cache, &mut grad, false)),
        _ => None,
    };
    MemberGrads { input_norm, hidden, output }
}

/// What an eval-mode pass keeps for the backward pass to its input.
pub(crate) struct EvalTrace {
    input_gain: Option<Vec<f32>>,
    /// Per hidden layer: ReLU output and BatchRenorm gain.
    hidden: Vec<(Vec<f32>, Option<Vec<f32>>)>,
    /// The head's outputs `[rows, N]` (see [`TrainTrace::probs`]).
    pub probs: Vec<f32>,
}

/// Eval-mode forward (running statistics, nothing moves) of one member over `x: [rows, input]`.
pub(crate) fn forward_eval(
    member: &MemberView,
    x: &[f32],
    rows: usize,
    stats: &[RunningStats],
    config: &BatchRenormConfig,
    head: OutputHead,
) -> EvalTrace {
    let mut stats = stats.iter();
    let mut next_stats = || stats.next().expect("one running-statistics entry per BatchRenorm layer");
    let (mut h, input_gain) = match member.input_norm {
        Some(view) => {
            let mut y = vec![0.0f32; x.len()];
            let gain = norm::forward_eval(x, view, next_stats(), config, &mut y);
            (y, Some(gain))
        }
        None => (x.to_vec(), None),
    };
    let mut hidden = Vec::with_capacity(member.hidden.len());
    for (dense, norm_view) in &member.hidden {
        let mut activation = dense_forward(&h, rows, *dense);
        relu_in_place(&mut activation);
        let gain = match norm_view {
            Some(view) => {
                h.resize(activation.len(), 0.0);
                Some(norm::forward_eval(&activation, *view, next_stats(), config, &mut h))
            }
            None => {
                h.clone_from(&activation);
                None
            }
        };
        hidden.push((activation, gain));
    }
    let mut probs = dense_forward(&h, rows, member.output);
    if head == OutputHead::Softmax {
        softmax_rows(&mut probs, member.output.fan_out);
    }
    EvalTrace { input_gain, hidden, probs }
}

/// Backward pass of an eval-mode trace from `logit_grad: [rows, N]` to the input `[rows, input]`.
pub(crate) fn input_grad_eval(member: &MemberView, trace: &EvalTrace, logit_grad: &[f32], rows: usize) -> Vec<f32> {
    let mut grad = dense_input_grad(logit_grad, rows, member.output);
    for k in (0..member.hidden.len()).rev() {
        let (activation, gain) = &trace.hidden[k];
        if let Some(gain) = gain {
            norm::backward_eval_in_place(gain, &mut grad);
        }
        relu_backward(activation, &mut grad);
        grad = dense_input_grad(&grad, rows, member.hidden[k].0);
    }
    if let Some(gain) = &trace.input_gain {
        norm::backward_eval_in_place(gain, &mut grad);
    }
    grad
}
