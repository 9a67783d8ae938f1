//! One denoising step per row (`DiffusionPolicy::step_log_probs`, `sample_step`) against the
//! whole chain: over a sampled chain's K steps the per-step log-ratios sum to its `ℓ_path`, rows
//! of mixed step indices give the same values as rows taken one step at a time, sampling a step
//! with the chain's noise reproduces the chain's next state, and gradients reach the step sizes.

use candle_core::{DType, Device, Tensor};
use dime_diffusion::{DiffusionPolicy, SamplerConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const OBS: usize = 5;
const ACT: usize = 3;
const BATCH: usize = 4;

fn setup() -> (DiffusionPolicy, Tensor, dime_diffusion::ChainNoise) {
    let mut config = SamplerConfig::paper();
    config.diffusion_steps = 6;
    config.score_net.hidden_width = 32;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let policy = DiffusionPolicy::new(config, OBS, ACT, &mut rng, DType::F64, &Device::Cpu).unwrap();
    let obs = Tensor::from_vec(dime_nn::init::standard_normal(&mut rng, BATCH * OBS), (BATCH, OBS), &Device::Cpu)
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap();
    let noise = policy.draw_noise(&mut rng, BATCH).unwrap();
    (policy, obs, noise)
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec1::<f64>().unwrap()
}

#[test]
fn per_step_log_ratios_sum_to_the_chain_path_term_and_sampling_reproduces_the_chain() {
    let (policy, obs, noise) = setup();
    let chain = policy.sample(&obs, &noise).unwrap();
    let k = chain.states.len() - 1;
    let mut sum = [0.0f64; BATCH];
    for step in 0..k {
        let (x, x_next) = (&chain.states[step], &chain.states[step + 1]);
        let steps = vec![step; BATCH];
        let lp = policy.step_log_probs(&obs, x, &steps, x_next).unwrap();
        sum.iter_mut().zip(values(&lp.log_ratio().unwrap())).for_each(|(s, v)| *s += v);
        let eps = noise.eps.get(step).unwrap();
        let (sampled, sampled_lp) = policy.sample_step(&obs, x, &steps, &eps).unwrap();
        let diff = (sampled - x_next).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert!(diff < 1e-12, "step {step}: sampled x_(k+1) differs by {diff}");
        for (a, b) in values(&sampled_lp.generative).iter().zip(values(&lp.generative)) {
            assert!((a - b).abs() < 1e-10);
        }
    }
    for (s, p) in sum.iter().zip(values(&chain.path_log_ratio)) {
        assert!((s - p).abs() < 1e-9 * p.abs().max(1.0), "Σ_k ℓ_k = {s}, ℓ_path = {p}");
    }
}

#[test]
fn rows_of_mixed_step_indices_equal_rows_taken_one_step_at_a_time() {
    let (policy, obs, noise) = setup();
    let chain = policy.sample(&obs, &noise).unwrap();
    // Row b at step b + 1.
    let steps: Vec<usize> = (0..BATCH).map(|b| b + 1).collect();
    let pick = |states: &[Tensor], offset: usize| {
        let rows: Vec<Tensor> = (0..BATCH).map(|b| states[steps[b] + offset].narrow(0, b, 1).unwrap()).collect();
        Tensor::cat(&rows, 0).unwrap()
    };
    let (x, x_next) = (pick(&chain.states, 0), pick(&chain.states, 1));
    let mixed = values(&policy.step_log_probs(&obs, &x, &steps, &x_next).unwrap().log_ratio().unwrap());
    for b in 0..BATCH {
        let one = |t: &Tensor| t.narrow(0, b, 1).unwrap();
        let single = policy.step_log_probs(&one(&obs), &one(&x), &[steps[b]], &one(&x_next)).unwrap();
        let v = values(&single.log_ratio().unwrap())[0];
        assert!((mixed[b] - v).abs() < 1e-10, "row {b}: {} vs {v}", mixed[b]);
    }
}

#[test]
fn gradients_reach_the_step_sizes_and_bad_indices_are_errors() {
    let (policy, obs, noise) = setup();
    let chain = policy.sample_detached(&obs, &noise).unwrap();
    let steps = vec![2; BATCH];
    let lp = policy.step_log_probs(&obs, &chain.states[2], &steps, &chain.states[3]).unwrap();
    let grads = lp.generative.sum_all().unwrap().backward().unwrap();
    for name in [dime_diffusion::STEP_SIZE_RAW, dime_diffusion::FRICTION_RAW] {
        let var = policy.params().get(name).unwrap();
        let g = grads.get(var.as_tensor()).expect("a gradient");
        assert!(g.abs().unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap() > 0.0, "{name}");
    }
    let k = policy.config().diffusion_steps;
    assert!(policy.step_log_probs(&obs, &chain.states[0], &[k; BATCH], &chain.states[1]).is_err());
    assert!(policy.step_log_probs(&obs, &chain.states[0], &[0], &chain.states[1]).is_err());
}
