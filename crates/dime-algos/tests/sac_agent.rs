//! The SAC agent in the training loop (smoke preset, Pendulum): update counts, determinism, exact
//! resume through checkpoints, deterministic evaluation, bad configs, and its loss functions.

mod common;

use common::{metrics_without_wall_time, trainer, TASK};

use std::sync::atomic::AtomicBool;

use candle_core::{Device, Tensor};
use dime_algos::run::{AgentConfig, Algo, RunConfig};
use dime_algos::sac::{
    actor_loss, tanh_gaussian_log_prob, temperature_gradient, EntropyCoef, SacAgent, SacConfig, TanhGaussianActor,
};
use dime_algos::{ActMode, Agent, AlgoError, Silent, Streams};
use dime_critic::ForwardMode;
use dime_envs::EnvConfig;
use dime_nn::ParamStore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn agent_with(cfg: SacConfig, seed: u64) -> Result<SacAgent, AlgoError> {
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    let mut init = Streams::new(seed).init;
    SacAgent::new(cfg, spec.obs_dim, spec.act_dim, &mut init)
}

fn agent(seed: u64) -> SacAgent {
    agent_with(SacConfig::smoke(), seed).unwrap()
}

fn checksum(store: &ParamStore) -> Vec<u32> {
    common::params_checksum(&[store])
}

/// Actor, critic and target critic parameters.
fn parameter_checksum(agent: &SacAgent) -> Vec<u32> {
    let mut bits = checksum(agent.actor().params());
    bits.extend(checksum(agent.critic().params()));
    bits.extend(checksum(agent.critic().target_params().expect("SAC has targets")));
    bits
}

#[test]
fn update_counts_follow_utd_1_and_the_compensated_policy_delay() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    let initial_target = checksum(a.critic().target_params().unwrap());
    trainer(&mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // Updates after env steps 101..=300: 200 env steps × 1 critic update.
    assert_eq!(a.critic_updates(), 200);
    // CleanRL's policy_frequency 2: after critic updates 2, 4, …, 200 (100 times), 2 actor updates each.
    assert_eq!(a.actor_updates(), 200);
    assert_eq!(a.temperature_updates(), 200);
    // The Polyak targets moved, but stay distinct from the online critic (τ = 0.005).
    let target = checksum(a.critic().target_params().unwrap());
    assert_ne!(target, initial_target);
    assert_ne!(target, checksum(a.critic().params()));
    // Three evaluation rows with every metric present once the actor has been updated.
    let rows = metrics_without_wall_time(dir.path());
    assert_eq!(rows.len(), 4);
    assert!(rows[0].ends_with("critic_loss,mean_q,actor_loss,alpha,entropy"), "{}", rows[0]);
    assert!(!rows[3].contains("NaN"), "{}", rows[3]);
    // Auto-α moved away from its initial 1.0.
    assert_ne!(a.alpha().unwrap(), 1.0);
}

#[test]
fn same_seed_gives_identical_runs_and_another_seed_differs() {
    common::assert_seeded_runs(&common::loop_cfg(), agent, parameter_checksum);
}

#[test]
fn an_interrupted_run_resumes_exactly() {
    // Stop at an odd critic-update count (123), between the two halves of a policy period; a
    // fresh agent with another init seed resumes: everything must come from the checkpoint.
    let (reference, second) = common::assert_resumes_exactly(&common::loop_cfg(), 223, agent, parameter_checksum);
    assert_eq!(reference.alpha().unwrap().to_bits(), second.alpha().unwrap().to_bits());
    assert_eq!(reference.actor_updates(), second.actor_updates());
}

#[test]
fn a_checkpoint_missing_its_arrays_is_refused_with_the_file_name() {
    let a = agent(4);
    let mut files = a.save().unwrap();
    files.remove("sac.safetensors");
    let err = agent(5).load(&files).unwrap_err();
    assert!(err.to_string().contains("sac.safetensors"), "{err}");
}

