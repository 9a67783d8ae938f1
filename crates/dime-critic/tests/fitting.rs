//! Fitting: the critics learn known targets on synthetic data, in a few seconds each.

use candle_core::{DType, Device, Tensor};
use dime_critic::{
    Bootstrap, CategoricalCritic, CriticBatch, CriticConfig, CriticHead, ForwardMode, TdInputs, ValueConfig,
    ValueNetwork,
};
use dime_nn::AdamConfig;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;

use common::{fit_known_q, uniform, BATCH};

/// A one-step bandit whose reward is −4 with probability 0.3 and +6 with probability 0.7,
/// whatever the state (2-d) and action (1-d). Every transition terminates, so the return
/// distribution is exactly that two-point law, and on the support z = −10..10 (Δz = 1) both
/// points are atoms.
#[test]
fn categorical_critic_learns_a_bimodal_return_distribution() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let config = CriticConfig {
        hidden_widths: vec![64, 64],
        head: CriticHead::Categorical { atoms: 21, v_min: -10.0, v_max: 10.0, entropy_coef: 0.005 },
        // The paper's β1 with a 3× larger step than its 3e-4 to converge within the test budget.
        adam: AdamConfig::new(1e-3, 0.5),
        ..CriticConfig::cpu()
    };
    let mut critic = CategoricalCritic::new(&config, 2, 1, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let continues = [0.0f32; BATCH];
    let bound = [0.0f32; BATCH];
    for _ in 0..400 {
        let (obs, _) = uniform(&mut rng, BATCH, 2);
        let (actions, _) = uniform(&mut rng, BATCH, 1);
        let (next_obs, _) = uniform(&mut rng, BATCH, 2);
        let (next_actions, _) = uniform(&mut rng, BATCH, 1);
        let rewards: Vec<f32> = (0..BATCH).map(|_| if rng.random::<f64>() < 0.3 { -4.0 } else { 6.0 }).collect();
        let td = TdInputs { rewards: &rewards, continues: &continues, next_log_prob: &bound, alpha: 0.1, gamma: 0.99 };
        let batch = CriticBatch { obs: &obs, actions: &actions, next_obs: &next_obs, next_actions: &next_actions, td };
        critic.update(&batch).unwrap();
    }
    // Predicted law at fresh state-action pairs, eval mode, averaged over members and 256 inputs.
    let (obs, _) = uniform(&mut rng, 256, 2);
    let (actions, _) = uniform(&mut rng, 256, 1);
    let probs = critic.probs(&obs, &actions, ForwardMode::Eval).unwrap();
    let mut predicted = vec![0.0f64; 21];
    for p in &probs {
        for row in p.to_vec2::<f32>().unwrap() {
            for (acc, v) in predicted.iter_mut().zip(row) {
                *acc += v as f64 / (256.0 * probs.len() as f64);
            }
        }
    }
    let mut truth = vec![0.0f64; 21];
    truth[6] = 0.3; // z = −4
    truth[16] = 0.7; // z = +6
    let total_variation: f64 = 0.5 * predicted.iter().zip(&truth).map(|(p, t)| (p - t).abs()).sum::<f64>();
    // Wasserstein-1 on a grid with Δz = 1: Σ_k |F_p(k) − F_truth(k)|.
    let (mut cdf_p, mut cdf_t, mut w1) = (0.0, 0.0, 0.0);
    for (p, t) in predicted.iter().zip(&truth) {
        cdf_p += p;
        cdf_t += t;
        w1 += (cdf_p - cdf_t).abs();
    }
    // Bounds: the minibatch mode frequency has standard deviation sqrt(0.21/64) = 0.057, and the
    // last few dozen Adam steps average it, so the learned mode weights sit within a few
    // hundredths of (0.3, 0.7); the entropy regulariser's optimum puts only ~e^(−1/0.005) on
    // empty atoms. TV ≤ 0.1 thus leaves room for the residual fit of a 64-wide net after 400
    // steps, and W1 ≤ 1.0 (one atom spacing; the two modes are 10 apart) rules out a unimodal
    // or smeared answer, whose W1 would be ≥ 4.2 (all mass at the mean 3.0).
    assert!(total_variation < 0.1, "TV {total_variation:.4}, predicted {predicted:.3?}");
    assert!(w1 < 1.0, "W1 {w1:.4}");
    // Both modes dominate: more than 0.2 and 0.6 of the mass on the right atoms.
    assert!(predicted[6] > 0.2 && predicted[16] > 0.6, "{predicted:.3?}");
    eprintln!("bimodal bandit: TV {total_variation:.4}, W1 {w1:.4}");
}

// Var(s0·a0) = E[s0²]·E[a0²] = 1/9 ≈ 0.111, so an RMSE of 0.1 (MSE 0.01) explains ~90% of the
// variation of Q*, and the constant offset 2 (learnt only through bootstrapping) must be right
// to within ~0.1.

#[test]
fn sac_twin_q_fits_a_known_q_function() {
    let config = CriticConfig {
        hidden_widths: vec![64, 64],
        // τ = 0.05 instead of SAC's 0.005: the bootstrapped offset has to propagate through the
        // targets within 600 updates.
        bootstrap: Bootstrap::PolyakTarget { tau: 0.05 },
        ..CriticConfig::sac()
    };
    let mse = fit_known_q(config, 600, 0.5);
    assert!(mse < 0.01, "MSE {mse}");
}

#[test]
fn value_network_fits_a_known_function() {
    // V(s) = s0² − s1 on [−1, 1]²: variance Var(s0²) + Var(s1) = 4/45 + 1/3 ≈ 0.42.
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let config = ValueConfig { hidden_widths: vec![64, 64], adam: AdamConfig::new(1e-3, 0.9) };
    let mut value = ValueNetwork::new(&config, 2, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let target = |s: &[f32]| -> Tensor {
        let v: Vec<f32> = s.chunks(2).map(|x| x[0] * x[0] - x[1]).collect();
        Tensor::from_vec(v, s.len() / 2, &Device::Cpu).unwrap()
    };
    for _ in 0..600 {
        let (obs, s) = uniform(&mut rng, BATCH, 2);
        value.update(&obs, &target(&s)).unwrap();
    }
    let (obs, s) = uniform(&mut rng, 256, 2);
    let mse = dime_critic::value_loss(&value.forward(&obs).unwrap(), &target(&s)).unwrap().to_scalar::<f32>().unwrap();
    eprintln!("value network: MSE {mse:.5}");
    // 1% of the variance.
    assert!(mse < 0.0042, "MSE {mse}");
}
