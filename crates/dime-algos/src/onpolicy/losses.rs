//! PPO's losses and diagnostics as pure functions (Schulman et al. 2017; CleanRL's forms), shared
//! by PPO and DiffPPO. Shapes: every tensor is `[B]`.

use candle_core::Tensor;

use crate::error::AlgoError;

/// Clipped surrogate: `L = −mean_b min(ρ_b·A_b, clip(ρ_b, 1 − ε, 1 + ε)·A_b)` for ratios `ρ`.
pub fn clipped_surrogate_loss(ratio: &Tensor, advantages: &Tensor, clip: f64) -> Result<Tensor, AlgoError> {
    let unclipped = (ratio * advantages)?;
    let clipped = (ratio.clamp(1.0 - clip, 1.0 + clip)? * advantages)?;
    Ok(unclipped.minimum(&clipped)?.mean_all()?.neg()?)
}

/// Value loss `½·mean_b max((V − R)², (V_old + clip(V − V_old, ±ε) − R)²)`, or `½·mean (V − R)²`
/// without clipping.
pub fn value_loss(
    value: &Tensor,
    old_value: &Tensor,
    returns: &Tensor,
    clip: Option<f64>,
) -> Result<Tensor, AlgoError> {
    let unclipped = (value - returns)?.sqr()?;
    let squared = match clip {
        Some(eps) => {
            let moved = (old_value + (value - old_value)?.clamp(-eps, eps)?)?;
            unclipped.maximum(&(moved - returns)?.sqr()?)?
        }
        None => unclipped,
    };
    Ok((squared.mean_all()? * 0.5)?)
}

/// `(A − mean A)/(std A + 1e-8)` in place, with the unbiased std (PyTorch's `.std()`); a single
/// value is left as it is.
pub fn normalise_advantages(advantages: &mut [f32]) {
    let n = advantages.len();
    if n < 2 {
        return;
    }
    let mean = advantages.iter().sum::<f32>() / n as f32;
    let std = (advantages.iter().map(|a| (a - mean).powi(2)).sum::<f32>() / (n - 1) as f32).sqrt();
    advantages.iter_mut().for_each(|a| *a = (*a - mean) / (std + 1e-8));
}

/// DiffPPO's entropy-augmented advantage (dmerl.md §5): `Â_b = A_b − α·(ℓ_b − mean ℓ)` in place;
/// returns `mean ℓ`. `ℓ_b` must be the log-ratio of row b's own sample `x_{k+1}`, the one whose
/// probability ratio the surrogate takes: the score-function gradient of `α·E[ℓ]` is
/// `E[∇ log π(x_{k+1})·α·(ℓ(x_{k+1}) − mean ℓ)]`, while an ℓ of an independent fresh sample is a
/// function of the state alone, a baseline whose expected gradient is zero (only noise).
pub fn centred_entropy_advantages(advantages: &mut [f32], log_ratio: &[f32], alpha: f32) -> f32 {
    let mean = log_ratio.iter().sum::<f32>() / log_ratio.len().max(1) as f32;
    advantages.iter_mut().zip(log_ratio).for_each(|(a, l)| *a -= alpha * (l - mean));
    mean
}

/// `(approx KL, clip fraction)`: `mean((ρ − 1) − log ρ)` and the share of ratios with `|ρ − 1| > ε`.
pub fn ratio_diagnostics(ratio: &Tensor, log_ratio: &Tensor, clip: f64) -> Result<(f64, f64), AlgoError> {
    let approx_kl = f64::from(((ratio - 1.0)? - log_ratio)?.mean_all()?.to_scalar::<f32>()?);
    let ratios = ratio.to_vec1::<f32>()?;
    let clipped = ratios.iter().filter(|r| f64::from((**r - 1.0).abs()) > clip).count();
    Ok((approx_kl, clipped as f64 / ratios.len().max(1) as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn t(v: &[f32]) -> Tensor {
        Tensor::new(v, &Device::Cpu).unwrap()
    }

    #[test]
    fn the_losses_match_hand_computed_values() {
        // Ratios 0.5, 1.1, 1.5 with advantages 1, −2, 1 and ε = 0.2:
        // min(0.5, 0.8) = 0.5; min(−2.2, −2.2) = −2.2; min(1.5, 1.2) = 1.2 → L = −(0.5 − 2.2 + 1.2)/3.
        let loss = clipped_surrogate_loss(&t(&[0.5, 1.1, 1.5]), &t(&[1.0, -2.0, 1.0]), 0.2).unwrap();
        assert!((loss.to_scalar::<f32>().unwrap() - 0.5 / 3.0).abs() < 1e-6);
        // V = 1, 3; V_old = 0, 3; R = 2, 2; ε = 0.5: max(1, (0.5 − 2)²) = 2.25, max(1, 1) = 1 → ½·3.25/2.
        let v = value_loss(&t(&[1.0, 3.0]), &t(&[0.0, 3.0]), &t(&[2.0, 2.0]), Some(0.5)).unwrap();
        assert!((v.to_scalar::<f32>().unwrap() - 0.8125).abs() < 1e-6);
        let plain = value_loss(&t(&[1.0, 3.0]), &t(&[0.0, 3.0]), &t(&[2.0, 2.0]), None).unwrap();
        assert!((plain.to_scalar::<f32>().unwrap() - 0.5).abs() < 1e-6);
        let mut adv = [1.0f32, 2.0, 3.0];
        normalise_advantages(&mut adv);
        assert!((adv[0] + 1.0).abs() < 1e-6 && adv[1].abs() < 1e-6 && (adv[2] - 1.0).abs() < 1e-6);
        let (kl, fraction) = ratio_diagnostics(&t(&[1.0, 1.5]), &t(&[0.0, 1.5f32.ln()]), 0.2).unwrap();
        assert!((kl - (0.5 - 1.5f64.ln()) / 2.0).abs() < 1e-6);
        assert_eq!(fraction, 0.5);
        // ℓ = 1, 3 (mean 2), α = 0.5: Â = A − 0.5·(ℓ − 2).
        let mut adv = [1.0f32, 1.0];
        assert_eq!(centred_entropy_advantages(&mut adv, &[1.0, 3.0], 0.5), 2.0);
        assert_eq!(adv, [1.5, 0.5]);
    }
}
