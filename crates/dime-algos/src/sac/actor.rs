//! The tanh-Gaussian actor (baselines.md §1–2):
//! `h = MLP(s)`, `μ = W_μ h + b_μ`, `log σ = bound(W_σ h + b_σ)`, `u = μ + σ⊙ε`, `a = tanh(u)`.
//!
//! Shapes: `s: [B, obs_dim]`, everything else `[B, d]`. Kernels are LeCun-normal with zero biases
//! from the caller's `ChaCha8Rng`; the reparameterisation noise `ε` is drawn on the host from the
//! caller's stream, never from candle's unseeded RNG. With BatchRenorm (CrossQ) the mode is an
//! argument, as in `dime-critic`: train mode moves the running statistics once per call.

use candle_core::{DType, Device, Tensor};
use dime_critic::{ForwardMode, Normalisation};
use dime_nn::{init, BatchRenorm, Linear, ParamStore};
use rand_chacha::ChaCha8Rng;

use super::config::{ActorConfig, LogStdBound};
use super::losses::tanh_gaussian_log_prob;
use crate::agent::ActMode;
use crate::error::AlgoError;

/// A reparameterised sample with its log-density.
pub struct ActorSample {
    /// `a = tanh(u)`, `[B, d]`.
    pub action: Tensor,
    /// `log π(a|s)`, `[B]`.
    pub log_prob: Tensor,
}

/// The actor's parameters, normalisation layers and shape.
pub struct TanhGaussianActor {
    cfg: ActorConfig,
    act_dim: usize,
    store: ParamStore,
    input_norm: Option<BatchRenorm>,
    hidden: Vec<(Linear, Option<BatchRenorm>)>,
    mean: Linear,
    log_std: Linear,
}

