//! Golden replay of `gym/Ant-v5` against Gymnasium 1.4.0 / MuJoCo 3.17 (design notes §3.9,
//! stage 3 for Ant). Data: `tests/data/gymnasium_ant_v5.json.gz` (3 random-action episodes of 13,
//! 114 and 60 steps, ending at termination) and `gymnasium_ant_v5_zero.json.gz` (3 × 300
//! zero-action steps). "err" is `max(|Δqpos|, |Δqvel| / max(1, max|qvel|))`.
//!
//! Ant's forward reward and its contact observations come from the *last evaluation* of a step
//! (RK4's 4th stage), not from the recorded post-step state, so they are checked after steps:
//! - (a) the `qpos[2:]`, `qvel` part of the observation of every recorded state: ≤ 1e-12;
//! - (c) one step from every recorded state: median err ≤ 1e-9, maximum ≤ 1e-6 (MuJoCo's own
//!   floor on this file is 1.6e-15); after it, the clipped `cfrc_ext` observations, the contact
//!   cost and `terminated` against the record: ≤ 1e-6 (design bound) and exactly;
//! - (d) free runs of the first 10 steps from the recorded reset: err ≤ 1e-5, and every
//!   observation, reward and `info` term ≤ 1e-6 (the design measured that a 1e-13 perturbation
//!   needs 28 steps to exceed 1e-9 on this file);
//! - (f) zero action for 2 s from each recorded reset: torso height `qpos[2]` within 1e-3 m of
//!   MuJoCo's.

mod common;
use common::{err, max_diff};

use std::collections::BTreeMap;

use dime_envs::tasks::gym_mujoco::ant;
use dime_envs::{env_rng, Task};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    trajectories: Vec<Trajectory>,
}

#[derive(Deserialize)]
struct Trajectory {
    initial_qpos: Vec<f64>,
    initial_qvel: Vec<f64>,
    actions: Vec<Vec<f64>>,
    observations: Vec<Vec<f64>>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    qpos: Vec<Vec<f64>>,
    qvel: Vec<Vec<f64>>,
    reward_terms: Vec<BTreeMap<String, f64>>,
}

fn load(name: &str) -> Golden {
    common::load(name)
}

/// Largest difference between our `info` terms and the recorded ones (which must have the same names).
fn terms_diff(ours: &[(&'static str, f64)], recorded: &BTreeMap<String, f64>) -> f64 {
    assert_eq!(ours.len(), recorded.len(), "info terms {ours:?} vs {recorded:?}");
    ours.iter().fold(0.0_f64, |m, (name, v)| {
        let want = recorded.get(*name).unwrap_or_else(|| panic!("no recorded term `{name}`"));
        m.max((v - want).abs())
    })
}

#[test]
fn ant_v5_replays_gymnasium() {
    let golden = load("gymnasium_ant_v5.json.gz");
    let mut env = ant::v5().unwrap();
    let mut rng = env_rng(0);
    let mut obs = vec![0.0; 105];
    let (mut state_obs, mut wrench_obs, mut contact_cost) = (0.0_f64, 0.0_f64, 0.0_f64);
    let (mut free_err, mut free_obs, mut free_reward, mut free_terms) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    let mut one_step = Vec::new();
    for traj in &golden.trajectories {
        for t in 0..traj.actions.len() {
            env.set_physics_state(&traj.qpos[t], &traj.qvel[t]).unwrap();
            env.observe(&mut obs);
            state_obs = state_obs.max(max_diff(&obs[..27], &traj.observations[t][..27]));
            let out = env.advance(&traj.actions[t], &mut rng);
            one_step.push(err(env.qpos(), env.qvel(), &traj.qpos[t + 1], &traj.qvel[t + 1]));
            assert_eq!(out.terminated, traj.terminated[t], "terminated at step {t}");
            env.observe(&mut obs);
            wrench_obs = wrench_obs.max(max_diff(&obs[27..], &traj.observations[t + 1][27..]));
            let cost = env.reward_terms().iter().find(|(n, _)| *n == "reward_contact").unwrap().1;
            contact_cost = contact_cost.max((cost - traj.reward_terms[t]["reward_contact"]).abs());
        }
        env.set_physics_state(&traj.initial_qpos, &traj.initial_qvel).unwrap();
        for t in 0..10 {
            let out = env.advance(&traj.actions[t], &mut rng);
            env.observe(&mut obs);
            free_err = free_err.max(err(env.qpos(), env.qvel(), &traj.qpos[t + 1], &traj.qvel[t + 1]));
            free_obs = free_obs.max(max_diff(&obs, &traj.observations[t + 1]));
            free_reward = free_reward.max((out.reward - traj.rewards[t]).abs());
            free_terms = free_terms.max(terms_diff(env.reward_terms(), &traj.reward_terms[t]));
        }
    }
    one_step.sort_by(f64::total_cmp);
    let (median, max) = (one_step[one_step.len() / 2], one_step[one_step.len() - 1]);
    println!(
        "Ant-v5: state obs {state_obs:e}; one step median {median:e}, max {max:e}; after it cfrc_ext obs \
         {wrench_obs:e}, contact cost {contact_cost:e}; 10-step free run err {free_err:e}, obs {free_obs:e}, \
         reward {free_reward:e}, info {free_terms:e}"
    );
    assert!(state_obs <= 1e-12, "qpos/qvel observations off by {state_obs}");
    assert!(median <= 1e-9 && max <= 1e-6, "one-step err median {median}, max {max}");
    assert!(wrench_obs <= 1e-6, "cfrc_ext observations off by {wrench_obs}");
    assert!(contact_cost <= 1e-6, "contact cost off by {contact_cost}");
    assert!(free_err <= 1e-5, "free-run err {free_err}");
    assert!(free_obs <= 1e-6 && free_reward <= 1e-6 && free_terms <= 1e-6, "free-run obs/reward/info off");
}

#[test]
fn ant_v5_settles_like_mujoco() {
    let golden = load("gymnasium_ant_v5_zero.json.gz");
    let mut env = ant::v5().unwrap();
    let mut rng = env_rng(0);
    for (i, traj) in golden.trajectories.iter().enumerate() {
        env.set_physics_state(&traj.initial_qpos, &traj.initial_qvel).unwrap();
        // 40 steps of 0.05 s = 2 s.
        for _ in 0..40 {
            env.advance(&[0.0; 8], &mut rng);
            assert!(env.divergence().is_none());
        }
        let (ours, theirs) = (env.qpos()[2], traj.qpos[40][2]);
        println!("Ant-v5 zero #{i}: torso height {ours} vs {theirs}");
        assert!((ours - theirs).abs() <= 1e-3, "#{i}: rest height {ours} vs MuJoCo {theirs}");
    }
}
