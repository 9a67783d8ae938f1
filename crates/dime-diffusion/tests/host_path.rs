//! The CPU fast path (`forward_host` / `host_gradients`) against the candle path: same values and
//! gradients up to float32 rounding, for every activation and with the output clip active;
//! bitwise determinism; typed errors for bad input.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{host, observations, random_policy, small_config};
use dime_diffusion::{DiffusionPolicy, FirstLayerForm, SamplerError, Tape};
use dime_nn::Activation;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const DIMS: (usize, usize) = (7, 3);
const BATCH: usize = 20;

fn policy_with(activation: Activation, output_clip: f64) -> DiffusionPolicy {
    let mut config = small_config(8, 48, FirstLayerForm::Hoisted);
    config.score_net.activation = activation;
    config.score_net.output_clip = output_clip;
    random_policy(config, DIMS, 11, DType::F32)
}

fn f32s(t: &Tensor) -> Vec<f32> {
    host(t).into_iter().map(|v| v as f32).collect()
}

/// Largest |a − b| over the tensor, relative to the largest |b| (floored at `floor`).
fn scaled_error(a: &[f32], b: &[f32], floor: f32) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(floor, |m, v| m.max(v.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / scale
}

/// A fixed linear loss `L = Σ a ⊙ W_a + Σ ℓ ⊙ c` whose upstream gradients are `W_a` and `c`.
fn upstream(seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let w = dime_nn::init::standard_normal(&mut rng, BATCH * DIMS.1);
    let c = dime_nn::init::standard_normal(&mut rng, BATCH).into_iter().map(|v| 0.1 * v).collect();
    (w, c)
}

#[test]
fn host_values_and_gradients_equal_the_candle_path() {
    for (activation, clip) in
        [(Activation::Gelu, 1e4), (Activation::Gelu, 0.3), (Activation::Relu, 1e4), (Activation::Mish, 1e4)]
    {
        let policy = policy_with(activation, clip);
        let obs = observations(BATCH, DIMS.0, 2, DType::F32);
        let noise = policy.draw_noise(&mut ChaCha8Rng::seed_from_u64(3), BATCH).unwrap();
        let reference = policy.sample(&obs, &noise).unwrap();
        let chain = policy.host_chain().unwrap();
        let mut tape = Tape::default();
        policy.forward_host(&chain, &f32s(&obs), &noise, true, &mut tape).unwrap();
        let label = format!("{activation:?} clip {clip}");
        for (what, got, expected) in [
            ("action", tape.action.clone(), f32s(&reference.action)),
            ("x_K", tape.final_state().to_vec(), f32s(reference.final_state())),
            ("ell_prior", tape.prior_log_prob.clone(), f32s(&reference.prior_log_prob)),
            ("ell_path", tape.path_log_ratio.clone(), f32s(&reference.path_log_ratio)),
            ("ell_tanh", tape.tanh_log_det.clone(), f32s(&reference.tanh_log_det)),
            ("ell", tape.log_prob_bound(), f32s(&reference.log_prob_bound().unwrap())),
        ] {
            let err = scaled_error(&got, &expected, 1.0);
            assert!(err < 2e-5, "{label} {what}: scaled error {err:e}");
        }

        let (w, c) = upstream(5);
        let loss = ((&reference.action * Tensor::from_vec(w.clone(), (BATCH, DIMS.1), &Device::Cpu).unwrap())
            .unwrap()
            .sum_all()
            .unwrap()
            + (reference.log_prob_bound().unwrap() * Tensor::from_vec(c.clone(), BATCH, &Device::Cpu).unwrap())
                .unwrap()
                .sum_all()
                .unwrap())
        .unwrap();
        let expected = dime_nn::host_gradients(policy.params(), &loss.backward().unwrap()).unwrap();
        let got = policy.host_gradients(&chain, &mut tape, &w, &c).unwrap();
        for ((name, _), (g, e)) in policy.params().iter().zip(got.iter().zip(&expected)) {
            let err = scaled_error(g, e, 1e-6);
            assert!(err < 1e-4, "{label} gradient of {name}: scaled error {err:e}");
        }
    }
}

#[test]
fn host_path_is_deterministic_and_keep_does_not_change_values() {
    let policy = policy_with(Activation::Gelu, 1e4);
    let obs = f32s(&observations(BATCH, DIMS.0, 2, DType::F32));
    let noise = policy.draw_noise(&mut ChaCha8Rng::seed_from_u64(3), BATCH).unwrap();
    let chain = policy.host_chain().unwrap();
    let (mut kept, mut again, mut light) = (Tape::default(), Tape::default(), Tape::default());
    policy.forward_host(&chain, &obs, &noise, true, &mut kept).unwrap();
    policy.forward_host(&chain, &obs, &noise, true, &mut again).unwrap();
    policy.forward_host(&chain, &obs, &noise, false, &mut light).unwrap();
    for tape in [&again, &light] {
        assert_eq!(tape.action, kept.action);
        assert_eq!(tape.log_prob_bound(), kept.log_prob_bound());
    }
    let (w, c) = upstream(5);
    let first = policy.host_gradients(&chain, &mut kept, &w, &c).unwrap();
    let second = policy.host_gradients(&chain, &mut again, &w, &c).unwrap();
    assert_eq!(first, second);
}

#[test]
fn host_path_rejects_bad_input_with_typed_errors() {
    let policy = policy_with(Activation::Gelu, 1e4);
    let chain = policy.host_chain().unwrap();
    let noise = policy.draw_noise(&mut ChaCha8Rng::seed_from_u64(3), BATCH).unwrap();
    let obs = f32s(&observations(BATCH, DIMS.0, 2, DType::F32));
    let mut tape = Tape::default();
    let wrong_width = policy.forward_host(&chain, &obs[..obs.len() - 1], &noise, true, &mut tape);
    assert!(matches!(wrong_width, Err(SamplerError::ObservationWidth { .. })), "{wrong_width:?}");
    let short_noise = policy.draw_noise(&mut ChaCha8Rng::seed_from_u64(3), BATCH - 1).unwrap();
    let mismatch = policy.forward_host(&chain, &obs, &short_noise, true, &mut tape);
    assert!(matches!(mismatch, Err(SamplerError::NoiseShape { .. })), "{mismatch:?}");
    let mut bad = obs.clone();
    bad[4] = f32::NAN;
    let non_finite = policy.forward_host(&chain, &bad, &noise, true, &mut tape);
    assert!(matches!(non_finite, Err(SamplerError::NonFinite(_))), "{non_finite:?}");
    policy.forward_host(&chain, &obs, &noise, false, &mut tape).unwrap();
    let (w, c) = upstream(5);
    let not_kept = policy.host_gradients(&chain, &mut tape, &w, &c);
    assert!(matches!(not_kept, Err(SamplerError::InvalidConfig(_))), "{not_kept:?}");
    policy.forward_host(&chain, &obs, &noise, true, &mut tape).unwrap();
    let wrong_upstream = policy.host_gradients(&chain, &mut tape, &w[1..], &c);
    assert!(matches!(wrong_upstream, Err(SamplerError::InvalidConfig(_))), "{wrong_upstream:?}");
}
