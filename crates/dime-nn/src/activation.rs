//! Hidden-layer activations.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::{gelu::gelu, softplus::mish, Result};

/// A point-wise activation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// GELU, tanh approximation `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (flax's default, candle's `gelu`).
    Gelu,
    /// `max(x, 0)`.
    Relu,
    /// `x · tanh(softplus(x))`.
    Mish,
}

impl Activation {
    /// Apply the activation element-wise.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Gelu => gelu(x)?,
            Activation::Relu => x.relu()?,
            Activation::Mish => mish(x)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn activations_match_closed_forms() -> Result<()> {
        let xs = [-3.0f64, -0.5, 0.0, 0.7, 4.0];
        let t = Tensor::new(&xs[..], &Device::Cpu)?;
        let gelu = Activation::Gelu.apply(&t)?.to_vec1::<f64>()?;
        let relu = Activation::Relu.apply(&t)?.to_vec1::<f64>()?;
        let mish = Activation::Mish.apply(&t)?.to_vec1::<f64>()?;
        for (i, x) in xs.iter().enumerate() {
            let c = (2.0 / std::f64::consts::PI).sqrt();
            let g = 0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh());
            assert!((gelu[i] - g).abs() < 1e-12);
            assert_eq!(relu[i], x.max(0.0));
            let m = x * x.exp().ln_1p().tanh();
            assert!((mish[i] - m).abs() < 1e-12);
        }
        Ok(())
    }
}
