//! `check_env`: the conformance checks every registered task must pass (envs.md §1.6).

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::env::Env;
use crate::error::EnvError;
use crate::registry::{make, EnvConfig};
use crate::rng::lane_seed;
use crate::spec::StepOut;
use crate::vec_env::{VecEnv, VecStep};

/// The property a failed check was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    /// The spec is consistent (layout covers the observation, bounds and dt valid).
    Spec,
    /// Same seed and actions give bitwise-identical results; another seed changes a random reset.
    Determinism,
    /// Observations and rewards stay finite under random, bang-bang and out-of-range actions.
    FiniteValues,
    /// Wrong buffer lengths and non-finite actions give errors.
    Dimensions,
    /// Episodes end by the time limit exactly, and stepping after the end is an error.
    EpisodeLogic,
    /// `VecEnv` lanes equal scalar envs seeded with the lane seeds.
    VectorEnv,
    /// Reset observations lie in the documented ranges.
    ResetRanges,
    /// Restoring a snapshot continues bitwise-identically.
    Snapshot,
}

/// One failed property, with what was observed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Which property failed.
    pub property: Property,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.property, self.message)
    }
}

/// Settings of [`check_env`].
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// Task options passed to the registry.
    pub env: EnvConfig,
    /// Root seed of the check's own random actions.
    pub seed: u64,
    /// Number of seeds whose reset observation is checked against the documented ranges.
    pub reset_seeds: u64,
}

impl Default for CheckConfig {
    fn default() -> Self {
        Self { env: EnvConfig::default(), seed: 0, reset_seeds: 1000 }
    }
}

/// What passed: the task and how many steps the checks took.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The task id.
    pub id: String,
    /// Total env steps taken by the checks.
    pub steps: u64,
}

/// How the check chooses actions.
#[derive(Debug, Clone, Copy)]
enum ActionKind {
    Uniform,
    BangBang,
    Beyond,
}

fn draw_action(env: &dyn Env, kind: ActionKind, rng: &mut ChaCha8Rng, out: &mut [f64]) {
    let spec = env.spec();
    for ((a, &lo), &hi) in out.iter_mut().zip(&spec.act_low).zip(&spec.act_high) {
        let u: f64 = rng.random();
        *a = match kind {
            ActionKind::Uniform => lo + u * (hi - lo),
            ActionKind::BangBang => {
                if u < 0.5 {
                    lo
                } else {
                    hi
                }
            }
            // 30% beyond the bounds on either side.
            ActionKind::Beyond => lo - 0.3 * (hi - lo) + u * 1.6 * (hi - lo),
        };
    }
}

/// A record of one episode: every observation and step outcome, for bitwise comparisons.
#[derive(Debug, Clone, PartialEq)]
struct Trace {
    obs: Vec<u64>,
    steps: Vec<(u64, bool, bool)>,
}

fn run_episodes(
    env: &mut dyn Env,
    seed: u64,
    episodes: usize,
    kind: ActionKind,
    rng: &mut ChaCha8Rng,
) -> Result<Trace, EnvError> {
    let spec = env.spec().clone();
    let mut obs = vec![0.0; spec.obs_dim];
    let mut action = vec![0.0; spec.act_dim];
    let mut trace = Trace { obs: Vec::new(), steps: Vec::new() };
    for ep in 0..episodes {
        env.reset(if ep == 0 { Some(seed) } else { None }, &mut obs)?;
        trace.obs.extend(obs.iter().map(|x| x.to_bits()));
        loop {
            draw_action(env, kind, rng, &mut action);
            let out: StepOut = env.step(&action, &mut obs)?;
            trace.obs.extend(obs.iter().map(|x| x.to_bits()));
            trace.steps.push((out.reward.to_bits(), out.terminated, out.truncated));
            if out.done() {
                break;
            }
        }
    }
    Ok(trace)
}

/// Run every conformance check on the registered task `id`; `Err` lists each property that failed.
pub fn check_env(id: &str, cfg: &CheckConfig) -> Result<Report, Vec<Failure>> {
    check_env_with(&|| make(id, &cfg.env), cfg)
}

