//! The host chain split into parallel row blocks (two CPU threads) against the candle path, and
//! bitwise repeatable at a fixed thread count. Its own test binary because the thread count is
//! read from `RAYON_NUM_THREADS`, which is process-wide.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{host, observations, random_policy, small_config};
use dime_diffusion::{FirstLayerForm, Tape};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const DIMS: (usize, usize) = (5, 2);
const BATCH: usize = 70;

#[test]
fn two_row_blocks_give_the_candle_values_and_gradients() {
    std::env::set_var("RAYON_NUM_THREADS", "2");
    assert_eq!(dime_nn::cpu_threads(), 2);
    let policy = random_policy(small_config(6, 32, FirstLayerForm::Hoisted), DIMS, 4, DType::F32);
    let obs = observations(BATCH, DIMS.0, 5, DType::F32);
    let obs_host: Vec<f32> = host(&obs).into_iter().map(|v| v as f32).collect();
    let noise = policy.draw_noise(&mut ChaCha8Rng::seed_from_u64(6), BATCH).unwrap();
    let chain = policy.host_chain().unwrap();
    let mut tape = Tape::default();
    policy.forward_host(&chain, &obs_host, &noise, true, &mut tape).unwrap();

    let reference = policy.sample(&obs, &noise).unwrap();
    let expected_bound: Vec<f64> = host(&reference.log_prob_bound().unwrap());
    for (got, want) in tape.log_prob_bound().iter().zip(&expected_bound) {
        assert!((f64::from(*got) - want).abs() < 1e-4 * want.abs().max(1.0), "{got} vs {want}");
    }
    for (got, want) in tape.action.iter().zip(host(&reference.action)) {
        assert!((f64::from(*got) - want).abs() < 1e-5, "{got} vs {want}");
    }

    let d_action: Vec<f32> = (0..BATCH * DIMS.1).map(|i| ((i % 7) as f32 - 3.0) / 10.0).collect();
    let d_bound = vec![0.05f32; BATCH];
    let loss = ((&reference.action * Tensor::from_vec(d_action.clone(), (BATCH, DIMS.1), &Device::Cpu).unwrap())
        .unwrap()
        .sum_all()
        .unwrap()
        + (reference.log_prob_bound().unwrap() * 0.05).unwrap().sum_all().unwrap())
    .unwrap();
    let expected = dime_nn::host_gradients(policy.params(), &loss.backward().unwrap()).unwrap();
    let got = policy.host_gradients(&chain, &mut tape, &d_action, &d_bound).unwrap();
    for ((name, _), (g, e)) in policy.params().iter().zip(got.iter().zip(&expected)) {
        let scale = e.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
        let err = g.iter().zip(e).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max) / scale;
        assert!(err < 1e-4, "gradient of {name}: scaled error {err:e}");
    }
    let again = policy.host_gradients(&chain, &mut tape, &d_action, &d_bound).unwrap();
    assert_eq!(got, again, "same thread count, same gradients, bit for bit");
}

#[test]
fn one_pass_over_concatenated_batches_equals_one_pass_each_bitwise() {
    // The DIME agent samples the critic targets of consecutive minibatches in one pass: rows
    // are independent, so the values may not depend on which rows share a block.
    std::env::set_var("RAYON_NUM_THREADS", "2");
    let policy = random_policy(small_config(6, 32, FirstLayerForm::Hoisted), DIMS, 4, DType::F32);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let sizes = [BATCH, 64, 33];
    let noises: Vec<_> = sizes.iter().map(|&rows| policy.draw_noise(&mut rng, rows).unwrap()).collect();
    let obs: Vec<Vec<f32>> = sizes
        .iter()
        .zip(11..)
        .map(|(&rows, seed)| {
            host(&observations(rows, DIMS.0, seed, DType::F32)).into_iter().map(|v| v as f32).collect()
        })
        .collect();
    let chain = policy.host_chain().unwrap();
    let mut tape = Tape::default();
    let (mut actions, mut bounds) = (Vec::new(), Vec::new());
    for (obs, noise) in obs.iter().zip(&noises) {
        policy.forward_host(&chain, obs, noise, false, &mut tape).unwrap();
        actions.extend_from_slice(&tape.action);
        bounds.extend(tape.log_prob_bound());
    }
    let joint = dime_diffusion::ChainNoise::concat_rows(&noises).unwrap();
    policy.forward_host(&chain, &obs.concat(), &joint, false, &mut tape).unwrap();
    assert_eq!(tape.action, actions);
    assert_eq!(tape.log_prob_bound(), bounds);
    assert!(dime_diffusion::ChainNoise::concat_rows(&[]).is_err());
}
