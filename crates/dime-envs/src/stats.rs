//! The two-sample Kolmogorov–Smirnov test used to compare random-action statistics of a task
//! with its reference (the contact statistics tests and the Python bridge's lock-step tool).

/// Two-sample KS statistic and its asymptotic p-value (Numerical Recipes §14.3:
/// `Q(λ) = 2 Σ (−1)^{j−1} exp(−2j²λ²)` with `λ = (√nₑ + 0.12 + 0.11/√nₑ)·D`, `nₑ = n₁n₂/(n₁ + n₂)`).
pub fn ks_test(a: &[f64], b: &[f64]) -> (f64, f64) {
    let d = ks_statistic(a, b);
    (d, ks_p_value(d, a.len(), b.len()))
}

/// The largest distance between the two empirical distribution functions.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut d) = (0, 0, 0.0_f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// Asymptotic p-value of the KS statistic `d` for sample sizes `n1`, `n2` (1 for `λ` below 1e-3,
/// where the series has not converged and the samples are indistinguishable).
pub fn ks_p_value(d: f64, n1: usize, n2: usize) -> f64 {
    let ne = (n1 * n2) as f64 / (n1 + n2) as f64;
    let lambda = (ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d;
    if lambda < 1e-3 {
        return 1.0;
    }
    let mut p = 0.0;
    for k in 1..=100 {
        let term = 2.0 * (-2.0 * (k * k) as f64 * lambda * lambda).exp();
        p += if k % 2 == 1 { term } else { -term };
    }
    p.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_agree_and_disjoint_ones_do_not() {
        let a: Vec<f64> = (0..50).map(f64::from).collect();
        assert_eq!(ks_test(&a, &a), (0.0, 1.0));
        let b: Vec<f64> = (100..150).map(f64::from).collect();
        let (d, p) = ks_test(&a, &b);
        assert_eq!(d, 1.0);
        assert!(p < 1e-10, "{p}");
    }
}
