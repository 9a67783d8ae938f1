//! The critics as networks: BatchRenorm usage in the joint pass, eval mode, Polyak targets,
//! parameter counts, determinism and typed errors.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{brn_state, host, Data, DataSpec};
use dime_critic::{Bootstrap, CategoricalCritic, CriticConfig, CriticError, CriticHead, ForwardMode, ScalarCritic};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const OBS: usize = 3;
const ACT: usize = 2;
const ROWS: usize = 6;

fn small(config: CriticConfig) -> CriticConfig {
    CriticConfig { hidden_widths: vec![16, 12], ..config }
}

/// Different means for the two halves, so statistics over the joint batch differ from statistics
/// over either half; transition 2 is terminal.
const SPEC: DataSpec = DataSpec {
    rows: ROWS,
    obs_dim: OBS,
    act_dim: ACT,
    obs: (1.0, 1.0),
    actions: (0.0, 1.0),
    next_obs: (-1.0, 1.0),
    next_actions: (0.5, 1.0),
    terminal: |b| b == 2,
    td_seed_offset: None,
};

fn categorical(seed: u64) -> CategoricalCritic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    CategoricalCritic::new(&small(CriticConfig::cpu()), OBS, ACT, &mut rng, DType::F32, &Device::Cpu).unwrap()
}

#[test]
fn joint_forward_updates_running_statistics_exactly_once_over_both_halves() {
    let data = Data::new(1, &SPEC);
    let mut critic = categorical(7);
    // Input BRN + one after each of the two hidden layers, per member.
    assert_eq!(critic.batch_renorms(0).len(), 3);
    let before = brn_state(&critic);
    assert!(before.iter().all(|(_, _, steps)| *steps == 0));

    let out = critic.joint_forward(&data.batch()).unwrap();
    assert_eq!(out.current.len(), 2);
    assert_eq!(out.current[0].dims(), &[ROWS, 101]);
    assert_eq!(out.next[1].dims(), &[ROWS, 101]);
    let after = brn_state(&critic);
    assert!(after.iter().all(|(_, _, steps)| *steps == 1), "one train-mode call per BRN layer");

    // The input BRN sees concat(s, a) of all 2B rows. After one call from (μ, v) = (0, 1):
    // μ_run = 0.01·mean(x), v_run = 0.99 + 0.01·var(x) (biased, over the joint batch; dime.md §5.2).
    let joint = Tensor::cat(
        &[
            &Tensor::cat(&[&data.obs, &data.actions], 1).unwrap(),
            &Tensor::cat(&[&data.next_obs, &data.next_actions], 1).unwrap(),
        ],
        0,
    )
    .unwrap()
    .to_vec2::<f32>()
    .unwrap();
    let (mean, var, _) = &after[0];
    for f in 0..OBS + ACT {
        let column: Vec<f64> = joint.iter().map(|row| row[f] as f64).collect();
        let m = column.iter().sum::<f64>() / column.len() as f64;
        let v = column.iter().map(|x| (x - m).powi(2)).sum::<f64>() / column.len() as f64;
        assert!((mean[f] as f64 - 0.01 * m).abs() < 1e-6, "mean {f}");
        assert!((var[f] as f64 - (0.99 + 0.01 * v)).abs() < 1e-6, "var {f}");
    }
    // Each member has its own statistics, and the hidden ones moved too.
    assert_ne!(after[1].0, before[1].0);
    assert_eq!(after[0].0, after[3].0, "both members see the same input, so the same input statistics");
    assert_ne!(after[1].0, after[4].0, "hidden statistics are per member");
}

#[test]
fn eval_mode_changes_nothing_and_train_mode_changes_once() {
    let data = Data::new(2, &SPEC);
    let mut critic = categorical(8);
    critic.joint_forward(&data.batch()).unwrap();
    let params_before = critic.params().to_host().unwrap();
    let stats = brn_state(&critic);

    let eval_a = critic.probs(&data.obs, &data.actions, ForwardMode::Eval).unwrap();
    let eval_b = critic.probs_eval(&data.obs, &data.actions).unwrap();
    let eval_c = critic.probs(&data.obs, &data.actions, ForwardMode::Eval).unwrap();
    assert_eq!(brn_state(&critic), stats, "eval calls leave the running statistics and counters alone");
    assert_eq!(critic.params().to_host().unwrap(), params_before);
    for ((a, b), c) in eval_a.iter().zip(&eval_b).zip(&eval_c) {
        assert_eq!(host(a), host(b));
        assert_eq!(host(a), host(c), "eval mode is a pure function of its input");
        let sums = a.sum(1).unwrap().to_vec1::<f32>().unwrap();
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "softmax rows sum to 1: {sums:?}");
    }

    critic.probs(&data.obs, &data.actions, ForwardMode::Train).unwrap();
    assert!(brn_state(&critic).iter().all(|(_, _, steps)| *steps == 2));
}

