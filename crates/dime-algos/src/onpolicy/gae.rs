//! Generalised advantage estimation (Schulman et al. 2016), as a pure function.

use crate::error::AlgoError;

/// One rollout's per-step quantities, time-major `[T, N]` (step `t` of lane `n` at `t·N + n`).
#[derive(Debug, Clone, Copy)]
pub struct GaeInputs<'a> {
    /// Lanes stepped together.
    pub lanes: usize,
    /// `r_t`.
    pub rewards: &'a [f32],
    /// `V(s_t)`.
    pub values: &'a [f32],
    /// `V(s_{t+1})` of the transition's own next state: the true last observation where the
    /// episode ended at `t` (a truncated episode bootstraps from it), else the next step's state.
    pub next_values: &'a [f32],
    /// `γ_t`, the discount applied to step `t`'s bootstrap (per step, for the DA-MDP's modes).
    pub discounts: &'a [f32],
    /// The episode reached a terminal state at `t`: no bootstrap.
    pub terminated: &'a [bool],
    /// The episode ended at `t` (terminated or truncated): the advantage recursion stops.
    pub ended: &'a [bool],
    /// `λ`.
    pub lambda: f32,
}

/// `δ_t = r_t + γ_t·(1 − terminated_t)·V(s_{t+1}) − V(s_t)` and
/// `A_t = δ_t + γ_t·λ·(1 − ended_t)·A_{t+1}` (with `A_T = 0`), computed backwards per lane;
/// returns `(A, A + V)`, time-major like the inputs.
pub fn gae(inputs: &GaeInputs) -> Result<(Vec<f32>, Vec<f32>), AlgoError> {
    let GaeInputs { lanes, rewards, values, next_values, discounts, terminated, ended, lambda } = *inputs;
    let len = rewards.len();
    let same = [values.len(), next_values.len(), discounts.len(), terminated.len(), ended.len()];
    if lanes == 0 || len % lanes != 0 || same.iter().any(|&l| l != len) {
        return Err(AlgoError::Config(format!("GAE: inputs of lengths {len} and {same:?} do not form [T, {lanes}]")));
    }
    let mut advantages = vec![0.0f32; len];
    for lane in 0..lanes {
        let mut next_advantage = 0.0f32;
        for i in (lane..len).step_by(lanes).rev() {
            let bootstrap = if terminated[i] { 0.0 } else { discounts[i] * next_values[i] };
            let delta = rewards[i] + bootstrap - values[i];
            let carry = if ended[i] { 0.0 } else { discounts[i] * lambda * next_advantage };
            advantages[i] = delta + carry;
            next_advantage = advantages[i];
        }
    }
    let returns = advantages.iter().zip(values).map(|(a, v)| a + v).collect();
    Ok((advantages, returns))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One lane, three steps, the second ending in truncation (bootstrapped, recursion cut),
    /// γ = 0.9, λ = 0.5; every number worked by hand below.
    #[test]
    fn gae_matches_a_hand_computed_example() {
        let (rewards, values) = ([1.0f32, 2.0, 0.5], [0.5f32, 1.0, 2.0]);
        // Step 0 continues into step 1 (V = 1.0); step 1 is truncated with V(final) = 4.0;
        // step 2 continues into a state with V = 3.0.
        let next_values = [1.0f32, 4.0, 3.0];
        let inputs = GaeInputs {
            lanes: 1,
            rewards: &rewards,
            values: &values,
            next_values: &next_values,
            discounts: &[0.9; 3],
            terminated: &[false; 3],
            ended: &[false, true, false],
            lambda: 0.5,
        };
        let (adv, ret) = gae(&inputs).unwrap();
        // δ_2 = 0.5 + 0.9·3 − 2 = 1.2; A_2 = 1.2.
        // δ_1 = 2 + 0.9·4 − 1 = 4.6; A_1 = 4.6 (ended: no carry).
        // δ_0 = 1 + 0.9·1 − 0.5 = 1.4; A_0 = 1.4 + 0.9·0.5·4.6 = 3.47.
        let expected = [3.47f32, 4.6, 1.2];
        for (a, e) in adv.iter().zip(expected) {
            assert!((a - e).abs() < 1e-6, "{adv:?}");
        }
        for ((r, a), v) in ret.iter().zip(&adv).zip(values) {
            assert_eq!(*r, a + v);
        }
    }

    #[test]
    fn terminal_steps_do_not_bootstrap_and_lanes_are_independent() {
        // Two lanes, time-major: lane 0 terminates at t = 0; lane 1 never ends.
        let inputs = GaeInputs {
            lanes: 2,
            rewards: &[1.0, 1.0, 1.0, 1.0],
            values: &[0.0; 4],
            next_values: &[5.0, 0.0, 0.0, 2.0],
            discounts: &[0.5; 4],
            terminated: &[true, false, false, false],
            ended: &[true, false, false, false],
            lambda: 1.0,
        };
        let (adv, _) = gae(&inputs).unwrap();
        // Lane 0: A_1 = 1, A_0 = 1 (terminal: neither bootstrap nor carry).
        // Lane 1: A_1 = 1 + 0.5·2 = 2, A_0 = 1 + 0 + 0.5·1·2 = 2.
        assert_eq!(adv, vec![1.0, 2.0, 1.0, 2.0]);
    }

    #[test]
    fn ragged_inputs_are_refused() {
        let inputs = GaeInputs {
            lanes: 2,
            rewards: &[1.0; 3],
            values: &[0.0; 3],
            next_values: &[0.0; 3],
            discounts: &[0.9; 3],
            terminated: &[false; 3],
            ended: &[false; 3],
            lambda: 0.9,
        };
        assert!(gae(&inputs).is_err());
    }
}
