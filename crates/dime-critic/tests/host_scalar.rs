//! The host path of `ScalarCritic` against its candle reference on the same parameters and batch:
//! SAC (Polyak targets) and CrossQ (BatchRenorm, joint pass, before and after the warm-up) —
//! loss, mean Q, gradients (read back from Adam's first moment), parameters and targets after the
//! step, running statistics; and the actor's `min_i Q_i` with its action gradient against candle
//! autograd.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::{host, Data, DataSpec};
use dime_critic::{CriticConfig, ForwardMode, Normalisation, ScalarCritic};
use dime_nn::{AdamConfig, BatchRenormConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const OBS: usize = 5;
const ACT: usize = 3;
const ROWS: usize = 40;

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

fn sac() -> CriticConfig {
    // β1 = 0.5 so that after one step from zero moments m = g/2 exactly.
    CriticConfig { hidden_widths: vec![48, 40], adam: AdamConfig::new(1e-3, 0.5), ..CriticConfig::sac() }
}

fn crossq(warmup_steps: u64) -> CriticConfig {
    CriticConfig {
        hidden_widths: vec![48, 40],
        normalisation: Normalisation::BatchRenorm(BatchRenormConfig { warmup_steps, ..BatchRenormConfig::dime() }),
        ..CriticConfig::crossq()
    }
}

/// A critic built like `critic` with its parameters, targets, BatchRenorm states and optimiser
/// copied: an independent twin (cloning would share the `Var` storages).
fn twin(critic: &ScalarCritic, config: &CriticConfig, seed: u64) -> ScalarCritic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut copy = ScalarCritic::new(config, OBS, ACT, &mut rng, DType::F32, &Device::Cpu).unwrap();
    copy.params().copy_from(critic.params()).unwrap();
    if let (Some(to), Some(from)) = (copy.target_params(), critic.target_params()) {
        to.copy_from(from).unwrap();
    }
    for member in 0..2 {
        let states: Vec<_> = critic
            .batch_renorms(member)
            .iter()
            .map(|n| (n.running_mean().copy().unwrap(), n.running_var().copy().unwrap(), n.steps()))
            .collect();
        for (norm, (mean, var, steps)) in copy.batch_renorms_mut(member).into_iter().zip(states) {
            norm.set_state(&mean, &var, steps).unwrap();
        }
    }
    let zeros = |x: &[Vec<f32>]| x.iter().map(|t| vec![0.0; t.len()]).collect::<Vec<_>>();
    let (m, v) = critic.optimiser().moments();
    copy.optimiser_mut().restore(zeros(m), zeros(v), 0).unwrap();
    copy
}

fn max_abs(values: &[f32]) -> f32 {
    values.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// `pre_updates` host updates, then one host update and one reference update on twins (both
/// with zeroed Adam moments), compared.
fn compare(config: CriticConfig, pre_updates: usize, seed: u64) {
    let data = Data::new(seed, &SPEC);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ours_critic = ScalarCritic::new(&config, OBS, ACT, &mut rng, DType::F32, &Device::Cpu).unwrap();
    for k in 0..pre_updates {
        ours_critic.update(&Data::new(seed + 1 + k as u64, &SPEC).batch()).unwrap();
    }
    let mut ours_critic = twin(&ours_critic, &config, seed);
    let mut reference = twin(&ours_critic, &config, seed);
    let ours = ours_critic.update(&data.batch()).unwrap();
    let theirs = reference.update_reference(&data.batch()).unwrap();
    eprintln!(
        "{pre_updates} pre-updates: loss {} vs {}, mean Q {} vs {}",
        ours.loss, theirs.loss, ours.mean_q, theirs.mean_q
    );
    assert!((ours.loss - theirs.loss).abs() <= 1e-5 * theirs.loss.abs(), "loss");
    assert!((ours.mean_q - theirs.mean_q).abs() <= 1e-5 * theirs.mean_q.abs().max(1e-3), "mean Q");
    let names = ours_critic.params().names();
    let (m_ours, m_theirs) = (ours_critic.optimiser().moments().0, reference.optimiser().moments().0);
    for ((name, a), b) in names.iter().zip(m_ours).zip(m_theirs) {
        let scale = max_abs(b);
        assert!(scale > 0.0, "{name} has a gradient");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-4 * y.abs().max(scale), "{name}[{i}]: host {} vs candle {}", 2.0 * x, 2.0 * y);
        }
    }
    let after = |c: &ScalarCritic| (c.params().to_host().unwrap(), c.target_params().map(|t| t.to_host().unwrap()));
    let ((p_ours, t_ours), (p_theirs, t_theirs)) = (after(&ours_critic), after(&reference));
    let close = |a: &[(String, Vec<f32>)], b: &[(String, Vec<f32>)], what: &str| {
        for ((name, x), (_, y)) in a.iter().zip(b) {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert!((x - y).abs() <= 1e-5, "{what} {name}[{i}]: {x} vs {y}");
            }
        }
    };
    close(&p_ours, &p_theirs, "parameter");
    if let (Some(a), Some(b)) = (t_ours, t_theirs) {
        close(&a, &b, "target");
    }
    for member in 0..2 {
        for (a, b) in ours_critic.batch_renorms(member).iter().zip(reference.batch_renorms(member)) {
            assert_eq!(a.steps(), b.steps());
            for (x, y) in host(a.running_mean()).iter().zip(host(b.running_mean())) {
                assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "running mean {x} vs {y}");
            }
            for (x, y) in host(a.running_var()).iter().zip(host(b.running_var())) {
                assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "running var {x} vs {y}");
            }
        }
    }
}

#[test]
fn sac_update_matches_the_candle_path() {
    compare(sac(), 0, 1);
    compare(sac(), 3, 2);
}

#[test]
fn crossq_update_matches_the_candle_path_before_and_after_warm_up() {
    compare(crossq(100), 2, 3);
    compare(crossq(2), 3, 4);
}

#[test]
fn min_q_and_action_grad_match_candle_autograd() {
    for config in [sac(), crossq(2)] {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut critic = ScalarCritic::new(&config, OBS, ACT, &mut rng, DType::F32, &Device::Cpu).unwrap();
        for k in 0..3 {
            critic.update(&Data::new(10 + k, &SPEC).batch()).unwrap();
        }
        let data = Data::new(20, &SPEC);
        let (obs, actions) = (host(&data.obs), host(&data.actions));
        let (min_q, grad) = critic.min_q_and_action_grad(&obs, &actions, ROWS).unwrap();
        let action_var = Var::from_tensor(&data.actions).unwrap();
        let q = critic.q_values(&data.obs, action_var.as_tensor(), ForwardMode::Eval).unwrap();
        let expected = Tensor::stack(&q, 0).unwrap().min(0).unwrap();
        let grads = expected.sum_all().unwrap().backward().unwrap();
        let expected_grad = host(grads.get(action_var.as_tensor()).unwrap());
        for (x, y) in min_q.iter().zip(host(&expected)) {
            assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "min Q {x} vs {y}");
        }
        let scale = max_abs(&expected_grad);
        for (x, y) in grad.iter().zip(&expected_grad) {
            assert!((x - y).abs() <= 1e-4 * scale, "action gradient {x} vs {y}");
        }
        // Eval mode: nothing moved.
        let again = critic.min_q_and_action_grad(&obs, &actions, ROWS).unwrap();
        assert_eq!(again, (min_q, grad), "eval mode is repeatable bit for bit");
    }
}
