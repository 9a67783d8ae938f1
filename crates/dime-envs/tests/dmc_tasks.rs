//! DMC task behaviour the golden files do not pin down: reset distributions, reward branches the
//! recorded random actions never reach, and what a diverging simulation does to an episode.

use std::f64::consts::PI;

use dime_envs::tasks::dmc::{self, Dmc, DmcTask};
use dime_envs::{make, Env, EnvConfig, EnvError, TaskEnv, VecEnv, VecStep};

/// Reset observations of seeds 0..n.
fn resets(id: &str, n: u64) -> Vec<Vec<f64>> {
    let mut env = make(id, &EnvConfig::default()).unwrap();
    let mut obs = vec![0.0; env.spec().obs_dim];
    (0..n)
        .map(|seed| {
            env.reset(Some(seed), &mut obs).unwrap();
            obs.clone()
        })
        .collect()
}

fn mean_std(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    (mean, var.sqrt())
}

#[test]
fn cartpole_resets_follow_dm_controls_distributions() {
    // swingup: x = 0.01·N, θ = π + 0.01·N, q̇ = 0.01·N. Over 2000 seeds the sample mean of a
    // 0.01·N draw is within 4·0.01/√2000 ≈ 9e-4 of 0 and its std within 10% of 0.01.
    let swing = resets("dmc/cartpole-swingup", 2000);
    for (index, what) in [(0, "x"), (2, "sin θ"), (3, "ẋ"), (4, "θ̇")] {
        let (mean, std) = mean_std(swing.iter().map(|o| o[index]));
        assert!(mean.abs() < 9e-4 && (std - 0.01).abs() < 1e-3, "swingup {what}: mean {mean}, std {std}");
    }
    assert!(swing.iter().all(|o| o[1] < -0.99), "the pole starts hanging down");
    // balance: x ~ U(−0.1, 0.1) (std 0.1/√3), θ ~ U(−0.034, 0.034).
    let balance = resets("dmc/cartpole-balance", 2000);
    let (mean, std) = mean_std(balance.iter().map(|o| o[0]));
    assert!(mean.abs() < 0.01 && (std - 0.1 / 3f64.sqrt()).abs() < 0.005, "balance x: {mean}, {std}");
    assert!(balance.iter().all(|o| o[2].abs() <= 0.034 && o[1] >= 0.034f64.cos()));
}

#[test]
fn joint_randomisation_covers_ranges_and_leaves_velocities_at_zero() {
    // acrobot: both hinges ~ U(−π, π) (sin and cos of q₁ cover [−1, 1]); point_mass ±0.29;
    // reacher: shoulder U(−π, π), wrist U(±160°), target radius U(0.05, 0.20).
    let acrobot = resets("dmc/acrobot-swingup", 500);
    assert!(acrobot.iter().all(|o| o[4] == 0.0 && o[5] == 0.0));
    let (lo, hi) = acrobot.iter().fold((1.0_f64, -1.0_f64), |(lo, hi), o| (lo.min(o[2]), hi.max(o[2])));
    assert!(lo < -0.99 && hi > 0.99, "cos q₁ spans [{lo}, {hi}]");
    let point_mass = resets("dmc/point_mass-easy", 500);
    assert!(point_mass.iter().all(|o| o[0].abs() <= 0.29 && o[1].abs() <= 0.29 && o[2] == 0.0 && o[3] == 0.0));
    let spread = point_mass.iter().fold(0.0_f64, |m, o| m.max(o[0].abs()));
    assert!(spread > 0.28, "x spans the range ({spread})");
    let mut reacher = TaskEnv::new(dmc::reacher::easy().unwrap());
    let mut obs = vec![0.0; 6];
    let wrist = 160f64.to_radians();
    for seed in 0..500 {
        reacher.reset(Some(seed), &mut obs).unwrap();
        let [x, y] = reacher.task().task().target();
        let radius = (x * x + y * y).sqrt();
        assert!((0.05..=0.20).contains(&radius), "target radius {radius}");
        assert!(obs[0].abs() <= PI && obs[1].abs() <= wrist + 1e-12);
    }
}

/// Put `env` at `(qpos, qvel)` and return its reward for `action` there.
fn reward_at<T: DmcTask>(env: &mut Dmc<T>, qpos: &[f64], qvel: &[f64], action: &[f64]) -> f64 {
    env.set_physics_state(qpos, qvel).unwrap();
    env.reward(action)
}

#[test]
fn pendulum_reward_is_one_within_eight_degrees_of_upright() {
    // The golden file never reaches upright: check both sides of cos θ = cos 8° (8° = 0.1396 rad).
    let mut env = dmc::pendulum::swingup().unwrap();
    assert_eq!(reward_at(&mut env, &[0.0], &[0.0], &[0.0]), 1.0);
    assert_eq!(reward_at(&mut env, &[-0.139], &[5.0], &[1.0]), 1.0);
    assert_eq!(reward_at(&mut env, &[0.140], &[0.0], &[0.0]), 0.0);
    assert_eq!(reward_at(&mut env, &[PI], &[0.0], &[0.0]), 0.0);
}

