//! Learning checks of the agents (issue thresholds), far too slow for `cargo test`: run by
//! `cargo xtask learn-check` in release mode. Each trains the preset exactly as `dime train`
//! would (same `RunConfig`), on 3 seeds, and requires at least 2 of them to reach the threshold.
//! Cost on the 2-core project machine: DIME ≈ 16 min per seed on one core (≈ 10 env steps/s once
//! learning runs, 5 000 warm-up steps first), DIME's multi-goal check ≈ 12 min, DiffPPO's ≈ 1–2 min
//! (16 environments), DiffPPO on Pendulum ≈ 6 min, DiffWPO ≈ 3 min and DiffSAC ≈ 8 min per seed,
//! SAC and PPO a few minutes per seed.

use std::sync::atomic::AtomicBool;

use dime_algos::dime::SupportChoice;
use dime_algos::run::{AgentConfig, Algo, RunConfig};
use dime_algos::{ActMode, EvalReport, Observer, Trainer};
use dime_envs::tasks::multi_goal::goals_reached;
use dime_envs::{make_unit, Env};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Records the best evaluation return seen up to a step budget.
struct Best(f64);
impl Observer for Best {
    fn on_eval(&mut self, report: &EvalReport) {
        println!("  {:>6} steps  return {:>9.2} ± {:.2}", report.env_steps, report.return_mean, report.return_std);
        self.0 = self.0.max(report.return_mean);
    }
}

/// Train `algo` (cpu preset) on Pendulum for `steps`; return the best mean evaluation return.
fn best_return(algo: Algo, seed: u64, steps: u64) -> f64 {
    let config = RunConfig::from_preset(algo, "cpu", "gym/Pendulum-v1", seed, steps).unwrap();
    let (mut agent, resolved) = config.build_agent().unwrap();
    let (train, eval) =
        (make_unit(&resolved.task, &resolved.env).unwrap(), make_unit(&resolved.task, &resolved.env).unwrap());
    let mut trainer = Trainer::new(resolved.loop_cfg.clone(), agent.as_mut(), vec![train], eval, seed, None).unwrap();
    let mut best = Best(f64::NEG_INFINITY);
    trainer.run(&AtomicBool::new(false), &mut best).unwrap();
    best.0
}

/// Issue 5: "reaches a mean evaluation return of `threshold` or better by N environment steps …
/// on at least 2 of 3 seeds" (the best evaluation up to N counts as reaching it by N).
fn check(algo: Algo, steps: u64, threshold: f64) {
    let mut reached = 0;
    for seed in 0..3 {
        println!("{} seed {seed}:", algo.name());
        let best = best_return(algo, seed, steps);
        println!("  best {best:.2}");
        reached += usize::from(best >= threshold);
    }
    assert!(reached >= 2, "{} reached {threshold} by {steps} steps on {reached} of 3 seeds", algo.name());
}

#[test]
#[ignore = "slow: cargo xtask learn-check"]
fn dime_cpu_reaches_minus_200_on_pendulum_by_15000_steps() {
    check(Algo::Dime, 15_000, -200.0);
}

#[test]
#[ignore = "slow: cargo xtask learn-check"]
fn sac_cpu_reaches_minus_200_on_pendulum_by_20000_steps() {
    check(Algo::Sac, 20_000, -200.0);
}

/// Issue 8: "PPO on `gym/Pendulum-v1` reaches −400 or better within a budget you state and
/// justify". 100 000 steps: CleanRL's settings (γ 0.99, 2048-step rollouts, the learning rate
/// annealed over the run) need about 60–85 000 steps to swing up here (seed 0: −223 at 63 000,
/// −105 at 84 000 steps, 2026-11-22); on-policy PPO uses every sample once per rollout, so it
/// needs 5–10× the steps of the off-policy agents. About a minute per seed on one core.
#[test]
#[ignore = "slow: cargo xtask learn-check"]
fn ppo_cpu_reaches_minus_400_on_pendulum_by_100000_steps() {
    check(Algo::Ppo, 100_000, -400.0);
}

