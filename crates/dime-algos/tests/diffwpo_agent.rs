//! The WPO agent in the shared training loop (smoke presets, Pendulum), as DiffWPO and as the
//! Gaussian WPO baseline: gradient-step counts, determinism, exact resume mid-rollout, and the
//! run configurations.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use common::{metrics_without_wall_time, StopAt, TASK};
use dime_algos::dmerl::diffwpo::{WpoAgent, WpoConfig};
use dime_algos::run::{AgentConfig, Algo, RunConfig};
use dime_algos::{ActMode, Agent, LoopConfig, Outcome, Silent, Streams, Trainer};
use dime_envs::{make_unit, EnvConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn loop_cfg() -> LoopConfig {
    LoopConfig {
        total_steps: 100,
        learning_starts: 0,
        eval_every: 50,
        eval_episodes: 1,
        checkpoint_every: 50,
        replay_capacity: 1,
    }
}

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

fn trainer<'a>(agent: &'a mut dyn Agent, seed: u64, dir: &Path) -> Trainer<'a> {
    let env = EnvConfig::default();
    let (train, eval) = (make_unit(TASK, &env).unwrap(), make_unit(TASK, &env).unwrap());
    Trainer::new(loop_cfg(), agent, train, eval, seed, Some(dir)).unwrap()
}

fn checksum(agent: &WpoAgent) -> Vec<u32> {
    let mut bits = Vec::new();
    for store in [agent.policy_params(), agent.critic().params()] {
        for (_, var) in store.iter() {
            bits.extend(var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().map(|x| x.to_bits()));
        }
    }
    bits
}

#[test]
fn one_update_per_full_rollout_of_augmented_transitions() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = agent(0);
    trainer(&mut a, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    // Rollouts of 32 environment steps (96 augmented transitions) complete at 32, 64, 96:
    // 3 × (2 epochs × 4 minibatches).
    assert_eq!(a.gradient_steps(), 24);
    // The Gaussian policy: one transition per environment step, the same rollout cadence.
    let dir = tempfile::tempdir().unwrap();
    let mut g = gaussian(0);
    trainer(&mut g, 0, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    assert_eq!(g.gradient_steps(), 24);
}

#[test]
fn same_seed_gives_identical_runs_and_another_seed_differs() {
    for build in [agent as fn(u64) -> WpoAgent, gaussian] {
        identical_runs(build);
    }
}

fn identical_runs(build: fn(u64) -> WpoAgent) {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut agents = [build(2), build(2), build(3)];
    for ((a, seed), dir) in agents.iter_mut().zip([2, 2, 3]).zip(&dirs) {
        trainer(a, seed, dir.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    }
    assert_eq!(metrics_without_wall_time(dirs[0].path()), metrics_without_wall_time(dirs[1].path()));
    assert_eq!(checksum(&agents[0]), checksum(&agents[1]));
    assert_ne!(checksum(&agents[0]), checksum(&agents[2]));
}

#[test]
fn a_run_interrupted_mid_rollout_resumes_exactly() {
    for build in [agent as fn(u64) -> WpoAgent, gaussian] {
        resumes_exactly(build);
    }
}

fn resumes_exactly(build: fn(u64) -> WpoAgent) {
    let (full, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut reference = build(4);
    trainer(&mut reference, 4, full.path()).run(&AtomicBool::new(false), &mut Silent).unwrap();
    let mut first = build(4);
    let stop = AtomicBool::new(false);
    let outcome = trainer(&mut first, 4, split.path()).run(&stop, &mut StopAt(77, &stop)).unwrap();
    assert_eq!(outcome, Outcome::Interrupted { env_steps: 77 });
    let mut second = build(99);
    let env = EnvConfig::default();
    let (train, eval) = (make_unit(TASK, &env).unwrap(), make_unit(TASK, &env).unwrap());
    let mut resumed = Trainer::resume(loop_cfg(), &mut second, train, eval, split.path()).unwrap();
    assert_eq!(resumed.run(&AtomicBool::new(false), &mut Silent).unwrap(), Outcome::Finished);
    drop(resumed);
    assert_eq!(metrics_without_wall_time(full.path()), metrics_without_wall_time(split.path()));
    assert_eq!(checksum(&reference), checksum(&second));
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
