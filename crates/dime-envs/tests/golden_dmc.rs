//! Golden replays of the contact-free DMC tasks against dm_control 1.0.50 / MuJoCo 3.17.
//! Data: `tests/data/dmc_<domain>_<task>.json.gz` (3 trajectories × 300 random-action steps
//! each), copied from the shared golden folder (see `tests/data/README.md`).
//!
//! Three checks per task (design notes §3.9, stage 1):
//! 1. **One step** from every recorded `(qpos[t], qvel[t])` with `actions[t]` reproduces
//!    `(qpos[t+1], qvel[t+1])` to 1e-8 absolute per component. MuJoCo replays its own files to
//!    ≤ 1e-17 and a faithful implementation gets ~1e-15, so 1e-8 leaves room only for rounding.
//! 2. **Observations and rewards from recorded states**: `obs(qpos[t], qvel[t])` against
//!    `observations[t]`, and the reward at `(qpos[t+1], qvel[t+1])` under `actions[t]` against
//!    `rewards[t]`, to 1e-12 absolute and 1e-11 relative (binary rewards exactly).
//! 3. **Free run** of all 300 steps from the recorded initial state: observations and rewards at
//!    every step to 1e-7 (binary rewards exactly). Why the whole trajectory is a fair prefix: the
//!    design notes measured that a 1e-13 perturbation of the initial state of these six files never
//!    grows past 1e-9 within 300 steps, so per-step rounding differences (~1e-15) stay far below 1e-7.

mod common;

use dime_envs::tasks::dmc::{self, Dmc, DmcTask};
use dime_envs::{Env, EnvError, Task, TaskEnv};
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
    qpos: Vec<Vec<f64>>,
    qvel: Vec<Vec<f64>>,
    /// Reacher and point_mass: the target geom's position after reset.
    #[serde(default)]
    target: Option<[f64; 3]>,
    /// point_mass-hard: the tendon directions drawn at reset, `[dir1_x, dir1_y, dir2_x, dir2_y]`.
    #[serde(default)]
    wrap_prm: Option<[f64; 4]>,
}

fn load(name: &str) -> Golden {
    common::load(name)
}

/// How one task is replayed and how closely it must match.
struct Case<T: DmcTask> {
    file: &'static str,
    build: fn() -> Result<Dmc<T>, EnvError>,
    /// Set task parameters recorded in the trajectory (reacher's target).
    prepare: fn(&mut Dmc<T>, &Trajectory),
    /// Tolerance of the one-step check at (trajectory, step); 1e-8 unless a case says why not.
    one_step_tolerance: fn(usize, usize) -> f64,
    /// Tolerance of the free-run observations and smooth rewards of a trajectory; 1e-7 unless a case says why not.
    free_run_tolerance: fn(usize) -> f64,
    /// Whether the reward is binary (compared exactly).
    binary_reward: bool,
}

