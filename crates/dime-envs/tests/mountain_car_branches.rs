//! Branches of MountainCarContinuous that the golden data never reaches (envs.md §2.3):
//! the velocity clip, the right wall at 0.6, the goal, and the left wall.

use dime_envs::tasks::MountainCarContinuous;
use dime_envs::{Env, TaskEnv};

fn env_at(x: f64, v: f64) -> TaskEnv<MountainCarContinuous> {
    let mut env = TaskEnv::new(MountainCarContinuous::new());
    env.reset(Some(0), &mut [0.0; 2]).unwrap();
    env.task_mut().set_reset_state(x, v);
    env
}

#[test]
fn velocity_is_clipped_at_0_07() {
    // Near the valley bottom, gravity ≈ 0; full throttle from v = 0.0695 would exceed 0.07.
    let mut env = env_at(-0.52, 0.0695);
    let mut obs = [0.0; 2];
    env.step(&[1.0], &mut obs).unwrap();
    assert_eq!(obs[1], 0.07_f32 as f64, "first step: f64 clip, stored as f32");
    env.step(&[1.0], &mut obs).unwrap();
    assert_eq!(obs[1], 0.07_f32 as f64, "later steps: f32 clip");
}

#[test]
fn reaching_the_goal_terminates_with_the_bonus() {
    let mut env = env_at(0.44, 0.05);
    let mut obs = [0.0; 2];
    let out = env.step(&[0.5], &mut obs).unwrap();
    assert!(out.terminated);
    // reward = 100 − 0.5²·0.1
    assert_eq!(out.reward, 100.0 - 0.025);
}

#[test]
fn right_wall_clips_position_at_0_6() {
    // Start on the f32 path (one step first), then push past 0.6 with the goal reached.
    let mut env = env_at(0.3, 0.0);
    let mut obs = [0.0; 2];
    env.step(&[0.0], &mut obs).unwrap();
    env.task_mut().set_reset_state(0.59, 0.07);
    let out = env.step(&[1.0], &mut obs).unwrap();
    assert_eq!(obs[0], 0.6_f32 as f64);
    assert!(out.terminated);
}

#[test]
fn left_wall_stops_the_car() {
    let mut env = env_at(-1.19, -0.05);
    let mut obs = [0.0; 2];
    env.step(&[-1.0], &mut obs).unwrap();
    assert_eq!(obs, [-1.2_f32 as f64, 0.0]);
}

#[test]
fn out_of_range_actions_push_like_the_bound_but_cost_like_themselves() {
    let (mut a, mut b) = (env_at(-0.5, 0.0), env_at(-0.5, 0.0));
    let (mut oa, mut ob) = ([0.0; 2], [0.0; 2]);
    let ra = a.step(&[1.3], &mut oa).unwrap();
    let rb = b.step(&[1.0], &mut ob).unwrap();
    assert_eq!(oa, ob, "same dynamics as the clipped action");
    let a13 = f64::from(1.3_f32);
    assert_eq!(ra.reward, -(a13 * a13) * 0.1, "cost of the raw action");
    assert_eq!(rb.reward, -0.1);
}