/// Issue 8: "DiffPPO … on `gym/Pendulum-v1` reach[es] −400 or better within a budget you state and
/// justify". 150 000 steps: the cpu preset (a 2 × 64 score network, K = 8, fixed step sizes,
/// reward normalisation as PPO's) first reached −400 at 88 064, 98 304 and 83 968 steps on seeds
/// 0–2 (best −121, −99, −97; 2026-11-22, after the entropy term was moved onto the stored
/// sample), somewhat later than Gaussian PPO, as each environment step is 8 augmented steps of
/// credit assignment. About 3–6 minutes per seed on one core.
#[test]
#[ignore = "slow: cargo xtask learn-check"]
fn diffppo_cpu_reaches_minus_400_on_pendulum_by_150000_steps() {
    check(Algo::Diffppo, 150_000, -400.0);
}

/// DiffWPO (issue 8 asks for no threshold; this guards the agent like DiffPPO's check): −400 by
/// 100 000 steps. The cpu preset first reached −400 at 67 600, 71 700 and 63 500 steps on seeds
/// 0–2 (2026-11-22). About 3 minutes per seed on one core.
#[test]
#[ignore = "slow: cargo xtask learn-check"]
fn diffwpo_cpu_reaches_minus_400_on_pendulum_by_100000_steps() {
    check(Algo::Diffwpo, 100_000, -400.0);
}

/// Issue 8: "DiffSAC reaches −250 or better, within a budget you state and justify". 40 000
/// steps: the cpu preset first reached −250 at 30 000 steps on seeds 0 and 1 (−207 and −206;
/// 2026-11-22). That is 2–3× later than SAC, as expected of the augmented MDP: one environment
/// step is K = 8 augmented steps, so a Bellman backup across an environment step is 8 chained
/// bootstraps, each through Polyak-averaged targets. About 8 minutes per seed on one core.
#[test]
#[ignore = "slow: cargo xtask learn-check"]
fn diffsac_cpu_reaches_minus_250_on_pendulum_by_40000_steps() {
    check(Algo::Diffsac, 40_000, -250.0);
}

/// Issue 5: "DIME on `toy/multi-goal` reaches more than one goal across evaluation episodes".
/// After training (cpu preset, 12 000 steps of which the first 5 000 are uniform warm-up), 50
/// evaluation episodes of the stochastic policy are rolled out on a fresh environment and their
/// final positions counted against the four goals (radius 1, the task's own goal radius).
///
/// More than one goal alone proves nothing here: uniform random actions reach all four goals
/// across 50 episodes (3.9 on average; 29% of episodes end at a goal). So the check also asks
/// that at least 30 of the 50 episodes end at a goal, and more than twice as many as uniform
/// random actions on the same 50 episode seeds.
///
/// The critic's support is set to [−3000, 1000] instead of derived from the task: the derived
/// bound, ±(worst step reward 113)/(1 − γ) = ±11 300, spaces the 101 atoms 226 apart, too
/// coarse for returns that stay within about −2500 (far from every goal) and +1000 (at a goal).
/// With the derived support the agent stopped between two goals (0 of 4 reached, 2026-11-22).
#[test]
#[ignore = "slow: cargo xtask learn-check"]
fn dime_reaches_more_than_one_goal_on_multi_goal() {
    let mut config = RunConfig::from_preset(Algo::Dime, "cpu", "toy/multi-goal", 0, 12_000).unwrap();
    if let AgentConfig::Dime(cfg) = &mut config.agent {
        cfg.support = SupportChoice::FromCritic;
        cfg.critic = cfg.critic.clone().with_support(-3000.0, 1000.0);
    }
    assert_goals_learned("DIME", &config);
}

