//! The multi-goal task: rewards at and between the goals, termination and clipping,
//! checked against hand computations of `r = −30‖a‖² − min_g‖s' − g‖² (+10 within 1 of a goal)`.

use dime_envs::tasks::multi_goal::{goals_reached, nearest_goal_distance, GOALS};
use dime_envs::tasks::{MultiGoal, MultiGoalConfig};
use dime_envs::{Env, EnvConfig, Task, TaskEnv};

fn env_at(p: [f64; 2]) -> TaskEnv<MultiGoal> {
    let mut env = TaskEnv::new(MultiGoal::new(MultiGoalConfig::default()).unwrap());
    env.reset(Some(0), &mut [0.0; 2]).unwrap();
    env.task_mut().set_position(p);
    env
}

#[test]
fn reward_between_goals_is_minus_squared_distance_to_the_nearest() {
    // From (−2.5, 0) with zero action: nearest goal (−5, 0) at distance 2.5 → r = −6.25.
    let mut env = env_at([-2.5, 0.0]);
    let out = env.step(&[0.0, 0.0], &mut [0.0; 2]).unwrap();
    assert_eq!(out.reward, -6.25);
    assert!(!out.terminated);
    // At the origin every goal is 5 away → r = −25.
    let mut env = env_at([0.0, 0.0]);
    assert_eq!(env.step(&[0.0, 0.0], &mut [0.0; 2]).unwrap().reward, -25.0);
    // At (2.5, 2.5): nearest goals (5,0) and (0,5), squared distance 2.5² + 2.5² = 12.5.
    let mut env = env_at([2.5, 2.5]);
    let r = env.step(&[0.0, 0.0], &mut [0.0; 2]).unwrap().reward;
    assert!((r + 12.5).abs() < 1e-12, "{r}");
}

#[test]
fn reaching_a_goal_pays_the_bonus_and_terminates() {
    // From (4, 0) move by (0.5, 0) → (4.5, 0), 0.5 from (5, 0):
    // r = −30·0.25 − 0.25 + 10 = 2.25.
    let mut env = env_at([4.0, 0.0]);
    let mut obs = [0.0; 2];
    let out = env.step(&[0.5, 0.0], &mut obs).unwrap();
    assert_eq!(obs, [4.5, 0.0]);
    assert_eq!(out.reward, 2.25);
    assert!(out.terminated && !out.truncated);
    // Every goal terminates from a point inside its radius.
    for g in GOALS {
        let mut env = env_at([g[0] * 0.9, g[1] * 0.9]);
        assert!(env.step(&[0.0, 0.0], &mut obs).unwrap().terminated, "goal {g:?}");
    }
}

#[test]
fn actions_are_clipped_and_positions_stay_in_the_box() {
    // Action (3, 0) is clipped to (1, 0); the cost uses the clipped action: −30·1 − (6.9 − 5)².
    let mut env = env_at([6.5, 0.0]);
    let mut obs = [0.0; 2];
    let out = env.step(&[3.0, 0.0], &mut obs).unwrap();
    assert_eq!(obs, [7.0, 0.0], "clipped to the box edge at 7");
    assert!((out.reward - (-30.0 - 4.0)).abs() < 1e-12, "{}", out.reward);
}

#[test]
fn episodes_truncate_after_30_steps_without_reaching_a_goal() {
    let mut env = env_at([0.0, 0.0]);
    let mut obs = [0.0; 2];
    for t in 1..=30 {
        // Alternate directions to stay near the origin.
        let a = if t % 2 == 0 { [0.1, 0.0] } else { [-0.1, 0.0] };
        let out = env.step(&a, &mut obs).unwrap();
        assert_eq!(out.truncated, t == 30);
    }
}

#[test]
fn diagnostics_count_goals_reached() {
    assert_eq!(nearest_goal_distance([5.0, 0.0]), 0.0);
    let finals = [[4.5, 0.1], [0.0, -5.2], [4.9, 0.0], [1.0, 1.0]];
    assert_eq!(goals_reached(&finals, 1.0), 2);
}

#[test]
fn config_is_validated_and_read_strictly() {
    let bad = MultiGoalConfig { goal_radius: -1.0, ..Default::default() };
    assert!(MultiGoal::new(bad).is_err());
    let parsed: Result<EnvConfig, _> = serde_json::from_str(r#"{"multi_goal": {"goal_reward": 5.0, "typo": 1}}"#);
    assert!(parsed.is_err(), "unknown fields are rejected");
    let parsed: EnvConfig = serde_json::from_str(r#"{"multi_goal": {"goal_reward": 5.0}}"#).unwrap();
    assert_eq!(parsed.multi_goal.goal_reward, 5.0);
    assert_eq!(parsed.multi_goal.action_cost_coeff, 30.0);
    let m = MultiGoal::new(MultiGoalConfig::default()).unwrap();
    assert!(m.spec().reward_range.0 < -100.0 && m.spec().reward_range.1 == 10.0);
}
