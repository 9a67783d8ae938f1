//! The K-step chain and the per-sample parts of ℓ (dime.md §2.7, §3).
//!
//! `x_0` given (stop-gradient); for k = 0..K−1: `μ_k = x_k + η_k ⊙ (−x_k/σ0² + f_θ(x_k, s, k))`,
//! `x_{k+1} = μ_k + ς_k ⊙ ε_k`, and `ℓ_path += log π_k(x_{k+1}|x_k, s) − log q_k(x_k|x_{k+1})`;
//! finally `a = tanh(x_K)`. Shapes: observations `[B, o]`, states `[B, d]`, every ℓ part `[B]`.

use candle_core::Tensor;
use dime_nn::{diag_gaussian_log_density, tanh_log_det_jacobian};

use crate::kernels::{generative_mean, step_log_ratio, StepSizes};
use crate::score_net::{ScoreNet, Track};
use crate::{ChainNoise, SamplerError};

/// One batch of chain evaluations and the parts of its bound.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Pre-tanh states `x_0..x_K`, each `[B, d]`.
    pub states: Vec<Tensor>,
    /// `a = tanh(x_K)`, `[B, d]`.
    pub action: Tensor,
    /// `ℓ_prior = log N(x_0; 0, σ0² I)`, `[B]`.
    pub prior_log_prob: Tensor,
    /// `ℓ_path = Σ_k [log π_k(x_{k+1}|x_k, s) − log q_k(x_k|x_{k+1})]`, `[B]`.
    pub path_log_ratio: Tensor,
    /// `ℓ_tanh = −Σ_i log(1 − tanh²(x_K,i)) ≥ 0`, the squashing's log-det correction, `[B]`.
    pub tanh_log_det: Tensor,
}

impl Chain {
    /// The pre-tanh final state `x_K`.
    pub fn final_state(&self) -> &Tensor {
        self.states.last().expect("a chain has at least x_0")
    }

    /// `ℓ_run = ℓ_path + ℓ_tanh`, the reference's running cost (the temperature statistic).
    pub fn running_cost(&self) -> Result<Tensor, SamplerError> {
        Ok((&self.path_log_ratio + &self.tanh_log_det)?)
    }

    /// `ℓ = ℓ_run + ℓ_prior ≥ log π(a|s)` in expectation, so `H(π(·|s)) ≥ −E[ℓ]` (dime.md §3).
    pub fn log_prob_bound(&self) -> Result<Tensor, SamplerError> {
        Ok((self.running_cost()? + &self.prior_log_prob)?)
    }
}

/// What one chain evaluation needs besides the network and the noise.
pub(crate) struct ChainPlan {
    /// How the first layer's time part enters: hoisted bias rows `[K, H]` or plain `τ` rows
    /// `[K, T]` with the full first kernel.
    pub time: TimePart,
    /// η_k and ς_k for every step.
    pub step_sizes: StepSizes,
    /// σ0² as a rank-0 tensor.
    pub prior_var: Tensor,
    /// σ0 as a `[1, d]` row (prior log-density).
    pub prior_std_row: Tensor,
    /// Record the graph or not.
    pub track: Track,
}

/// The time-dependent part of the first layer, prepared once per chain.
pub(crate) enum TimePart {
    /// `W_t·τ(k) + b_1` per k, `[K, H]`.
    Hoisted { bias_rows: Tensor },
    /// `τ(k)` per k, `[K, T]`, and the concatenated kernel `[d+o+T, H]`.
    Plain { tau: Tensor, full_kernel: Tensor },
}

/// The first layer's inputs for one chain, with the observation part prepared.
enum FirstLayerInputs<'a> {
    Hoisted { obs_term: Tensor, bias_rows: &'a Tensor },
    Plain { tau: &'a Tensor, full_kernel: &'a Tensor },
}

/// Run the chain; with `with_bound = false` only the states are produced (acting).
/// Returns the states `x_0..x_K` and, with the bound, `ℓ_path`.
pub(crate) fn run_chain(
    net: &ScoreNet,
    plan: &ChainPlan,
    obs: &Tensor,
    noise: &ChainNoise,
    with_bound: bool,
) -> Result<(Vec<Tensor>, Option<Tensor>), SamplerError> {
    let steps = noise.eps.dim(0)?;
    let first_layer = match &plan.time {
        TimePart::Hoisted { bias_rows } => {
            FirstLayerInputs::Hoisted { obs_term: net.obs_contribution(obs, plan.track)?, bias_rows }
        }
        TimePart::Plain { tau, full_kernel } => FirstLayerInputs::Plain { tau, full_kernel },
    };
    let mut x = noise.x0.detach();
    let mut states = Vec::with_capacity(steps + 1);
    states.push(x.clone());
    // The reference accumulates log_w += log q_k − log π_k from 0 and reports ℓ_path = −log_w.
    let mut log_w = match with_bound {
        true => Some(Tensor::zeros(noise.x0.dim(0)?, noise.x0.dtype(), noise.x0.device())?),
        false => None,
    };
    for k in 0..steps {
        let score = match &first_layer {
            FirstLayerInputs::Hoisted { obs_term, bias_rows } => {
                net.score_hoisted(&x, obs_term, &bias_rows.narrow(0, k, 1)?, plan.track)?
            }
            FirstLayerInputs::Plain { tau, full_kernel } => {
                net.score_plain(&x, obs, &tau.narrow(0, k, 1)?, full_kernel, plan.track)?
            }
        };
        let eta = plan.step_sizes.eta.narrow(0, k, 1)?;
        let scale = plan.step_sizes.scale.narrow(0, k, 1)?;
        let mean = generative_mean(&x, &score, &eta, &plan.prior_var)?;
        let x_next = (&mean + noise.eps.get(k)?.broadcast_mul(&scale)?)?;
        if let Some(acc) = log_w.take() {
            let (log_pi, log_q) = step_log_ratio(&x, &x_next, &mean, &eta, &scale, &plan.prior_var)?;
            log_w = Some((acc + (log_q - log_pi)?)?);
        }
        states.push(x_next.clone());
        x = x_next;
    }
    let path = log_w.map(|log_w| log_w.neg()).transpose()?;
    Ok((states, path))
}

/// Assemble a [`Chain`] from the states and the path term.
pub(crate) fn finish_chain(
    states: Vec<Tensor>,
    path_log_ratio: Tensor,
    prior_std_row: &Tensor,
) -> Result<Chain, SamplerError> {
    let x0 = &states[0];
    let prior_log_prob = diag_gaussian_log_density(x0, &x0.zeros_like()?, prior_std_row)?;
    let x_final = states.last().expect("x_0 exists");
    let tanh_log_det = tanh_log_det_jacobian(x_final)?.sum(1)?.neg()?;
    let action = x_final.tanh()?;
    Ok(Chain { states, action, prior_log_prob, path_log_ratio, tanh_log_det })
}
