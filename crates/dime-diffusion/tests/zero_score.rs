//! With the score network's output forced to zero every kernel is linear-Gaussian, so the chain
//! has closed-form marginals and an exactly computable entropy to test the bound against.
//!
//! Derivation (dime.md §2.3). With f_θ ≡ 0, per dimension i and step k,
//! `x_{k+1} = (1 − η_k/σ0²)·x_k + ς_k·ε_k` with `ς_k² = 2η_k` and ε_k ⟂ x_k, so with
//! `a_k = 1 − η_k/σ0²`:
//!   mean `m_{k+1} = a_k·m_k`, variance `v_{k+1} = a_k²·v_k + 2η_k`.
//! x_K is Gaussian whenever x_0 is, so these two numbers are its whole law.
//!
//! Entropy (of the **tanh-squashed** marginal, the policy's actual action distribution):
//! `a = tanh(x_K)` coordinate-wise, so `H(a) = H(x_K) + E[log|det ∂a/∂x|]
//! = Σ_i [½·log(2πe·v_K,i) − E_{x∼N(0, v_K,i)}(−log(1 − tanh²x))]`. The second term is a 1-D
//! integral per dimension, computed here by the trapezoid rule on ±12 std with 40 001 points
//! (error far below the Monte-Carlo error). dime.md §3: `E[ℓ] ≥ E[log π(a|s)]`, i.e.
//! `−E[ℓ] ≤ H(a)`, the gap being the expected KL between the chain's posterior path and q.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{host, observations, random_policy, small_config};
use dime_diffusion::{ChainNoise, DiffusionPolicy, FirstLayerForm, FRICTION_RAW, STEP_SIZE_RAW};
use dime_nn::inverse_softplus;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const SAMPLES: usize = 20_000;

/// A policy whose score network outputs exactly zero: output kernel and bias set to 0.
/// Step size 0.5 and frictions softplus(−0.5), softplus(0.8) make η differ per dimension.
fn zero_score_policy() -> DiffusionPolicy {
    let policy = random_policy(small_config(16, 8, FirstLayerForm::Hoisted), (3, 2), 31, DType::F64);
    let p = policy.params();
    let zero = |name: &str| Tensor::zeros(p.get(name).unwrap().dims(), DType::F64, &Device::Cpu).unwrap();
    p.set("score.output.weight", &zero("score.output.weight")).unwrap();
    p.set("score.output.bias", &zero("score.output.bias")).unwrap();
    p.set(STEP_SIZE_RAW, &Tensor::new(&[inverse_softplus(0.5)], &Device::Cpu).unwrap()).unwrap();
    p.set(FRICTION_RAW, &Tensor::new(&[-0.5f64, 0.8], &Device::Cpu).unwrap()).unwrap();
    policy
}

/// The recursion above: `(m_k, v_k)` for k = 0..K per dimension, from `(m_0, v_0)`.
fn moment_recursion(policy: &DiffusionPolicy, m0: [f64; 2], v0: [f64; 2]) -> Vec<([f64; 2], [f64; 2])> {
    let eta = policy.step_sizes().unwrap().eta.to_vec2::<f64>().unwrap();
    let prior_var = policy.config().prior_std.powi(2);
    let mut out = vec![(m0, v0)];
    for eta_k in eta {
        let (m, v) = *out.last().unwrap();
        let a = [1.0 - eta_k[0] / prior_var, 1.0 - eta_k[1] / prior_var];
        out.push((
            [a[0] * m[0], a[1] * m[1]],
            [a[0] * a[0] * v[0] + 2.0 * eta_k[0], a[1] * a[1] * v[1] + 2.0 * eta_k[1]],
        ));
    }
    out
}

fn column_moments(t: &Tensor) -> ([f64; 2], [f64; 2]) {
    let rows = t.to_vec2::<f64>().unwrap();
    let n = rows.len() as f64;
    let mut mean = [0.0; 2];
    let mut var = [0.0; 2];
    for i in 0..2 {
        mean[i] = rows.iter().map(|r| r[i]).sum::<f64>() / n;
        var[i] = rows.iter().map(|r| (r[i] - mean[i]).powi(2)).sum::<f64>() / (n - 1.0);
    }
    (mean, var)
}