/// Run every conformance check on envs built by `build` (a task not in the registry, or a test double).
pub fn check_env_with(
    build: &dyn Fn() -> Result<Box<dyn Env>, EnvError>,
    cfg: &CheckConfig,
) -> Result<Report, Vec<Failure>> {
    let mut failures = Vec::new();
    let mut steps = 0u64;
    let fail = |failures: &mut Vec<Failure>, property, message: String| failures.push(Failure { property, message });
    let mut env = match build() {
        Ok(env) => env,
        Err(e) => return Err(vec![Failure { property: Property::Spec, message: e.to_string() }]),
    };
    let spec = env.spec().clone();

    // 1. Spec.
    let mut covered = vec![0u32; spec.obs_dim];
    for field in &spec.obs_layout {
        for c in covered.iter_mut().skip(field.offset).take(field.len) {
            *c += 1;
        }
        if field.offset + field.len > spec.obs_dim {
            fail(&mut failures, Property::Spec, format!("obs field `{}` runs past obs_dim", field.name));
        }
    }
    if covered.iter().any(|&c| c != 1) {
        fail(&mut failures, Property::Spec, "obs_layout does not cover 0..obs_dim exactly once".into());
    }
    let bounds_ok = spec.act_low.len() == spec.act_dim
        && spec.act_high.len() == spec.act_dim
        && spec.act_low.iter().zip(&spec.act_high).all(|(l, h)| l.is_finite() && h.is_finite() && l < h);
    if !bounds_ok {
        fail(&mut failures, Property::Spec, "action bounds must be finite with low < high, one per dimension".into());
    }
    let dt_positive = spec.dt > 0.0;
    if !dt_positive || spec.reset_obs_range.len() != spec.obs_dim || spec.max_episode_steps == 0 {
        fail(&mut failures, Property::Spec, "dt > 0, max_episode_steps > 0 and one reset range per obs entry".into());
    }
    if !failures.is_empty() {
        return Err(failures);
    }

    // 2. Determinism.
    let trace = |env: &mut dyn Env, seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        run_episodes(env, seed, 2, ActionKind::Uniform, &mut rng)
    };
    match (trace(env.as_mut(), 7), build().and_then(|mut e| trace(e.as_mut(), 7))) {
        (Ok(a), Ok(b)) => {
            steps += 2 * a.steps.len() as u64;
            if a != b {
                fail(
                    &mut failures,
                    Property::Determinism,
                    "two instances with seed 7 and the same actions differ".into(),
                );
            }
        }
        (Err(e), _) | (_, Err(e)) => fail(&mut failures, Property::Determinism, format!("episode failed: {e}")),
    }
    if spec.random_reset {
        let mut obs_a = vec![0.0; spec.obs_dim];
        let mut obs_b = vec![0.0; spec.obs_dim];
        let same = env.reset(Some(1), &mut obs_a).and_then(|_| env.reset(Some(2), &mut obs_b)).map(|_| obs_a == obs_b);
        if same != Ok(false) {
            fail(&mut failures, Property::Determinism, "seeds 1 and 2 give the same reset observation".into());
        }
    }

    // 3. Finite values.
    for kind in [ActionKind::Uniform, ActionKind::BangBang, ActionKind::Beyond] {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xF1);
        match run_episodes(env.as_mut(), 11, 3, kind, &mut rng) {
            Ok(t) => {
                steps += t.steps.len() as u64;
                let finite = t.obs.iter().all(|&b| f64::from_bits(b).is_finite())
                    && t.steps.iter().all(|s| f64::from_bits(s.0).is_finite());
                if !finite {
                    fail(&mut failures, Property::FiniteValues, format!("non-finite value under {kind:?} actions"));
                }
            }
            Err(e) => fail(&mut failures, Property::FiniteValues, format!("{kind:?} actions: {e}")),
        }
    }

    // 4. Dimensions.
    let mut obs = vec![0.0; spec.obs_dim];
    let mut short = vec![0.0; spec.obs_dim + 1];
    let good_action = vec![0.0; spec.act_dim];
    let _ = env.reset(Some(0), &mut obs);
    let mut nan_action = good_action.clone();
    nan_action[0] = f64::NAN;
    let probes: [(&str, Result<StepOut, EnvError>); 3] = [
        ("too long an action", env.step(&vec![0.0; spec.act_dim + 1], &mut obs)),
        ("a NaN action", env.step(&nan_action, &mut obs)),
        ("a wrong observation buffer", env.step(&good_action, &mut short)),
    ];
    for (what, result) in probes {
        if result.is_ok() {
            fail(&mut failures, Property::Dimensions, format!("{what} was accepted"));
        }
    }
    if env.reset(None, &mut short).is_ok() {
        fail(&mut failures, Property::Dimensions, "reset accepted a wrong observation buffer".into());
    }

    // 5. Episode logic.
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xE9);
    let mut action = vec![0.0; spec.act_dim];
    let _ = env.reset(Some(3), &mut obs);
    let mut t = 0u32;
    loop {
        draw_action(env.as_ref(), ActionKind::Uniform, &mut rng, &mut action);
        let out = match env.step(&action, &mut obs) {
            Ok(out) => out,
            Err(e) => {
                fail(&mut failures, Property::EpisodeLogic, format!("step {t}: {e}"));
                break;
            }
        };
        t += 1;
        steps += 1;
        if out.truncated != (t == spec.max_episode_steps) {
            fail(&mut failures, Property::EpisodeLogic, format!("truncated = {} at step {t}", out.truncated));
        }
        if out.terminated && !spec.can_terminate {
            fail(&mut failures, Property::EpisodeLogic, format!("a non-terminating task terminated at step {t}"));
        }
        if out.done() {
            if env.step(&action, &mut obs).is_ok() {
                fail(&mut failures, Property::EpisodeLogic, "step after the end was accepted".into());
            }
            break;
        }
        if t > spec.max_episode_steps {
            fail(&mut failures, Property::EpisodeLogic, "episode ran past max_episode_steps".into());
            break;
        }
    }

    // 6. Vector env equals scalar envs with the lane seeds.
    if let Err(message) = check_vec_env(build, cfg) {
        fail(&mut failures, Property::VectorEnv, message);
    }

    // Snapshots: restoring mid-episode replays the same future.
    if let Err(message) = check_snapshot(env.as_mut(), build, cfg.seed) {
        fail(&mut failures, Property::Snapshot, message);
    }

    // 7. Reset ranges.
    for seed in 0..cfg.reset_seeds {
        if env.reset(Some(seed), &mut obs).is_err() {
            fail(&mut failures, Property::ResetRanges, format!("reset with seed {seed} failed"));
            break;
        }
        let outside = obs.iter().zip(&spec.reset_obs_range).position(|(x, (lo, hi))| !(lo <= x && x <= hi));
        if let Some(i) = outside {
            let (lo, hi) = spec.reset_obs_range[i];
            let msg = format!("seed {seed}: reset obs[{i}] = {} outside [{lo}, {hi}]", obs[i]);
            fail(&mut failures, Property::ResetRanges, msg);
            break;
        }
    }

    if failures.is_empty() {
        Ok(Report { id: spec.id, steps })
    } else {
        Err(failures)
    }
}

