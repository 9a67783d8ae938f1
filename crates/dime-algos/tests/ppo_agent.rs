//! The PPO agent in the shared training loop (smoke preset, Pendulum): gradient-step counts,
//! determinism, exact resume from a checkpoint taken mid-rollout, deterministic evaluation, bad
//! configs and the run configuration.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use common::{metrics_without_wall_time, StopAt, TASK};
use dime_algos::ppo::{PpoAgent, PpoConfig};
use dime_algos::run::{AgentConfig, Algo, RunConfig};
use dime_algos::{ActMode, Agent, LoopConfig, Outcome, Silent, Streams, Trainer};
use dime_envs::{make_unit, EnvConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// 300 on-policy steps (no warm-up), an evaluation every 100, a checkpoint at 150.
fn loop_cfg() -> LoopConfig {
    LoopConfig {
        total_steps: 300,
        learning_starts: 0,
        eval_every: 100,
        eval_episodes: 1,
        checkpoint_every: 150,
        replay_capacity: 1,
        num_envs: 1,
    }
}

fn agent(seed: u64) -> PpoAgent {
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    PpoAgent::new(PpoConfig::smoke(), spec.obs_dim, spec.act_dim, &mut Streams::new(seed).init)
        .unwrap()
        .with_anneal_horizon(300)
}

fn envs() -> (Box<dyn dime_envs::Env>, Box<dyn dime_envs::Env>) {
    let env = EnvConfig::default();
    (make_unit(TASK, &env).unwrap(), make_unit(TASK, &env).unwrap())
}

fn trainer<'a>(agent: &'a mut dyn Agent, seed: u64, dir: &Path) -> Trainer<'a> {
    let (train, eval) = envs();
    Trainer::new(loop_cfg(), agent, vec![train], eval, seed, Some(dir)).unwrap()
}

fn checksum(agent: &PpoAgent) -> Vec<u32> {
    let mut bits = Vec::new();
    for (_, var) in agent.policy().params().iter() {
        bits.extend(var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().map(|x| x.to_bits()));
    }
    bits
}

#[test]
fn one_update_per_full_rollout() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    trainer(&mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // Rollouts of 64 complete at steps 64, 128, 192, 256: 4 × (2 epochs × 4 minibatches).
    assert_eq!(a.gradient_steps(), 32);
    let metrics = std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap();
    assert!(metrics.lines().next().unwrap().contains("policy_loss"));
    assert_eq!(metrics.lines().count(), 1 + 3, "a header and one row per evaluation");
}

#[test]
fn same_seed_gives_identical_runs_and_another_seed_differs() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut agents = [agent(1), agent(1), agent(2)];
    for ((a, seed), dir) in agents.iter_mut().zip([1, 1, 2]).zip(&dirs) {
        trainer(a, seed, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    }
    assert_eq!(metrics_without_wall_time(dirs[0].path()), metrics_without_wall_time(dirs[1].path()));
    assert_eq!(checksum(&agents[0]), checksum(&agents[1]));
    assert_ne!(metrics_without_wall_time(dirs[0].path()), metrics_without_wall_time(dirs[2].path()));
    assert_ne!(checksum(&agents[0]), checksum(&agents[2]));
}

