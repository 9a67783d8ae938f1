//! Gymnasium `Pendulum-v1` (`gymnasium/envs/classic_control/pendulum.py`), bit-exact.
//!
//! State (θ, θ̇) in f64 with θ = 0 upright. NumPy 2 promotes some products to float32
//! (the action space is float32); the casts below sit exactly where NumPy rounds, which is
//! what makes rewards and observations match the golden file bit for bit.

use std::f64::consts::PI;

use rand::Rng;

use crate::env::{check_state_len, Task, TaskStep};
use crate::error::EnvError;
use crate::rng::EnvRng;
use crate::spec::{EnvSpec, ObsField};

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;

/// Swing a pendulum upright with a bounded torque.
pub struct Pendulum {
    spec: EnvSpec,
    theta: f64,
    theta_dot: f64,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

impl Pendulum {
    /// The task with Gymnasium's constants (g = 10, m = l = 1, 200-step limit).
    pub fn new() -> Self {
        let max_cost = PI * PI + 0.1 * MAX_SPEED * MAX_SPEED + 0.001 * 4.0;
        let spec = EnvSpec {
            id: "gym/Pendulum-v1".into(),
            obs_dim: 3,
            act_dim: 1,
            act_low: vec![-2.0],
            act_high: vec![2.0],
            obs_layout: vec![ObsField::new("cos_sin_theta", 0, 2), ObsField::new("theta_dot", 2, 1)],
            max_episode_steps: 200,
            dt: DT,
            physics: "analytic",
            reward_range: (-max_cost, 0.0),
            reset_obs_range: vec![(-1.0, 1.0), (-1.0, 1.0), (-1.0, 1.0)],
            can_terminate: false,
            random_reset: true,
        };
        Self { spec, theta: 0.0, theta_dot: 0.0 }
    }

    /// Set the physical state `(θ, θ̇)` (golden replays).
    pub fn set_theta(&mut self, theta: f64, theta_dot: f64) {
        self.theta = theta;
        self.theta_dot = theta_dot;
    }
}

/// Wrap an angle into `[−π, π)` with a floor modulo, as Python's `%` does.
fn angle_normalize(x: f64) -> f64 {
    (x + PI).rem_euclid(2.0 * PI) - PI
}

/// NumPy's `x**2` for a float32 scalar: NumPy evaluates scalar powers with the C library's
/// `powf(x, 2.0f)`, not `x*x`. glibc's `powf` is not correctly rounded and differs from `x*x` by
/// one float32 ulp for about 0.1% of inputs (e.g. u = −0.42233378: 0.17836583, where `x*x`
/// gives 0.17836581). `f32::powf` calls the same C `powf`; the exponent goes through `black_box`
/// because LLVM otherwise rewrites `pow(x, 2)` as `x*x`.
fn numpy_square_f32(x: f32) -> f32 {
    x.powf(std::hint::black_box(2.0_f32))
}

/// NumPy's `x**2` for a float64 scalar: the C library's `pow(x, 2.0)`, which differs from `x*x`
/// by one ulp for about 0.08% of inputs (see [`numpy_square_f32`]).
fn numpy_square(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

impl Task for Pendulum {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset_state(&mut self, rng: &mut EnvRng) {
        self.theta = rng.random_range(-PI..PI);
        self.theta_dot = rng.random_range(-1.0..1.0);
    }

    fn observe(&self, obs: &mut [f64]) {
        obs[0] = f64::from(self.theta.cos() as f32);
        obs[1] = f64::from(self.theta.sin() as f32);
        obs[2] = f64::from(self.theta_dot as f32);
    }

    fn advance(&mut self, action: &[f64], _rng: &mut EnvRng) -> TaskStep {
        let u = (action[0] as f32).clamp(-MAX_TORQUE, MAX_TORQUE);
        let (th, thdot) = (self.theta, self.theta_dot);
        // `angle_normalize(th)**2 + 0.1 * thdot**2 + 0.001 * (u**2)`, each power as NumPy takes it.
        let control_cost = f64::from(numpy_square_f32(u) * 0.001_f32);
        let cost = numpy_square(angle_normalize(th)) + 0.1 * numpy_square(thdot) + control_cost;
        let new_thdot = (thdot + (15.0 * th.sin() + f64::from(3.0_f32 * u)) * DT).clamp(-MAX_SPEED, MAX_SPEED);
        self.theta = th + new_thdot * DT;
        self.theta_dot = new_thdot;
        TaskStep { reward: -cost, terminated: false }
    }

    fn state(&self) -> Vec<f64> {
        vec![self.theta, self.theta_dot]
    }

    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        check_state_len(&self.spec, state, 2)?;
        (self.theta, self.theta_dot) = (state[0], state[1]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::env_rng;

    /// Rewards Gymnasium 1.4 (NumPy 2.4, glibc 2.36) returns from `step` after setting
    /// `state = (θ, θ̇)`. Each case has a square where NumPy's power differs from `x*x`:
    /// u = −0.42233378 (the lock-step mismatch of seed 2, step 126), θ = −2.562980617418573,
    /// θ̇ = −5.694195700467178 and −7.730939187210669.
    #[test]
    fn costs_square_as_numpy_does() {
        let cases: [(f64, f64, f32, f64); 6] = [
            (0.0, 0.0, -0.422_333_78, -0.000_178_365_837_200_544_77),
            (1.0, -0.5, -0.422_333_78, -1.025_178_365_837_200_5),
            (0.3, 0.2, 1.9, -0.097_610_000_014_305_02),
            (-2.562_980_617_418_573, 0.1, 0.5, -6.570_119_645_275_165),
            (0.2, -5.694_195_700_467_178, 0.5, -3.282_636_467_533_764_7),
            (-2.562_980_617_418_573, -7.730_939_187_210_669, -0.422_333_78, -12.545_790_082_735_447),
        ];
        let mut rng = env_rng(0);
        for (th, thdot, u, reward) in cases {
            let mut task = Pendulum::new();
            task.set_theta(th, thdot);
            let out = task.advance(&[f64::from(u)], &mut rng);
            assert_eq!(out.reward.to_bits(), reward.to_bits(), "θ {th}, θ̇ {thdot}, u {u}: {} vs {reward}", out.reward);
        }
    }
}
