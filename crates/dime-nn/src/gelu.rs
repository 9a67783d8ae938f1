//! GELU, tanh approximation, as one fused CPU op with an exact derivative.
//!
//! `gelu(x) = ½x(1 + tanh(u))`, `u = √(2/π)(x + 0.044715x³)`, evaluated as `x·σ(2u)`
//! (equal in exact arithmetic, within a few float32 ulps of candle's `gelu`). candle's backward
//! for its `gelu` uses constants rounded to six digits (a ~1e-6 relative gradient error,
//! visible in f64 gradient checks) and about ten tensor ops; here the derivative is exact and
//! one pass.
//! Other devices fall back to candle's `gelu`.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use crate::{cpu_map::map_storage, Result};

const SQRT_TWO_OVER_PI_F64: f64 = 0.797_884_560_802_865_4;
const SQRT_TWO_OVER_PI_F32: f32 = 0.797_884_6;

// ½x(1 + tanh(u)) = x·σ(2u) = x / (1 + e^{−2u}): one `exp` instead of a `tanh`, which is
// several times slower in libm and dominated the chain's run time. Equal in exact arithmetic;
// in float32 the two differ by about one ulp.

// The value is formed as `x·(1/(1 + e^{−2u}))`, the reciprocal being the σ(2u) the derivative
// needs too, so that value and derivative together cost one division (the dominant cost of the
// pass in AVX-512: `vdivps` is several times slower than a multiply).
pub(crate) fn gelu_f32(v: f32) -> f32 {
    let two_u = 2.0 * SQRT_TWO_OVER_PI_F32 * v * (1.0 + 0.044715 * v * v);
    v * (1.0 / (1.0 + exp_f32(-two_u)))
}

/// `eˣ` in float32 without a libm call, so that the loops above vectorise: Cody–Waite range
/// reduction `x = n·ln2 + r`, |r| ≤ ½ln2, Cephes' degree-6 minimax polynomial for `eʳ`, and
/// `2ⁿ` built from the exponent bits. Relative error ≤ 2 ulp on [−87, 88] (tested); inputs
/// outside are clamped (the results there are 0/∞ for GELU's purposes anyway).
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer (no libm `roundf`).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = x.mul_add(LOG2_E, ROUND) - ROUND;
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, x));
    // Horner's scheme in fused multiply-adds (one instruction per degree where the loop is
    // compiled for FMA, which the vectorised callers are).
    let p = 1.987_569_2e-4f32.mul_add(r, 1.398_199_9e-3);
    let p = p.mul_add(r, 8.333_452e-3);
    let p = p.mul_add(r, 4.166_579_6e-2);
    let p = p.mul_add(r, 1.666_666_5e-1);
    let p = p.mul_add(r, 0.5);
    let e_r = (p * r).mul_add(r, r) + 1.0;
    // 2ⁿ from bits without a float→int conversion (which does not vectorise on baseline
    // x86-64): in `ROUND + 127 + n` the integer n + 127 sits in the low mantissa bits.
    let biased = (ROUND + 127.0 + n).to_bits() - ROUND.to_bits();
    e_r * f32::from_bits(biased << 23)
}

fn gelu_f64(v: f64) -> f64 {
    let two_u = 2.0 * SQRT_TWO_OVER_PI_F64 * v * (1.0 + 0.044715 * v * v);
    v / (1.0 + (-two_u).exp())
}

/// d/dx [x·σ(2u)] = σ + x·σ(1 − σ)·2u', `u' = √(2/π)(1 + 3·0.044715x²)`.
/// GELU and its derivative from one `exp`: the value is formed exactly as [`gelu_f32`] forms it.
#[inline(always)]
pub(crate) fn gelu_and_derivative_f32(v: f32) -> (f32, f32) {
    let two_u = 2.0 * SQRT_TWO_OVER_PI_F32 * v * (1.0 + 0.044715 * v * v);
    let s = 1.0 / (1.0 + exp_f32(-two_u));
    let two_du = 2.0 * SQRT_TWO_OVER_PI_F32 * (1.0 + 3.0 * 0.044715 * v * v);
    (v * s, s + v * s * (1.0 - s) * two_du)
}

pub(crate) fn gelu_derivative_f32(v: f32) -> f32 {
    let two_u = 2.0 * SQRT_TWO_OVER_PI_F32 * v * (1.0 + 0.044715 * v * v);
    let s = 1.0 / (1.0 + exp_f32(-two_u));
    let two_du = 2.0 * SQRT_TWO_OVER_PI_F32 * (1.0 + 3.0 * 0.044715 * v * v);
    s + v * s * (1.0 - s) * two_du
}

fn gelu_derivative_f64(v: f64) -> f64 {
    let two_u = 2.0 * SQRT_TWO_OVER_PI_F64 * v * (1.0 + 0.044715 * v * v);
    let s = 1.0 / (1.0 + (-two_u).exp());
    let two_du = 2.0 * SQRT_TWO_OVER_PI_F64 * (1.0 + 3.0 * 0.044715 * v * v);
    s + v * s * (1.0 - s) * two_du
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
    fn fast_exp_is_within_two_ulp() {
        let mut x = -87.0f32;
        while x < 88.0 {
            let exact = (x as f64).exp();
            let got = exp_f32(x) as f64;
            assert!((got - exact).abs() <= 2.0 * f32::EPSILON as f64 * exact, "{x}: {got} vs {exact}");
            x += 0.0137;
        }
    }

    #[test]
    fn forward_matches_candles_gelu_and_gradient_matches_central_differences() -> Result<()> {
        let xs: Vec<f64> = (-40..=40).map(|i| i as f64 * 0.15).collect();
        let var = Var::new(xs.as_slice(), &Device::Cpu)?;
        let ours = gelu(&var)?;
        let candle = var.as_tensor().gelu()?.to_vec1::<f64>()?;
        for (a, b) in ours.to_vec1::<f64>()?.iter().zip(&candle) {
            assert!((a - b).abs() <= 1e-15 * (1.0 + b.abs()), "{a} vs {b}");
        }
        let f32s = var.as_tensor().to_dtype(candle_core::DType::F32)?;
        let candle = f32s.gelu()?.to_vec1::<f32>()?;
        for (a, b) in gelu(&f32s)?.to_vec1::<f32>()?.iter().zip(&candle) {
            assert!((a - b).abs() <= 4.0 * f32::EPSILON * (1.0 + b.abs()), "{a} vs {b}");
        }
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