/// Sample moments of every x_k match the recursion, from a start far from the prior
/// (x_0 ∼ N((1.5, −0.5), diag(0.3², 0.6²))), so both the mean decay and the variance growth
/// are exercised. Tolerances: 4 standard errors (mean: √(v/N); variance: v·√(2/N)).
#[test]
fn sample_moments_follow_the_linear_gaussian_recursion() {
    let policy = zero_score_policy();
    let obs = observations(SAMPLES, 3, 32, DType::F64);
    let noise = policy.draw_noise(&mut ChaCha8Rng::seed_from_u64(33), SAMPLES).unwrap();
    let (m0, s0) = ([1.5, -0.5], [0.3, 0.6]);
    let z = policy.draw_noise(&mut ChaCha8Rng::seed_from_u64(34), SAMPLES).unwrap().x0;
    let z = (z / policy.config().prior_std).unwrap();
    let shift = Tensor::new(&[m0], &Device::Cpu).unwrap();
    let scale = Tensor::new(&[s0], &Device::Cpu).unwrap();
    let x0 = z.broadcast_mul(&scale).unwrap().broadcast_add(&shift).unwrap();
    let chain = policy.sample_detached(&obs, &ChainNoise { x0, eps: noise.eps }).unwrap();
    let expected = moment_recursion(&policy, m0, [s0[0] * s0[0], s0[1] * s0[1]]);
    let n = SAMPLES as f64;
    for (k, (state, (m, v))) in chain.states.iter().zip(&expected).enumerate() {
        let (mean, var) = column_moments(state);
        for i in 0..2 {
            let mean_se = (v[i] / n).sqrt();
            let var_se = v[i] * (2.0 / n).sqrt();
            assert!((mean[i] - m[i]).abs() < 4.0 * mean_se, "k={k} i={i}: mean {} vs {}", mean[i], m[i]);
            assert!((var[i] - v[i]).abs() < 4.0 * var_se, "k={k} i={i}: var {} vs {}", var[i], v[i]);
        }
    }
    let (m_final, v_final) = expected[16];
    eprintln!("x_K law from the recursion: mean {m_final:?}, variance {v_final:?}");
}

/// E_{x∼N(0,v)}[−log(1 − tanh²x)] by the trapezoid rule on ±12 std.
fn expected_tanh_penalty(v: f64) -> f64 {
    let std = v.sqrt();
    let points = 40_001;
    let (lo, hi) = (-12.0 * std, 12.0 * std);
    let h = (hi - lo) / (points - 1) as f64;
    let mut total = 0.0;
    for j in 0..points {
        let x: f64 = lo + h * j as f64;
        let density = (-0.5 * x * x / v).exp() / (2.0 * std::f64::consts::PI * v).sqrt();
        let softplus = (-2.0 * x).max(0.0) + (-(2.0 * x).abs()).exp().ln_1p();
        let penalty = -2.0 * (std::f64::consts::LN_2 - x - softplus);
        let weight = if j == 0 || j == points - 1 { 0.5 } else { 1.0 };
        total += weight * density * penalty;
    }
    total * h
}

/// −E[ℓ] (Monte Carlo, prior start) does not exceed the exact entropy of the tanh-squashed
/// marginal beyond 3 Monte-Carlo standard errors.
#[test]
fn monte_carlo_bound_does_not_exceed_exact_entropy() {
    let policy = zero_score_policy();
    let obs = observations(SAMPLES, 3, 35, DType::F64);
    let noise = policy.draw_noise(&mut ChaCha8Rng::seed_from_u64(36), SAMPLES).unwrap();
    let chain = policy.sample_detached(&obs, &noise).unwrap();
    let ell = host(&chain.log_prob_bound().unwrap());
    let n = ell.len() as f64;
    let mean = ell.iter().sum::<f64>() / n;
    let std_error = (ell.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
    let sigma0_sq = policy.config().prior_std.powi(2);
    let (_, v_final) = moment_recursion(&policy, [0.0; 2], [sigma0_sq; 2])[16];
    let two_pi_e = 2.0 * std::f64::consts::PI * std::f64::consts::E;
    let exact_entropy: f64 = v_final.iter().map(|&v| 0.5 * (two_pi_e * v).ln() - expected_tanh_penalty(v)).sum();
    let bound = -mean;
    eprintln!(
        "exact H(tanh x_K) = {exact_entropy:.5}, −E[ℓ] = {bound:.5} ± {std_error:.5}, gap {:.5}",
        exact_entropy - bound
    );
    assert!(bound <= exact_entropy + 3.0 * std_error, "bound {bound} exceeds entropy {exact_entropy}");
}
