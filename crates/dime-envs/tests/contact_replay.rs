//! Golden replays of the planar contact tasks against Gymnasium 1.4.0 / dm_control 1.0.50 /
//! MuJoCo 3.17 (design notes §3.9, stage 2).
//!
//! Data (`tests/data/`, copied from the shared golden folder): `gymnasium_<task>_v5.json.gz`
//! (3 random-action episodes of up to 200 steps; Hopper and Walker2d end at termination),
//! `dmc_<domain>_<task>.json.gz` (3 × 300), and the zero-action settle files `*_zero.json.gz`
//! (3 × 300 steps each from the task's own reset).
//! "err" is `max(|Δqpos|, |Δqvel| / max(1, max|qvel|))` over one step's components.
//!
//! - (a) Observation of every recorded state and reward (with Gymnasium's `info` terms) of every
//!   recorded transition: ≤ 1e-12 (both are a few arithmetic operations on the state); Gymnasium's
//!   `terminated` exactly.
//! - (c) One step from every recorded state with the recorded action: median err ≤ 1e-9, maximum
//!   ≤ 1e-6 (the design's bounds for an exact solve; MuJoCo's own replay floor is 3e-14 for
//!   HalfCheetah and 1.6e-14 for DMC cheetah, and its Newton answer differs from the exact dual
//!   optimum by up to 1.9e-14 relative in the contact dumps).
//! - (d) Free run of the first 10 steps of every trajectory: err ≤ 1e-5 (the design measured that
//!   a 1e-13 perturbation of HalfCheetah needs 23 steps to exceed 1e-9, and never grows for DMC
//!   cheetah within 300 steps, so 10 steps keep rounding differences far below this bound).
//! - (f) Settling with zero action from the recorded reset: after 2 s the torso height agrees with
//!   MuJoCo's to 1e-3 m (design bound; one documented exception for a Walker2d trajectory that
//!   balances for 1.6 s before falling), the deepest ground penetration at rest stays below 2 cm
//!   (the soft contacts rest at a few mm; MuJoCo's deepest under random actions was 3.8 cm), and
//!   the mechanical energy (kinetic + gravity + joint springs) never exceeds its initial value by
//!   more than 1e-2 J (what soft contacts compressed during the fall can give back), unless the
//!   reset pose already starts more than 1 mm inside the ground (DMC hopper and walker resets are
//!   not settled), whose stored contact energy is not counted.

mod common;
use common::err;

use dime_envs::tasks::dmc::{self, Dmc, DmcTask};
use dime_envs::tasks::gym_mujoco::{half_cheetah, hopper_walker, GymMujoco, GymTask};
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
    qpos: Vec<Vec<f64>>,
    qvel: Vec<Vec<f64>>,
    #[serde(default)]
    reward_terms: Vec<std::collections::BTreeMap<String, f64>>,
    #[serde(default)]
    terminated: Vec<bool>,
}

fn load(name: &str) -> Golden {
    common::load(name)
}

