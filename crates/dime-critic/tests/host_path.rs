//! The fused host path of `CategoricalCritic` against the candle reference path on the same
//! parameters and batch: loss, mean Q, gradients (read back from Adam's first moment), parameters
//! after one Adam step, BatchRenorm running statistics and counters, before and after the
//! BatchRenorm warm-up, with terminal transitions; and the actor's action gradient against candle
//! autograd through `probs_eval` + `expected_value`.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::{brn_state, host, Data, DataSpec};
use dime_critic::{CategoricalCritic, CriticConfig, CriticError, Normalisation};
use dime_nn::BatchRenormConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const OBS: usize = 5;
const ACT: usize = 3;
const ROWS: usize = 40;

fn config(warmup_steps: u64) -> CriticConfig {
    CriticConfig {
        hidden_widths: vec![48, 40],
        normalisation: Normalisation::BatchRenorm(BatchRenormConfig { warmup_steps, ..BatchRenormConfig::dime() }),
        ..CriticConfig::cpu().with_support(-20.0, 20.0)
    }
}

/// Inputs with different means and scales for the two halves; every fifth transition terminal
/// (its target is the reward alone); rewards and bounds from a second stream seeded `seed + 100`.
const SPEC: DataSpec = DataSpec {
    rows: ROWS,
    obs_dim: OBS,
    act_dim: ACT,
    obs: (0.5, 2.0),
    actions: (0.0, 0.6),
    next_obs: (-0.5, 2.0),
    next_actions: (0.1, 0.6),
    terminal: |b| b % 5 == 2,
    td_seed_offset: Some(100),
};

/// A critic built like `critic` (same config and seed) with its parameters, BatchRenorm states
/// and optimiser state copied: an independent twin (cloning would share the `Var` storages).
fn twin(critic: &CategoricalCritic, config: &CriticConfig, seed: u64) -> CategoricalCritic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut copy = CategoricalCritic::new(config, OBS, ACT, &mut rng, DType::F32, &Device::Cpu).unwrap();
    copy.params().copy_from(critic.params()).unwrap();
    for member in 0..critic.members() {
        let states: Vec<_> = critic
            .batch_renorms(member)
            .iter()
            .map(|n| (n.running_mean().copy().unwrap(), n.running_var().copy().unwrap(), n.steps()))
            .collect();
        for (norm, (mean, var, steps)) in copy.batch_renorms_mut(member).into_iter().zip(states) {
            norm.set_state(&mean, &var, steps).unwrap();
        }
    }
    let (m, v) = critic.optimiser().moments();
    let steps = critic.optimiser().steps();
    copy.optimiser_mut().restore(m.to_vec(), v.to_vec(), steps).unwrap();
    copy
}

/// Zero Adam's moments and step count, so that after one step its first moment is `(1 − β1)·g`.
fn reset_adam(critic: &mut CategoricalCritic) {
    let (m, v) = critic.optimiser().moments();
    let zeros = |x: &[Vec<f32>]| x.iter().map(|t| vec![0.0; t.len()]).collect::<Vec<_>>();
    let (m, v) = (zeros(m), zeros(v));
    critic.optimiser_mut().restore(m, v, 0).unwrap();
}

fn max_abs(values: &[f32]) -> f32 {
    values.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// `pre_updates` host updates (to move the running statistics and, with a short warm-up, switch
/// the renormalisation on), then one host update and one reference update on twins.
fn compare(warmup_steps: u64, pre_updates: usize, seed: u64) {
    let config = config(warmup_steps);
    let data = Data::new(seed, &SPEC);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut host_critic = CategoricalCritic::new(&config, OBS, ACT, &mut rng, DType::F32, &Device::Cpu).unwrap();
    for k in 0..pre_updates {
        host_critic.update(&Data::new(seed + 1 + k as u64, &SPEC).batch()).unwrap();
    }
    let renorm_on = host_critic.batch_renorms(0)[0].steps() >= warmup_steps;
    assert_eq!(renorm_on, pre_updates as u64 >= warmup_steps);
    reset_adam(&mut host_critic);
    let mut reference = twin(&host_critic, &config, seed);

    let ours = host_critic.update(&data.batch()).unwrap();
    let theirs = reference.update_reference(&data.batch()).unwrap();
    eprintln!(
        "warm-up {warmup_steps}, {pre_updates} pre-updates: loss {} vs {}, mean Q {} vs {}",
        ours.loss, theirs.loss, ours.mean_q, theirs.mean_q
    );
    // Both are f32 computations of the same sums in different orders: 1e-5 relative.
    assert!((ours.loss - theirs.loss).abs() <= 1e-5 * theirs.loss.abs(), "loss");
    assert!((ours.mean_q - theirs.mean_q).abs() <= 1e-5 * theirs.mean_q.abs(), "mean Q");

    // Gradients: after one step from zero moments, m = (1 − β1)·g with β1 = 0.5 exactly.
    let names = host_critic.params().names();
    let (m_ours, m_theirs) = (host_critic.optimiser().moments().0, reference.optimiser().moments().0);
    for ((name, a), b) in names.iter().zip(m_ours).zip(m_theirs) {
        let scale = max_abs(b);
        assert!(scale > 0.0, "{name} has a gradient");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            // 1e-4 relative to the element, with a floor at 1e-4 of the tensor's largest entry
            // (entries that cancel to ~0 carry rounding of the order of the terms, not of themselves).
            assert!((x - y).abs() <= 1e-4 * y.abs().max(scale), "{name}[{i}]: host {} vs candle {}", 2.0 * x, 2.0 * y);
        }
    }
    // Parameters after the step.
    for ((name, a), (_, b)) in host_critic.params().to_host().unwrap().iter().zip(reference.params().to_host().unwrap())
    {
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!((x - y).abs() <= 1e-5, "{name}[{i}] after Adam: {x} vs {y}");
        }
    }
    // Running statistics and counters.
    for member in 0..host_critic.members() {
        for (k, (a, b)) in host_critic.batch_renorms(member).iter().zip(reference.batch_renorms(member)).enumerate() {
            assert_eq!(a.steps(), b.steps(), "member {member} layer {k} counter");
            for (x, y) in host(a.running_mean()).iter().zip(host(b.running_mean())) {
                assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "member {member} layer {k} running mean {x} vs {y}");
            }
            for (x, y) in host(a.running_var()).iter().zip(host(b.running_var())) {
                assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "member {member} layer {k} running var {x} vs {y}");
            }
        }
    }
}