#[test]
fn eval_mode_is_the_deterministic_tanh_of_the_mean() {
    let cfg = SacConfig::smoke();
    let mut actor = TanhGaussianActor::new(cfg.actor, 3, 1, &mut ChaCha8Rng::seed_from_u64(6)).unwrap();
    let obs = [0.3f32, -0.8, 1.5];
    let x = actor.act_one(&obs, ActMode::Eval, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
    let y = actor.act_one(&obs, ActMode::Eval, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
    assert_eq!(x, y, "evaluation draws no noise");
    let (mean, _) = actor.heads(&Tensor::from_slice(&obs, (1, 3), &Device::Cpu).unwrap(), ForwardMode::Eval).unwrap();
    assert_eq!(x, mean.tanh().unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap());
    // Exploration samples: different streams give different actions, the same stream the same.
    let y = actor.act_one(&obs, ActMode::Explore, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
    let z = actor.act_one(&obs, ActMode::Explore, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
    assert_ne!(y, z);
    assert_eq!(y, actor.act_one(&obs, ActMode::Explore, &mut ChaCha8Rng::seed_from_u64(1)).unwrap());
    // Through the agent too.
    let mut a = agent(6);
    let (mut p, mut q) = (vec![0.0; 1], vec![0.0; 1]);
    a.act(&obs, ActMode::Eval, &mut ChaCha8Rng::seed_from_u64(1), &mut p).unwrap();
    a.act(&obs, ActMode::Eval, &mut ChaCha8Rng::seed_from_u64(2), &mut q).unwrap();
    assert_eq!(p, q);
}

#[test]
fn bad_configs_are_errors() {
    let mut cfg = SacConfig::smoke();
    cfg.batch_size = 0;
    assert!(matches!(agent_with(cfg, 0), Err(AlgoError::Config(_))));
    let mut cfg = SacConfig::smoke();
    cfg.entropy_coef = EntropyCoef::Fixed(-0.1);
    assert!(matches!(agent_with(cfg, 0), Err(AlgoError::Config(_))));
    let mut cfg = SacConfig::smoke();
    cfg.gamma = 1.0;
    assert!(matches!(agent_with(cfg, 0), Err(AlgoError::Config(_))));
    let err = RunConfig::from_preset(Algo::Sac, "paper_gym", TASK, 0, 100).unwrap_err();
    assert!(err.to_string().contains("unknown preset `paper_gym` for sac"), "{err}");
}

#[test]
fn sac_runs_are_configured_by_preset_and_round_trip_through_toml() {
    assert_eq!(Algo::parse("sac").unwrap(), Algo::Sac);
    let run = RunConfig::from_preset(Algo::Sac, "cpu", TASK, 7, 1000).unwrap();
    assert_eq!(run.algo(), Algo::Sac);
    let AgentConfig::Sac(cfg) = &run.agent else { panic!("sac config") };
    assert_eq!((cfg.batch_size, cfg.updates_per_step, cfg.critic.hidden_widths.clone()), (256, 1, vec![256, 256]));
    assert_eq!(RunConfig::from_toml(&run.to_toml()).unwrap(), run);
    let (agent, resolved) = run.build_agent().unwrap();
    assert_eq!(agent.metric_names(), ["critic_loss", "mean_q", "actor_loss", "alpha", "entropy"]);
    assert_eq!(resolved, run);
    let bad = run.to_toml().replace("gamma = 0.99", "gamma = 0.99\ngama = 0.9");
    assert!(RunConfig::from_toml(&bad).is_err(), "unknown keys are refused");
}

#[test]
fn tanh_gaussian_log_prob_matches_the_closed_form() {
    // log π = Σ_i [ −½ε_i² − log σ_i − ½log 2π − log(1 − tanh²(u_i)) ], computed here in f64
    // with the direct (unstable for large |u|, fine here) Jacobian form.
    let (eps, log_std, u) = ([0.5f64, -1.0], [0.0f64, -0.5], [0.3f64, -2.0]);
    let expected: f64 = (0..2)
        .map(|i| {
            -0.5 * eps[i] * eps[i]
                - log_std[i]
                - 0.5 * (2.0 * std::f64::consts::PI).ln()
                - (1.0 - u[i].tanh().powi(2)).ln()
        })
        .sum();
    let t = |v: [f64; 2]| Tensor::from_slice(&v.map(|x| x as f32), (1, 2), &Device::Cpu).unwrap();
    let got = tanh_gaussian_log_prob(&t(eps), &t(log_std), &t(u)).unwrap().to_vec1::<f32>().unwrap();
    assert!((f64::from(got[0]) - expected).abs() < 1e-5, "{got:?} vs {expected}");
    // The stable Jacobian keeps large pre-activations finite, where 1 − tanh²(u) rounds to 0 in f32.
    let got = tanh_gaussian_log_prob(&t([0.0, 0.0]), &t([0.0, 0.0]), &t([30.0, -30.0])).unwrap();
    let v = got.to_vec1::<f32>().unwrap()[0];
    // −log(1 − tanh²(u)) ≈ 2|u| − log 4 per coordinate, plus −½log 2π each.
    let expected = 2.0 * (60.0 - 4f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln());
    assert!((f64::from(v) - expected).abs() < 1e-3, "{v} vs {expected}");
}

#[test]
fn actor_loss_is_the_mean_of_alpha_log_prob_minus_the_member_min_q() {
    // Members Q1 = [1, 3], Q2 = [3, 2] → min = [1, 2]; log π = [0.5, −1], α = 2:
    // mean(2·0.5 − 1, 2·(−1) − 2) = mean(0, −4) = −2. A mean over members would give −2.75.
    let t = |v: &[f32]| Tensor::from_slice(v, v.len(), &Device::Cpu).unwrap();
    let loss = actor_loss(&[t(&[1.0, 3.0]), t(&[3.0, 2.0])], &t(&[0.5, -1.0]), 2.0).unwrap();
    assert_eq!(loss.to_scalar::<f32>().unwrap(), -2.0);
}

#[test]
fn temperature_rises_while_the_entropy_is_below_its_target() {
    // d = 2, H̄ = −2. Gradient descent on log α moves against −α·(mean log π + H̄).
    assert!(temperature_gradient(0.5, 3.0, -2.0) < 0.0, "entropy −3 below −2 → α rises");
    assert!(temperature_gradient(0.5, 0.0, -2.0) > 0.0, "entropy 0 above −2 → α falls");
    // −2·(3 − 2) = −2.
    assert_eq!(temperature_gradient(2.0, 3.0, -2.0), -2.0);
}

#[test]
fn the_tanh_gaussian_density_integrates_to_one_over_the_action_interval() {
    // ∫_{−1}^{1} π(a) da = ∫ π(tanh u)·(1 − tanh²u) du; midpoint rule on u ∈ [−8, 8] with
    // μ = 0.3, σ = 0.7 (the Gaussian mass outside is < 1e-20). ε = (u − μ)/σ for each grid point.
    let (mu, log_sigma, n, width) = (0.3f64, 0.7f64.ln(), 4000usize, 16.0f64);
    let du = width / n as f64;
    let u: Vec<f64> = (0..n).map(|i| -8.0 + (i as f64 + 0.5) * du).collect();
    let eps: Vec<f32> = u.iter().map(|u| ((u - mu) / log_sigma.exp()) as f32).collect();
    let col = |v: Vec<f32>| Tensor::from_vec(v, (n, 1), &Device::Cpu).unwrap();
    let log_prob =
        tanh_gaussian_log_prob(&col(eps), &col(vec![log_sigma as f32; n]), &col(u.iter().map(|&u| u as f32).collect()))
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
    let mass: f64 = log_prob.iter().zip(&u).map(|(lp, u)| (f64::from(*lp)).exp() * (1.0 - u.tanh().powi(2)) * du).sum();
    assert!((mass - 1.0).abs() < 1e-4, "{mass}");
}
