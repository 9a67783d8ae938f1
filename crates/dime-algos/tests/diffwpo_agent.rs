//! The WPO agent in the shared training loop (smoke presets, Pendulum), as DiffWPO and as the
//! Gaussian WPO baseline: gradient-step counts, determinism, exact resume mid-rollout, and the
//! run configurations.

mod common;

use std::sync::atomic::AtomicBool;

use common::{assert_resumes_exactly, assert_seeded_runs, on_policy_loop, params_checksum, trainer_with, TASK};
use dime_algos::dmerl::diffwpo::{WpoAgent, WpoConfig};
use dime_algos::run::{AgentConfig, Algo, RunConfig};
use dime_algos::{ActMode, Agent, Silent, Streams};
use dime_envs::EnvConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn agent(seed: u64) -> WpoAgent {
    with_config(WpoConfig::smoke(), seed)
}

fn gaussian(seed: u64) -> WpoAgent {
    with_config(WpoConfig::gaussian_preset("smoke").unwrap(), seed)
}

fn with_config(cfg: WpoConfig, seed: u64) -> WpoAgent {
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    WpoAgent::new(cfg, spec.obs_dim, spec.act_dim, &mut Streams::new(seed).init).unwrap()
}

fn checksum(agent: &WpoAgent) -> Vec<u32> {
    params_checksum(&[agent.policy_params(), agent.critic().params()])
}

#[test]
fn one_update_per_full_rollout_of_augmented_transitions() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    trainer_with(&on_policy_loop(), &mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // Rollouts of 32 environment steps (96 augmented transitions) complete at 32, 64, 96:
    // 3 × (2 epochs × 4 minibatches).
    assert_eq!(a.gradient_steps(), 24);
    // The Gaussian policy: one transition per environment step, the same rollout cadence.
    let dir = tempfile::tempdir().unwrap();
    let mut g = gaussian(0);
    trainer_with(&on_policy_loop(), &mut g, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    assert_eq!(g.gradient_steps(), 24);
}

#[test]
fn same_seed_gives_identical_runs_and_another_seed_differs() {
    assert_seeded_runs(&on_policy_loop(), agent, checksum);
    assert_seeded_runs(&on_policy_loop(), gaussian, checksum);
}

#[test]
fn a_run_interrupted_mid_rollout_resumes_exactly() {
    assert_resumes_exactly(&on_policy_loop(), 77, agent, checksum);
    assert_resumes_exactly(&on_policy_loop(), 77, gaussian, checksum);
}

#[test]
fn actions_stay_inside_the_clip_and_runs_are_configured_by_preset() {
    let mut a = agent(6);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut action = [0.0f32];
    for mode in [ActMode::Explore, ActMode::Eval] {
        a.act(&[1.0, 0.0, 0.5], mode, &mut rng, &mut action).unwrap();
        assert!(action[0].abs() <= 0.999);
    }
    let run = RunConfig::from_preset(Algo::parse("diffwpo").unwrap(), "cpu", TASK, 0, 1000).unwrap();
    assert!(matches!(run.agent, AgentConfig::Diffwpo(_)));
    assert_eq!(RunConfig::from_toml(&run.to_toml()).unwrap(), run);
    let run = RunConfig::from_preset(Algo::parse("wpo").unwrap(), "cpu", TASK, 0, 1000).unwrap();
    assert!(matches!(run.agent, AgentConfig::Wpo(_)));
    assert_eq!(RunConfig::from_toml(&run.to_toml()).unwrap(), run);
    let bad = WpoConfig { minibatches: 7, ..WpoConfig::smoke() };
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    assert!(WpoAgent::new(bad, spec.obs_dim, spec.act_dim, &mut rng).is_err());
}
