//! Random-action statistics of the contact tasks against the reference distributions of
//! Gymnasium 1.4.0 / dm_control 1.0.50 / MuJoCo 3.17 (design notes §3.9 (e), §3.10).
//!
//! Protocol (as the reference): 100 episodes, reset seeds 0–99, uniform random actions in the
//! native bounds, one fresh draw per step. Our resets and actions come from our own seeded
//! streams, so only distributions can agree: the reference's per-episode values (return, mean
//! forward velocity) and its per-step forward velocities at steps 0, 10, 20, ... (thinned against
//! autocorrelation) are in `tests/data/random_action_stats_subset.json.gz`.
//!
//! For each quantity: `|Δmean| ≤ 3·sqrt(s₁²/n₁ + s₂²/n₂)` (a 3-σ Welch bound: a correct engine
//! fails it with probability ≈ 0.3%) and a two-sample Kolmogorov–Smirnov test with p ≥ 0.01.
//! Episode lengths are compared the same way where episodes terminate (Hopper, Walker2d), and must
//! be equal (all 1000) where they cannot.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use dime_envs::tasks::dmc;
use dime_envs::tasks::gym_mujoco::{half_cheetah, hopper_walker};
use dime_envs::{Env, TaskEnv};
use rand::{Rng, SeedableRng};
use serde::Deserialize;

#[derive(Deserialize)]
struct Stats {
    tasks: BTreeMap<String, TaskStats>,
}

#[derive(Deserialize)]
struct TaskStats {
    per_episode: BTreeMap<String, Summary>,
    per_step: BTreeMap<String, Summary>,
}

#[derive(Deserialize)]
struct Summary {
    #[serde(default)]
    values: Vec<f64>,
    #[serde(default)]
    thinned_values: Vec<f64>,
}

fn reference(id: &str) -> TaskStats {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/random_action_stats_subset.json.gz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("reference statistics missing: looked for {} ({e})", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).expect("not valid gzip");
    let mut stats: Stats = serde_json::from_str(&text).expect("not the expected JSON");
    stats.tasks.remove(id).unwrap_or_else(|| panic!("no reference statistics for {id}"))
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    (mean, x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0))
}

/// Two-sample KS statistic and its asymptotic p-value (Numerical Recipes §14.3:
/// `Q(λ) = 2 Σ (−1)^{j−1} exp(−2j²λ²)` with `λ = (√nₑ + 0.12 + 0.11/√nₑ)·D`, `nₑ = n₁n₂/(n₁ + n₂)`).
fn ks_test(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut d) = (0, 0, 0.0_f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    let ne = (a.len() * b.len()) as f64 / (a.len() + b.len()) as f64;
    let lambda = (ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d;
    let mut p = 0.0;
    for k in 1..=100 {
        let term = 2.0 * (-2.0 * (k * k) as f64 * lambda * lambda).exp();
        p += if k % 2 == 1 { term } else { -term };
    }
    (d, p.clamp(0.0, 1.0))
}

fn compare(what: &str, ours: &[f64], theirs: &[f64]) {
    let ((m1, v1), (m2, v2)) = (mean_var(ours), mean_var(theirs));
    let bound = 3.0 * (v1 / ours.len() as f64 + v2 / theirs.len() as f64).sqrt();
    let (d, p) = ks_test(ours, theirs);
    println!("{what}: mean {m1:.4} vs {m2:.4} (bound {bound:.4}), KS D = {d:.4}, p = {p:.3}");
    assert!((m1 - m2).abs() <= bound, "{what}: mean {m1} vs reference {m2}, beyond the 3σ bound {bound}");
    assert!(p >= 0.01, "{what}: KS p = {p} < 0.01 (D = {d})");
}

/// Per-episode returns, lengths, mean forward velocities, and per-step forward velocities at steps 0, 10, ...
struct Sample {
    returns: Vec<f64>,
    lengths: Vec<f64>,
    velocity_means: Vec<f64>,
    thinned_velocities: Vec<f64>,
}

fn sample<E: Env>(env: &mut E, forward_velocity: impl Fn(&E) -> f64) -> Sample {
    let spec = env.spec().clone();
    let mut s = Sample { returns: vec![], lengths: vec![], velocity_means: vec![], thinned_velocities: vec![] };
    let mut obs = vec![0.0; spec.obs_dim];
    let mut action = vec![0.0; spec.act_dim];
    for k in 0..100_u64 {
        env.reset(Some(k), &mut obs).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 + k);
        let (mut ret, mut vel_sum, mut t) = (0.0, 0.0, 0);
        loop {
            for (a, (lo, hi)) in action.iter_mut().zip(spec.act_low.iter().zip(&spec.act_high)) {
                *a = rng.random_range(*lo..*hi);
            }
            let out = env.step(&action, &mut obs).unwrap();
            assert!(!out.diverged, "episode {k} diverged at step {t}");
            let v = forward_velocity(env);
            if t % 10 == 0 {
                s.thinned_velocities.push(v);
            }
            (ret, vel_sum, t) = (ret + out.reward, vel_sum + v, t + 1);
            if out.done() {
                break;
            }
        }
        s.returns.push(ret);
        s.lengths.push(t as f64);
        s.velocity_means.push(vel_sum / t as f64);
    }
    s
}

fn check(id: &str, s: &Sample) {
    let r = reference(id);
    let lengths = &r.per_episode["episode_length"].values;
    if lengths.iter().all(|&l| l == 1000.0) {
        assert_eq!(&s.lengths, lengths, "{id}: episode lengths");
    } else {
        compare(&format!("{id} episode length"), &s.lengths, lengths);
    }
    compare(&format!("{id} return"), &s.returns, &r.per_episode["episode_return"].values);
    compare(&format!("{id} mean forward velocity"), &s.velocity_means, &r.per_episode["forward_velocity_mean"].values);
    compare(
        &format!("{id} forward velocity (every 10th step)"),
        &s.thinned_velocities,
        &r.per_step["forward_velocity"].thinned_values,
    );
}

#[test]
fn halfcheetah_v5_random_action_statistics_match_gymnasium() {
    let mut env = TaskEnv::new(half_cheetah::v5().unwrap());
    let s = sample(&mut env, |e| e.reward_terms().iter().find(|(n, _)| *n == "x_velocity").unwrap().1);
    check("gym/HalfCheetah-v5", &s);
}

#[test]
fn dmc_cheetah_run_random_action_statistics_match_dm_control() {
    let mut env = TaskEnv::new(dmc::cheetah::run().unwrap());
    let s = sample(&mut env, |e| e.task().task().forward_velocity(e.task().physics()));
    check("dmc/cheetah-run", &s);
}

#[test]
fn hopper_v5_random_action_statistics_match_gymnasium() {
    let mut env = TaskEnv::new(hopper_walker::hopper_v5().unwrap());
    let s = sample(&mut env, |e| e.reward_terms().iter().find(|(n, _)| *n == "x_velocity").unwrap().1);
    check("gym/Hopper-v5", &s);
}

#[test]
fn walker2d_v5_random_action_statistics_match_gymnasium() {
    let mut env = TaskEnv::new(hopper_walker::walker2d_v5().unwrap());
    let s = sample(&mut env, |e| e.reward_terms().iter().find(|(n, _)| *n == "x_velocity").unwrap().1);
    check("gym/Walker2d-v5", &s);
}
