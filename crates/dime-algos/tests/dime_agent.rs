//! The DIME agent in the training loop (smoke preset, Pendulum): update counts, derived support,
//! determinism, exact resume through checkpoints, and its loss functions.

mod common;

use common::{metrics_without_wall_time, trainer, TASK};

use std::sync::atomic::AtomicBool;

use candle_core::{Device, Tensor};
use dime_algos::dime::{actor_loss, temperature_gradient, DimeAgent, DimeConfig};
use dime_algos::{Silent, Streams};
use dime_critic::CriticHead;
use dime_envs::EnvConfig;

fn agent(seed: u64) -> DimeAgent {
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    let mut init = Streams::new(seed).init;
    DimeAgent::new(DimeConfig::smoke(), spec.obs_dim, spec.act_dim, spec.reward_range, &mut init).unwrap()
}

fn policy_checksum(agent: &DimeAgent) -> Vec<u32> {
    common::params_checksum(&[agent.policy().params()])
}

#[test]
fn update_counts_follow_utd_2_and_the_global_policy_delay() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    trainer(&mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // Updates after env steps 101..=300: 200 env steps × 2 critic updates.
    assert_eq!(a.critic_updates(), 400);
    // Actor (and temperature) after critic updates 3, 6, …, 399: 133.
    assert_eq!(a.actor_updates(), 133);
    assert_eq!(a.temperature_updates(), 133);
    // Three evaluation rows with every metric present once the actor has been updated.
    let rows = metrics_without_wall_time(dir.path());
    assert_eq!(rows.len(), 4);
    assert!(!rows[3].contains("NaN"), "{}", rows[3]);
}

#[test]
fn the_cpu_preset_derives_its_support_from_the_task_reward_range() {
    let a = agent(0);
    // Pendulum's per-step reward lies in [−(π² + 0.1·8² + 0.001·2²), 0]; support ±16.2736/(1 − 0.99).
    let CriticHead::Categorical { v_min, v_max, .. } = a.config().critic.head else { panic!("categorical") };
    let expected = (std::f64::consts::PI.powi(2) + 6.4 + 0.004) / 0.01;
    assert!((v_max - expected).abs() < 1e-9 && (v_min + expected).abs() < 1e-9, "{v_min} {v_max}");
    let paper = DimeConfig::paper_gym();
    let CriticHead::Categorical { v_max, .. } = paper.critic.head else { panic!("categorical") };
    assert_eq!(v_max, 1600.0, "the paper presets keep their written support");
}

#[test]
fn same_seed_gives_identical_runs_and_another_seed_differs() {
    common::assert_seeded_runs(&common::loop_cfg(), agent, policy_checksum);
}

#[test]
fn an_interrupted_run_resumes_exactly() {
    // A fresh agent with another init seed resumes: everything must come from the checkpoint.
    let (reference, second) = common::assert_resumes_exactly(&common::loop_cfg(), 222, agent, policy_checksum);
    assert_eq!(reference.alpha().unwrap().to_bits(), second.alpha().unwrap().to_bits());
}

#[test]
fn actor_loss_is_the_mean_of_alpha_bound_minus_the_member_mean_q() {
    // Members Q1 = [1, 3], Q2 = [3, 5] → Q̄ = [2, 4]; ℓ = [0.5, −1], α = 2:
    // mean(2·0.5 − 2, 2·(−1) − 4) = mean(−1, −6) = −3.5. A min over members would give −4.5.
    let t = |v: &[f32]| Tensor::from_slice(v, v.len(), &Device::Cpu).unwrap();
    let loss = actor_loss(&[t(&[1.0, 3.0]), t(&[3.0, 5.0])], &t(&[0.5, -1.0]), 2.0).unwrap();
    assert_eq!(loss.to_scalar::<f32>().unwrap(), -3.5);
}

#[test]
fn temperature_rises_while_the_running_cost_exceeds_its_target() {
    // Gradient descent on log α moves against the gradient: −α·(ℓ_run − target).
    assert!(temperature_gradient(0.5, 10.0, 4.0) < 0.0, "ℓ_run above target → α rises");
    assert!(temperature_gradient(0.5, 1.0, 4.0) > 0.0, "ℓ_run below target → α falls");
    assert_eq!(temperature_gradient(2.0, 5.0, 4.0), -2.0);
}