/// What the replay needs from either task.
trait Replay: Task {
    fn set(&mut self, qpos: &[f64], qvel: &[f64]);
    fn pos(&self) -> Vec<f64>;
    fn vel(&self) -> Vec<f64>;
    /// Reward (and Gymnasium terms) of arriving at the current state from root x `x_before`.
    fn reward_after(&mut self, x_before: f64, action: &[f64]) -> (f64, Vec<(&'static str, f64)>, bool);
    fn energy(&self) -> f64;
    fn min_contact_dist(&self) -> f64;
}

impl<T: GymTask> Replay for GymMujoco<T> {
    fn set(&mut self, qpos: &[f64], qvel: &[f64]) {
        self.set_physics_state(qpos, qvel).unwrap();
    }
    fn pos(&self) -> Vec<f64> {
        self.qpos().to_vec()
    }
    fn vel(&self) -> Vec<f64> {
        self.qvel().to_vec()
    }
    fn reward_after(&mut self, x_before: f64, action: &[f64]) -> (f64, Vec<(&'static str, f64)>, bool) {
        let out = self.evaluate([x_before, 0.0], action);
        (out.reward, self.reward_terms().to_vec(), out.terminated)
    }
    fn energy(&self) -> f64 {
        let (p, k) = self.physics().data().energy(self.physics().model());
        p + k
    }
    fn min_contact_dist(&self) -> f64 {
        self.physics().data().contacts().iter().fold(f64::INFINITY, |m, c| m.min(c.dist))
    }
}

impl<T: DmcTask> Replay for Dmc<T> {
    fn set(&mut self, qpos: &[f64], qvel: &[f64]) {
        self.set_physics_state(qpos, qvel).unwrap();
    }
    fn pos(&self) -> Vec<f64> {
        self.qpos().to_vec()
    }
    fn vel(&self) -> Vec<f64> {
        self.qvel().to_vec()
    }
    fn reward_after(&mut self, _x_before: f64, action: &[f64]) -> (f64, Vec<(&'static str, f64)>, bool) {
        (self.reward(action), Vec::new(), false)
    }
    fn energy(&self) -> f64 {
        let (p, k) = self.physics().data().energy(self.physics().model());
        p + k
    }
    fn min_contact_dist(&self) -> f64 {
        self.physics().data().contacts().iter().fold(f64::INFINITY, |m, c| m.min(c.dist))
    }
}

#[derive(Debug, Default)]
struct Measured {
    obs: f64,
    reward: f64,
    terms: f64,
    one_step_median: f64,
    one_step_max: f64,
    /// Steps whose one-step err exceeds 1e-6, of `steps`.
    one_step_over: usize,
    steps: usize,
    free_run_10: f64,
    /// DMC hopper: largest error of `log1p(touch)` after one step, where that step's err ≤ 1e-9.
    touch: f64,
}

fn replay<E: Replay>(env: &mut E, file: &str) -> Measured {
    replay_with_touch(env, file, 0..0)
}

/// As [`replay`]; the observation entries `touch` come from the last physics step's forward pass,
/// so they are compared after a one-step replay instead of from recorded states (design (a), (c)).
fn replay_with_touch<E: Replay>(env: &mut E, file: &str, touch: std::ops::Range<usize>) -> Measured {
    let golden = load(file);
    let mut m = Measured::default();
    let mut rng = env_rng(0);
    let mut obs = vec![0.0; env.spec().obs_dim];
    let mut one_step = Vec::new();
    for traj in &golden.trajectories {
        let steps = traj.actions.len();
        for t in 0..=steps {
            env.set(&traj.qpos[t], &traj.qvel[t]);
            env.observe(&mut obs);
            for (i, (a, b)) in obs.iter().zip(&traj.observations[t]).enumerate() {
                if !touch.contains(&i) {
                    m.obs = m.obs.max((a - b).abs());
                }
            }
            if t == steps {
                break;
            }
            // Reward of the recorded transition t → t + 1.
            env.set(&traj.qpos[t + 1], &traj.qvel[t + 1]);
            let (reward, terms, terminated) = env.reward_after(traj.qpos[t][0], &traj.actions[t]);
            m.reward = m.reward.max((reward - traj.rewards[t]).abs());
            assert_eq!(terminated, traj.terminated.get(t).copied().unwrap_or(false), "{file}: terminated at step {t}");
            if let Some(recorded) = traj.reward_terms.get(t) {
                assert_eq!(terms.len(), recorded.len(), "info terms {terms:?} vs {recorded:?}");
                for (name, value) in terms {
                    let want = recorded.get(name).unwrap_or_else(|| panic!("no recorded term `{name}`"));
                    m.terms = m.terms.max((value - want).abs());
                }
            }
            // One step from the recorded state.
            env.set(&traj.qpos[t], &traj.qvel[t]);
            env.advance(&traj.actions[t], &mut rng);
            assert!(env.divergence().is_none());
            let e = err(&env.pos(), &env.vel(), &traj.qpos[t + 1], &traj.qvel[t + 1]);
            one_step.push(e);
            if e <= 1e-9 {
                env.observe(&mut obs);
                for i in touch.clone() {
                    m.touch = m.touch.max((obs[i] - traj.observations[t + 1][i]).abs());
                }
            }
        }
        env.set(&traj.initial_qpos, &traj.initial_qvel);
        for t in 0..10.min(traj.actions.len()) {
            env.advance(&traj.actions[t], &mut rng);
            m.free_run_10 = m.free_run_10.max(err(&env.pos(), &env.vel(), &traj.qpos[t + 1], &traj.qvel[t + 1]));
        }
    }
    m.one_step_over = one_step.iter().filter(|&&e| e > 1e-6).count();
    m.steps = one_step.len();
    one_step.sort_by(f64::total_cmp);
    m.one_step_median = one_step[one_step.len() / 2];
    m.one_step_max = *one_step.last().unwrap();
    println!("{file}: {m:?}");
    m
}

fn assert_bounds(m: &Measured) {
    assert_bounds_with(m, 0, 1e-6);
}

/// As [`assert_bounds`], but `allowed` steps may exceed 1e-6 one-step err, up to `max`.
fn assert_bounds_with(m: &Measured, allowed: usize, max: f64) {
    assert!(m.one_step_over <= allowed, "{} of {} one-step errors exceed 1e-6", m.one_step_over, m.steps);
    assert!(m.obs <= 1e-12, "observations off by {}", m.obs);
    assert!(m.reward <= 1e-12, "rewards off by {}", m.reward);
    assert!(m.terms <= 1e-12, "info terms off by {}", m.terms);
    assert!(m.one_step_median <= 1e-9, "one-step median err {}", m.one_step_median);
    assert!(m.one_step_max <= max, "one-step max err {}", m.one_step_max);
    assert!(m.free_run_10 <= 1e-5, "10-step free run err {}", m.free_run_10);
    assert!(m.touch <= 1e-6, "log1p(touch) off by {}", m.touch);
}

/// Settle from each recorded reset with zero action for `steps` agent steps (2 s) and compare;
/// `height_tolerance(i)` is 1e-3 m unless a case says why not.
fn settle<E: Replay>(
    env: &mut E,
    file: &str,
    steps: usize,
    torso_height: fn(&[f64]) -> f64,
    height_tolerance: fn(usize) -> f64,
) {
    let golden = load(file);
    let mut rng = env_rng(0);
    let zero = vec![0.0; env.spec().act_dim];
    for (i, traj) in golden.trajectories.iter().enumerate() {
        env.set(&traj.initial_qpos, &traj.initial_qvel);
        let initial_energy = env.energy();
        // A reset pose that starts inside the ground stores energy in the contact springs, which
        // the mechanical energy does not count: check energy only from resets that do not.
        let initial_depth = -env.min_contact_dist();
        let mut max_gain = f64::NEG_INFINITY;
        for _ in 0..steps {
            env.advance(&zero, &mut rng);
            assert!(env.divergence().is_none());
            max_gain = max_gain.max(env.energy() - initial_energy);
        }
        let (ours, theirs) = (torso_height(&env.pos()), torso_height(&traj.qpos[steps]));
        let depth = -env.min_contact_dist();
        println!("{file} #{i}: rest height {ours} vs {theirs}; depth {depth}; max energy gain {max_gain}");
        let tol = height_tolerance(i);
        assert!((ours - theirs).abs() <= tol, "{file} #{i}: rest height {ours} vs MuJoCo {theirs} (tolerance {tol})");
        assert!(depth < 0.02, "{file} #{i}: rests 2 cm or more inside the ground ({depth})");
        if initial_depth <= 1e-3 {
            assert!(max_gain <= 1e-2, "{file} #{i}: energy grew by {max_gain} J");
        } else {
            println!("{file} #{i}: starts {initial_depth} m inside the ground; energy not checked");
        }
    }
}

#[test]
fn halfcheetah_v5_replays_gymnasium() {
    let mut env = half_cheetah::v5().unwrap();
    assert_bounds(&replay(&mut env, "gymnasium_halfcheetah_v5.json.gz"));
}

#[test]
fn dmc_cheetah_run_replays_dm_control() {
    let mut env = dmc::cheetah::run().unwrap();
    assert_bounds(&replay(&mut env, "dmc_cheetah_run.json.gz"));
}

#[test]
fn halfcheetah_v5_settles_like_mujoco() {
    // Torso height = 0.7 + rootz; 40 steps of 0.05 s = 2 s.
    settle(&mut half_cheetah::v5().unwrap(), "gymnasium_halfcheetah_v5_zero.json.gz", 40, |q| 0.7 + q[1], |_| 1e-3);
}

#[test]
fn dmc_cheetah_settles_like_mujoco() {
    // 200 steps of 0.01 s = 2 s.
    settle(&mut dmc::cheetah::run().unwrap(), "dmc_cheetah_run_zero.json.gz", 200, |q| 0.7 + q[1], |_| 1e-3);
}

#[test]
fn hopper_v5_replays_gymnasium() {
    assert_bounds(&replay(&mut hopper_walker::hopper_v5().unwrap(), "gymnasium_hopper_v5.json.gz"));
}

#[test]
fn walker2d_v5_replays_gymnasium() {
    assert_bounds(&replay(&mut hopper_walker::walker2d_v5().unwrap(), "gymnasium_walker2d_v5.json.gz"));
}

#[test]
fn hopper_v5_settles_like_mujoco() {
    // Torso height = rootz (qpos0 = 1.25); 250 steps of 0.008 s = 2 s.
    settle(&mut hopper_walker::hopper_v5().unwrap(), "gymnasium_hopper_v5_zero.json.gz", 250, |q| q[1], |_| 1e-3);
}

#[test]
fn walker2d_v5_settles_like_mujoco() {
    // Trajectory 1 balances upright for 1.6 s before it falls. MuJoCo's own one-step replay of
    // this file is only good to 1.3e-5 (its Newton solver stops at tolerance 1e-8 on the resting
    // contacts; golden README), and our exact solves differ from the recorded steps by as much
    // (1.3e-5 at step 9). The unstable balance amplifies that past 1e-3 by step 133, so the
    // walker lands in a pose 0.03 rad different and rests 2.7 mm higher: allow 5 mm there.
    let tolerance = |i| if i == 1 { 5e-3 } else { 1e-3 };
    settle(&mut hopper_walker::walker2d_v5().unwrap(), "gymnasium_walker2d_v5_zero.json.gz", 250, |q| q[1], tolerance);
}

// DMC walker: one step of each file misses the design's 1e-6 maximum (walk: trajectory 0 step 283,
// 3.7e-6; run: trajectory 1 step 239, 5.8e-6) while the other 899 stay ≤ 4e-8 (median 8e-16; the
// 4e-8 is run trajectory 1 step 112). The recording is inexact there, not dime: on one substep of
// each of these three steps MuJoCo's Newton solver stops at `opt.tolerance = 1e-8` (next
// iteration's scaled cost gain 3-6e-9) with its gradient still 1e-5..2e-4, and MuJoCo run to
// convergence matches dime to ≤ 7.6e-16 (`tests/walker_solver_tolerance.rs`, issue 7).
// So: at most one such step per file, and none above 1e-5.

#[test]
fn dmc_walker_walk_replays_dm_control() {
    assert_bounds_with(&replay(&mut dmc::walker::walk().unwrap(), "dmc_walker_walk.json.gz"), 1, 1e-5);
}

#[test]
fn dmc_walker_run_replays_dm_control() {
    assert_bounds_with(&replay(&mut dmc::walker::run().unwrap(), "dmc_walker_run.json.gz"), 1, 1e-5);
}

#[test]
fn dmc_walker_settles_like_mujoco() {
    // Torso height = 1.3 + rootz (qpos[0]); 80 steps of 0.025 s = 2 s.
    settle(&mut dmc::walker::walk().unwrap(), "dmc_walker_walk_zero.json.gz", 80, |q| 1.3 + q[0], |_| 1e-3);
}

#[test]
fn dmc_hopper_hop_replays_dm_control() {
    // Observation entries 13..15 are log1p(touch); the design bounds them by 1e-6 after a one-step
    // replay wherever the state matches (they sum normal forces of ~1e2 N solved to ~1e-14).
    let m = replay_with_touch(&mut dmc::hopper::hop().unwrap(), "dmc_hopper_hop.json.gz", 13..15);
    assert_bounds(&m);
}

#[test]
fn dmc_hopper_settles_like_mujoco() {
    // Torso height = 1 + rootz (qpos[1]); 100 steps of 0.02 s = 2 s.
    settle(&mut dmc::hopper::hop().unwrap(), "dmc_hopper_hop_zero.json.gz", 100, |q| 1.0 + q[1], |_| 1e-3);
}

#[test]
fn dmc_humanoid_run_replays_dm_control() {
    // 3-D: free root, sphere/capsule self-contacts. MuJoCo's own replay floor is 5.2e-14 (README).
    assert_bounds(&replay(&mut dmc::humanoid::run().unwrap(), "dmc_humanoid_run.json.gz"));
}
