//! Log-densities used by the diffusion bound.

use candle_core::Tensor;

use crate::{softplus, Result};

/// Diagonal-Gaussian log-density, one value per row:
/// `log N(y; μ, diag(ς²)) = Σ_i [ −½((y_i − μ_i)/ς_i)² − log(√(2π)·ς_i) ]`.
///
/// Shapes: `y, mean: [B, d]`, `std: [1, d]` (shared by all rows) → `[B]`. The normaliser is
/// summed once for all rows, so two densities with the same std (a kernel and its reverse)
/// carry bit-identical normalisers.
pub fn diag_gaussian_log_density(y: &Tensor, mean: &Tensor, std: &Tensor) -> Result<Tensor> {
    let d = y.dim(1)?;
    let std = std.reshape((1, d))?;
    let z = (y - mean)?.broadcast_div(&std)?;
    let quadratic = (z.sqr()?.sum(1)? * -0.5)?;
    let log_norm = (std * (2.0 * std::f64::consts::PI).sqrt())?.log()?.sum_all()?;
    Ok(quadratic.broadcast_sub(&log_norm)?)
}

/// `log(1 − tanh²(x)) = 2·(log 2 − x − softplus(−2x))`, element-wise and stable for large |x|
/// (distrax's `Tanh` form). The log-determinant of `a = tanh(x)` per coordinate.
pub fn tanh_log_det_jacobian(x: &Tensor) -> Result<Tensor> {
    let sp = softplus(&(x * -2.0)?)?;
    let inner = ((x.neg()? + std::f64::consts::LN_2)? - sp)?;
    Ok((inner * 2.0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn gaussian_log_density_matches_closed_form() -> Result<()> {
        let dev = Device::Cpu;
        let y = Tensor::new(&[[0.3f64, -1.0], [2.0, 0.5]], &dev)?;
        let mean = Tensor::new(&[[0.0f64, 0.5], [1.0, 1.0]], &dev)?;
        let std = Tensor::new(&[[0.5f64, 2.0]], &dev)?;
        let got = diag_gaussian_log_density(&y, &mean, &std)?.to_vec1::<f64>()?;
        let two_pi = 2.0 * std::f64::consts::PI;
        let ys: [[f64; 2]; 2] = [[0.3, -1.0], [2.0, 0.5]];
        let ms: [[f64; 2]; 2] = [[0.0, 0.5], [1.0, 1.0]];
        let ss: [f64; 2] = [0.5, 2.0];
        for b in 0..2 {
            let mut e = 0.0;
            for i in 0..2 {
                let v = ss[i] * ss[i];
                e += -0.5 * ((ys[b][i] - ms[b][i]).powi(2) / v + (two_pi * v).ln());
            }
            assert!((got[b] - e).abs() < 1e-12);
        }
        Ok(())
    }

    #[test]
    fn tanh_log_det_is_stable_and_exact() -> Result<()> {
        let xs = [-50.0f64, -3.0, 0.0, 0.4, 20.0];
        let got = tanh_log_det_jacobian(&Tensor::new(&xs[..], &Device::Cpu)?)?.to_vec1::<f64>()?;
        for (x, g) in xs.iter().zip(&got) {
            assert!(g.is_finite());
            if x.abs() < 10.0 {
                let direct = (1.0 - x.tanh().powi(2)).ln();
                assert!((g - direct).abs() < 1e-12, "{x}");
            } else {
                // For large |x|: 1 − tanh² ≈ 4e^{−2|x|}, so the log is ≈ log 4 − 2|x|.
                assert!((g - (4f64.ln() - 2.0 * x.abs())).abs() < 1e-12);
            }
        }
        Ok(())
    }
}