#[test]
fn update_descends_and_is_deterministic() {
    let data = Data::new(3, &SPEC);
    let run = || {
        let mut critic = categorical(9);
        let losses: Vec<f64> = (0..5).map(|_| critic.update(&data.batch()).unwrap().loss).collect();
        (losses, critic.params().to_host().unwrap(), brn_state(&critic))
    };
    let (losses, params, stats) = run();
    // Same seed, same data → bitwise-identical losses, parameters and statistics.
    assert_eq!(run(), (losses.clone(), params, stats));
    assert!(losses.iter().all(|l| l.is_finite()));
    // Five Adam steps on one fixed batch lower its loss (a target that moves with the network,
    // but slowly: lr 3e-4 on a 16/12-wide net).
    assert!(losses[4] < losses[0], "{losses:?}");
}

#[test]
fn polyak_tau_one_copies_and_tau_zero_keeps_the_target() {
    let data = Data::new(4, &SPEC);
    for tau in [0.0, 1.0] {
        let config = CriticConfig { bootstrap: Bootstrap::PolyakTarget { tau }, ..small(CriticConfig::sac()) };
        let mut critic =
            ScalarCritic::new(&config, OBS, ACT, &mut ChaCha8Rng::seed_from_u64(5), DType::F32, &Device::Cpu).unwrap();
        let initial = critic.params().to_host().unwrap();
        assert_eq!(critic.target_params().unwrap().to_host().unwrap(), initial, "targets start as copies");
        // update() takes one Adam step and then moves the targets by τ.
        critic.update(&data.batch()).unwrap();
        let online = critic.params().to_host().unwrap();
        let target = critic.target_params().unwrap().to_host().unwrap();
        assert_ne!(online, initial);
        if tau == 1.0 {
            assert_eq!(target, online, "τ = 1 copies the online parameters");
        } else {
            assert_eq!(target, initial, "τ = 0 leaves the target unchanged");
        }
        // Target Q values come from the target parameters.
        let q_target = critic.target_q_values(&data.obs, &data.actions).unwrap();
        let q_online = critic.q_values_eval(&data.obs, &data.actions).unwrap();
        assert_eq!(host(&q_target[0]) == host(&q_online[0]), tau == 1.0);
    }
}

#[test]
fn crossq_joint_forward_has_no_targets_and_moves_statistics_once() {
    let data = Data::new(5, &SPEC);
    let mut critic = ScalarCritic::new(
        &small(CriticConfig::crossq()),
        OBS,
        ACT,
        &mut ChaCha8Rng::seed_from_u64(6),
        DType::F32,
        &Device::Cpu,
    )
    .unwrap();
    assert!(critic.target_params().is_none());
    assert!(matches!(critic.target_q_values(&data.obs, &data.actions), Err(CriticError::Unsupported(_))));
    let out = critic.joint_forward(&data.batch()).unwrap();
    assert_eq!(out.current[0].dims(), &[ROWS]);
    assert!(critic.batch_renorms(1).iter().all(|n| n.steps() == 1));
    critic.q_values(&data.obs, &data.actions, ForwardMode::Eval).unwrap();
    assert!(critic.batch_renorms(1).iter().all(|n| n.steps() == 1));
    let report = critic.update(&data.batch()).unwrap();
    assert!(report.loss.is_finite());
    assert!(critic.batch_renorms(0).iter().all(|n| n.steps() == 2));
}

#[test]
fn presets_have_the_paper_sizes() {
    // dime.md §5.1: ~4.46M parameters per critic for o = 17, d = 6. Exactly, per member:
    // input BRN 2·23, Dense 23·2048 + 2048, BRN 2·2048, Dense 2048·2048 + 2048, BRN 2·2048,
    // Dense 2048·101 + 101.
    let per_member = 2 * 23 + (23 * 2048 + 2048) + 2 * 2048 + (2048 * 2048 + 2048) + 2 * 2048 + (2048 * 101 + 101);
    assert_eq!(per_member, 4_460_691);
    let paper = CategoricalCritic::new(
        &CriticConfig::paper(),
        17,
        6,
        &mut ChaCha8Rng::seed_from_u64(0),
        DType::F32,
        &Device::Cpu,
    )
    .unwrap();
    assert_eq!(paper.params().num_scalars(), 2 * per_member);
    assert_eq!(paper.support().atoms(), 101);
    assert_eq!((paper.support().v_min(), paper.support().v_max()), (-200.0, 200.0));
    let cpu = CriticConfig::cpu();
    assert_eq!((cpu.members, cpu.hidden_widths.clone()), (2, vec![256, 256]));
    assert_eq!(cpu.head, CriticConfig::paper().head);
    let gym = CriticConfig::paper().with_support(-1600.0, 1600.0);
    assert!(
        matches!(gym.head, CriticHead::Categorical { v_min, v_max, atoms: 101, .. } if v_min == -1600.0 && v_max == 1600.0)
    );
    // Round trip through serde; unknown fields are rejected.
    let json = serde_json::to_string(&gym).unwrap();
    assert_eq!(serde_json::from_str::<CriticConfig>(&json).unwrap(), gym);
    let extra = json.replacen('{', "{\"width\":3,", 1);
    assert!(serde_json::from_str::<CriticConfig>(&extra).is_err());
}

