//! The DiffSAC agent (smoke preset, Pendulum): update counts in the shared loop, the chains it
//! stores (the policy's own, and reference-kernel completions of warm-up actions), determinism,
//! exact resume, and its run configuration.

mod common;

use std::sync::atomic::AtomicBool;

use common::{assert_resumes_exactly, assert_seeded_runs, loop_cfg, params_checksum, trainer, TASK};
use dime_algos::dmerl::diffsac::{DiffSacAgent, DiffSacConfig};
use dime_algos::run::{AgentConfig, Algo, RunConfig};
use dime_algos::{ActMode, Agent, Silent, Streams};
use dime_algos::{ReplayBuffer, Transition};
use dime_envs::EnvConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn agent(seed: u64) -> DiffSacAgent {
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    DiffSacAgent::new(DiffSacConfig::smoke(), spec.obs_dim, spec.act_dim, &mut Streams::new(seed).init).unwrap()
}

fn checksum(agent: &DiffSacAgent) -> Vec<u32> {
    params_checksum(&[agent.policy().params(), agent.critic().params()])
}

#[test]
fn the_loop_drives_one_critic_update_per_step_and_the_policy_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    trainer(&mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // 300 steps, learning once more than 100 transitions are stored: steps 101..=300.
    assert_eq!(a.critic_updates(), 200);
    // CleanRL's delay with compensation: 2 actor and temperature updates every 2nd critic update.
    assert_eq!(a.actor_updates(), 200);
    assert_eq!(a.temperature_updates(), 200);
    // Every transition the loop stored is held with a chain, warm-up included.
    assert_eq!(a.stored_chains().unwrap().len(), 300);
}

#[test]
fn stored_chains_end_in_the_action_the_environment_saw() {
    let mut a = agent(1);
    let k = a.config().sampler.diffusion_steps;
    let clip = a.config().action_clip;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut replay = ReplayBuffer::new(3, 1, 64).unwrap();
    // Five warm-up transitions with uniform actions (no chain), then one the policy chose.
    let warm_up = [-1.0f32, -0.4, 0.0, 0.7, 1.0];
    for (i, &a_i) in warm_up.iter().enumerate() {
        let obs = [i as f32, 0.5, -0.5];
        let t =
            Transition { obs: &obs, action: &[a_i], reward: -1.0, next_obs: &obs, terminated: false, truncated: false };
        replay.push(t).unwrap();
    }
    let obs = [0.2f32, -0.3, 0.9];
    let mut action = [0.0f32];
    a.act(&obs, ActMode::Explore, &mut rng, &mut action).unwrap();
    let t =
        Transition { obs: &obs, action: &action, reward: -0.5, next_obs: &obs, terminated: false, truncated: false };
    replay.push(t).unwrap();
    a.update(&replay, &mut rng).unwrap();
    let chains = a.stored_chains().unwrap();
    assert_eq!(chains.len(), 6);
    for i in 0..6 {
        let (stored, original) = (chains.get(i).unwrap(), replay.get(i).unwrap());
        assert_eq!(stored.obs, original.obs);
        assert_eq!(stored.reward, original.reward);
        assert_eq!(stored.action.len(), k + 1);
        assert!(stored.action.iter().all(|x| x.is_finite()));
        let a_k = stored.action[k].tanh().clamp(-clip, clip);
        let expected = original.action[0].clamp(-clip, clip);
        assert!((a_k - expected).abs() < 1e-5, "transition {i}: tanh(x_K) = {a_k}, action {expected}");
    }
    // The policy's transition keeps the chain `act` sampled: x_K gives the action exactly.
    let last = chains.get(5).unwrap();
    assert_eq!(last.action[k].tanh().clamp(-clip, clip), action[0]);
    // The next update adds only the newest transition.
    let t = Transition { obs: &obs, action: &[0.1], reward: 0.0, next_obs: &obs, terminated: true, truncated: false };
    replay.push(t).unwrap();
    a.update(&replay, &mut rng).unwrap();
    assert_eq!(a.stored_chains().unwrap().len(), 7);
    assert!(a.stored_chains().unwrap().latest().unwrap().terminated);
}

#[test]
fn same_seed_gives_identical_runs_and_another_seed_differs() {
    assert_seeded_runs(&loop_cfg(), agent, checksum);
}

#[test]
fn an_interrupted_run_resumes_exactly() {
    let (reference, resumed) = assert_resumes_exactly(&loop_cfg(), 213, agent, checksum);
    assert_eq!(reference.stored_chains(), resumed.stored_chains());
}

#[test]
fn runs_are_configured_by_preset_and_bad_settings_are_refused() {
    let run = RunConfig::from_preset(Algo::parse("diffsac").unwrap(), "cpu", TASK, 0, 1000).unwrap();
    assert!(matches!(run.agent, AgentConfig::Diffsac(_)));
    assert_eq!(RunConfig::from_toml(&run.to_toml()).unwrap(), run);
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for bad in [
        DiffSacConfig { action_clip: 1.0, ..DiffSacConfig::smoke() },
        DiffSacConfig { gamma: 1.0, ..DiffSacConfig::smoke() },
        DiffSacConfig { batch_size: 0, ..DiffSacConfig::smoke() },
    ] {
        assert!(DiffSacAgent::new(bad, spec.obs_dim, spec.act_dim, &mut rng).is_err());
    }
}
