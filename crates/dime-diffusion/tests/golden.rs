//! Agreement with the official DIME implementation.
//!
//! Expected values: `tests/data/dime_reference.json.gz` (a copy of the shared golden file; see
//! `tests/data/README.md`), `sampler_cases[*]`: the official JAX code's chain on fixed
//! parameters (width-16 score network, every array randomised) and recorded noise, in float32.
//! Tolerances are the golden README's "expected agreement of a correct float32 port":
//! x_k and the action within 1e-6, ℓ and its parts within 1e-5, gradients within 1e-4 relative.
//! Both first-layer forms are checked (hoisted is the default, plain is the reference form).

use std::io::Read;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use dime_diffusion::{
    ChainNoise, DiffusionPolicy, FirstLayerForm, OutputInit, SamplerConfig, ScoreNetConfig, FRICTION_RAW, STEP_SIZE_RAW,
};
use dime_nn::Activation;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

fn load_reference() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dime_reference.json.gz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("golden data missing: looked for {} ({e})", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).expect("gzip JSON");
    serde_json::from_str(&text).expect("valid JSON")
}

fn values(v: &Value) -> Vec<f32> {
    let data = if v.get("data").is_some() { &v["data"] } else { v };
    data.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn shape(v: &Value) -> Vec<usize> {
    v["shape"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap() as usize).collect()
}

fn tensor(v: &Value) -> Tensor {
    Tensor::from_vec(values(v), shape(v), &Device::Cpu).unwrap()
}

fn host(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// The sampler of the reference cases: paper defaults with a width-16 network, where 16 is
/// also the number of Fourier frequencies and the time-encoder width.
fn reference_config(form: FirstLayerForm) -> SamplerConfig {
    let mut config = SamplerConfig::paper();
    config.score_net = ScoreNetConfig {
        hidden_width: 16,
        hidden_layers: 3,
        activation: Activation::Gelu,
        fourier_frequencies: 16,
        fourier_min_frequency: 0.1,
        fourier_max_frequency: 100.0,
        time_encoder_width: 16,
        output_init: OutputInit::Constant { value: 1e-8 },
        output_clip: 1e4,
    };
    config.first_layer = form;
    config
}

/// Reference parameter path → our parameter name(s). The first main-layer kernel `[d+o+T, H]`
/// maps to three row blocks (action 0..3, observation 3..8, time 8..24).
const NAME_MAP: &[(&str, &str)] = &[
    ("params/fwd_params/params/timestep_phase", "score.fourier_phase"),
    ("params/fwd_params/params/time_coder_state/layers_0/kernel", "score.time_encoder.0.weight"),
    ("params/fwd_params/params/time_coder_state/layers_0/bias", "score.time_encoder.0.bias"),
    ("params/fwd_params/params/time_coder_state/layers_2/kernel", "score.time_encoder.1.weight"),
    ("params/fwd_params/params/time_coder_state/layers_2/bias", "score.time_encoder.1.bias"),
    ("params/fwd_params/params/state_time_net/layers_0/layers_0/bias", "score.main.0.bias"),
    ("params/fwd_params/params/state_time_net/layers_1/layers_0/kernel", "score.main.1.weight"),
    ("params/fwd_params/params/state_time_net/layers_1/layers_0/bias", "score.main.1.bias"),
    ("params/fwd_params/params/state_time_net/layers_2/layers_0/kernel", "score.main.2.weight"),
    ("params/fwd_params/params/state_time_net/layers_2/layers_0/bias", "score.main.2.bias"),
    ("params/fwd_params/params/state_time_net/layers_3/kernel", "score.output.weight"),
    ("params/fwd_params/params/state_time_net/layers_3/bias", "score.output.bias"),
    ("params/dt", STEP_SIZE_RAW),
    ("params/friction", FRICTION_RAW),
];
const FIRST_KERNEL: &str = "params/fwd_params/params/state_time_net/layers_0/layers_0/kernel";
const FIRST_BLOCKS: [(&str, usize, usize); 3] =
    [("score.main.0.weight_action", 0, 3), ("score.main.0.weight_obs", 3, 5), ("score.main.0.weight_time", 8, 16)];

fn build_policy(case: &Value, form: FirstLayerForm) -> DiffusionPolicy {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut policy = DiffusionPolicy::new(reference_config(form), 5, 3, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let params: Vec<&Value> = case["params"].as_array().unwrap().iter().collect();
    let find = |path: &str| *params.iter().find(|p| p["path"] == path).unwrap_or_else(|| panic!("no {path}"));
    for (path, name) in NAME_MAP {
        let target = policy.params().get(name).unwrap().dims().to_vec();
        let value = Tensor::from_vec(values(find(path)), target, &Device::Cpu).unwrap();
        policy.params().set(name, &value).unwrap();
    }
    let kernel = Tensor::from_vec(values(find(FIRST_KERNEL)), (24, 16), &Device::Cpu).unwrap();
    for (name, start, len) in FIRST_BLOCKS {
        policy.params().set(name, &kernel.narrow(0, start, len).unwrap()).unwrap();
    }
    let coefficients = values(&case["constants"]["timestep_coeff"]).iter().map(|&c| c as f64).collect();
    policy.set_fourier_frequencies(coefficients);
    policy
}

fn assert_close(what: &str, got: &[f32], expected: &[f32], tol: f32) -> f32 {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    let worst = got.iter().zip(expected).map(|(g, e)| (g - e).abs()).fold(0.0f32, f32::max);
    eprintln!("{what}: max abs error {worst:.3e}");
    assert!(worst <= tol, "{what}: max abs error {worst:e} > {tol:e}\n got {got:?}\n expected {expected:?}");
    worst
}

fn assert_relative(what: &str, got: &[f32], expected: &[f32], tol: f32) {
    let worst = got.iter().zip(expected).map(|(g, e)| (g - e).abs() / e.abs()).fold(0.0f32, f32::max);
    eprintln!("{what}: max relative error {worst:.3e}");
    assert!(worst <= tol, "{what}: max relative error {worst:e} > {tol:e}");
}

/// Relative check per parameter tensor: every entry within 1e-4 of the expected value relative
/// to the tensor's largest expected magnitude (an entry-wise relative test would demand
/// impossible precision of entries that are 1e-6 of their neighbours).
fn assert_grad_close(what: &str, got: &[f32], expected: &[f32]) {
    let scale = expected.iter().fold(0.0f32, |m, e| m.max(e.abs())).max(1e-12);
    let worst = got.iter().zip(expected).map(|(g, e)| (g - e).abs()).fold(0.0f32, f32::max) / scale;
    eprintln!("{what}: max relative error {worst:.3e}");
    assert!(worst <= 1e-4, "{what}: relative error {worst:e}\n got {got:?}\n expected {expected:?}");
}

fn check_gradients(case: &Value, policy: &DiffusionPolicy, loss: &Tensor, which: &str) {
    let grads = loss.backward().unwrap();
    let expected = &case["gradients"][which];
    let grad_of = |name: &str| host(grads.get(policy.params().get(name).unwrap()).unwrap());
    for (path, name) in NAME_MAP {
        assert_grad_close(&format!("{which} {name}"), &grad_of(name), &values(&expected[*path]));
    }
    let first: Vec<f32> = FIRST_BLOCKS.iter().flat_map(|(name, _, _)| grad_of(name)).collect();
    assert_grad_close(&format!("{which} first kernel"), &first, &values(&expected[FIRST_KERNEL]));
}

fn check_case(index: usize, form: FirstLayerForm) {
    let reference = load_reference();
    let case = &reference["sampler_cases"][index];
    let policy = build_policy(case, form);
    let inputs = &case["inputs"];
    let obs = tensor(&inputs["obs"]);
    let noise = ChainNoise { x0: tensor(&inputs["x0"]), eps: tensor(&inputs["eps"]) };
    let out = &case["outputs"];
    let label = format!("case {index} {form:?}");

    // Step sizes (diagnostic values `per_step.eta`/`scale`): the reference's float32 cosine
    // schedule (XLA's cos) differs from the correctly rounded c(k) by up to 6e-7 relative
    // (checked with NumPy against `per_step.c_k`); η and ς inherit that, so 1e-6 relative.
    let steps = policy.step_sizes().unwrap();
    let per_step = &case["per_step"];
    assert_relative(&format!("{label} eta"), &host(&steps.eta), &values(&per_step["eta"]), 1e-6);
    assert_relative(&format!("{label} scale"), &host(&steps.scale), &values(&per_step["scale"]), 1e-6);

    let chain = policy.sample(&obs, &noise).unwrap();
    let x_expected = values(&out["x"]);
    for (k, state) in chain.states.iter().enumerate() {
        assert_close(&format!("{label} x_{k}"), &host(state), &x_expected[k * 12..(k + 1) * 12], 1e-6);
    }
    assert_close(&format!("{label} action"), &host(&chain.action), &values(&out["action"]), 1e-6);
    assert_close(&format!("{label} ell_prior"), &host(&chain.prior_log_prob), &values(&out["ell_prior"]), 1e-5);
    assert_close(&format!("{label} ell_path"), &host(&chain.path_log_ratio), &values(&out["ell_path"]), 1e-5);
    assert_close(&format!("{label} ell_tanh"), &host(&chain.tanh_log_det), &values(&out["ell_tanh"]), 1e-5);
    assert_close(
        &format!("{label} running"),
        &host(&chain.running_cost().unwrap()),
        &values(&out["running_cost"]),
        1e-5,
    );
    let ell = chain.log_prob_bound().unwrap();
    assert_close(&format!("{label} ell"), &host(&ell), &values(&out["ell"]), 1e-5);

    check_gradients(case, &policy, &ell.mean_all().unwrap(), "d_mean_ell");
    let chain = policy.sample(&obs, &noise).unwrap();
    let mean_sum_action = (chain.action.sum_all().unwrap() / 4.0).unwrap();
    check_gradients(case, &policy, &mean_sum_action, "d_mean_sum_action");
}

#[test]
fn default_dt_friction_case_matches_reference_hoisted() {
    check_case(0, FirstLayerForm::Hoisted);
}

#[test]
fn moved_dt_friction_case_matches_reference_hoisted() {
    check_case(1, FirstLayerForm::Hoisted);
}

#[test]
fn both_cases_match_reference_plain_first_layer() {
    check_case(0, FirstLayerForm::Plain);
    check_case(1, FirstLayerForm::Plain);
}

#[test]
fn acting_path_reproduces_reference_actions_and_bound() {
    let reference = load_reference();
    for index in 0..2 {
        let case = &reference["sampler_cases"][index];
        let acting = build_policy(case, FirstLayerForm::Hoisted).acting_policy().unwrap();
        let inputs = &case["inputs"];
        let noise = ChainNoise { x0: tensor(&inputs["x0"]), eps: tensor(&inputs["eps"]) };
        let obs = tensor(&inputs["obs"]);
        let action = acting.act(&obs, &noise).unwrap();
        assert_close("acting action", &host(&action), &values(&case["outputs"]["action"]), 1e-6);
        let chain = acting.sample(&obs, &noise).unwrap();
        assert_close("acting ell", &host(&chain.log_prob_bound().unwrap()), &values(&case["outputs"]["ell"]), 1e-5);
    }
}

/// The CPU fast path ([`DiffusionPolicy::forward_host`], [`DiffusionPolicy::host_gradients`])
/// against the same reference values and tolerances.
#[test]
fn host_path_matches_reference_values_and_gradients() {
    let reference = load_reference();
    for index in 0..2 {
        let case = &reference["sampler_cases"][index];
        let policy = build_policy(case, FirstLayerForm::Hoisted);
        let inputs = &case["inputs"];
        let noise = ChainNoise { x0: tensor(&inputs["x0"]), eps: tensor(&inputs["eps"]) };
        let obs = values(&inputs["obs"]);
        let out = &case["outputs"];
        let label = format!("host case {index}");
        let chain = policy.host_chain().unwrap();
        let mut tape = dime_diffusion::Tape::default();
        policy.forward_host(&chain, &obs, &noise, true, &mut tape).unwrap();
        let batch = tape.batch();
        assert_close(&format!("{label} action"), &tape.action, &values(&out["action"]), 1e-6);
        let x_final = &values(&out["x"])[16 * 12..17 * 12];
        assert_close(&format!("{label} x_K"), tape.final_state(), x_final, 1e-6);
        assert_close(&format!("{label} ell_prior"), &tape.prior_log_prob, &values(&out["ell_prior"]), 1e-5);
        assert_close(&format!("{label} ell_path"), &tape.path_log_ratio, &values(&out["ell_path"]), 1e-5);
        assert_close(&format!("{label} ell_tanh"), &tape.tanh_log_det, &values(&out["ell_tanh"]), 1e-5);
        assert_close(&format!("{label} ell"), &tape.log_prob_bound(), &values(&out["ell"]), 1e-5);

        let names = policy.params().names();
        let check = |grads: &[Vec<f32>], which: &str| {
            let expected = &case["gradients"][which];
            let grad_of = |name: &str| grads[names.iter().position(|n| n == name).unwrap()].clone();
            for (path, name) in NAME_MAP {
                assert_grad_close(&format!("{label} {which} {name}"), &grad_of(name), &values(&expected[*path]));
            }
            let first: Vec<f32> = FIRST_BLOCKS.iter().flat_map(|(name, _, _)| grad_of(name)).collect();
            assert_grad_close(&format!("{label} {which} first kernel"), &first, &values(&expected[FIRST_KERNEL]));
        };
        let (zero_action, zero_bound) = (vec![0.0f32; batch * 3], vec![0.0f32; batch]);
        let mean_ell = vec![1.0 / batch as f32; batch];
        check(&policy.host_gradients(&chain, &mut tape, &zero_action, &mean_ell).unwrap(), "d_mean_ell");
        let mean_sum_action = vec![1.0 / batch as f32; batch * 3];
        check(&policy.host_gradients(&chain, &mut tape, &mean_sum_action, &zero_bound).unwrap(), "d_mean_sum_action");
    }
}
