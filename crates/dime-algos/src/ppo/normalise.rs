//! Running statistics for observation and reward normalisation (CleanRL's
//! `NormalizeObservation` / `NormalizeReward` wrappers, Welford-style batch merges in f64).

use serde::{Deserialize, Serialize};

/// Mean and variance of a stream of vectors, merged one sample at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    /// Per-entry mean.
    pub mean: Vec<f64>,
    /// Per-entry (population) variance.
    pub var: Vec<f64>,
    /// Samples seen (starts at 1e-4 as in Gymnasium, so the first merge is well defined).
    pub count: f64,
}

impl RunningMeanStd {
    /// Statistics of `width`-entry vectors: mean 0, variance 1, count 1e-4.
    pub fn new(width: usize) -> Self {
        Self { mean: vec![0.0; width], var: vec![1.0; width], count: 1e-4 }
    }

    /// Merge one sample (the parallel-variance update with a batch of one).
    pub fn update(&mut self, x: &[f64]) {
        let total = self.count + 1.0;
        for ((m, v), &xi) in self.mean.iter_mut().zip(self.var.iter_mut()).zip(x) {
            let delta = xi - *m;
            let new_mean = *m + delta / total;
            let m2 = *v * self.count + delta * delta * self.count / total;
            *m = new_mean;
            *v = m2 / total;
        }
        self.count = total;
    }

    /// `clip((x − mean)/√(var + 1e-8), ±clip)` into `out`.
    pub fn normalise(&self, x: &[f32], clip: f64, out: &mut [f32]) {
        for (((o, &xi), m), v) in out.iter_mut().zip(x).zip(&self.mean).zip(&self.var) {
            *o = ((f64::from(xi) - m) / (v + 1e-8).sqrt()).clamp(-clip, clip) as f32;
        }
    }
}

/// Gymnasium's `NormalizeReward` (and its vector form): rewards divided by the running std of
/// the discounted return, clipped. Each environment lane keeps its own discounted return
/// (restarted at a terminal state); the statistics are shared by all lanes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardScaler {
    /// Statistics of the discounted return.
    pub return_stats: RunningMeanStd,
    /// The running discounted return of each lane (grown on first use).
    pub discounted_returns: Vec<f64>,
}

impl Default for RewardScaler {
    fn default() -> Self {
        Self { return_stats: RunningMeanStd::new(1), discounted_returns: vec![0.0] }
    }
}

impl RewardScaler {
    /// Move `lane`'s discounted return and the statistics with `reward` (discount `gamma` per
    /// environment step of that lane) and return `clip(reward / √(Var[return] + 1e-8), ±clip)`.
    pub fn scale(&mut self, lane: usize, reward: f32, terminated: bool, gamma: f64, clip: f64) -> f32 {
        if self.discounted_returns.len() <= lane {
            self.discounted_returns.resize(lane + 1, 0.0);
        }
        let ret = &mut self.discounted_returns[lane];
        *ret = *ret * gamma + f64::from(reward);
        self.return_stats.update(&[*ret]);
        if terminated {
            *ret = 0.0;
        }
        (f64::from(reward) / (self.return_stats.var[0] + 1e-8).sqrt()).clamp(-clip, clip) as f32
    }
}

/// An on-policy agent's observation and reward normalisation, as configured: each part is
/// `None` when switched off, and then passes its values unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalisers {
    /// Observation statistics.
    pub obs: Option<RunningMeanStd>,
    /// Reward scaling.
    pub rewards: Option<RewardScaler>,
    /// Normalised observations and rewards are clipped to ±this value.
    pub clip: f64,
}

impl Normalisers {
    /// Fresh statistics for observations of `obs_dim`, each part on or off.
    pub fn new(obs_dim: usize, observations: bool, rewards: bool, clip: f64) -> Self {
        Self {
            obs: observations.then(|| RunningMeanStd::new(obs_dim)),
            rewards: rewards.then(RewardScaler::default),
            clip,
        }
    }

    /// Merge an observation the agent acts on while training into the statistics.
    pub fn observe(&mut self, obs: &[f32]) {
        if let Some(stats) = &mut self.obs {
            stats.update(&obs.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
        }
    }

    /// The observation as the networks see it.
    pub fn observation(&self, obs: &[f32]) -> Vec<f32> {
        let Some(stats) = &self.obs else {
            return obs.to_vec();
        };
        let mut out = vec![0.0; obs.len()];
        stats.normalise(obs, self.clip, &mut out);
        out
    }

    /// The reward of environment lane `lane` as learned from (moving that lane's discounted
    /// return, discount `gamma` per call for that lane, and the shared statistics).
    pub fn reward(&mut self, lane: usize, reward: f32, terminated: bool, gamma: f64) -> f32 {
        match &mut self.rewards {
            Some(scaler) => scaler.scale(lane, reward, terminated, gamma, self.clip),
            None => reward,
        }
    }

    /// Whether restored statistics fit this agent: the same parts switched on, the same widths.
    pub fn fits(&self, other: &Normalisers) -> bool {
        let width = |n: &Normalisers| n.obs.as_ref().map(|s| s.mean.len());
        width(self) == width(other) && self.rewards.is_some() == other.rewards.is_some() && self.clip == other.clip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_statistics_match_the_batch_formulas() {
        let samples = [[1.0, -2.0], [3.0, 0.0], [5.0, 4.0], [-1.0, 2.0]];
        let mut stats = RunningMeanStd::new(2);
        for s in &samples {
            stats.update(s);
        }
        // The 1e-4 prior sample at mean 0 / var 1 shifts the result by O(1e-4).
        let mean = [2.0, 1.0];
        let var = [5.0, 5.0];
        for j in 0..2 {
            assert!((stats.mean[j] - mean[j]).abs() < 1e-3, "{:?}", stats.mean);
            assert!((stats.var[j] - var[j]).abs() < 1e-2, "{:?}", stats.var);
        }
        let mut out = [0.0f32; 2];
        stats.normalise(&[100.0, 1.0], 10.0, &mut out);
        assert_eq!(out[0], 10.0, "clipped");
        assert!(out[1].abs() < 1e-3);
    }

    /// Lanes stepped together each discount their own return: interleaving two lanes gives the
    /// return statistics of the two lanes' own discounted returns, and one lane's terminal state
    /// restarts only its own return (one return shared by all lanes, as before, discounted per
    /// call across lanes and mixed their rewards).
    #[test]
    fn each_lane_discounts_its_own_return() {
        let (gamma, rewards) = (0.5, [[1.0f32, 10.0], [2.0, 20.0], [4.0, 40.0]]);
        let mut scaler = RewardScaler::default();
        let mut expected = RunningMeanStd::new(1);
        let mut returns = [0.0f64; 2];
        for (t, step) in rewards.iter().enumerate() {
            for (lane, &r) in step.iter().enumerate() {
                // Lane 0 terminates at t = 1.
                let terminated = lane == 0 && t == 1;
                scaler.scale(lane, r, terminated, gamma, 10.0);
                returns[lane] = returns[lane] * gamma + f64::from(r);
                expected.update(&[returns[lane]]);
                if terminated {
                    returns[lane] = 0.0;
                }
            }
        }
        assert_eq!(scaler.discounted_returns, vec![4.0, 40.0 + 0.5 * (20.0 + 0.5 * 10.0)]);
        assert_eq!(scaler.return_stats, expected);
    }
}
