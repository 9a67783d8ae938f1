//! Wasserstein policy optimisation's pieces as pure functions (Pfau et al. 2025; dmerl.md §6,
//! §9.2), shared by DiffWPO (one Gaussian denoising kernel per row) and Gaussian WPO.

use candle_core::Tensor;

use crate::error::AlgoError;

/// WPO surrogate: `L(θ) = mean_b Σ_i c_bi · g_bi(θ)`, where `g(θ) = ∇_a log π_θ(a|s)` at a
/// stop-gradient sample `a` and `c` is the cotangent, held constant: `c = −∇_a Q` for WPO,
/// `c = α·∇_a log π − ∇_a Q` for its max-ent form (the gradient of `−(Q − α log π)`).
/// Its θ-gradient is `mean_b (∂g/∂θ)ᵀ c`: the Wasserstein-gradient-flow direction projected on
/// the parameters without the Fisher preconditioner. Shapes `[B, d]` → scalar.
pub fn wpo_surrogate(cotangent: &Tensor, grad_log_density: &Tensor) -> Result<Tensor, AlgoError> {
    Ok(wpo_surrogate_rows(cotangent, grad_log_density)?.mean_all()?)
}

/// The per-row terms `Σ_i c_bi · g_bi(θ)` of [`wpo_surrogate`], `[B]` (for a per-row trust region).
pub fn wpo_surrogate_rows(cotangent: &Tensor, grad_log_density: &Tensor) -> Result<Tensor, AlgoError> {
    Ok((cotangent.detach() * grad_log_density)?.sum(1)?)
}

/// `log N(y; μ, diag σ²)` per row, `[B]`.
pub fn gaussian_log_density(y: &Tensor, mean: &Tensor, std: &Tensor) -> Result<Tensor, AlgoError> {
    let z = ((y - mean)? / std)?;
    let log_norm = (std * (2.0 * std::f64::consts::PI).sqrt())?.log()?;
    Ok(((z.sqr()? * -0.5)? - log_norm)?.sum(1)?)
}

/// `∇_a log N(a; μ, diag σ²) = −(a − μ)/σ²`, `[B, d]`, with gradient to `mean` and `std`.
pub fn gaussian_score(action: &Tensor, mean: &Tensor, std: &Tensor) -> Result<Tensor, AlgoError> {
    Ok(((mean - action)? / std.sqr()?)?)
}

/// `KL(N(μ_old, σ_old²) ‖ N(μ_new, σ_new²))` of diagonal Gaussians, summed over dimensions, `[B]`:
/// `Σ_i log(σ_new/σ_old) + (σ_old² + (μ_old − μ_new)²)/(2σ_new²) − ½`.
pub fn gaussian_kl(
    mean_old: &Tensor,
    std_old: &Tensor,
    mean_new: &Tensor,
    std_new: &Tensor,
) -> Result<Tensor, AlgoError> {
    let log_ratio = (std_new.log()? - std_old.log()?)?;
    let spread = ((std_old.sqr()? + (mean_old - mean_new)?.sqr()?)? / (std_new.sqr()? * 2.0)?)?;
    Ok(((log_ratio + spread)? - 0.5)?.sum(1)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn the_surrogate_gradient_for_a_gaussian_is_the_closed_form() {
        // Rows b with mean μ_b (a parameter per row) and a shared log-std ρ; fixed samples a and
        // critic gradients q. L = mean_b Σ_i (−q_bi)·(−(a_bi − μ_bi)/σ_i²), so
        // ∂L/∂μ_bi = −q_bi/(B·σ_i²) and ∂L/∂ρ_i = −(2/B)·Σ_b q_bi·(a_bi − μ_bi)/σ_i².
        let dev = Device::Cpu;
        let (mu, a, q) = ([[0.3f64, -0.2], [1.0, 0.5]], [[0.1f64, 0.4], [1.5, -0.3]], [[2.0f64, -1.0], [0.5, 3.0]]);
        let rho = [0.2f64, -0.7];
        let mean = Var::new(&mu, &dev).unwrap();
        let log_std = Var::new(&[rho], &dev).unwrap();
        let std = log_std.as_tensor().exp().unwrap().broadcast_as((2, 2)).unwrap();
        let action = Tensor::new(&a, &dev).unwrap();
        let cotangent = Tensor::new(&q, &dev).unwrap().neg().unwrap();
        let score = gaussian_score(&action, mean.as_tensor(), &std).unwrap();
        let grads = wpo_surrogate(&cotangent, &score).unwrap().backward().unwrap();
        let d_mean = grads.get(mean.as_tensor()).unwrap().to_vec2::<f64>().unwrap();
        let d_rho = grads.get(log_std.as_tensor()).unwrap().to_vec2::<f64>().unwrap();
        for i in 0..2 {
            let var = (2.0 * rho[i]).exp();
            let mut want_rho = 0.0;
            for b in 0..2 {
                assert!((d_mean[b][i] - (-q[b][i] / (2.0 * var))).abs() < 1e-12);
                want_rho += -q[b][i] * (a[b][i] - mu[b][i]) / var;
            }
            assert!((d_rho[0][i] - want_rho).abs() < 1e-12, "{} against {want_rho}", d_rho[0][i]);
        }
    }

    #[test]
    fn the_kl_matches_hand_computed_values() {
        // KL(N(0, 1) ‖ N(1, 2²)) = log 2 + (1 + 1)/8 − ½ per dimension; equal Gaussians give 0.
        let t = |v: &[f64]| Tensor::from_slice(v, (1, v.len()), &Device::Cpu).unwrap();
        let kl = gaussian_kl(&t(&[0.0, 0.0]), &t(&[1.0, 1.0]), &t(&[1.0, 0.0]), &t(&[2.0, 1.0])).unwrap();
        let want = 2f64.ln() + 0.25 - 0.5;
        assert!((kl.to_vec1::<f64>().unwrap()[0] - want).abs() < 1e-12);
    }
}
