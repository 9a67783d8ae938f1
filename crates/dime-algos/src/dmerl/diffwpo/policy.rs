//! The two policy classes WPO runs with (dmerl.md §6, §9.2): DiffWPO's diffusion chain, trained
//! one Gaussian denoising kernel at a time, and the Gaussian baseline, a diagonal Gaussian over the
//! pre-tanh action (one "step", no latent state). Both expose the same per-row kernel, so the
//! learner is one piece of code and a comparison isolates the policy class.

use candle_core::{DType, Device, Tensor};
use dime_diffusion::{ActingPolicy, DiffusionPolicy, SamplerConfig, FRICTION_RAW, STEP_SIZE_RAW};
use dime_nn::{init, Linear, ParamStore};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::AlgoError;
use crate::onpolicy::{gaussian_log_density, gaussian_score};
use crate::ppo::policy::{orthogonal_layer, tanh_mlp};

/// Which policy WPO trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum WpoPolicyConfig {
    /// DiffWPO: the diffusion chain of dime.md, trained one denoising step at a time.
    Diffusion {
        /// The diffusion policy (K, prior, step sizes, score network).
        sampler: SamplerConfig,
        /// Train the step size ρ and the friction φ.
        learn_step_sizes: bool,
    },
    /// Gaussian WPO: `u ~ N(μ(s), diag σ²)` over the pre-tanh action; `μ` a tanh MLP (orthogonal
    /// initialisation, output gain 0.01), `log σ` state-independent.
    Gaussian {
        /// Hidden widths of the mean network.
        hidden_widths: Vec<usize>,
        /// Initial `log σ` of every dimension.
        initial_log_std: f64,
    },
}

/// One kernel per row: `N(mean, diag std²)` over the next latent, with gradient to the policy.
pub(super) struct Kernel {
    pub mean: Tensor,
    pub std: Tensor,
    /// The reference kernel `q_k(x_k|y) = N(x_k; y·shrink, diag std²)` of the diffusion chain
    /// (`shrink = 1 − η_k/σ0²`, detached); `None` for the Gaussian policy, whose ℓ is `log π`.
    shrink: Option<Tensor>,
}

/// A Gaussian policy over the pre-tanh action.
pub(super) struct GaussianActor {
    store: ParamStore,
    hidden: Vec<Linear>,
    mean: Linear,
}

/// The policy WPO trains, with what acting caches.
pub(super) enum WpoPolicy {
    Diffusion { policy: Box<DiffusionPolicy>, learn_step_sizes: bool, acting: Option<Box<ActingPolicy>> },
    Gaussian(GaussianActor),
}

fn tensor(values: &[f32], rows: usize) -> Result<Tensor, AlgoError> {
    Ok(Tensor::from_slice(values, (rows, values.len() / rows), &Device::Cpu)?)
}

impl WpoPolicy {
    pub fn new(cfg: &WpoPolicyConfig, obs_dim: usize, act_dim: usize, rng: &mut ChaCha8Rng) -> Result<Self, AlgoError> {
        Ok(match cfg {
            WpoPolicyConfig::Diffusion { sampler, learn_step_sizes } => Self::Diffusion {
                policy: Box::new(DiffusionPolicy::new(
                    sampler.clone(),
                    obs_dim,
                    act_dim,
                    rng,
                    DType::F32,
                    &Device::Cpu,
                )?),
                learn_step_sizes: *learn_step_sizes,
                acting: None,
            },
            WpoPolicyConfig::Gaussian { hidden_widths, initial_log_std } => {
                let mut store = ParamStore::new();
                let (mut hidden, mut fan_in) = (Vec::new(), obs_dim);
                for (i, &w) in hidden_widths.iter().enumerate() {
                    let name = format!("mean.hidden{i}");
                    hidden.push(orthogonal_layer(&mut store, &name, fan_in, w, std::f64::consts::SQRT_2, rng)?);
                    fan_in = w;
                }
                let mean = orthogonal_layer(&mut store, "mean.out", fan_in, act_dim, 0.01, rng)?;
                let log_std = Tensor::full(*initial_log_std as f32, (1, act_dim), &Device::Cpu)?;
                store.insert("log_std", log_std)?;
                Self::Gaussian(GaussianActor { store, hidden, mean })
            }
        })
    }

    /// Kernels per environment step: K for the chain, 1 for the Gaussian.
    pub fn steps(&self) -> usize {
        match self {
            Self::Diffusion { policy, .. } => policy.config().diffusion_steps,
            Self::Gaussian(_) => 1,
        }
    }

    /// Width of the latent `x_k` an augmented state carries at `k = 0`: `d` for the chain, 0 for
    /// the Gaussian (its state is the observation alone).
    pub fn latent_dim(&self, act_dim: usize) -> usize {
        match self {
            Self::Diffusion { .. } => act_dim,
            Self::Gaussian(_) => 0,
        }
    }

