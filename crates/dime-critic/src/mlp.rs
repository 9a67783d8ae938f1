//! One ensemble member: `x → [BRN] → [Dense → ReLU → [BRN]] × H → Dense(out)` (dime.md §5.1).
//!
//! LeCun-normal kernels and zero biases (flax's default), drawn from the caller's `ChaCha8Rng`.
//! Parameters live in the caller's [`ParamStore`] under `<prefix>.…`; the BatchRenorm running
//! statistics live in the member itself.

use candle_core::{DType, Device, Tensor};
use dime_nn::{BatchRenorm, Linear, ParamStore};
use rand_chacha::ChaCha8Rng;

use crate::{CriticError, Normalisation};

/// Which statistics BatchRenorm uses. Always passed explicitly; a network holds no mode flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardMode {
    /// Batch statistics (renormalised after warm-up); the running statistics move once per call.
    Train,
    /// Running statistics; nothing changes.
    Eval,
}

/// A ReLU MLP with optional BatchRenorm on its input and after every hidden activation.
#[derive(Debug, Clone)]
pub(crate) struct Mlp {
    input_norm: Option<BatchRenorm>,
    hidden: Vec<(Linear, Option<BatchRenorm>)>,
    output: Linear,
}

/// Where a new [`Mlp`] registers its parameters and draws its initial values.
pub(crate) struct MlpBuild<'a> {
    pub store: &'a mut ParamStore,
    pub rng: &'a mut ChaCha8Rng,
    pub dtype: DType,
    pub device: &'a Device,
}

impl Mlp {
    /// Register a new member under `prefix`.
    pub fn new(
        build: MlpBuild<'_>,
        prefix: &str,
        input_dim: usize,
        hidden_widths: &[usize],
        output_dim: usize,
        normalisation: Normalisation,
    ) -> Result<Self, CriticError> {
        let MlpBuild { store, rng, dtype, device } = build;
        let norm = |store: &mut ParamStore, name: String, width: usize| -> Result<_, CriticError> {
            Ok(match normalisation {
                Normalisation::None => None,
                Normalisation::BatchRenorm(c) => Some(BatchRenorm::new(store, &name, width, c, dtype, device)?),
            })
        };
        let input_norm = norm(store, format!("{prefix}.input_norm"), input_dim)?;
        let mut hidden = Vec::with_capacity(hidden_widths.len());
        let mut fan_in = input_dim;
        for (i, &width) in hidden_widths.iter().enumerate() {
            let dense = Linear::lecun(store, &format!("{prefix}.hidden{i}"), fan_in, width, rng, dtype, device)?;
            hidden.push((dense, norm(store, format!("{prefix}.hidden{i}_norm"), width)?));
            fan_in = width;
        }
        let output = Linear::lecun(store, &format!("{prefix}.output"), fan_in, output_dim, rng, dtype, device)?;
        Ok(Self { input_norm, hidden, output })
    }

    /// The same architecture reading its dense parameters from `store` (same names): the network a
    /// Polyak target store defines. Only for members without normalisation.
    pub fn rebind(&self, store: &ParamStore, prefix: &str) -> Result<Self, CriticError> {
        if self.input_norm.is_some() {
            return Err(CriticError::Unsupported("target networks are only built for critics without BatchRenorm"));
        }
        let dense = |name: String| -> Result<Linear, CriticError> {
            let weight = store.get(&format!("{name}.weight"))?.clone();
            let bias = store.get(&format!("{name}.bias"))?.clone();
            Ok(Linear::from_vars(weight, bias))
        };
        let hidden = (0..self.hidden.len())
            .map(|i| Ok((dense(format!("{prefix}.hidden{i}"))?, None)))
            .collect::<Result<Vec<_>, CriticError>>()?;
        Ok(Self { input_norm: None, hidden, output: dense(format!("{prefix}.output"))? })
    }

    /// Forward pass with gradient; `mode` decides the BatchRenorm statistics.
    pub fn forward(&mut self, x: &Tensor, mode: ForwardMode) -> Result<Tensor, CriticError> {
        if mode == ForwardMode::Eval {
            return self.forward_eval(x);
        }
        let mut h = match &mut self.input_norm {
            Some(n) => n.forward_train(x)?,
            None => x.clone(),
        };
        for (dense, norm) in &mut self.hidden {
            h = dense.forward(&h)?.relu()?;
            if let Some(n) = norm {
                h = n.forward_train(&h)?;
            }
        }
        Ok(self.output.forward(&h)?)
    }

    /// Eval-mode forward pass with gradient (the actor's loss differentiates through it).
    pub fn forward_eval(&self, x: &Tensor) -> Result<Tensor, CriticError> {
        let mut h = match &self.input_norm {
            Some(n) => n.forward_eval(x)?,
            None => x.clone(),
        };
        for (dense, norm) in &self.hidden {
            h = dense.forward(&h)?.relu()?;
            if let Some(n) = norm {
                h = n.forward_eval(&h)?;
            }
        }
        Ok(self.output.forward(&h)?)
    }

    /// Forward pass on detached parameters (target networks; no normalisation).
    pub fn forward_detached(&self, x: &Tensor) -> Result<Tensor, CriticError> {
        let mut h = x.detach();
        for (dense, _) in &self.hidden {
            h = dense.forward_detached(&h)?.relu()?;
        }
        Ok(self.output.forward_detached(&h)?)
    }

    /// Mutable BatchRenorm layers in order (restoring running statistics from a checkpoint).
    pub fn norms_mut(&mut self) -> Vec<&mut BatchRenorm> {
        self.input_norm.iter_mut().chain(self.hidden.iter_mut().filter_map(|(_, n)| n.as_mut())).collect()
    }

    /// The BatchRenorm layers in order (input first); empty without normalisation.
    pub fn norms(&self) -> Vec<&BatchRenorm> {
        self.input_norm.iter().chain(self.hidden.iter().filter_map(|(_, n)| n.as_ref())).collect()
    }
}
