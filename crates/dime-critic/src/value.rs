//! State-value network `V(s)` for on-policy methods (PPO-style advantage estimation).

use candle_core::{DType, Device, Tensor};
use dime_nn::{Adam, AdamConfig, ParamStore};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::descend::descend;
use crate::error::check_shape;
use crate::mlp::{Mlp, MlpBuild};
use crate::{value_loss, CriticError, Normalisation};

/// Shape and optimiser of a value network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueConfig {
    /// Widths of the hidden ReLU layers.
    pub hidden_widths: Vec<usize>,
    /// Adam settings.
    pub adam: AdamConfig,
}

impl ValueConfig {
    /// 2×256 ReLU, Adam lr 3e-4 with default betas.
    pub fn cpu() -> Self {
        Self { hidden_widths: vec![256, 256], adam: AdamConfig::new(3e-4, 0.9) }
    }
}

/// `V(s)`: a ReLU MLP with a scalar output and its own Adam.
#[derive(Debug, Clone)]
pub struct ValueNetwork {
    obs_dim: usize,
    store: ParamStore,
    net: Mlp,
    adam: Adam,
}

impl ValueNetwork {
    /// Build with seeded LeCun-normal kernels and zero biases.
    pub fn new(
        config: &ValueConfig,
        obs_dim: usize,
        rng: &mut ChaCha8Rng,
        dtype: DType,
        device: &Device,
    ) -> Result<Self, CriticError> {
        if config.hidden_widths.contains(&0) || obs_dim == 0 {
            return Err(CriticError::InvalidConfig("value network widths and obs_dim must be positive".into()));
        }
        let mut store = ParamStore::new();
        let build = MlpBuild { store: &mut store, rng, dtype, device };
        let net = Mlp::new(build, "v", obs_dim, &config.hidden_widths, 1, Normalisation::None)?;
        let adam = Adam::new(&store, config.adam);
        Ok(Self { obs_dim, store, net, adam })
    }

    /// All trainable parameters, sorted by name.
    pub fn params(&self) -> &ParamStore {
        &self.store
    }

    /// The optimiser state (checkpoints).
    pub fn optimiser(&self) -> &Adam {
        &self.adam
    }

    /// The optimiser state, for restoring it from a checkpoint ([`Adam::restore`]).
    pub fn optimiser_mut(&mut self) -> &mut Adam {
        &mut self.adam
    }

    /// `V(s)` for `obs: [B, obs_dim]`, as `[B]`, with gradient.
    pub fn forward(&self, obs: &Tensor) -> Result<Tensor, CriticError> {
        let rows = obs.dims().first().copied().unwrap_or(0);
        check_shape("observations", &[rows.max(1), self.obs_dim], obs.dims())?;
        Ok(self.net.forward_eval(obs)?.squeeze(1)?)
    }

    /// One Adam step on [`value_loss`] against `returns: [B]`; returns the loss before the step.
    pub fn update(&mut self, obs: &Tensor, returns: &Tensor) -> Result<f64, CriticError> {
        let loss = value_loss(&self.forward(obs)?, returns)?;
        let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        descend(&self.store, &mut self.adam, &loss)?;
        Ok(value)
    }
}
