//! DiffWPO's critic targets and the reference kernel's score (dmerl.md §6).

use candle_core::Var;
use rand::SeedableRng;

use super::*;
use crate::replay::Transition;

fn agent() -> WpoAgent {
    WpoAgent::new(WpoConfig::smoke(), 3, 1, &mut ChaCha8Rng::seed_from_u64(0)).unwrap()
}

#[test]
fn the_score_is_the_gradient_of_the_log_ratio_for_both_policy_classes() {
    // g_ℓ = ∇_y [log π(y|·) − log q(x_k|y)] (the chain) or ∇_y log π(y|s) (the Gaussian):
    // its closed form must equal autograd through ℓ with respect to y.
    let dev = Device::Cpu;
    for cfg in [WpoConfig::smoke(), WpoConfig::gaussian_preset("smoke").unwrap()] {
        let a = WpoAgent::new(cfg, 3, 1, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        let obs = [0.1f32, 0.2, 0.3, -0.5, 0.4, 1.0];
        let (x, steps): (Vec<f32>, Vec<usize>) = match a.latent_dim {
            0 => (vec![], vec![0, 0]),
            _ => (vec![0.7, -1.3], vec![0, 2]),
        };
        let kernel = a.policy.kernel(&obs, &x, &steps).unwrap();
        let x_t = tensor(&x, 2).unwrap();
        let y = Var::new(&[[0.2f32], [0.9]], &dev).unwrap();
        let score = a.policy.score(&kernel, &x_t, y.as_tensor()).unwrap().to_vec2::<f32>().unwrap();
        let grads = a.policy.log_ratio(&kernel, &x_t, y.as_tensor()).unwrap().sum_all().unwrap().backward().unwrap();
        let autograd = grads.get(y.as_tensor()).unwrap().to_vec2::<f32>().unwrap();
        for (s, g) in score.iter().zip(&autograd) {
            assert!((s[0] - g[0]).abs() < 1e-5 * g[0].abs().max(1.0), "{} against autograd {}", s[0], g[0]);
        }
    }
}

#[test]
fn critic_targets_are_the_lambda_returns_of_the_soft_rewards() {
    // Fill one rollout through `act` and `update` on a hand-made episode, then compare the
    // targets with the λ-return recursion G_t = r̃_t + γ_t·[(1 − λ)·V_{t+1} + λ·G_{t+1}], where
    // V_{t+1} = Q of the next stored transition (the on-policy sample of the successor).
    let mut a = agent();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut replay = ReplayBuffer::new(3, 1, 1).unwrap();
    let mut action = [0.0f32];
    for i in 0..5 {
        let obs = [i as f32 * 0.1, 0.5, -0.2];
        a.act(&obs, ActMode::Explore, &mut rng, &mut action).unwrap();
        let next = [obs[0] + 0.1, 0.5, -0.2];
        let t = Transition {
            obs: &obs,
            action: &action,
            reward: -1.0,
            next_obs: &next,
            terminated: false,
            truncated: false,
        };
        replay.push(t).unwrap();
        a.update(&replay, &mut rng).unwrap();
    }
    let r = a.rollout.clone();
    let n = r.steps.len();
    assert_eq!(n, 5 * 3);
    let targets = a.td_lambda_targets(&mut ChaCha8Rng::seed_from_u64(2)).unwrap();
    let q = host(&a.q.forward(&r.obs, &r.x, &r.steps, Some(&tensor(&r.x_next, n).unwrap())).unwrap()).unwrap();
    // The last transition bootstraps from a fresh sample at its successor (same stream as above).
    let (last_action, _) = a
        .sample_detached(
            &r.succ_obs[(n - 1) * 3..],
            &r.succ_x[n - 1..],
            &r.succ_steps[n - 1..],
            &mut ChaCha8Rng::seed_from_u64(2),
        )
        .unwrap();
    let v_end = host(
        &a.q.forward(&r.succ_obs[(n - 1) * 3..], &r.succ_x[n - 1..], &r.succ_steps[n - 1..], Some(&last_action))
            .unwrap(),
    )
    .unwrap()[0];
    let lambda = a.cfg.td_lambda as f32;
    let mut g_next = v_end;
    for t in (0..n).rev() {
        let v_next = if t + 1 < n { q[t + 1] } else { v_end };
        let g = r.rewards[t] + r.discounts[t] * ((1.0 - lambda) * v_next + lambda * g_next);
        assert!((targets[t] - g).abs() < 1e-4 * g.abs().max(1.0), "t = {t}: {} against {g}", targets[t]);
        g_next = g;
    }
    // Stored in chain order; only the environment step of a chain has a successor at k = 0.
    assert_eq!(r.steps, (0..5).flat_map(|_| 0..3).collect::<Vec<_>>());
    assert_eq!(r.succ_steps, (0..5).flat_map(|_| [1, 2, 0]).collect::<Vec<_>>());
}
