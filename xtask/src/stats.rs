//! Aggregate statistics over seeds: mean, interquartile mean, percentile-bootstrap interval of
//! the mean (seeded ChaCha8, so a report is reproducible), and steps to reach a threshold.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seed of every bootstrap in reports: fixed, so the same runs give the same summary.
pub const BOOTSTRAP_SEED: u64 = 0x00d1_3e00;
/// Resamples per bootstrap interval.
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;

/// Arithmetic mean; NaN for no values.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Interquartile mean: the mean after dropping `⌊n/4⌋` values at each end of the sorted values
/// (scipy's `trim_mean(x, 0.25)`, which rliable's IQM uses). For n < 4 nothing is dropped.
pub fn iqm(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cut = sorted.len() / 4;
    mean(&sorted[cut..sorted.len() - cut])
}

/// 95% percentile-bootstrap interval of the mean: `resamples` means of `n` values drawn with
/// replacement (indices from a ChaCha8 stream seeded with `seed`), sorted; the bounds are the
/// empirical 2.5% and 97.5% quantiles, the smallest resampled means with at least that fraction
/// of resamples at or below them.
pub fn bootstrap_mean_interval(values: &[f64], resamples: usize, seed: u64) -> (f64, f64) {
    let n = values.len();
    if n == 0 || resamples == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> =
        (0..resamples).map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64).collect();
    means.sort_by(f64::total_cmp);
    let quantile = |q: f64| means[((q * resamples as f64).ceil() as usize).clamp(1, resamples) - 1];
    (quantile(0.025), quantile(0.975))
}

/// The first evaluation step whose return reaches `threshold` (`curve`: `(env_steps, return)`
/// in step order), or `None` if none does.
pub fn steps_to_threshold(curve: &[(u64, f64)], threshold: f64) -> Option<u64> {
    curve.iter().find(|(_, r)| *r >= threshold).map(|(s, _)| *s)
}

/// Median of per-seed steps to threshold, counting seeds that never reach it as infinitely
/// late; `None` when the median itself is a seed that never reached it. For an even count the
/// median is the mean of the two middle values (so both must have reached the threshold).
pub fn median_steps(per_seed: &[Option<u64>]) -> Option<f64> {
    if per_seed.is_empty() {
        return None;
    }
    let mut sorted: Vec<f64> = per_seed.iter().map(|s| s.map_or(f64::INFINITY, |v| v as f64)).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 { sorted[n / 2] } else { 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]) };
    median.is_finite().then_some(median)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_iqm_match_hand_computed_values() {
        assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
        // n = 8: sorted 1 2 3 4 5 6 7 100, drop 2 at each end → (3 + 4 + 5 + 6) / 4 = 4.5.
        assert_eq!(iqm(&[100.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0]), 4.5);
        // n = 5: sorted 0 3 4 5 10, drop 1 at each end → (3 + 4 + 5) / 3 = 4.
        assert_eq!(iqm(&[10.0, 0.0, 3.0, 4.0, 5.0]), 4.0);
        // n = 3: nothing dropped → the mean, 2.
        assert_eq!(iqm(&[3.0, 1.0, 2.0]), 2.0);
        // n = 4: one dropped at each end of -1 0 2 50 → (0 + 2) / 2 = 1.
        assert_eq!(iqm(&[50.0, -1.0, 2.0, 0.0]), 1.0);
    }

    #[test]
    fn bootstrap_interval_matches_the_exact_bootstrap_distribution() {
        // Two values {0, 1}: a resampled mean is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4;
        // the 2.5% quantile is 0 and the 97.5% quantile is 1.
        assert_eq!(bootstrap_mean_interval(&[0.0, 1.0], BOOTSTRAP_RESAMPLES, 7), (0.0, 1.0));
        // {0, 0, 0, 1}: the mean is k/4 with k ~ Binomial(4, 1/4), cumulative probabilities
        // 0.316, 0.738, 0.949, 0.996, 1 for k = 0..4. So the 2.5% quantile is 0 and the 97.5%
        // quantile is 3/4 (0.949 < 0.975 ≤ 0.996); 10 000 resamples sit far from either edge.
        assert_eq!(bootstrap_mean_interval(&[0.0, 0.0, 1.0, 0.0], BOOTSTRAP_RESAMPLES, 7), (0.0, 0.75));
        // One value: every resample is that value.
        assert_eq!(bootstrap_mean_interval(&[-3.5], 100, 1), (-3.5, -3.5));
    }

    #[test]
    fn bootstrap_interval_is_repeatable_and_brackets_the_mean() {
        let values = [-1200.0, -900.0, -150.0, -170.0, -400.0];
        let a = bootstrap_mean_interval(&values, 2000, BOOTSTRAP_SEED);
        assert_eq!(a, bootstrap_mean_interval(&values, 2000, BOOTSTRAP_SEED), "same seed, same interval");
        assert!(a.0 < mean(&values) && mean(&values) < a.1, "{a:?}");
        assert!(a.0 >= -1200.0 && a.1 <= -150.0, "inside the range of the values: {a:?}");
    }

    #[test]
    fn steps_to_threshold_is_the_first_evaluation_at_or_above_it() {
        let curve = [(1000, -1500.0), (2000, -390.0), (3000, -420.0), (4000, -150.0)];
        assert_eq!(steps_to_threshold(&curve, -400.0), Some(2000));
        assert_eq!(steps_to_threshold(&curve, -150.0), Some(4000), "equal counts as reached");
        assert_eq!(steps_to_threshold(&curve, -100.0), None);
    }

    #[test]
    fn median_steps_counts_unreached_seeds_as_infinitely_late() {
        assert_eq!(median_steps(&[Some(3000), None, Some(1000)]), Some(3000.0));
        assert_eq!(median_steps(&[Some(3000), Some(1000), Some(2000), None]), Some(2500.0));
        assert_eq!(median_steps(&[Some(3000), None, None]), None);
        assert_eq!(median_steps(&[Some(1000), None]), None, "one of the two middle values is infinite");
        assert_eq!(median_steps(&[]), None);
    }
}