#[test]
fn a_run_interrupted_mid_rollout_resumes_exactly() {
    let (full, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut reference = agent(3);
    trainer(&mut reference, 3, full.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // Step 223 is inside the fourth rollout (193..256): the checkpoint holds a partial rollout.
    let mut first = agent(3);
    let stop = AtomicBool::new(false);
    let outcome = trainer(&mut first, 3, split.path()).run(&stop, &mut StopAt(223, &stop)).unwrap();
    assert_eq!(outcome, Outcome::Interrupted { env_steps: 223 });
    let mut second = agent(99);
    let (train, eval) = envs();
    let mut resumed = Trainer::resume(loop_cfg(), &mut second, vec![train], eval, split.path()).unwrap();
    assert_eq!(resumed.run(&AtomicBool::new(false), &mut Silent).unwrap(), Outcome::Finished);
    drop(resumed);
    assert_eq!(metrics_without_wall_time(full.path()), metrics_without_wall_time(split.path()));
    assert_eq!(checksum(&reference), checksum(&second));
    assert_eq!(reference.gradient_steps(), second.gradient_steps());
}

#[test]
fn eval_mode_is_the_clipped_mean_and_does_not_touch_the_rollout() {
    let mut a = agent(4);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (mut x, mut y) = ([0.0f32], [0.0f32]);
    a.act(&[0.3, -0.2, 1.0], ActMode::Eval, &mut rng, &mut x).unwrap();
    a.act(&[0.3, -0.2, 1.0], ActMode::Eval, &mut rng, &mut y).unwrap();
    assert_eq!(x, y);
    assert!(x[0].abs() <= 1.0);
}

#[test]
fn four_lanes_learn_from_every_lane_and_resume_exactly() {
    let lanes = LoopConfig { num_envs: 4, total_steps: 192, eval_every: 96, checkpoint_every: 96, ..loop_cfg() };
    let cfg = PpoConfig::smoke();
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    common::trainer_with(&lanes, &mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    let rollouts = 192 / cfg.rollout_steps as u64;
    assert!(rollouts >= 2, "the test needs at least two rollouts");
    assert_eq!(a.gradient_steps(), rollouts * (cfg.epochs * cfg.minibatches) as u64);
    common::assert_seeded_runs(&lanes, agent, checksum);
    common::assert_resumes_exactly(&lanes, 100, agent, checksum);
}

#[test]
fn batched_acting_gives_each_lane_the_action_of_acting_alone() {
    let obs: Vec<f32> = (0..12).map(|i| 0.25 * i as f32 - 1.5).collect();
    for mode in [ActMode::Explore, ActMode::Eval] {
        let (mut batched, mut alone) = (agent(1), agent(1));
        let (mut rng_batched, mut rng_alone) = (ChaCha8Rng::seed_from_u64(8), ChaCha8Rng::seed_from_u64(8));
        let mut actions = [0.0f32; 4];
        batched.act_batch(&obs, 4, mode, &mut rng_batched, &mut actions).unwrap();
        let mut one = [0.0f32];
        for (row, expected) in obs.chunks(3).zip(actions) {
            alone.act(row, mode, &mut rng_alone, &mut one).unwrap();
            // One batched product against four single-row ones: equal up to summation order.
            assert!((one[0] - expected).abs() <= 1e-6, "{mode:?}: {} vs {expected}", one[0]);
        }
        assert_eq!(rng_batched.get_word_pos(), rng_alone.get_word_pos());
    }
}

#[test]
fn lanes_are_refused_where_an_algorithm_or_a_rollout_cannot_take_them() {
    let mut run = RunConfig::from_preset(Algo::Ppo, "cpu", TASK, 0, 6144).unwrap();
    run.loop_cfg.num_envs = 8;
    assert!(run.build_agent().is_ok(), "2048-step rollouts hold 256 vector steps of 8 lanes");
    run.loop_cfg.num_envs = 3;
    let err = run.build_agent().err().expect("2048 is not a multiple of 3").to_string();
    assert!(err.contains("rollout_steps = 2048 is not a multiple of num_envs = 3"), "{err}");
    let mut wpo = RunConfig::from_preset(Algo::Wpo, "cpu", TASK, 0, 4096).unwrap();
    wpo.loop_cfg.num_envs = 2;
    let err = wpo.build_agent().err().expect("WPO has no lanes").to_string();
    assert!(err.contains("wpo learns from one environment at a time"), "{err}");
}

#[test]
fn bad_configs_are_errors() {
    let spec = dime_envs::spec(TASK, &EnvConfig::default()).unwrap();
    let mut rng = Streams::new(0).init;
    let uneven = PpoConfig { minibatches: 5, ..PpoConfig::smoke() };
    assert!(PpoAgent::new(uneven, spec.obs_dim, spec.act_dim, &mut rng).is_err());
    let no_width = PpoConfig { hidden_widths: vec![], ..PpoConfig::smoke() };
    assert!(PpoAgent::new(no_width, spec.obs_dim, spec.act_dim, &mut rng).is_err());
}

#[test]
fn ppo_runs_are_configured_by_preset_and_round_trip_through_toml() {
    assert_eq!(Algo::parse("ppo").unwrap(), Algo::Ppo);
    let run = RunConfig::from_preset(Algo::Ppo, "cpu", TASK, 7, 100_000).unwrap();
    assert_eq!(run.algo(), Algo::Ppo);
    let AgentConfig::Ppo(cfg) = &run.agent else { panic!("ppo config") };
    assert!(cfg.anneal_learning_rate, "CleanRL anneals over the run's budget");
    assert_eq!((run.loop_cfg.learning_starts, run.loop_cfg.replay_capacity), (0, 1));
    assert_eq!(RunConfig::from_toml(&run.to_toml()).unwrap(), run);
}
