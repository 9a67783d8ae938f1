//! `dmc/point_mass-hard` behaviour the golden file does not pin down (its golden replay is in
//! `golden_dmc.rs`): the reset's direction draw, the generalized force the directions give, and
//! that snapshots carry the directions.

use dime_envs::tasks::dmc::{self, point_mass::MAX_DIRECTION_COSINE};
use dime_envs::{check_env, ids, CheckConfig, Env, EnvError, TaskEnv};

type Hard = TaskEnv<dmc::Dmc<dmc::point_mass::Hard>>;

fn hard() -> Hard {
    TaskEnv::new(dmc::point_mass::hard().unwrap())
}

fn dot(a: [f64; 2], b: [f64; 2]) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

#[test]
fn reset_draws_unit_directions_that_are_not_too_parallel() {
    // dm_control: dir = normalize(randn(2)), dir₂ redrawn while |dir₁·dir₂| > 0.9. Each direction
    // is then uniform on the circle: over 2000 seeds the mean of each component is within
    // 4σ = 4·(1/√2)/√2000 ≈ 0.063 of 0, and the accepted |dir₁·dir₂| fill [0, 0.9].
    let mut env = hard();
    let mut obs = vec![0.0; 4];
    let (mut sum, mut max_cos, mut min_cos) = ([0.0; 4], 0.0_f64, 1.0_f64);
    let n = 2000;
    for seed in 0..n {
        env.reset(Some(seed), &mut obs).unwrap();
        assert!(obs[0].abs() <= 0.29 && obs[1].abs() <= 0.29 && obs[2] == 0.0 && obs[3] == 0.0, "{obs:?}");
        let [d1, d2] = env.task().task().directions();
        for d in [d1, d2] {
            assert!((d[0].hypot(d[1]) - 1.0).abs() < 1e-15, "not a unit vector: {d:?}");
        }
        let cos = dot(d1, d2).abs();
        assert!(cos <= MAX_DIRECTION_COSINE, "seed {seed}: |dir₁·dir₂| = {cos}");
        (max_cos, min_cos) = (max_cos.max(cos), min_cos.min(cos));
        for (s, x) in sum.iter_mut().zip([d1[0], d1[1], d2[0], d2[1]]) {
            *s += x;
        }
    }
    for (k, s) in sum.iter().enumerate() {
        assert!((s / n as f64).abs() < 0.063, "component {k} has mean {}", s / n as f64);
    }
    assert!(max_cos > 0.88 && min_cos < 0.01, "|dir₁·dir₂| spans [{min_cos}, {max_cos}]");
    // Different episodes get different directions.
    env.reset(Some(0), &mut obs).unwrap();
    let first = env.task().task().directions();
    env.reset(None, &mut obs).unwrap();
    assert_ne!(first, env.task().task().directions());
}

#[test]
fn the_generalized_force_is_a_tenth_of_the_directions_weighted_by_the_clamped_controls() {
    // From rest at the origin one Euler step with implicit damping gives
    // q̇′ = h·τ/(m + h·d) per slide (m = 0.3 kg, damping d = 1, h = 0.02, no armature), with
    // τ = 0.1·(clamp(u₁)·dir₁ + clamp(u₂)·dir₂) (the actuators clamp to [−1, 1] before the
    // tendon). Rounding of these few operations stays below 1e-16.
    let mut env = hard();
    let mut obs = vec![0.0; 4];
    env.reset(Some(3), &mut obs).unwrap();
    let dirs = [[0.6, 0.8], [-0.28, 0.96]];
    env.task_mut().set_directions(dirs).unwrap();
    for u in [[1.0, 0.0], [0.0, -1.0], [0.3, 0.7], [2.0, -5.0]] {
        env.task_mut().set_physics_state(&[0.0, 0.0], &[0.0, 0.0]).unwrap();
        env.step(&u, &mut obs).unwrap();
        let c = [u[0].clamp(-1.0, 1.0), u[1].clamp(-1.0, 1.0)];
        for axis in 0..2 {
            let force = 0.1 * (c[0] * dirs[0][axis] + c[1] * dirs[1][axis]);
            let expected = 0.02 * force / (0.3 + 0.02 * 1.0);
            assert!((obs[2 + axis] - expected).abs() < 1e-16, "u {u:?} axis {axis}: {} vs {expected}", obs[2 + axis]);
        }
    }
    // With the identity directions the hard task is the easy one, bit for bit.
    let mut easy = TaskEnv::new(dmc::point_mass::easy().unwrap());
    let (mut a, mut b) = (vec![0.0; 4], vec![0.0; 4]);
    easy.reset(Some(4), &mut a).unwrap();
    env.reset(Some(4), &mut b).unwrap();
    env.task_mut().set_directions([[1.0, 0.0], [0.0, 1.0]]).unwrap();
    env.task_mut().set_physics_state(easy.task().qpos(), easy.task().qvel()).unwrap();
    for t in 0..50 {
        let u = [(t as f64 * 0.37).sin(), (t as f64 * 0.91).cos()];
        let (ra, rb) = (easy.step(&u, &mut a).unwrap(), env.step(&u, &mut b).unwrap());
        assert_eq!((&a, ra.reward.to_bits()), (&b, rb.reward.to_bits()), "step {t}");
    }
}

#[test]
fn snapshots_carry_the_directions_and_bad_directions_are_refused() {
    let mut env = hard();
    let mut obs = vec![0.0; 4];
    env.reset(Some(7), &mut obs).unwrap();
    for _ in 0..10 {
        env.step(&[0.5, -0.5], &mut obs).unwrap();
    }
    let snapshot = env.snapshot();
    let directions = env.task().task().directions();
    assert_eq!(snapshot.task_state.len(), 8, "qpos, qvel and the two directions");
    assert_eq!(snapshot.task_state[4..], directions.concat()[..]);
    // A fresh instance (identity directions before any reset) continues identically.
    let mut fresh = hard();
    fresh.restore(&snapshot).unwrap();
    assert_eq!(fresh.task().task().directions(), directions);
    let (mut a, mut b) = (vec![0.0; 4], vec![0.0; 4]);
    for _ in 0..20 {
        let (ra, rb) = (env.step(&[0.9, 0.2], &mut a).unwrap(), fresh.step(&[0.9, 0.2], &mut b).unwrap());
        assert_eq!((&a, ra.reward.to_bits()), (&b, rb.reward.to_bits()));
    }
    // Non-finite directions are an error and change nothing.
    let mut bad = snapshot.clone();
    bad.task_state[5] = f64::NAN;
    assert!(matches!(fresh.restore(&bad), Err(EnvError::InvalidConfig(_))));
    let err = fresh.task_mut().set_directions([[f64::INFINITY, 0.0], [0.0, 1.0]]).unwrap_err();
    assert!(err.to_string().contains("not finite"), "{err}");
    assert_eq!(fresh.task().task().directions(), directions);
}

#[test]
fn point_mass_hard_is_registered_and_passes_check_env() {
    // `conformance.rs` runs `check_env` on every registered id; this names the new one explicitly
    // (its snapshot check restores into a fresh instance, which must take over the directions).
    assert!(ids().contains(&"dmc/point_mass-hard"));
    if let Err(failures) = check_env("dmc/point_mass-hard", &CheckConfig::default()) {
        let lines: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
        panic!("dmc/point_mass-hard fails check_env:\n{}", lines.join("\n"));
    }
}