impl TanhGaussianActor {
    /// Build the actor with seeded kernels drawn from `rng`.
    pub fn new(cfg: ActorConfig, obs_dim: usize, act_dim: usize, rng: &mut ChaCha8Rng) -> Result<Self, AlgoError> {
        if cfg.hidden_widths.is_empty() || cfg.hidden_widths.contains(&0) || obs_dim == 0 || act_dim == 0 {
            return Err(AlgoError::Config("the actor needs positive hidden widths and dimensions".into()));
        }
        let (min, max) = match cfg.log_std {
            LogStdBound::TanhSquash { min, max } | LogStdBound::Clip { min, max } => (min, max),
        };
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(AlgoError::Config(format!("log-std bounds [{min}, {max}] must be finite and increasing")));
        }
        let (dtype, device) = (DType::F32, Device::Cpu);
        let mut store = ParamStore::new();
        let norm = |store: &mut ParamStore, name: &str, width: usize| -> Result<Option<BatchRenorm>, AlgoError> {
            Ok(match cfg.normalisation {
                Normalisation::None => None,
                Normalisation::BatchRenorm(c) => Some(BatchRenorm::new(store, name, width, c, dtype, &device)?),
            })
        };
        let input_norm = norm(&mut store, "norm_input", obs_dim)?;
        let mut hidden = Vec::with_capacity(cfg.hidden_widths.len());
        let mut fan_in = obs_dim;
        for (i, &width) in cfg.hidden_widths.iter().enumerate() {
            let layer = Linear::lecun(&mut store, &format!("hidden{i}"), fan_in, width, rng, dtype, &device)?;
            hidden.push((layer, norm(&mut store, &format!("norm{i}"), width)?));
            fan_in = width;
        }
        let mean = Linear::lecun(&mut store, "mean", fan_in, act_dim, rng, dtype, &device)?;
        let log_std = Linear::lecun(&mut store, "log_std", fan_in, act_dim, rng, dtype, &device)?;
        Ok(Self { cfg, act_dim, store, input_norm, hidden, mean, log_std })
    }

    /// `([obs_dim, hidden…, act_dim], activation, log-std bound)` when the actor has no
    /// normalisation layers (the shape the host path, `super::host_actor`, computes), else `None`.
    pub(crate) fn host_shape(&self) -> Option<(Vec<usize>, dime_nn::Activation, LogStdBound)> {
        if self.cfg.normalisation != Normalisation::None {
            return None;
        }
        let mut widths = vec![self.hidden.first()?.0.weight().dim(0).ok()?];
        widths.extend(self.cfg.hidden_widths.iter().copied());
        widths.push(self.act_dim);
        Some((widths, self.cfg.activation, self.cfg.log_std))
    }

    /// All trainable parameters, sorted by name.
    pub fn params(&self) -> &ParamStore {
        &self.store
    }

    /// The BatchRenorm layers, input first (empty without normalisation).
    pub fn batch_renorms(&self) -> Vec<&BatchRenorm> {
        self.input_norm.iter().chain(self.hidden.iter().filter_map(|(_, n)| n.as_ref())).collect()
    }

    /// The BatchRenorm layers for restoring their state.
    pub fn batch_renorms_mut(&mut self) -> Vec<&mut BatchRenorm> {
        self.input_norm.iter_mut().chain(self.hidden.iter_mut().filter_map(|(_, n)| n.as_mut())).collect()
    }

    /// `ε ~ N(0, I)`, `[rows, d]`, drawn on the host from `rng`.
    pub fn draw_noise(&self, rng: &mut ChaCha8Rng, rows: usize) -> Result<Tensor, AlgoError> {
        let values = init::standard_normal(rng, rows * self.act_dim);
        Ok(Tensor::from_vec(values, (rows, self.act_dim), &Device::Cpu)?)
    }

    /// `(μ, log σ)`, each `[B, d]`, with gradient.
    pub fn heads(&mut self, obs: &Tensor, mode: ForwardMode) -> Result<(Tensor, Tensor), AlgoError> {
        let normalise = |norm: &mut Option<BatchRenorm>, x: Tensor| -> Result<Tensor, AlgoError> {
            Ok(match (norm, mode) {
                (None, _) => x,
                (Some(n), ForwardMode::Train) => n.forward_train(&x)?,
                (Some(n), ForwardMode::Eval) => n.forward_eval(&x)?,
            })
        };
        let mut x = normalise(&mut self.input_norm, obs.clone())?;
        for (layer, norm) in &mut self.hidden {
            let h = self.cfg.activation.apply(&layer.forward(&x)?)?;
            x = normalise(norm, h)?;
        }
        let raw = self.log_std.forward(&x)?;
        let log_std = match self.cfg.log_std {
            LogStdBound::TanhSquash { min, max } => {
                let half_range = 0.5 * (max - min);
                raw.tanh()?.affine(half_range, min + half_range)?
            }
            LogStdBound::Clip { min, max } => raw.clamp(min, max)?,
        };
        Ok((self.mean.forward(&x)?, log_std))
    }

    /// A reparameterised sample `a = tanh(μ + σ⊙ε)` and its log-density, with gradient.
    pub fn sample(&mut self, obs: &Tensor, noise: &Tensor, mode: ForwardMode) -> Result<ActorSample, AlgoError> {
        let (mean, log_std) = self.heads(obs, mode)?;
        let pre_tanh = (mean + (log_std.exp()? * noise)?)?;
        let log_prob = tanh_gaussian_log_prob(noise, &log_std, &pre_tanh)?;
        Ok(ActorSample { action: pre_tanh.tanh()?, log_prob })
    }

    /// One action for one observation, running the actor in eval mode: a sample in
    /// [`ActMode::Explore`], the deterministic `tanh(μ)` in [`ActMode::Eval`].
    pub fn act_one(&mut self, obs: &[f32], mode: ActMode, rng: &mut ChaCha8Rng) -> Result<Vec<f32>, AlgoError> {
        let obs = Tensor::from_slice(obs, (1, obs.len()), &Device::Cpu)?;
        let action = match mode {
            ActMode::Explore => {
                let noise = self.draw_noise(rng, 1)?;
                self.sample(&obs, &noise, ForwardMode::Eval)?.action
            }
            ActMode::Eval => self.heads(&obs, ForwardMode::Eval)?.0.tanh()?,
        };
        Ok(action.detach().flatten_all()?.to_vec1::<f32>()?)
    }
}
