//! The DiffPPO agent in the shared training loop (smoke preset, Pendulum): gradient-step counts,
//! stored per-step log-probabilities against a recomputation with unchanged parameters (ratio 1),
//! determinism, exact resume mid-rollout, and its run configuration.

mod common;

use std::sync::atomic::AtomicBool;

use candle_core::{Device, Tensor};
use common::{assert_resumes_exactly, assert_seeded_runs, on_policy_loop, params_checksum, trainer_with, TASK};
use dime_algos::dmerl::diffppo::{DiffPpoAgent, DiffPpoConfig};
use dime_algos::run::{AgentConfig, Algo, RunConfig};
use dime_algos::{ActMode, Agent, LoopConfig, Silent, Streams};
use dime_envs::EnvConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn agent(seed: u64) -> DiffPpoAgent {
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    DiffPpoAgent::new(DiffPpoConfig::smoke(), spec.obs_dim, spec.act_dim, &mut Streams::new(seed).init).unwrap()
}

fn checksum(agent: &DiffPpoAgent) -> Vec<u32> {
    params_checksum(&[agent.policy().params(), agent.value_net().params()])
}

#[test]
fn one_update_per_full_rollout_of_augmented_transitions() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    trainer_with(&on_policy_loop(), &mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // Rollouts of 32 environment steps (96 augmented transitions) complete at 32, 64, 96:
    // 3 × (2 epochs × 4 minibatches).
    assert_eq!(a.gradient_steps(), 24);
}

#[test]
fn recomputed_step_log_probabilities_match_the_sampled_ones() {
    // Sample a chain one kernel at a time as `act` does, then recompute every step's
    // log π_θ(x_(k+1)|x_k, s, k) in one batch of mixed k: with unchanged parameters the
    // per-step ratio is 1 (to float32 rounding of the batched products).
    let a = agent(1);
    let policy = a.policy();
    let k = policy.config().diffusion_steps;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let obs = Tensor::new(&[[0.3f32, -0.1, 0.8]], &Device::Cpu).unwrap();
    let mut x = Tensor::from_vec(dime_nn::init::standard_normal(&mut rng, 1), (1, 1), &Device::Cpu).unwrap();
    let (mut xs, mut nexts, mut stored) = (Vec::new(), Vec::new(), Vec::new());
    for step in 0..k {
        let eps = Tensor::from_vec(dime_nn::init::standard_normal(&mut rng, 1), (1, 1), &Device::Cpu).unwrap();
        let (next, lp) = policy.sample_step(&obs, &x, &[step], &eps).unwrap();
        stored.push(lp.generative.to_vec1::<f32>().unwrap()[0]);
        xs.push(x.clone());
        nexts.push(next.detach());
        x = next.detach();
    }
    let batch_obs = obs.repeat((k, 1)).unwrap();
    let steps: Vec<usize> = (0..k).collect();
    let recomputed = policy
        .step_log_probs(&batch_obs, &Tensor::cat(&xs, 0).unwrap(), &steps, &Tensor::cat(&nexts, 0).unwrap())
        .unwrap()
        .generative
        .to_vec1::<f32>()
        .unwrap();
    for (s, r) in stored.iter().zip(&recomputed) {
        assert!(((r - s).exp() - 1.0).abs() < 1e-5, "ratio {} (stored {s}, recomputed {r})", (r - s).exp());
    }
}

#[test]
fn same_seed_gives_identical_runs_and_another_seed_differs() {
    assert_seeded_runs(&on_policy_loop(), agent, checksum);
}

#[test]
fn a_run_interrupted_mid_rollout_resumes_exactly() {
    assert_resumes_exactly(&on_policy_loop(), 77, agent, checksum);
}

/// 96 steps on 4 lanes: evaluations and checkpoints every 48.
fn four_lanes() -> LoopConfig {
    LoopConfig { num_envs: 4, total_steps: 96, eval_every: 48, checkpoint_every: 48, ..on_policy_loop() }
}

#[test]
fn four_lanes_update_once_per_full_rollout_are_seeded_and_resume_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    trainer_with(&four_lanes(), &mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // Rollouts of 32 environment steps summed over lanes (8 vector steps) complete at 32, 64, 96.
    assert_eq!(a.gradient_steps(), 24);
    assert_seeded_runs(&four_lanes(), agent, checksum);
    assert_resumes_exactly(&four_lanes(), 76, agent, checksum);
}

#[test]
fn batched_acting_gives_each_lane_the_action_of_acting_alone() {
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    let obs: Vec<f32> = (0..3 * spec.obs_dim).map(|i| 0.3 * i as f32 - 1.0).collect();
    for mode in [ActMode::Explore, ActMode::Eval] {
        let (mut batched, mut alone) = (agent(1), agent(1));
        let (mut rng_batched, mut rng_alone) = (ChaCha8Rng::seed_from_u64(8), ChaCha8Rng::seed_from_u64(8));
        let mut actions = vec![0.0f32; 3 * spec.act_dim];
        batched.act_batch(&obs, 3, mode, &mut rng_batched, &mut actions).unwrap();
        let mut one = vec![0.0f32; spec.act_dim];
        for (row, expected) in obs.chunks(spec.obs_dim).zip(actions.chunks(spec.act_dim)) {
            alone.act(row, mode, &mut rng_alone, &mut one).unwrap();
            assert_eq!(one, expected, "{mode:?}");
        }
        assert_eq!(rng_batched.get_word_pos(), rng_alone.get_word_pos());
    }
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
    let run = RunConfig::from_preset(Algo::parse("diffppo").unwrap(), "cpu", TASK, 0, 1000).unwrap();
    assert!(matches!(run.agent, AgentConfig::Diffppo(_)));
    assert_eq!(RunConfig::from_toml(&run.to_toml()).unwrap(), run);
    let bad = DiffPpoConfig { minibatches: 7, ..DiffPpoConfig::smoke() };
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    assert!(DiffPpoAgent::new(bad, spec.obs_dim, spec.act_dim, &mut rng).is_err());
}