/// Snapshot an env mid-episode, run on, then restore the snapshot into a fresh instance and
/// check that the same actions reproduce the same trace (resets included).
fn check_snapshot(
    env: &mut dyn Env,
    build: &dyn Fn() -> Result<Box<dyn Env>, EnvError>,
    seed: u64,
) -> Result<(), String> {
    let spec = env.spec().clone();
    let mut obs = vec![0.0; spec.obs_dim];
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5A);
    let mut action = vec![0.0; spec.act_dim];
    env.reset(Some(21), &mut obs).map_err(|e| e.to_string())?;
    for _ in 0..(spec.max_episode_steps / 2).max(1) {
        draw_action(env, ActionKind::Uniform, &mut rng, &mut action);
        if env.step(&action, &mut obs).map_err(|e| e.to_string())?.done() {
            env.reset(None, &mut obs).map_err(|e| e.to_string())?;
        }
    }
    let snapshot = env.snapshot();
    let rng_at_snapshot = rng.clone();
    let mut future = |env: &mut dyn Env, mut rng: ChaCha8Rng| -> Result<Trace, EnvError> {
        let mut trace = Trace { obs: Vec::new(), steps: Vec::new() };
        let mut obs = vec![0.0; spec.obs_dim];
        for _ in 0..spec.max_episode_steps + 3 {
            draw_action(env, ActionKind::Uniform, &mut rng, &mut action);
            let out = env.step(&action, &mut obs)?;
            trace.steps.push((out.reward.to_bits(), out.terminated, out.truncated));
            if out.done() {
                env.reset(None, &mut obs)?;
            }
            trace.obs.extend(obs.iter().map(|x| x.to_bits()));
        }
        Ok(trace)
    };
    let original = future(env, rng_at_snapshot.clone()).map_err(|e| e.to_string())?;
    let mut fresh = build().map_err(|e| e.to_string())?;
    fresh.restore(&snapshot).map_err(|e| e.to_string())?;
    let restored = future(fresh.as_mut(), rng_at_snapshot).map_err(|e| e.to_string())?;
    if original != restored {
        return Err("a restored snapshot does not continue like the original".into());
    }
    Ok(())
}

