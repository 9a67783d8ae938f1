//! Seeded parameter initialisation, drawn on the host from the caller's `ChaCha8Rng`.
//!
//! candle's CPU RNG cannot be seeded, so nothing here calls `randn`/`rand` or a `VarBuilder`
//! initialiser: values are drawn with `rand_distr` and uploaded with `Tensor::from_vec`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// Standard deviation of a standard normal truncated to [−2, 2]; flax divides by it so that the
/// truncated draw has the requested standard deviation.
const TRUNCATED_NORMAL_STD: f64 = 0.879_625_661_034_239_8;

/// LeCun-normal as flax's default Dense kernel: a normal truncated to ±2 standard deviations,
/// rescaled so that its standard deviation is exactly `sqrt(1/fan_in)`. Returns `n` values.
pub fn lecun_normal(rng: &mut ChaCha8Rng, fan_in: usize, n: usize) -> Vec<f32> {
    let std = (1.0 / fan_in as f64).sqrt() / TRUNCATED_NORMAL_STD;
    (0..n).map(|_| (truncated_standard_normal(rng) * std) as f32).collect()
}

/// A standard normal draw conditioned on [−2, 2] (rejection sampling; accepts 95.4%).
pub fn truncated_standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    loop {
        let z: f64 = StandardNormal.sample(rng);
        if z.abs() <= 2.0 {
            return z;
        }
    }
}

/// `n` values uniform on `[low, high)`.
pub fn uniform(rng: &mut ChaCha8Rng, low: f64, high: f64, n: usize) -> Vec<f32> {
    let dist = Uniform::new(low, high).expect("uniform: low < high");
    (0..n).map(|_| dist.sample(rng) as f32).collect()
}

/// `n` independent standard normal values (reparameterisation noise and similar).
pub fn standard_normal(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let z: f32 = rng.sample(StandardNormal);
            z
        })
        .collect()
}

/// An orthogonal `[rows, cols]` matrix times `gain` (Saxe et al. 2014; PyTorch's `orthogonal_`,
/// CleanRL's PPO initialiser): a standard-normal matrix of the taller orientation, orthonormalised
/// by modified Gram–Schmidt in f64 with the signs fixed so that `R` has a positive diagonal, so
/// that the rows (when `rows ≤ cols`) or the columns (otherwise) are orthonormal. Row-major.
pub fn orthogonal(rng: &mut ChaCha8Rng, rows: usize, cols: usize, gain: f64) -> Vec<f32> {
    // Orthonormalise the `short` vectors of length `long` drawn here.
    let (short, long) = (rows.min(cols), rows.max(cols));
    let mut vectors: Vec<Vec<f64>> =
        (0..short).map(|_| (0..long).map(|_| StandardNormal.sample(rng)).collect()).collect();
    for i in 0..short {
        for j in 0..i {
            let dot: f64 = vectors[i].iter().zip(&vectors[j]).map(|(a, b)| a * b).sum();
            let (head, tail) = vectors.split_at_mut(i);
            tail[0].iter_mut().zip(&head[j]).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = vectors[i].iter().map(|a| a * a).sum::<f64>().sqrt();
        vectors[i].iter_mut().for_each(|a| *a /= norm);
    }
    let mut out = vec![0.0f32; rows * cols];
    for (i, v) in vectors.iter().enumerate() {
        for (j, x) in v.iter().enumerate() {
            let (r, c) = if rows <= cols { (i, j) } else { (j, i) };
            out[r * cols + c] = (gain * x) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn orthogonal_matrices_have_orthonormal_rows_or_columns() {
        use rand::SeedableRng;
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (rows, cols) in [(3usize, 5usize), (6, 4), (4, 4)] {
            let m = orthogonal(&mut rng, rows, cols, 2.0);
            let (short, by_rows) = (rows.min(cols), rows <= cols);
            let at = |i: usize, k: usize| f64::from(if by_rows { m[i * cols + k] } else { m[k * cols + i] });
            for i in 0..short {
                for j in 0..short {
                    let dot: f64 = (0..rows.max(cols)).map(|k| at(i, k) * at(j, k)).sum();
                    let expected = if i == j { 4.0 } else { 0.0 };
                    assert!((dot - expected).abs() < 1e-5, "{rows}×{cols}: ({i}, {j}) = {dot}");
                }
            }
        }
    }
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn lecun_normal_has_the_requested_std_and_bounds() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let fan_in = 64;
        let values = lecun_normal(&mut rng, fan_in, 200_000);
        let n = values.len() as f64;
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let target = 1.0 / fan_in as f64;
        // Monte-Carlo error of a variance estimate is about var·sqrt(2/n) ≈ 0.3% here.
        assert!((var / target - 1.0).abs() < 0.02, "var {var} vs {target}");
        let bound = 2.0 * (target.sqrt() / TRUNCATED_NORMAL_STD) as f32 * 1.000_001;
        assert!(values.iter().all(|v| v.abs() <= bound));
    }

    #[test]
    fn same_seed_same_values() {
        let a = lecun_normal(&mut ChaCha8Rng::seed_from_u64(9), 10, 100);
        let b = lecun_normal(&mut ChaCha8Rng::seed_from_u64(9), 10, 100);
        assert_eq!(a, b);
        let u = uniform(&mut ChaCha8Rng::seed_from_u64(9), -0.5, 0.5, 1000);
        assert!(u.iter().all(|v| (-0.5..0.5).contains(v)));
    }
}
