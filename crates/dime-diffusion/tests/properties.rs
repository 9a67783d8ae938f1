//! Structural properties of the chain: hoisted = plain first layer, batched = per-sample,
//! determinism, typed errors for bad input, and the config's serde contract.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{host, max_abs_diff, observations, random_policy, small_config};
use dime_diffusion::{ChainNoise, DiffusionPolicy, FirstLayerForm, SamplerConfig, SamplerError};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const DIMS: (usize, usize) = (7, 3);

fn noise_for(policy: &DiffusionPolicy, batch: usize, seed: u64) -> ChainNoise {
    policy.draw_noise(&mut ChaCha8Rng::seed_from_u64(seed), batch).unwrap()
}

/// dime.md §10 requires the hoisted first layer to give the plain formulation's results at
/// float tolerance: values of every state and ℓ part, and gradients of a loss through the whole
/// chain for every parameter. In f64 the only difference is summation order (~1e-15 relative).
#[test]
fn hoisted_first_layer_equals_plain_formulation_in_values_and_gradients() {
    for (dtype, tol) in [(DType::F64, 1e-10), (DType::F32, 2e-4)] {
        let hoisted = random_policy(small_config(8, 32, FirstLayerForm::Hoisted), DIMS, 1, dtype);
        let plain = random_policy(small_config(8, 32, FirstLayerForm::Plain), DIMS, 1, dtype);
        let obs = observations(6, DIMS.0, 2, dtype);
        let noise = noise_for(&hoisted, 6, 3);
        let a = hoisted.sample(&obs, &noise).unwrap();
        let b = plain.sample(&obs, &noise).unwrap();
        for (sa, sb) in a.states.iter().zip(&b.states) {
            assert!(max_abs_diff(&host(sa), &host(sb)) < tol);
        }
        let (la, lb) = (a.log_prob_bound().unwrap(), b.log_prob_bound().unwrap());
        assert!(max_abs_diff(&host(&la), &host(&lb)) < tol * 10.0, "{dtype:?} ℓ");
        let loss = |l: &Tensor, act: &Tensor| (l.mean_all().unwrap() + act.sum_all().unwrap()).unwrap();
        let ga = loss(&la, &a.action).backward().unwrap();
        let gb = loss(&lb, &b.action).backward().unwrap();
        for (name, var) in hoisted.params().iter() {
            let other = plain.params().get(name).unwrap();
            let (x, y) = (host(ga.get(var).unwrap()), host(gb.get(other).unwrap()));
            let scale = y.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
            assert!(max_abs_diff(&x, &y) / scale < tol * 10.0, "{dtype:?} gradient of {name}");
        }
    }
}

/// Each row of a batched chain is the chain of that row alone (same noise rows).
#[test]
fn batched_chain_equals_per_sample_loop() {
    let policy = random_policy(small_config(6, 16, FirstLayerForm::Hoisted), DIMS, 4, DType::F32);
    let batch = 5;
    let obs = observations(batch, DIMS.0, 5, DType::F32);
    let noise = noise_for(&policy, batch, 6);
    let together = policy.sample(&obs, &noise).unwrap();
    let mut bitwise = true;
    for b in 0..batch {
        let single = policy.sample(&obs.narrow(0, b, 1).unwrap(), &noise.rows(b, 1).unwrap()).unwrap();
        let pairs = [
            (together.action.narrow(0, b, 1).unwrap(), single.action.clone()),
            (together.final_state().narrow(0, b, 1).unwrap(), single.final_state().clone()),
            (together.log_prob_bound().unwrap().narrow(0, b, 1).unwrap(), single.log_prob_bound().unwrap()),
            (together.path_log_ratio.narrow(0, b, 1).unwrap(), single.path_log_ratio.clone()),
        ];
        for (x, y) in pairs {
            let d = max_abs_diff(&host(&x), &host(&y));
            bitwise &= d == 0.0;
            assert!(d < 1e-5, "row {b}: {d}");
        }
    }
    eprintln!("batched vs per-sample bitwise identical: {bitwise}");
}

/// Same seed for init and noise → bitwise-identical parameters, samples and ℓ.
#[test]
fn same_seed_gives_bitwise_identical_samples() {
    let run = |seed: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let policy = DiffusionPolicy::new(SamplerConfig::paper(), 17, 6, &mut rng, DType::F32, &Device::Cpu).unwrap();
        let obs = observations(4, 17, seed + 1, DType::F32);
        let noise = policy.draw_noise(&mut rng, 4).unwrap();
        let chain = policy.sample_detached(&obs, &noise).unwrap();
        let params: Vec<f32> = policy.params().to_host().unwrap().into_iter().flat_map(|(_, v)| v).collect();
        let acted = policy.acting_policy().unwrap().act(&obs, &noise).unwrap();
        (params, host(&chain.action), host(&chain.log_prob_bound().unwrap()), host(&acted))
    };
    let (a, b) = (run(11), run(11));
    assert_eq!(
        a.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        b.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    assert_eq!(a.1, b.1);
    assert_eq!(a.2, b.2);
    assert_eq!(a.3, b.3);
    assert_eq!(a.1, a.3, "acting path and detached sampling give the same actions");
    assert_ne!(a.1, run(12).1, "a different seed changes the sample");
}

