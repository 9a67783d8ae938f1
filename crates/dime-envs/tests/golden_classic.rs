//! Golden replays of the Gymnasium classic-control tasks: every recorded step must match
//! bit for bit (observations, rewards, flags), including steps with out-of-range actions.
//! Data: `tests/data/*.json.gz`, copied from the shared golden folder (see its README).

mod common;

use dime_envs::tasks::{MountainCarContinuous, Pendulum};
use dime_envs::{Env, Task, TaskEnv};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    trajectories: Vec<Trajectory>,
}

#[derive(Deserialize)]
struct Trajectory {
    initial_state: [f64; 2],
    actions: Vec<Vec<f64>>,
    observations: Vec<Vec<f64>>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
}

fn load(name: &str) -> Golden {
    common::load(name)
}

/// Step `env` through `traj` from its already-set state; compare everything bit for bit.
fn replay<T: Task>(env: &mut TaskEnv<T>, traj: &Trajectory, label: &str) -> usize {
    let mut obs = vec![0.0; env.spec().obs_dim];
    assert_eq!(traj.observations.len(), traj.actions.len() + 1);
    for (t, action) in traj.actions.iter().enumerate() {
        // The recorder cast its f64 draws to float32 before stepping (golden README).
        let action: Vec<f64> = action.iter().map(|&a| f64::from(a as f32)).collect();
        let out = env.step(&action, &mut obs).unwrap_or_else(|e| panic!("{label} step {t}: {e}"));
        assert_eq!(obs, traj.observations[t + 1], "{label}: observation after step {t}");
        assert_eq!(
            out.reward.to_bits(),
            traj.rewards[t].to_bits(),
            "{label}: reward of step {t}: {} vs {}",
            out.reward,
            traj.rewards[t]
        );
        assert_eq!(out.terminated, traj.terminated[t], "{label}: terminated at step {t}");
        assert_eq!(out.truncated, traj.truncated[t], "{label}: truncated at step {t}");
    }
    traj.actions.len()
}

#[test]
fn pendulum_matches_gymnasium_bit_for_bit_on_every_recorded_step() {
    let golden = load("gymnasium_pendulum_v1.json.gz");
    let mut steps = 0;
    for (i, traj) in golden.trajectories.iter().enumerate() {
        let mut env = TaskEnv::new(Pendulum::new());
        let mut obs = vec![0.0; 3];
        env.reset(Some(0), &mut obs).unwrap();
        let [theta, theta_dot] = traj.initial_state;
        env.task_mut().set_theta(theta, theta_dot);
        env.task().observe(&mut obs);
        assert_eq!(obs, traj.observations[0], "pendulum {i}: reset observation");
        steps += replay(&mut env, traj, &format!("pendulum {i}"));
    }
    assert_eq!(steps, 800, "the golden file holds 4 × 200 steps");
}

#[test]
fn mountain_car_matches_gymnasium_bit_for_bit_on_every_recorded_step() {
    let golden = load("gymnasium_mountaincarcontinuous_v0.json.gz");
    let mut steps = 0;
    let mut clipped = 0;
    for (i, traj) in golden.trajectories.iter().enumerate() {
        let mut env = TaskEnv::new(MountainCarContinuous::new());
        let mut obs = vec![0.0; 2];
        env.reset(Some(0), &mut obs).unwrap();
        let [x, v] = traj.initial_state;
        env.task_mut().set_reset_state(x, v);
        env.task().observe(&mut obs);
        // observations[0] is the unrounded f64 state (the recorder had no _get_obs); ours is f32-rounded.
        for (ours, theirs) in obs.iter().zip(&traj.observations[0]) {
            assert!((ours - theirs).abs() <= 1e-7, "mountain car {i}: reset observation {ours} vs {theirs}");
        }
        clipped += traj.actions.iter().filter(|a| a[0].abs() > 1.0).count();
        steps += replay(&mut env, traj, &format!("mountain car {i}"));
    }
    assert_eq!(steps, 4 * 999);
    assert!(clipped > 500, "the file exercises clipping ({clipped} out-of-range actions)");
}
