//! Step-size schedule factors c(k) (dime.md §2.2).

use crate::StepSchedule;

/// `c(k)` for k = 0..K−1 with `t = (K − k)/K`, evaluated in f64 (the caller rounds to its
/// dtype). The reference evaluates in float32 with XLA's cosine; near the action end the cosine
/// is small and ill-conditioned, so the two agree to ≤ 6e-7 relative, not bitwise.
pub fn schedule_factors(schedule: StepSchedule, steps: usize) -> Vec<f64> {
    (0..steps).map(|k| factor(schedule, k, steps)).collect()
}

fn factor(schedule: StepSchedule, k: usize, steps: usize) -> f64 {
    let t = (steps - k) as f64 / steps as f64;
    match schedule {
        StepSchedule::Cosine { min, offset } => {
            let angle = 0.5 * std::f64::consts::PI * (1.0 + offset - t) / (1.0 + offset);
            (1.0 - min) * angle.cos().powi(2) + min
        }
        StepSchedule::Linear { min } => (1.0 - t) * min + t,
        StepSchedule::Constant => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_matches_the_spec_table() {
        // dime.md §2.2 table (f64, 6 decimals) and Σ_k c(k) = 8.443695.
        let c = schedule_factors(StepSchedule::Cosine { min: 0.001, offset: 0.008 }, 16);
        let table = [0.999845, 0.987991, 0.957698, 0.910112, 0.847034, 0.770848, 0.684436, 0.591067];
        for (k, expected) in table.iter().enumerate() {
            assert!((c[k] - expected).abs() < 1e-6, "k = {k}: {}", c[k]);
        }
        assert!((c[15] - 0.010446).abs() < 1e-6);
        assert!((c.iter().sum::<f64>() - 8.443695).abs() < 1e-5);
    }
}
