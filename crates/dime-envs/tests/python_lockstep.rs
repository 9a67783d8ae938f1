//! Lock-step checks (feature `python`): every embedded task that has an original is stepped next
//! to it from the same state with the same uniform random actions, under envs.md §3.9's
//! tolerances (`dime_envs::python::lockstep::tolerance` states them per task):
//! classic control bit-exact; contact-free DMC one step ≤ 1e-9 and free runs ≤ 1e-7 (cartpole
//! limit steps 1e-6); contact tasks one-step median ≤ 1e-9, maximum ≤ 1e-6 (Humanoid-v5 2e-6),
//! the first 10 free steps ≤ 1e-5. The originals are Gymnasium 1.4 / dm_control 1.0.50 /
//! MuJoCo 3.17 from the virtual environment of docs/python-bridge.md.
#![cfg(feature = "python")]

use std::path::Path;

use dime_envs::python::lockstep::{compare, original_of, tolerance};

fn venv() {
    if std::env::var_os("VIRTUAL_ENV").is_none() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv");
        assert!(root.is_dir(), "no VIRTUAL_ENV and no {} (see docs/python-bridge.md)", root.display());
        std::env::set_var("VIRTUAL_ENV", root.canonicalize().unwrap());
    }
}

/// Compare `id` over 2 seeds × `steps` steps and hold it to its tolerance.
fn check(id: &str, steps: usize) {
    venv();
    let c = compare(id, 2, steps).unwrap_or_else(|e| panic!("{id}: {e}"));
    let tol = tolerance(id);
    let (median, max) = c.one_step_median_max();
    let free = c.free_max(tol.free_steps);
    let (obs, reward) = c.free_obs_reward(tol.free_steps);
    let report = format!(
        "{id}: one step median {median:.2e} max {max:.2e}; free run {free:.2e}, obs {obs:.2e}, reward {reward:.2e}"
    );
    eprintln!("{report}");
    assert!(c.flags_agree(), "{report}: terminated differs");
    if tol.exact {
        assert_eq!((obs, reward, free), (0.0, 0.0, 0.0), "{report}: not bit-exact");
    } else {
        assert!(median <= tol.one_step_median && max <= tol.one_step_max, "{report}: one-step tolerance {tol:?}");
        assert!(free <= tol.free_run, "{report}: free-run tolerance {tol:?}");
    }
}

#[test]
fn every_task_with_an_original_is_covered_here() {
    let covered = [
        "gym/Pendulum-v1",
        "gym/MountainCarContinuous-v0",
        "dmc/acrobot-swingup",
        "dmc/cartpole-balance",
        "dmc/cartpole-swingup",
        "dmc/pendulum-swingup",
        "dmc/point_mass-easy",
        "dmc/point_mass-hard",
        "dmc/reacher-easy",
        "dmc/reacher-hard",
        "gym/HalfCheetah-v5",
        "gym/Hopper-v5",
        "gym/Walker2d-v5",
        "gym/Ant-v5",
        "gym/Humanoid-v5",
        "gym/HalfCheetah-v4",
        "gym/Hopper-v4",
        "gym/Walker2d-v4",
        "dmc/cheetah-run",
        "dmc/hopper-hop",
        "dmc/humanoid-run",
        "dmc/walker-walk",
        "dmc/walker-run",
    ];
    for id in dime_envs::ids() {
        assert_eq!(original_of(id).is_some(), covered.contains(&id), "{id}: add it to the lock-step tests");
    }
}

macro_rules! lockstep {
    ($($name:ident: $id:literal, $steps:literal;)*) => {$(
        #[test]
        fn $name() {
            check($id, $steps);
        }
    )*};
}

lockstep! {
    pendulum_v1: "gym/Pendulum-v1", 200;
    mountain_car_continuous_v0: "gym/MountainCarContinuous-v0", 200;
    dmc_acrobot_swingup: "dmc/acrobot-swingup", 300;
    dmc_cartpole_balance: "dmc/cartpole-balance", 300;
    dmc_cartpole_swingup: "dmc/cartpole-swingup", 300;
    dmc_pendulum_swingup: "dmc/pendulum-swingup", 300;
    dmc_point_mass_easy: "dmc/point_mass-easy", 300;
    dmc_point_mass_hard: "dmc/point_mass-hard", 300;
    dmc_reacher_easy: "dmc/reacher-easy", 300;
    dmc_reacher_hard: "dmc/reacher-hard", 300;
    half_cheetah_v5: "gym/HalfCheetah-v5", 100;
    hopper_v5: "gym/Hopper-v5", 100;
    walker2d_v5: "gym/Walker2d-v5", 100;
    ant_v5: "gym/Ant-v5", 100;
    humanoid_v5: "gym/Humanoid-v5", 100;
    half_cheetah_v4: "gym/HalfCheetah-v4", 100;
    hopper_v4: "gym/Hopper-v4", 100;
    walker2d_v4: "gym/Walker2d-v4", 100;
    dmc_cheetah_run: "dmc/cheetah-run", 100;
    dmc_hopper_hop: "dmc/hopper-hop", 100;
    dmc_humanoid_run: "dmc/humanoid-run", 100;
    dmc_walker_walk: "dmc/walker-walk", 100;
    dmc_walker_run: "dmc/walker-run", 100;
}
