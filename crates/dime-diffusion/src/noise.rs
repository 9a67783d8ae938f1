//! The chain's reparameterisation noise, drawn by the caller so that sampling is a pure function.

use candle_core::{DType, Device, Tensor};
use dime_nn::init::standard_normal;
use rand_chacha::ChaCha8Rng;

use crate::SamplerError;

/// Prior sample and step noise of one batch of chains.
#[derive(Debug, Clone)]
pub struct ChainNoise {
    /// The prior sample `x_0 = σ0·ε_prior`, shape `[B, d]` (a constant: stop-gradient).
    pub x0: Tensor,
    /// Standard-normal step noise `ε_k`, shape `[K, B, d]`; `x_{k+1} = μ_k + ς_k ⊙ ε_k`.
    pub eps: Tensor,
}

impl ChainNoise {
    /// Draw `ε_prior` (B·d values) and then `ε_0..ε_{K−1}` (K·B·d values) from `rng`, in that
    /// order, and form `x_0 = σ0·ε_prior` in f32 on the host.
    pub fn draw(
        rng: &mut ChaCha8Rng,
        steps: usize,
        batch: usize,
        action_dim: usize,
        prior_std: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Self, SamplerError> {
        let sigma0 = prior_std as f32;
        let x0: Vec<f32> = standard_normal(rng, batch * action_dim).into_iter().map(|e| sigma0 * e).collect();
        let eps = standard_normal(rng, steps * batch * action_dim);
        let upload = |values: Vec<f32>, shape: &[usize]| -> Result<Tensor, SamplerError> {
            Ok(Tensor::from_vec(values, shape, &Device::Cpu)?.to_dtype(dtype)?.to_device(device)?)
        };
        Ok(Self { x0: upload(x0, &[batch, action_dim])?, eps: upload(eps, &[steps, batch, action_dim])? })
    }

    /// Rows `start..start + len` of every part (for splitting a batch).
    pub fn rows(&self, start: usize, len: usize) -> Result<Self, SamplerError> {
        Ok(Self { x0: self.x0.narrow(0, start, len)?, eps: self.eps.narrow(1, start, len)? })
    }

    /// The noises of several batches as one batch, their rows in order (the inverse of
    /// [`ChainNoise::rows`]); one noise is returned as it is.
    pub fn concat_rows(parts: &[ChainNoise]) -> Result<Self, SamplerError> {
        match parts {
            [] => Err(SamplerError::NoNoise),
            [one] => Ok(one.clone()),
            _ => {
                let x0: Vec<&Tensor> = parts.iter().map(|p| &p.x0).collect();
                let eps: Vec<&Tensor> = parts.iter().map(|p| &p.eps).collect();
                Ok(Self { x0: Tensor::cat(&x0, 0)?, eps: Tensor::cat(&eps, 1)? })
            }
        }
    }

    /// Fail unless the shapes fit a chain of `steps` steps, `batch` rows and `action_dim` dimensions.
    pub fn check(&self, steps: usize, batch: usize, action_dim: usize) -> Result<(), SamplerError> {
        let check = |what, t: &Tensor, expected: Vec<usize>| {
            if t.dims() != expected.as_slice() {
                return Err(SamplerError::NoiseShape { what, expected, got: t.dims().to_vec() });
            }
            Ok(())
        };
        check("x0", &self.x0, vec![batch, action_dim])?;
        check("eps", &self.eps, vec![steps, batch, action_dim])
    }
}
