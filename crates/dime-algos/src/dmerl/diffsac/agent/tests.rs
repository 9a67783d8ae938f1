//! The augmented transitions DiffSAC builds from stored chains (dmerl.md §3, §7).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::dmerl::DiscountMode;

fn agent(mode: DiscountMode) -> DiffSacAgent {
    let cfg = DiffSacConfig { discount_mode: mode, gamma: 0.9, ..DiffSacConfig::smoke() };
    DiffSacAgent::new(cfg, 2, 2, &mut ChaCha8Rng::seed_from_u64(0)).unwrap()
}

/// Two stored transitions with chains of K = 3 steps: the second one terminated.
fn fill(a: &mut DiffSacAgent) {
    let chain: Vec<f32> = (0..8).map(|v| v as f32).collect();
    a.batch = Batch {
        obs: vec![1.0, 2.0, 3.0, 4.0],
        action: [chain.clone(), chain.iter().map(|v| -v).collect()].concat(),
        reward: vec![5.0, 6.0],
        next_obs: vec![7.0, 8.0, 9.0, 10.0],
        not_terminated: vec![1.0, 0.0],
    };
}

#[test]
fn rows_follow_the_augmented_mdp_at_every_step_index() {
    for mode in [DiscountMode::PerEnvStep, DiscountMode::PerDenoisingStep] {
        let mut a = agent(mode);
        fill(&mut a);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut seen = [false; 3];
        for _ in 0..50 {
            let rows = a.augmented_rows(0, 2, &mut rng).unwrap();
            for b in 0..2 {
                let k = rows.steps[b];
                seen[k] = true;
                let sign = if b == 0 { 1.0 } else { -1.0 };
                let state = |j: usize| [sign * (2 * j) as f32, sign * (2 * j + 1) as f32];
                assert_eq!(rows.obs[2 * b..2 * b + 2], a.batch.obs[2 * b..2 * b + 2]);
                assert_eq!(rows.x[2 * b..2 * b + 2], state(k));
                assert_eq!(rows.x_next[2 * b..2 * b + 2], state(k + 1));
                let gamma_k = match mode {
                    DiscountMode::PerEnvStep if k < 2 => 1.0,
                    _ => 0.9,
                };
                if k < 2 {
                    // The environment does not move: same s, the chain's next state, no reward.
                    assert_eq!(rows.next_obs[2 * b..2 * b + 2], rows.obs[2 * b..2 * b + 2]);
                    assert_eq!(rows.next_x[2 * b..2 * b + 2], state(k + 1));
                    assert_eq!((rows.next_steps[b], rows.rewards[b], rows.continues[b]), (k + 1, 0.0, gamma_k));
                } else {
                    // The environment step: s', a fresh x_0', the reward, and no bootstrap after termination.
                    assert_eq!(rows.next_obs[2 * b..2 * b + 2], a.batch.next_obs[2 * b..2 * b + 2]);
                    assert_ne!(rows.next_x[2 * b..2 * b + 2], state(k + 1));
                    let continues = gamma_k * a.batch.not_terminated[b];
                    assert_eq!(
                        (rows.next_steps[b], rows.rewards[b], rows.continues[b]),
                        (0, a.batch.reward[b], continues)
                    );
                }
            }
        }
        assert_eq!(seen, [true; 3]);
    }
}

#[test]
fn the_critic_sees_the_step_index_one_hot() {
    let a = agent(DiscountMode::PerEnvStep);
    let rows = a.critic_state(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0], &[2, 0]);
    assert_eq!(rows, vec![1.0, 2.0, 5.0, 6.0, 0.0, 0.0, 1.0, 3.0, 4.0, 7.0, 8.0, 1.0, 0.0, 0.0]);
}

#[test]
fn actor_gradients_equal_autograd_through_the_min_over_the_critic_members() {
    // The host path feeds ∂min_j Q_j/∂x_{k+1} back as a cotangent; candle autograd through the
    // critic's eval-mode members and their minimum must give the same parameter gradients.
    let mut a = agent(DiscountMode::PerEnvStep);
    fill(&mut a);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let rows = a.augmented_rows(0, 2, &mut rng).unwrap();
    let eps = Tensor::new(&[[0.3f32, -1.2], [0.7, 0.1]], &Device::Cpu).unwrap();
    let alpha = 0.2;
    let (grads, loss, _) = a.actor_gradients(&rows, alpha, &eps).unwrap();

    let (x_next, lp) =
        a.policy.sample_step(&tensor(&rows.obs, 2).unwrap(), &tensor(&rows.x, 2).unwrap(), &rows.steps, &eps).unwrap();
    let state = tensor(&a.critic_state(&rows.obs, &rows.x, &rows.steps), 2).unwrap();
    let members = a.critic.q_values_eval(&state, &x_next).unwrap();
    let min_q = Tensor::stack(&members, 0).unwrap().min(0).unwrap();
    let reference = ((lp.log_ratio().unwrap() * alpha).unwrap() - min_q).unwrap().mean_all().unwrap();
    let expected = host_gradients(a.policy.params(), &reference.backward().unwrap()).unwrap();
    assert!((f64::from(reference.to_scalar::<f32>().unwrap()) - loss).abs() < 1e-5);
    let names = a.policy.params().names();
    let mut compared = 0;
    for ((name, got), want) in names.iter().zip(&grads).zip(&expected) {
        if name == STEP_SIZE_RAW || name == FRICTION_RAW {
            assert!(got.iter().all(|&g| g == 0.0), "{name} is fixed in this preset");
            continue;
        }
        let scale = want.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-4 * scale, "{name}: {g} against {w}");
        }
        compared += usize::from(want.iter().any(|&v| v != 0.0));
    }
    assert!(compared > 3, "only {compared} parameters had a gradient");
}
