//! Golden replay of `gym/Humanoid-v5` against Gymnasium 1.4.0 / MuJoCo 3.17 (design notes §3.9,
//! stage 3). Data: `tests/data/gymnasium_humanoid_v5.json.gz` (3 random-action episodes of 22, 22
//! and 25 steps, ending at termination). "err" is `max(|Δqpos|, |Δqvel| / max(1, max|qvel|))`.
//!
//! MuJoCo solves this model with PGS limited to 50 iterations, so its recorded steps are
//! converged only to about 1e-7 (its own replay floor 9.2e-8; its exact Newton answer differs by
//! up to 8.1e-7), while the engine solves exactly. Hence:
//! - the `qpos[2:]`, `qvel` part of the observation of every recorded state: ≤ 1e-12;
//! - one step from every recorded state: maximum err ≤ 2e-6 (design bound);
//! - after it, the last-evaluation observation parts against the record: `cinert` and
//!   `qfrc_actuator` (positions and controls) ≤ 1e-6; `cvel` (velocities of RK4's 4th stage,
//!   which carry the solver difference like the step's own velocities) ≤ 2e-6 relative to
//!   `max(1, max|cvel|)`, the one-step bound; `cfrc_ext` (contact forces of the inexact
//!   PGS-50 solve, ~1e2 N) ≤ 1e-4 relative to the largest recorded entry, the dump's PGS accuracy
//!   being 4.9e-5 relative (`contact_gym_humanoid.json`), plus `terminated` exactly;
//! - free runs of the first 10 steps from the recorded reset: err ≤ 1e-5, rewards and `info`
//!   terms ≤ 1e-4 (they include the contact cost of those forces; the forward reward is a
//!   difference of mass centres over dt = 0.015 s).

mod common;
use common::{err, max_diff};

use std::collections::BTreeMap;

use dime_envs::tasks::gym_mujoco::humanoid;
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

/// Observation layout: qpos[2:] 22, qvel 23, cinert 130, cvel 78, qfrc_actuator 17, cfrc_ext 78.
const STATE: std::ops::Range<usize> = 0..45;
const CINERT: std::ops::Range<usize> = 45..175;
const CVEL: std::ops::Range<usize> = 175..253;
const ACTUATOR: std::ops::Range<usize> = 253..270;
const CONTACT: std::ops::Range<usize> = 270..348;

#[test]
fn humanoid_v5_replays_gymnasium() {
    let golden = load("gymnasium_humanoid_v5.json.gz");
    let mut env = humanoid::v5().unwrap();
    let mut rng = env_rng(0);
    let mut obs = vec![0.0; 348];
    let (mut state_obs, mut kinematic_obs, mut cvel_obs, mut contact_obs) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    let (mut free_err, mut free_reward, mut free_terms) = (0.0_f64, 0.0_f64, 0.0_f64);
    let mut one_step = Vec::new();
    for traj in &golden.trajectories {
        for t in 0..traj.actions.len() {
            env.set_physics_state(&traj.qpos[t], &traj.qvel[t]).unwrap();
            env.observe(&mut obs);
            state_obs = state_obs.max(max_diff(&obs[STATE], &traj.observations[t][STATE]));
            let out = env.advance(&traj.actions[t], &mut rng);
            one_step.push(err(env.qpos(), env.qvel(), &traj.qpos[t + 1], &traj.qvel[t + 1]));
            assert_eq!(out.terminated, traj.terminated[t], "terminated at step {t}");
            env.observe(&mut obs);
            let want = &traj.observations[t + 1];
            kinematic_obs = kinematic_obs.max(max_diff(&obs[CINERT], &want[CINERT]));
            kinematic_obs = kinematic_obs.max(max_diff(&obs[ACTUATOR], &want[ACTUATOR]));
            let vel_scale = want[CVEL].iter().fold(1.0_f64, |m, v| m.max(v.abs()));
            cvel_obs = cvel_obs.max(max_diff(&obs[CVEL], &want[CVEL]) / vel_scale);
            let scale = want[CONTACT].iter().fold(1.0_f64, |m, v| m.max(v.abs()));
            contact_obs = contact_obs.max(max_diff(&obs[CONTACT], &want[CONTACT]) / scale);
        }
        env.set_physics_state(&traj.initial_qpos, &traj.initial_qvel).unwrap();
        for t in 0..10 {
            let out = env.advance(&traj.actions[t], &mut rng);
            free_err = free_err.max(err(env.qpos(), env.qvel(), &traj.qpos[t + 1], &traj.qvel[t + 1]));
            free_reward = free_reward.max((out.reward - traj.rewards[t]).abs());
            assert_eq!(env.reward_terms().len(), traj.reward_terms[t].len());
            for (name, v) in env.reward_terms() {
                let want = traj.reward_terms[t].get(*name).unwrap_or_else(|| panic!("no recorded term `{name}`"));
                free_terms = free_terms.max((v - want).abs());
            }
        }
    }
    one_step.sort_by(f64::total_cmp);
    let (median, max) = (one_step[one_step.len() / 2], one_step[one_step.len() - 1]);
    println!(
        "Humanoid-v5: state obs {state_obs:e}; one step median {median:e}, max {max:e}; after it cinert and \
         qfrc_actuator {kinematic_obs:e}, cvel {cvel_obs:e} (relative), cfrc_ext {contact_obs:e} (relative); 10-step free run err \
         {free_err:e}, reward {free_reward:e}, info {free_terms:e}"
    );
    assert!(state_obs <= 1e-12, "qpos/qvel observations off by {state_obs}");
    assert!(max <= 2e-6, "one-step err max {max}");
    assert!(kinematic_obs <= 1e-6, "cinert/qfrc_actuator observations off by {kinematic_obs}");
    assert!(cvel_obs <= 2e-6, "cvel observations off by {cvel_obs} (relative)");
    assert!(contact_obs <= 1e-4, "cfrc_ext observations off by {contact_obs} (relative)");
    assert!(free_err <= 1e-5, "free-run err {free_err}");
    assert!(free_reward <= 1e-4 && free_terms <= 1e-4, "free-run reward {free_reward}, info {free_terms}");
}
