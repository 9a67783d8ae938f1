//! One denoising step per row, for algorithms that train the chain a step at a time (DMERL's
//! diffusion-augmented MDP, dmerl.md §3–5): each row has its own step index `k`, state `x_k`,
//! observation `s` and next state `x_{k+1}`. The kernels are the chain's own (dime.md §2.3–2.4,
//! [`crate::kernels`]), so `Σ_k [log π_k − log q_k]` over a sampled chain's steps is its `ℓ_path`
//! (tested).

use candle_core::{Device, Tensor};

use crate::policy::DiffusionPolicy;
use crate::score_net::Track;
use crate::{generative_mean, reference_mean, SamplerError};

/// The two kernels' log-densities of one step per row, `[B]` each.
#[derive(Debug, Clone)]
pub struct StepLogProbs {
    /// `log π_θ(x_{k+1}|x_k, s, k)`, the generative kernel (the only one that depends on θ).
    pub generative: Tensor,
    /// `log q_k(x_k|x_{k+1})`, the fixed reference kernel.
    pub reference: Tensor,
}

impl StepLogProbs {
    /// `ℓ_k = log π_θ(x_{k+1}|x_k, s, k) − log q_k(x_k|x_{k+1})`, `[B]`.
    pub fn log_ratio(&self) -> Result<Tensor, SamplerError> {
        Ok((&self.generative - &self.reference)?)
    }
}

/// The generative kernel of one step per row, with gradient to every parameter.
#[derive(Debug, Clone)]
pub struct StepKernel {
    /// `μ_k = x_k + η_k ⊙ (−x_k/σ0² + f_θ(x_k, s, k))`, `[B, d]`.
    pub mean: Tensor,
    /// `ς_k = sqrt(2η_k)`, `[B, d]`.
    pub std: Tensor,
    /// `η_k`, `[B, d]` (the reference kernel's drift uses it too).
    pub eta: Tensor,
}

/// `log N(y; mean, diag std²)` per row with a per-row `std: [B, d]`.
fn gaussian_log_density_rows(y: &Tensor, mean: &Tensor, std: &Tensor) -> Result<Tensor, SamplerError> {
    let z = ((y - mean)? / std)?;
    let quadratic = (z.sqr()?.sum(1)? * -0.5)?;
    let log_norm = (std * (2.0 * std::f64::consts::PI).sqrt())?.log()?.sum(1)?;
    Ok((quadratic - log_norm)?)
}

impl DiffusionPolicy {
    /// The generative kernel's mean `μ_k`, std `ς_k` and step size `η_k` per row (`[B, d]` each)
    /// for rows at step indices `steps` (each `< K`), with gradient to every parameter.
    pub fn step_kernel(&self, obs: &Tensor, x: &Tensor, steps: &[usize]) -> Result<StepKernel, SamplerError> {
        let k = self.config().diffusion_steps;
        let rows = x.dim(0)?;
        if steps.len() != rows || obs.dims() != [rows, self.obs_dim()] || x.dims() != [rows, self.action_dim()] {
            return Err(SamplerError::InvalidConfig(format!(
                "one step per row needs obs [{rows}, {}], x [{rows}, {}] and {rows} step indices; got {:?}, {:?}, {}",
                self.obs_dim(),
                self.action_dim(),
                obs.dims(),
                x.dims(),
                steps.len()
            )));
        }
        if let Some(bad) = steps.iter().find(|&&s| s >= k) {
            return Err(SamplerError::InvalidConfig(format!("step index {bad} outside 0..{k}")));
        }
        let sizes = self.step_sizes()?;
        let index = Tensor::from_vec(steps.iter().map(|&s| s as u32).collect::<Vec<_>>(), rows, &Device::Cpu)?
            .to_device(x.device())?;
        let bias_rows = self.net().time_bias_rows(&self.net().time_embedding(k, Track::Gradient)?, Track::Gradient)?;
        let bias = bias_rows.index_select(&index, 0)?;
        let obs_term = self.net().obs_contribution(obs, Track::Gradient)?;
        let score = self.net().score_rows(x, &obs_term, &bias)?;
        let eta = sizes.eta.index_select(&index, 0)?;
        let scale = sizes.scale.index_select(&index, 0)?;
        let mean = generative_mean(x, &score, &eta, &self.prior_var(x)?)?;
        Ok(StepKernel { mean, std: scale, eta })
    }

    /// σ0² as a rank-0 tensor of `like`'s dtype and device.
    fn prior_var(&self, like: &Tensor) -> Result<Tensor, SamplerError> {
        let sigma0 = self.config().prior_std;
        Ok(Tensor::new(sigma0 * sigma0, &Device::Cpu)?.to_dtype(like.dtype())?.to_device(like.device())?)
    }

    /// Both kernels' log-densities for given transitions `x_k → x_{k+1}` (`[B, d]` each) at step
    /// indices `steps`, with gradient (PPO-style ratios and losses on stored transitions).
    pub fn step_log_probs(
        &self,
        obs: &Tensor,
        x: &Tensor,
        steps: &[usize],
        x_next: &Tensor,
    ) -> Result<StepLogProbs, SamplerError> {
        let StepKernel { mean, std: scale, eta } = self.step_kernel(obs, x, steps)?;
        let prior_var = self.prior_var(x)?;
        Ok(StepLogProbs {
            generative: gaussian_log_density_rows(x_next, &mean, &scale)?,
            reference: gaussian_log_density_rows(x, &reference_mean(x_next, &eta, &prior_var)?, &scale)?,
        })
    }

    /// Sample `x_{k+1} = μ_k + ς_k ⊙ ε` for each row (reparameterised: gradient flows through
    /// `μ_k` and `ς_k`), with both kernels' log-densities at the sample. `eps: [B, d]` comes
    /// from the caller's stream.
    pub fn sample_step(
        &self,
        obs: &Tensor,
        x: &Tensor,
        steps: &[usize],
        eps: &Tensor,
    ) -> Result<(Tensor, StepLogProbs), SamplerError> {
        let StepKernel { mean, std: scale, eta } = self.step_kernel(obs, x, steps)?;
        let x_next = (&mean + (eps * &scale)?)?;
        let prior_var = self.prior_var(x)?;
        let log_probs = StepLogProbs {
            generative: gaussian_log_density_rows(&x_next, &mean, &scale)?,
            reference: gaussian_log_density_rows(x, &reference_mean(&x_next, &eta, &prior_var)?, &scale)?,
        };
        Ok((x_next, log_probs))
    }
}
