//! GELU, tanh approximation, as one fused CPU op with an exact derivative.
//!
//! `gelu(x) = ½x(1 + tanh(u))`, `u = √(2/π)(x + 0.044715x³)` — bit-identical to candle's `gelu`
//! forward. candle's backward for it uses constants rounded to six digits (a ~1e-6 relative
//! gradient error, visible in f64 gradient checks) and about ten tensor ops; here the derivative
//! `½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)`, `t = tanh(u)`, is exact and one pass.
//! Other devices fall back to candle's `gelu`.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use crate::{cpu_map::map_storage, Result};

const SQRT_TWO_OVER_PI_F64: f64 = 0.797_884_560_802_865_4;
const SQRT_TWO_OVER_PI_F32: f32 = 0.797_884_6;

fn gelu_f32(v: f32) -> f32 {
    0.5 * v * (1.0 + f32::tanh(SQRT_TWO_OVER_PI_F32 * v * (1.0 + 0.044715 * v * v)))
}

fn gelu_f64(v: f64) -> f64 {
    0.5 * v * (1.0 + f64::tanh(SQRT_TWO_OVER_PI_F64 * v * (1.0 + 0.044715 * v * v)))
}

fn gelu_derivative_f32(v: f32) -> f32 {
    let t = f32::tanh(SQRT_TWO_OVER_PI_F32 * v * (1.0 + 0.044715 * v * v));
    0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * SQRT_TWO_OVER_PI_F32 * (1.0 + 3.0 * 0.044715 * v * v)
}

fn gelu_derivative_f64(v: f64) -> f64 {
    let t = f64::tanh(SQRT_TWO_OVER_PI_F64 * v * (1.0 + 0.044715 * v * v));
    0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * SQRT_TWO_OVER_PI_F64 * (1.0 + 3.0 * 0.044715 * v * v)
}

struct Gelu;
struct GeluDerivative;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu_tanh"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        map_storage(storage, layout, gelu_f32, gelu_f64)
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let derivative = arg.detach().contiguous()?.apply_op1_no_bwd(&GeluDerivative)?;
        Ok(Some(grad_res.mul(&derivative)?))
    }
}

impl CustomOp1 for GeluDerivative {
    fn name(&self) -> &'static str {
        "gelu_tanh_derivative"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        map_storage(storage, layout, gelu_derivative_f32, gelu_derivative_f64)
    }
}

/// GELU (tanh approximation), fused on the CPU with an exact gradient.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() {
        return Ok(x.contiguous()?.apply_op1(Gelu)?);
    }
    Ok(x.gelu()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn forward_is_candles_gelu_and_gradient_matches_central_differences() -> Result<()> {
        let xs: Vec<f64> = (-40..=40).map(|i| i as f64 * 0.15).collect();
        let var = Var::new(xs.as_slice(), &Device::Cpu)?;
        let ours = gelu(&var)?;
        assert_eq!(ours.to_vec1::<f64>()?, var.as_tensor().gelu()?.to_vec1::<f64>()?);
        let f32s = var.as_tensor().to_dtype(candle_core::DType::F32)?;
        assert_eq!(gelu(&f32s)?.to_vec1::<f32>()?, f32s.gelu()?.to_vec1::<f32>()?);
        let grads = ours.sum_all()?.backward()?;
        let g = grads.get(&var).unwrap().to_vec1::<f64>()?;
        let h = 1e-6;
        for (x, gi) in xs.iter().zip(&g) {
            let numeric = (gelu_f64(x + h) - gelu_f64(x - h)) / (2.0 * h);
            assert!((gi - numeric).abs() < 1e-9, "{x}: {gi} vs {numeric}");
        }
        Ok(())
    }
}