    /// A draw of the latent at `k = 0` (`x_0 ~ N(0, σ0²)`; nothing for the Gaussian).
    pub fn initial_latent(&self, act_dim: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
        match self {
            Self::Diffusion { policy, .. } => {
                let sigma0 = policy.config().prior_std as f32;
                init::standard_normal(rng, act_dim).into_iter().map(|e| sigma0 * e).collect()
            }
            Self::Gaussian(_) => Vec::new(),
        }
    }

    /// All parameters, sorted by name.
    pub fn params(&self) -> &ParamStore {
        match self {
            Self::Diffusion { policy, .. } => policy.params(),
            Self::Gaussian(actor) => &actor.store,
        }
    }

    /// The kernel of each row `(s, x_k, k)`.
    pub fn kernel(&self, obs: &[f32], x: &[f32], steps: &[usize]) -> Result<Kernel, AlgoError> {
        let rows = steps.len();
        match self {
            Self::Diffusion { policy, .. } => {
                let kernel = policy.step_kernel(&tensor(obs, rows)?, &tensor(x, rows)?, steps)?;
                let prior_var = policy.config().prior_std * policy.config().prior_std;
                let shrink = ((kernel.eta.detach() / prior_var)?.neg()? + 1.0)?;
                Ok(Kernel { mean: kernel.mean, std: kernel.std, shrink: Some(shrink) })
            }
            Self::Gaussian(actor) => {
                let mean = actor.mean.forward(&tanh_mlp(&actor.hidden, &tensor(obs, rows)?)?)?;
                let std = actor.store.get("log_std")?.as_tensor().exp()?.broadcast_as(mean.shape())?;
                Ok(Kernel { mean, std, shrink: None })
            }
        }
    }

    /// `ℓ = log π(y|·) − log q(x_k|y)` per row, `[B]` (for the Gaussian: `log π(y|s)`).
    pub fn log_ratio(&self, kernel: &Kernel, x: &Tensor, y: &Tensor) -> Result<Tensor, AlgoError> {
        let log_pi = gaussian_log_density(y, &kernel.mean, &kernel.std)?;
        match &kernel.shrink {
            None => Ok(log_pi),
            Some(shrink) => Ok((log_pi - gaussian_log_density(x, &(y * shrink)?, &kernel.std.detach())?)?),
        }
    }

    /// `g_ℓ = ∇_y ℓ` per row, `[B, d]`, with θ-dependence only through `log π` (dmerl.md §6):
    /// `−(y − μ)/ς²`, minus the reference kernel's `(x_k − y·shrink)·shrink/ς²` (held).
    pub fn score(&self, kernel: &Kernel, x: &Tensor, y: &Tensor) -> Result<Tensor, AlgoError> {
        let g_log_pi = gaussian_score(y, &kernel.mean, &kernel.std)?;
        match &kernel.shrink {
            None => Ok(g_log_pi),
            Some(shrink) => {
                let g_log_q = (gaussian_score(x, &(y * shrink)?, &kernel.std.detach())?.neg()? * shrink)?;
                Ok((g_log_pi - g_log_q.detach())?)
            }
        }
    }

    /// Zero the gradients of parameters that are held fixed (the chain's step sizes unless learned).
    pub fn hold_fixed(&self, grads: &mut [Vec<f32>]) {
        if let Self::Diffusion { policy, learn_step_sizes: false, .. } = self {
            for (name, g) in policy.params().names().iter().zip(grads.iter_mut()) {
                if name == STEP_SIZE_RAW || name == FRICTION_RAW {
                    g.iter_mut().for_each(|v| *v = 0.0);
                }
            }
        }
    }

    /// The latents of one environment step for one observation: `x_0` (`latent_dim` wide), then
    /// `x_1..x_K` (`d` wide each); the environment sees `clip(tanh(x_K))`.
    pub fn sample_chain(&mut self, obs: &[f32], act_dim: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f32>, AlgoError> {
        let x0 = self.initial_latent(act_dim, rng);
        match self {
            Self::Diffusion { policy, acting, .. } => {
                let eps = init::standard_normal(rng, policy.config().diffusion_steps * act_dim);
                if acting.is_none() {
                    *acting = Some(Box::new(policy.acting_policy()?));
                }
                Ok(acting.as_ref().expect("built above").chain_one_with_noise(obs, &x0, &eps)?)
            }
            Self::Gaussian(_) => {
                let kernel = self.kernel(obs, &[], &[0])?;
                let eps = Tensor::from_vec(init::standard_normal(rng, act_dim), (1, act_dim), &Device::Cpu)?;
                let u = (&kernel.mean + (eps * &kernel.std)?)?;
                Ok(u.flatten_all()?.to_vec1::<f32>()?)
            }
        }
    }

    /// Forget what acting cached (after the parameters change).
    pub fn parameters_changed(&mut self) {
        if let Self::Diffusion { acting, .. } = self {
            *acting = None;
        }
    }
}