#[test]
fn point_mass_reward_near_the_target_and_its_control_discount() {
    // At the target with zero control: 1. Control u = (1, 0): mean(1 − u²) = 0.5, so
    // (4 + 0.5)/5 = 0.9. At distance 0.03 = bound 0.015 + one margin 0.015: near = 0.1.
    let mut env = dmc::point_mass::easy().unwrap();
    assert_eq!(reward_at(&mut env, &[0.0, 0.0], &[0.0, 0.0], &[0.0, 0.0]), 1.0);
    assert!((reward_at(&mut env, &[0.01, 0.0], &[0.0, 0.0], &[1.0, 0.0]) - 0.9).abs() < 1e-15);
    assert!((reward_at(&mut env, &[0.0, 0.03], &[0.0, 0.0], &[0.0, 0.0]) - 0.1).abs() < 1e-12);
}

#[test]
fn reacher_thresholds_are_target_size_plus_finger_size() {
    // The fingertip at q = 0 is at (0.24, 0): 0.12 (arm) + 0.12 (hand). Threshold: easy
    // 0.05 + 0.01, hard 0.015 + 0.01.
    for (mut env, threshold) in [(dmc::reacher::easy().unwrap(), 0.06), (dmc::reacher::hard().unwrap(), 0.025)] {
        for (offset, expected) in [(threshold - 1e-6, 1.0), (threshold + 1e-6, 0.0)] {
            env.task_mut().set_target([0.24 + offset, 0.0]);
            assert_eq!(reward_at(&mut env, &[0.0, 0.0], &[0.0, 0.0], &[0.0, 0.0]), expected, "offset {offset}");
        }
    }
}

#[test]
fn a_diverging_step_truncates_the_episode_and_is_flagged() {
    // 1e9 rad/s on the pole makes one RK4 step exceed 1e10: the env keeps the last valid state,
    // returns its (finite) observation with reward 0, and ends the episode as truncated.
    let mut env = TaskEnv::new(dmc::cartpole::swingup().unwrap());
    let mut obs = vec![0.0; 5];
    env.reset(Some(0), &mut obs).unwrap();
    env.task_mut().set_physics_state(&[0.0, 0.3], &[0.0, 1e9]).unwrap();
    let out = env.step(&[0.5], &mut obs).unwrap();
    assert!(out.diverged && out.truncated && !out.terminated && out.reward == 0.0, "{out:?}");
    assert!(obs.iter().all(|x| x.is_finite()));
    assert_eq!(obs[0], 0.0);
    assert_eq!(obs[4], 1e9, "the observation is the last valid state's");
    assert!(matches!(env.step(&[0.5], &mut obs), Err(EnvError::StepAfterDone { .. })));
    env.reset(None, &mut obs).unwrap();
    assert!(!env.step(&[0.5], &mut obs).unwrap().diverged);
}

#[test]
fn a_vec_env_lane_that_diverges_is_counted_and_reset() {
    let mut venv = VecEnv::new("dmc/cartpole-balance", 2, 3, &EnvConfig::default()).unwrap();
    let mut obs = vec![0.0f32; 10];
    venv.reset(&mut obs).unwrap();
    let mut snapshot = venv.snapshot();
    // Task state = [qpos (2), qvel (2)]: give lane 1 an absurd pole velocity.
    snapshot.lanes[1].task_state[3] = 1e9;
    venv.restore(&snapshot).unwrap();
    let mut out = VecStep::new(2, 5);
    venv.step(&[0.0, 0.0], &mut out).unwrap();
    assert_eq!(out.diverged, [false, true]);
    assert_eq!(out.truncated, [false, true]);
    assert_eq!((out.has_final[1], out.n_diverged), (false, 1));
    assert!(out.obs[5..].iter().all(|x| x.abs() < 1.0), "lane 1 was reset: {:?}", &out.obs[5..]);
}

#[test]
fn snapshots_with_non_finite_or_misshaped_states_are_refused() {
    let mut env = TaskEnv::new(dmc::reacher::hard().unwrap());
    let mut obs = vec![0.0; 6];
    env.reset(Some(1), &mut obs).unwrap();
    let mut snapshot = env.snapshot();
    assert_eq!(snapshot.task_state.len(), 6, "qpos, qvel and the target");
    snapshot.task_state[2] = f64::NAN;
    assert!(matches!(env.restore(&snapshot), Err(EnvError::Sim(_))));
    snapshot.task_state.pop();
    assert!(matches!(env.restore(&snapshot), Err(EnvError::WrongLength { .. })));
    assert!(matches!(env.task_mut().set_physics_state(&[0.0, f64::INFINITY], &[0.0, 0.0]), Err(EnvError::Sim(_))));
}

#[test]
fn dmc_specs_name_the_engine_and_dm_controls_timing() {
    for (id, dt, obs_dim, act_dim) in [
        ("dmc/pendulum-swingup", 0.02, 3, 1),
        ("dmc/cartpole-balance", 0.01, 5, 1),
        ("dmc/cartpole-swingup", 0.01, 5, 1),
        ("dmc/acrobot-swingup", 0.01, 6, 1),
        ("dmc/point_mass-easy", 0.02, 4, 2),
        ("dmc/point_mass-hard", 0.02, 4, 2),
        ("dmc/reacher-easy", 0.02, 6, 2),
        ("dmc/reacher-hard", 0.02, 6, 2),
    ] {
        let spec = make(id, &EnvConfig::default()).unwrap().spec().clone();
        assert_eq!((spec.dt, spec.obs_dim, spec.act_dim, spec.max_episode_steps), (dt, obs_dim, act_dim, 1000), "{id}");
        assert_eq!(spec.physics, dime_envs::sim::ENGINE);
        assert!(!spec.can_terminate && spec.reward_range == (0.0, 1.0));
    }
}
