//! Dense layer `y = x·W + b` with the flax layout `W: [in, out]`.
//!
//! Training path: the bias is added as the rank-1 product `ones[B,1] · b[1,out]`, so its
//! backward is the matrix product `onesᵀ · grad` instead of candle's slow CPU sum over rows.
//! `1·b` is exact in floating point, so both paths give bitwise-identical outputs.

use candle_core::{DType, Device, Tensor, Var};
use rand_chacha::ChaCha8Rng;

use crate::{init, ParamStore, Result};

/// A dense layer whose parameters live in a [`ParamStore`] under `<name>.weight` / `<name>.bias`.
#[derive(Debug, Clone)]
pub struct Linear {
    weight: Var,
    bias: Var,
}

impl Linear {
    /// Register a layer with a LeCun-normal kernel and zero bias (flax's Dense default).
    pub fn lecun(
        store: &mut ParamStore,
        name: &str,
        fan_in: usize,
        fan_out: usize,
        rng: &mut ChaCha8Rng,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let weight = init::lecun_normal(rng, fan_in, fan_in * fan_out);
        Self::from_host(store, name, weight, vec![0.0; fan_out], fan_in, dtype, device)
    }

    /// Register a layer whose kernel entries all equal `value` and whose bias is zero.
    pub fn constant(
        store: &mut ParamStore,
        name: &str,
        fan_in: usize,
        fan_out: usize,
        value: f32,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let weight = vec![value; fan_in * fan_out];
        Self::from_host(store, name, weight, vec![0.0; fan_out], fan_in, dtype, device)
    }

    /// Register a layer from host values (`weight` row-major `[fan_in, fan_out]`).
    pub fn from_host(
        store: &mut ParamStore,
        name: &str,
        weight: Vec<f32>,
        bias: Vec<f32>,
        fan_in: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let fan_out = bias.len();
        let weight = store.insert_host(&format!("{name}.weight"), weight, &[fan_in, fan_out], dtype, device)?;
        let bias = store.insert_host(&format!("{name}.bias"), bias, &[fan_out], dtype, device)?;
        Ok(Self { weight, bias })
    }

    /// Wrap existing variables (`weight: [in, out]`, `bias: [out]`).
    pub fn from_vars(weight: Var, bias: Var) -> Self {
        Self { weight, bias }
    }

    /// The kernel `[in, out]`.
    pub fn weight(&self) -> &Tensor {
        self.weight.as_tensor()
    }

    /// The bias `[out]`.
    pub fn bias(&self) -> &Tensor {
        self.bias.as_tensor()
    }

    /// Training path: `x·W + ones·b` for `x: [B, in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let product = x.matmul(self.weight.as_tensor())?;
        add_row_rank1(&product, self.bias.as_tensor())
    }

    /// No-gradient path on detached parameters: `x·W + b` with a broadcast add.
    pub fn forward_detached(&self, x: &Tensor) -> Result<Tensor> {
        let product = x.matmul(&self.weight.as_tensor().detach())?;
        Ok(product.broadcast_add(&self.bias.as_tensor().detach())?)
    }
}

/// `m + ones[B,1]·row[1,N]` for `m: [B, N]` and `row: [N]` or `[1, N]`: a row added to every
/// row of `m`, written as a rank-1 product so that the gradient of `row` is a matrix product.
pub fn add_row_rank1(m: &Tensor, row: &Tensor) -> Result<Tensor> {
    let rows = m.dim(0)?;
    let width = m.dim(1)?;
    let ones = Tensor::ones((rows, 1), m.dtype(), m.device())?;
    let row = row.reshape((1, width))?;
    Ok((m + ones.matmul(&row)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rank1_bias_equals_broadcast_bias_and_gradients_agree() -> Result<()> {
        let mut store = ParamStore::new();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let dev = Device::Cpu;
        let layer = Linear::lecun(&mut store, "l", 5, 4, &mut rng, DType::F64, &dev)?;
        store.set("l.bias", &Tensor::new(&[0.1f64, -0.2, 0.3, 0.4], &dev)?)?;
        let x = Tensor::from_vec(init::standard_normal(&mut rng, 15), (3, 5), &dev)?.to_dtype(DType::F64)?;
        let a = layer.forward(&x)?;
        let b = layer.forward_detached(&x)?;
        assert_eq!(a.to_vec2::<f64>()?, b.to_vec2::<f64>()?);
        let grads = a.sqr()?.sum_all()?.backward()?;
        let gb = grads.get(store.get("l.bias")?).unwrap().to_vec1::<f64>()?;
        // d/db Σ y² = Σ_rows 2y.
        let expected = (a.affine(2.0, 0.0)?).sum(0)?.to_vec1::<f64>()?;
        for (g, e) in gb.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-12);
        }
        Ok(())
    }
}