/// Largest errors seen, for the report printed by each test.
#[derive(Debug, Default)]
struct Measured {
    one_step_qpos: f64,
    one_step_qvel: f64,
    /// Largest one-step error (qpos or qvel) on steps a case allows a looser tolerance.
    one_step_excepted: f64,
    recorded_obs: f64,
    recorded_reward: f64,
    /// Largest `|Δreward| / |reward|` from recorded states (rewards can be as small as 1e-67).
    recorded_reward_rel: f64,
    free_run_obs: f64,
    free_run_reward: f64,
    free_run_reward_rel: f64,
    steps: usize,
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// `diff / |reference|`, 0 where both are 0.
fn relative(diff: f64, reference: f64) -> f64 {
    if diff == 0.0 {
        0.0
    } else {
        diff / reference.abs()
    }
}

fn fresh_env<T: DmcTask>(case: &Case<T>, traj: &Trajectory) -> TaskEnv<Dmc<T>> {
    let mut env = TaskEnv::new((case.build)().unwrap());
    let mut obs = vec![0.0; env.spec().obs_dim];
    env.reset(Some(0), &mut obs).unwrap();
    (case.prepare)(env.task_mut(), traj);
    env
}

fn replay<T: DmcTask>(case: &Case<T>) -> Measured {
    let golden = load(case.file);
    let mut m = Measured::default();
    for (i, traj) in golden.trajectories.iter().enumerate() {
        assert_eq!(traj.observations.len(), traj.actions.len() + 1);
        let mut env = fresh_env(case, traj);
        let mut obs = vec![0.0; env.spec().obs_dim];
        for (t, action) in traj.actions.iter().enumerate() {
            // 1. One step from the recorded state.
            env.task_mut().set_physics_state(&traj.qpos[t], &traj.qvel[t]).unwrap();
            env.step(action, &mut obs).unwrap();
            let (dq, dv) = (
                max_abs_diff(env.task().qpos(), &traj.qpos[t + 1]),
                max_abs_diff(env.task().qvel(), &traj.qvel[t + 1]),
            );
            let tol = (case.one_step_tolerance)(i, t);
            assert!(
                dq <= tol && dv <= tol,
                "{} traj {i} step {t}: one-step error qpos {dq:e}, qvel {dv:e} > {tol:e}",
                case.file
            );
            if tol > 1e-8 {
                m.one_step_excepted = m.one_step_excepted.max(dq.max(dv));
            } else {
                m.one_step_qpos = m.one_step_qpos.max(dq);
                m.one_step_qvel = m.one_step_qvel.max(dv);
            }
            // 2. Observation and reward from recorded states.
            env.task_mut().set_physics_state(&traj.qpos[t], &traj.qvel[t]).unwrap();
            env.task().observe(&mut obs);
            let d_obs = max_abs_diff(&obs, &traj.observations[t]);
            assert!(d_obs <= 1e-12, "{} traj {i}: observation {t} differs by {d_obs:e}", case.file);
            m.recorded_obs = m.recorded_obs.max(d_obs);
            env.task_mut().set_physics_state(&traj.qpos[t + 1], &traj.qvel[t + 1]).unwrap();
            let reward = env.task().reward(action);
            let d_reward = (reward - traj.rewards[t]).abs();
            let reward_tol = if case.binary_reward { 0.0 } else { 1e-12 };
            assert!(d_reward <= reward_tol, "{} traj {i}: reward {t}: {reward} vs {}", case.file, traj.rewards[t]);
            m.recorded_reward = m.recorded_reward.max(d_reward);
            // Relative too: point_mass rewards go down to 1e-67, where 1e-12 absolute says nothing.
            // exp(−½y²) with y up to ~25 turns rounding of y (1e-16) into ~1e-13 relative; allow 1e-11.
            let d_rel = relative(d_reward, traj.rewards[t]);
            assert!(d_rel <= 1e-11, "{} traj {i}: reward {t} relative error {d_rel:e}", case.file);
            m.recorded_reward_rel = m.recorded_reward_rel.max(d_rel);
        }
        // 3. Free run from the initial state.
        let mut env = fresh_env(case, traj);
        env.task_mut().set_physics_state(&traj.initial_qpos, &traj.initial_qvel).unwrap();
        env.task().observe(&mut obs);
        assert!(max_abs_diff(&obs, &traj.observations[0]) <= 1e-12, "{} traj {i}: reset observation", case.file);
        for (t, action) in traj.actions.iter().enumerate() {
            let out = env.step(action, &mut obs).unwrap();
            assert!(!out.done(), "DMC episodes run 1000 steps");
            let d_obs = max_abs_diff(&obs, &traj.observations[t + 1]);
            let d_reward = (out.reward - traj.rewards[t]).abs();
            let tol = (case.free_run_tolerance)(i);
            let reward_tol = if case.binary_reward { 0.0 } else { tol };
            assert!(d_obs <= tol, "{} traj {i}: free-run observation {} differs by {d_obs:e}", case.file, t + 1);
            assert!(
                d_reward <= reward_tol,
                "{} traj {i}: free-run reward {t}: {} vs {}",
                case.file,
                out.reward,
                traj.rewards[t]
            );
            m.free_run_obs = m.free_run_obs.max(d_obs);
            m.free_run_reward = m.free_run_reward.max(d_reward);
            m.free_run_reward_rel = m.free_run_reward_rel.max(relative(d_reward, traj.rewards[t]));
            m.steps += 1;
        }
    }
    println!("{}: {m:?}", case.file);
    m
}

fn no_parameters<T: DmcTask>(_: &mut Dmc<T>, _: &Trajectory) {}

fn strict(_: usize, _: usize) -> f64 {
    1e-8
}

fn free_run_strict(_: usize) -> f64 {
    1e-7
}

#[test]
fn pendulum_swingup_matches_dm_control() {
    let m = replay(&Case {
        file: "dmc_pendulum_swingup.json.gz",
        build: dmc::pendulum::swingup,
        prepare: no_parameters,
        one_step_tolerance: strict,
        free_run_tolerance: free_run_strict,
        binary_reward: true,
    });
    assert_eq!(m.steps, 900);
}

#[test]
fn pendulum_cosine_bound_is_dm_controls() {
    // dm_control: _COSINE_BOUND = np.cos(np.deg2rad(8)); printed in envs.md §2.6.
    assert_eq!(dmc::pendulum::cosine_bound(), 0.9902680687415704);
}

#[test]
fn cartpole_balance_matches_dm_control() {
    let m = replay(&Case {
        file: "dmc_cartpole_balance.json.gz",
        build: dmc::cartpole::balance,
        prepare: no_parameters,
        one_step_tolerance: strict,
        free_run_tolerance: free_run_strict,
        binary_reward: false,
    });
    assert_eq!(m.steps, 900);
}

#[test]
fn cartpole_swingup_matches_dm_control() {
    let m = replay(&Case {
        file: "dmc_cartpole_swingup.json.gz",
        build: dmc::cartpole::swingup,
        prepare: no_parameters,
        one_step_tolerance: cartpole_swingup_one_step,
        free_run_tolerance: cartpole_swingup_free_run,
        binary_reward: false,
    });
    assert_eq!(m.steps, 900);
}

/// Trajectory 1 of cartpole-swingup pushes the cart into its ±1.8 m slider limit. On two of those
/// steps (t = 261 and 267) MuJoCo's recorded RK4 step, whose stage accelerations come from its
/// Newton solver stopping at `tolerance` 1e-8 from a warm start, differs from the exact solution of
/// the same soft-limit problem by 6.4e-8 in qvel (the design notes measured this with MuJoCo itself:
/// a cold one-step replay there is 1.9e-8 off, and the closed-form limit force reproduces a cold
/// `mj_step` to 4e-16). Those two steps get 1e-6; every other step, limit steps included, 1e-8.
fn cartpole_swingup_one_step(traj: usize, t: usize) -> f64 {
    if traj == 1 && (t == 261 || t == 267) {
        1e-6
    } else {
        1e-8
    }
}

/// The 6.4e-8 solver difference of trajectory 1 (above) is carried along in a free run; the design
/// notes bound that trajectory's free run by 1e-6 (the system does not amplify it within 300 steps).
fn cartpole_swingup_free_run(traj: usize) -> f64 {
    if traj == 1 {
        1e-6
    } else {
        1e-7
    }
}

#[test]
fn acrobot_swingup_matches_dm_control() {
    let m = replay(&Case {
        file: "dmc_acrobot_swingup.json.gz",
        build: dmc::acrobot::swingup,
        prepare: no_parameters,
        one_step_tolerance: strict,
        free_run_tolerance: free_run_strict,
        binary_reward: false,
    });
    assert_eq!(m.steps, 900);
}

#[test]
fn point_mass_easy_matches_dm_control() {
    fn target_at_origin(_: &mut Dmc<dmc::point_mass::Easy>, traj: &Trajectory) {
        // The target is fixed at the origin, at the mass's height (design notes §2.8).
        assert_eq!(traj.target, Some([0.0, 0.0, 0.01]));
    }
    let m = replay(&Case {
        file: "dmc_point_mass_easy.json.gz",
        build: dmc::point_mass::easy,
        prepare: target_at_origin,
        one_step_tolerance: strict,
        free_run_tolerance: free_run_strict,
        binary_reward: false,
    });
    assert_eq!(m.steps, 900);
}

#[test]
fn point_mass_hard_matches_dm_control() {
    fn recorded_directions(env: &mut Dmc<dmc::point_mass::Hard>, traj: &Trajectory) {
        assert_eq!(traj.target, Some([0.0, 0.0, 0.01]), "the target is fixed at the origin");
        let [a, b, c, d] = traj.wrap_prm.expect("point_mass-hard files record wrap_prm");
        // The recorded draw follows dm_control's rule: unit vectors, |dir₁·dir₂| ≤ 0.9.
        assert!(((a * a + b * b).sqrt() - 1.0).abs() < 1e-15 && ((c * c + d * d).sqrt() - 1.0).abs() < 1e-15);
        assert!((a * c + b * d).abs() <= dmc::point_mass::MAX_DIRECTION_COSINE);
        assert!(traj.qpos.iter().flatten().all(|q| q.abs() < 0.29), "no recorded state is at a limit");
        env.set_directions([[a, b], [c, d]]).unwrap();
        assert_eq!(env.task().directions(), [[a, b], [c, d]]);
    }
    // Same bounds as point_mass-easy. The dynamics stay linear and damped (no recorded state
    // reaches the ±0.29 limits), so a rounding-level difference cannot grow over the 300 steps:
    // the whole trajectory is a fair prefix for the 1e-7 free run.
    let m = replay(&Case {
        file: "dmc_point_mass_hard.json.gz",
        build: dmc::point_mass::hard,
        prepare: recorded_directions,
        one_step_tolerance: strict,
        free_run_tolerance: free_run_strict,
        binary_reward: false,
    });
    assert_eq!(m.steps, 900);
}

fn recorded_target(env: &mut Dmc<dmc::reacher::Reacher>, traj: &Trajectory) {
    let [x, y, _] = traj.target.expect("reacher files record the target");
    env.task_mut().set_target([x, y]);
}

#[test]
fn reacher_easy_matches_dm_control() {
    let m = replay(&Case {
        file: "dmc_reacher_easy.json.gz",
        build: dmc::reacher::easy,
        prepare: recorded_target,
        one_step_tolerance: strict,
        free_run_tolerance: free_run_strict,
        binary_reward: true,
    });
    assert_eq!(m.steps, 900);
}

#[test]
fn reacher_hard_matches_dm_control() {
    let m = replay(&Case {
        file: "dmc_reacher_hard.json.gz",
        build: dmc::reacher::hard,
        prepare: recorded_target,
        one_step_tolerance: strict,
        free_run_tolerance: free_run_strict,
        binary_reward: true,
    });
    assert_eq!(m.steps, 900);
}