#[test]
fn bad_input_gives_typed_errors() {
    let data = Data::new(6, &SPEC);
    let mut critic = categorical(10);
    let wrong_obs = Tensor::zeros((ROWS, OBS + 1), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(critic.probs(&wrong_obs, &data.actions, ForwardMode::Eval), Err(CriticError::Shape { .. })));
    let short_actions = Tensor::zeros((ROWS - 1, ACT), DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(critic.probs_eval(&data.obs, &short_actions), Err(CriticError::Shape { .. })));
    let mut batch = data.batch();
    let nan_rewards = [0.0, 1.0, f32::NAN, 0.0, 0.0, 0.0];
    batch.td.rewards = &nan_rewards;
    assert!(matches!(critic.update(&batch), Err(CriticError::NonFinite { what: "rewards", index: 2, .. })));
    let mut batch = data.batch();
    let short = [0.0; ROWS - 1];
    batch.td.rewards = &short;
    assert!(matches!(critic.joint_forward(&batch), Err(CriticError::Shape { .. })));
    // Nothing above ran a train-mode pass to completion: statistics untouched.
    assert!(brn_state(&critic).iter().all(|(_, _, steps)| *steps == 0));

    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let inverted = CriticConfig::cpu().with_support(10.0, -10.0);
    assert!(matches!(
        CategoricalCritic::new(&inverted, OBS, ACT, &mut rng, DType::F32, &Device::Cpu),
        Err(CriticError::InvalidSupport { .. })
    ));
    let empty = CriticConfig {
        head: CriticHead::Categorical { atoms: 0, v_min: -1.0, v_max: 1.0, entropy_coef: 0.005 },
        ..CriticConfig::cpu()
    };
    assert!(matches!(empty.validate(), Err(CriticError::InvalidSupport { atoms: 0, .. })));
    assert!(matches!(
        CategoricalCritic::new(&CriticConfig::sac(), OBS, ACT, &mut rng, DType::F32, &Device::Cpu),
        Err(CriticError::InvalidConfig(_))
    ));
    assert!(matches!(
        ScalarCritic::new(&CriticConfig::cpu(), OBS, ACT, &mut rng, DType::F32, &Device::Cpu),
        Err(CriticError::InvalidConfig(_))
    ));
    let brn_with_targets = CriticConfig { bootstrap: Bootstrap::PolyakTarget { tau: 0.005 }, ..CriticConfig::crossq() };
    assert!(matches!(
        ScalarCritic::new(&brn_with_targets, OBS, ACT, &mut rng, DType::F32, &Device::Cpu),
        Err(CriticError::InvalidConfig(_))
    ));
}

#[test]
fn batch_renorm_state_restores_through_the_critic() {
    // A critic after one joint pass, and a fresh one (same seed, so the same parameters) whose
    // BatchRenorm state is copied over: eval-mode outputs agree bitwise.
    let data = Data::new(7, &SPEC);
    let mut trained = categorical(11);
    trained.joint_forward(&data.batch()).unwrap();
    let mut restored = categorical(11);
    for member in 0..trained.members() {
        let states: Vec<_> = trained
            .batch_renorms(member)
            .iter()
            .map(|n| (n.running_mean().clone(), n.running_var().clone(), n.steps()))
            .collect();
        for (norm, (mean, var, steps)) in restored.batch_renorms_mut(member).into_iter().zip(states) {
            norm.set_state(&mean, &var, steps).unwrap();
        }
    }
    assert_eq!(brn_state(&trained), brn_state(&restored));
    let a = trained.probs_eval(&data.obs, &data.actions).unwrap();
    let b = restored.probs_eval(&data.obs, &data.actions).unwrap();
    assert_eq!(host(&a[0]), host(&b[0]));
    assert_eq!(host(&a[1]), host(&b[1]));
}
