//! Softplus and Mish.
//!
//! `softplus(x) = max(x, 0) + log1p(exp(−|x|))`, the overflow-free form used by JAX.
//! On the CPU it is one fused custom op (exact `log1p`, one pass, gradient `sigmoid(x)`), which
//! matters twice: the sampler's step size and friction go through it and must match the
//! reference to float32 rounding, and Mish would otherwise be a chain of six element-wise ops.
//! Other devices use the same formula as a composition of candle ops.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use crate::cpu_map::map_storage;

use crate::Result;

struct Softplus;

fn softplus_f64(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

pub(crate) fn softplus_f32(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

impl CustomOp1 for Softplus {
    fn name(&self) -> &'static str {
        "softplus"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        map_storage(storage, layout, softplus_f32, softplus_f64)
    }

    /// d softplus(x)/dx = sigmoid(x) = exp(x − softplus(x)).
    fn bwd(&self, arg: &Tensor, res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let sigmoid = (arg.detach() - res.detach())?.exp()?;
        Ok(Some(grad_res.mul(&sigmoid)?))
    }
}

/// `softplus(x) = log(1 + eˣ)`, evaluated as `max(x, 0) + log1p(exp(−|x|))`.
pub fn softplus(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() {
        return Ok(x.contiguous()?.apply_op1(Softplus)?);
    }
    let tail = (x.abs()?.neg()?.exp()? + 1.0)?.log()?;
    Ok((x.relu()? + tail)?)
}

/// Mish activation `x · tanh(softplus(x))`.
pub fn mish(x: &Tensor) -> Result<Tensor> {
    Ok(x.mul(&softplus(x)?.tanh()?)?)
}

/// Inverse of softplus, `log(eʸ − 1)`, for initialising softplus-parameterised values.
pub fn inverse_softplus(y: f64) -> f64 {
    y + (-(-y).exp_m1()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn softplus_matches_closed_form_and_gradient_is_sigmoid() -> Result<()> {
        let xs = [-30.0f64, -2.252168, 0.0, 0.541325, 5.0, 40.0];
        let var = Var::new(&xs[..], &Device::Cpu)?;
        let y = softplus(&var)?;
        let values = y.to_vec1::<f64>()?;
        for (x, v) in xs.iter().zip(&values) {
            // log(1 + e^x) in f64 directly is accurate in this range except for overflow at 40.
            let expected = if *x > 30.0 { *x } else { x.exp().ln_1p() };
            assert!((v - expected).abs() < 1e-12, "{x}: {v} vs {expected}");
        }
        let grads = y.sum_all()?.backward()?;
        let g = grads.get(&var).unwrap().to_vec1::<f64>()?;
        for (x, gi) in xs.iter().zip(&g) {
            let sigmoid = 1.0 / (1.0 + (-x).exp());
            assert!((gi - sigmoid).abs() < 1e-12);
        }
        Ok(())
    }

    #[test]
    fn inverse_softplus_round_trips() {
        // dime.md §2.2: inverse_softplus(0.1) = −2.252168, inverse_softplus(1) = 0.541325.
        assert!((inverse_softplus(0.1) + 2.252168).abs() < 1e-6);
        assert!((inverse_softplus(1.0) - 0.541325).abs() < 1e-6);
        for y in [0.01, 0.1, 1.0, 2.5, 10.0] {
            let x = inverse_softplus(y);
            assert!((x.exp().ln_1p() - y).abs() < 1e-12);
        }
    }
}