#[test]
fn host_update_matches_the_candle_update_before_warm_up() {
    compare(100_000, 2, 31);
}

#[test]
fn host_update_matches_the_candle_update_after_warm_up() {
    compare(3, 4, 32);
}

#[test]
fn host_update_matches_the_candle_update_on_the_first_update() {
    // Running statistics (0, 1): r and d are clipped hard if renormalisation is on from the start.
    compare(0, 0, 33);
}

#[test]
fn action_gradient_matches_candle_autograd_through_probs_eval() {
    let config = config(3);
    let mut rng = ChaCha8Rng::seed_from_u64(41);
    let mut critic = CategoricalCritic::new(&config, OBS, ACT, &mut rng, DType::F32, &Device::Cpu).unwrap();
    for k in 0..4 {
        critic.update(&Data::new(50 + k, &SPEC).batch()).unwrap();
    }
    let data = Data::new(60, &SPEC);
    let (obs, actions) = (host(&data.obs), host(&data.actions));
    let stats_before: Vec<_> = critic.batch_renorms(1).iter().map(|n| (host(n.running_mean()), n.steps())).collect();
    let (mean_q, grad) = critic.mean_q_and_action_grad(&obs, &actions, ROWS).unwrap();
    let again = critic.mean_q_and_action_grad(&obs, &actions, ROWS).unwrap();
    assert_eq!((&mean_q, &grad), (&again.0, &again.1), "bitwise deterministic");
    let stats_after: Vec<_> = critic.batch_renorms(1).iter().map(|n| (host(n.running_mean()), n.steps())).collect();
    assert_eq!(stats_before, stats_after, "eval mode moves nothing");

    // Reference: S = Σ_b mean_i Q_i(s_b, a_b), differentiated by candle autograd.
    let var = Var::from_tensor(&data.actions).unwrap();
    let probs = critic.probs_eval(&data.obs, var.as_tensor()).unwrap();
    let q: Vec<Tensor> = probs.iter().map(|p| critic.expected_value(p).unwrap()).collect();
    let q_mean = Tensor::stack(&q, 0).unwrap().mean(0).unwrap();
    let grads = q_mean.sum_all().unwrap().backward().unwrap();
    let expected_grad = host(grads.get(var.as_tensor()).unwrap());
    let expected_q = host(&q_mean);
    for (a, b) in mean_q.iter().zip(&expected_q) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "mean Q {a} vs {b}");
    }
    let scale = max_abs(&expected_grad);
    for (i, (a, b)) in grad.iter().zip(&expected_grad).enumerate() {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(scale), "∂S/∂a[{i}]: {a} vs {b}");
    }
}

#[test]
fn action_gradient_rejects_mismatched_lengths() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let critic = CategoricalCritic::new(&config(3), OBS, ACT, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let obs = vec![0.0f32; 4 * OBS];
    assert!(matches!(critic.mean_q_and_action_grad(&obs, &[0.0; 4 * ACT - 1], 4), Err(CriticError::Shape { .. })));
    assert!(matches!(critic.mean_q_and_action_grad(&obs[1..], &[0.0; 4 * ACT], 4), Err(CriticError::Shape { .. })));
    assert!(matches!(critic.mean_q_and_action_grad(&[], &[], 0), Err(CriticError::Shape { .. })));
}

#[test]
fn host_update_is_bitwise_deterministic() {
    let config = config(2);
    let run = || {
        let mut rng = ChaCha8Rng::seed_from_u64(43);
        let mut critic = CategoricalCritic::new(&config, OBS, ACT, &mut rng, DType::F32, &Device::Cpu).unwrap();
        let reports: Vec<(f64, f64)> = (0..4)
            .map(|k| {
                let r = critic.update(&Data::new(70 + k, &SPEC).batch()).unwrap();
                (r.loss, r.mean_q)
            })
            .collect();
        (reports, critic.params().to_host().unwrap(), brn_state(&critic))
    };
    assert_eq!(run(), run());
}