/// Issue 8: "DiffPPO reaches more than one goal on `toy/multi-goal`", with the same reading as
/// DIME's check above. Settings (this test's config): the cpu preset with 16 environments stepped
/// together (65 536 steps, 32 rollouts) and α = 0.05.
///
/// α weighs the chain's log-ratios ℓ_k (nats, K = 8 per environment step) against the rewards
/// the agent learns from, and the cpu preset normalises those (divided by the running std of
/// the discounted return), so α is in units of normalised reward per nat, not of the task's raw
/// rewards. Measured 2026-11-22 on seed 0 (episodes of 50 ending at a goal, distinct goals, last
/// evaluation return): α = 0.01: 50 (1), −226, a single goal; α = 0.05: 50 (2), −360; α = 8
/// (this check's earlier setting): 27 (4), −1199: the entropy terms outweigh the normalised
/// rewards and the policy stays near the prior (returns near −1100, as with random actions).
/// α = 0.05 on seeds 1 and 2: 46 (2), −822 and 50 (2), −323. Uniform random actions on the same
/// episode seeds: 17 (4). One to two minutes on one core.
#[test]
#[ignore = "slow: cargo xtask learn-check"]
fn diffppo_reaches_more_than_one_goal_on_multi_goal() {
    let mut config = RunConfig::from_preset(Algo::Diffppo, "cpu", "toy/multi-goal", 0, 65_536).unwrap();
    config.loop_cfg.num_envs = 16;
    if let AgentConfig::Diffppo(cfg) = &mut config.agent {
        cfg.alpha = 0.05;
    }
    assert_goals_learned("DiffPPO", &config);
}

/// Train `config` as `dime train` would, roll out 50 evaluation-mode episodes and 50 of uniform
/// random actions on the same episode seeds, and assert the trained policy reaches more than one
/// goal, ends at least 30 episodes at a goal, and more than twice as many as random actions.
fn assert_goals_learned(name: &str, config: &RunConfig) {
    let (task, seed) = (config.task.as_str(), config.seed);
    let (mut agent, resolved) = config.build_agent().unwrap();
    let (train, eval) = (resolved.train_envs().unwrap(), make_unit(task, &resolved.env).unwrap());
    let mut trainer = Trainer::new(resolved.loop_cfg.clone(), agent.as_mut(), train, eval, seed, None).unwrap();
    trainer.run(&AtomicBool::new(false), &mut Best(f64::NEG_INFINITY)).unwrap();
    drop(trainer);
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let trained = final_positions(&resolved, |obs, action| {
        agent.act(obs, ActMode::Eval, &mut rng, action).unwrap();
    });
    let mut uniform = ChaCha8Rng::seed_from_u64(98);
    let random = final_positions(&resolved, |_, action| {
        action.iter_mut().for_each(|a| *a = uniform.random_range(-1.0..=1.0));
    });
    let (goals, at_goal) = (goals_reached(&trained, 1.0), episodes_at_a_goal(&trained));
    let random_at_goal = episodes_at_a_goal(&random);
    println!("final positions: {trained:?}");
    println!("{name}: {goals} of 4 goals, {at_goal} of 50 episodes at a goal (uniform random actions: {} goals, {random_at_goal} episodes)", goals_reached(&random, 1.0));
    assert!(goals > 1, "{name} reached {goals} goal(s) across 50 evaluation episodes");
    assert!(
        at_goal >= 30 && at_goal > 2 * random_at_goal,
        "{name}: {at_goal} of 50 episodes at a goal, random {random_at_goal}"
    );
}

/// Final positions of 50 episodes (reset seeds 1000..1050) with actions from `act(obs, action)`.
fn final_positions(config: &RunConfig, mut act: impl FnMut(&[f32], &mut [f32])) -> Vec<[f64; 2]> {
    let mut env = make_unit(&config.task, &config.env).unwrap();
    let (obs_dim, act_dim) = (env.spec().obs_dim, env.spec().act_dim);
    let (mut obs, mut action) = (vec![0.0f64; obs_dim], vec![0.0f32; act_dim]);
    let mut finals = Vec::new();
    for episode in 0..50 {
        env.reset(Some(1000 + episode), &mut obs).unwrap();
        loop {
            let obs32: Vec<f32> = obs.iter().map(|&v| v as f32).collect();
            act(&obs32, &mut action);
            let native: Vec<f64> = action.iter().map(|&a| f64::from(a)).collect();
            if env.step(&native, &mut obs).unwrap().done() {
                break;
            }
        }
        finals.push([obs[0], obs[1]]);
    }
    finals
}

/// Episodes whose final position lies within radius 1 of some goal.
fn episodes_at_a_goal(finals: &[[f64; 2]]) -> usize {
    finals.iter().filter(|p| goals_reached(&[**p], 1.0) > 0).count()
}