/// Step a 4-lane `VecEnv` and 4 scalar envs side by side over several episodes.
fn check_vec_env(build: &dyn Fn() -> Result<Box<dyn Env>, EnvError>, cfg: &CheckConfig) -> Result<(), String> {
    const LANES: usize = 4;
    let seed = cfg.seed.wrapping_add(99);
    let lanes = (0..LANES).map(|_| build()).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
    let mut venv = VecEnv::from_envs(lanes, seed).map_err(|e| e.to_string())?;
    let spec = venv.spec().clone();
    let (od, ad) = (spec.obs_dim, spec.act_dim);
    let mut scalar: Vec<Box<dyn Env>> =
        (0..LANES).map(|_| build()).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let mut vobs = vec![0.0f32; LANES * od];
    venv.reset(&mut vobs).map_err(|e| e.to_string())?;
    let mut sobs = vec![vec![0.0; od]; LANES];
    for (i, env) in scalar.iter_mut().enumerate() {
        env.reset(Some(lane_seed(seed, i)), &mut sobs[i]).map_err(|e| e.to_string())?;
    }
    let mut out = VecStep::new(LANES, od);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x7EC);
    let mut actions = vec![0.0f32; LANES * ad];
    let mut lane_action = vec![0.0; ad];
    let same = |a: &[f32], b: &[f64]| a.iter().zip(b).all(|(x, y)| x.to_bits() == (*y as f32).to_bits());
    let horizon = (2 * spec.max_episode_steps as usize + 5).min(2100);
    for t in 0..horizon {
        for a in actions.iter_mut() {
            *a = rng.random_range(-1.0..1.0);
        }
        for (a, (lo, hi)) in actions.iter_mut().zip(spec.act_low.iter().zip(&spec.act_high).cycle()) {
            *a = (*lo + (f64::from(*a) + 1.0) * (hi - lo) / 2.0) as f32;
        }
        venv.step(&actions, &mut out).map_err(|e| e.to_string())?;
        for (i, env) in scalar.iter_mut().enumerate() {
            for (d, a) in lane_action.iter_mut().zip(&actions[i * ad..(i + 1) * ad]) {
                *d = f64::from(*a);
            }
            let s = env.step(&lane_action, &mut sobs[i]).map_err(|e| e.to_string())?;
            let lane = i * od..(i + 1) * od;
            if out.reward[i] != s.reward as f32 || out.terminated[i] != s.terminated || out.truncated[i] != s.truncated
            {
                return Err(format!("lane {i}, step {t}: reward or flags differ from the scalar env"));
            }
            if s.done() {
                if !out.has_final[i] || !same(&out.final_obs[lane.clone()], &sobs[i]) {
                    return Err(format!("lane {i}, step {t}: final_obs differs from the scalar env's last obs"));
                }
                env.reset(None, &mut sobs[i]).map_err(|e| e.to_string())?;
            } else if out.has_final[i] {
                return Err(format!("lane {i}, step {t}: has_final set on a step that did not end"));
            }
            if !same(&out.obs[lane], &sobs[i]) {
                return Err(format!("lane {i}, step {t}: observation differs from the scalar env"));
            }
        }
    }
    Ok(())
}