#[test]
fn detached_sampling_equals_sampling_with_gradient() {
    let policy = random_policy(small_config(5, 16, FirstLayerForm::Hoisted), DIMS, 7, DType::F32);
    let obs = observations(3, DIMS.0, 8, DType::F32);
    let noise = noise_for(&policy, 3, 9);
    let a = policy.sample(&obs, &noise).unwrap();
    let b = policy.sample_detached(&obs, &noise).unwrap();
    assert_eq!(host(&a.action), host(&b.action));
    assert_eq!(host(&a.log_prob_bound().unwrap()), host(&b.log_prob_bound().unwrap()));
}

#[test]
fn bad_input_gives_typed_errors() {
    let policy = random_policy(small_config(4, 8, FirstLayerForm::Hoisted), DIMS, 1, DType::F32);
    let noise = noise_for(&policy, 2, 1);
    let wrong_width = observations(2, DIMS.0 + 1, 1, DType::F32);
    assert!(matches!(policy.sample(&wrong_width, &noise), Err(SamplerError::ObservationWidth { expected: 7, .. })));
    let flat = Tensor::zeros(DIMS.0, DType::F32, &Device::Cpu).unwrap();
    assert!(matches!(policy.sample(&flat, &noise), Err(SamplerError::ObservationWidth { .. })));
    let mut values = vec![0.0f32; 2 * DIMS.0];
    values[3] = f32::NAN;
    let nan_obs = Tensor::from_vec(values, (2, DIMS.0), &Device::Cpu).unwrap();
    assert!(matches!(policy.sample(&nan_obs, &noise), Err(SamplerError::NonFinite("observation"))));
    let obs = observations(2, DIMS.0, 1, DType::F32);
    let inf_noise = ChainNoise { x0: (noise.x0.clone() / 0.0).unwrap(), eps: noise.eps.clone() };
    assert!(matches!(policy.sample(&obs, &inf_noise), Err(SamplerError::NonFinite(_))));
    let short = noise.rows(0, 1).unwrap();
    assert!(matches!(policy.sample(&obs, &short), Err(SamplerError::NoiseShape { .. })));
    let acting = policy.acting_policy().unwrap();
    assert!(matches!(
        acting.act_one(&[0.0; 3], &mut ChaCha8Rng::seed_from_u64(0)),
        Err(SamplerError::ObservationWidth { .. })
    ));

    let mut config = SamplerConfig::paper();
    config.diffusion_steps = 0;
    let built = DiffusionPolicy::new(config, 3, 2, &mut ChaCha8Rng::seed_from_u64(0), DType::F32, &Device::Cpu);
    assert!(matches!(built, Err(SamplerError::ZeroSteps)));
    let mut config = SamplerConfig::paper();
    config.prior_std = f64::NAN;
    assert!(matches!(config.validate(), Err(SamplerError::InvalidConfig(_))));
}

#[test]
fn config_round_trips_through_serde_and_rejects_unknown_fields() {
    let paper = SamplerConfig::paper();
    let json = serde_json::to_string(&paper).unwrap();
    assert_eq!(serde_json::from_str::<SamplerConfig>(&json).unwrap(), paper);
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["diffusion_stepz"] = 3.into();
    assert!(serde_json::from_value::<SamplerConfig>(value).is_err());
    assert_eq!(paper.diffusion_steps, 16);
    assert_eq!(paper.score_net.hidden_width, 256);
    assert_eq!(paper.score_net.fourier_frequencies, 256);
}

/// The single-observation host path computes the batched chain's mathematics (hoisted form)
/// in another summation order: same actions to float32 rounding, for both first-layer forms.
#[test]
fn host_acting_path_matches_batched_chain() {
    for form in [FirstLayerForm::Hoisted, FirstLayerForm::Plain] {
        let policy = random_policy(small_config(8, 32, form), DIMS, 41, DType::F32);
        let acting = policy.acting_policy().unwrap();
        let obs = observations(1, DIMS.0, 42, DType::F32);
        let mut rng = ChaCha8Rng::seed_from_u64(43);
        let x0: Vec<f32> = dime_nn::init::standard_normal(&mut rng, DIMS.1).iter().map(|e| 2.5 * e).collect();
        let eps = dime_nn::init::standard_normal(&mut rng, 8 * DIMS.1);
        let obs_host = obs.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let one = acting.act_one_with_noise(&obs_host, &x0, &eps).unwrap();
        let noise = dime_diffusion::single_noise(&x0, &eps, 8).unwrap();
        let batched = host(&policy.sample_detached(&obs, &noise).unwrap().action);
        let one: Vec<f64> = one.iter().map(|&v| v as f64).collect();
        assert!(max_abs_diff(&one, &batched) < 1e-5, "{form:?}: {one:?} vs {batched:?}");
        let again = acting.act_one(&obs_host, &mut ChaCha8Rng::seed_from_u64(44)).unwrap();
        assert_eq!(again, acting.act_one(&obs_host, &mut ChaCha8Rng::seed_from_u64(44)).unwrap());
    }
}
