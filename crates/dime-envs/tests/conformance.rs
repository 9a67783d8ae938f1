//! Every registered task passes `check_env`; bad input gives clear errors.

use dime_envs::{
    check_env, ids, make, make_unit, CheckConfig, EnvConfig, EnvError, Stepping, VecEnv, VecStep, PROBE_CALLS,
};

#[test]
fn every_registered_task_passes_check_env() {
    for id in ids() {
        if let Err(failures) = check_env(id, &CheckConfig::default()) {
            let lines: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
            panic!("{id} fails check_env:\n{}", lines.join("\n"));
        }
    }
}

#[test]
fn unknown_task_id_lists_close_matches() {
    let err = make("gym/Pendulum-v0", &EnvConfig::default()).err().expect("unknown id must be an error");
    match &err {
        EnvError::UnknownTask { suggestions, .. } => assert_eq!(suggestions[0], "gym/Pendulum-v1"),
        other => panic!("wrong error: {other}"),
    }
    assert!(err.to_string().contains("gym/Pendulum-v1"), "message names the match: {err}");
    let err = make("mountaincar", &EnvConfig::default()).err().unwrap();
    assert!(err.to_string().contains("gym/MountainCarContinuous-v0"), "{err}");
}

#[test]
fn multi_goal_answers_to_its_softqlearning_name() {
    assert_eq!(make("sql/MultiGoal-v0", &EnvConfig::default()).unwrap().spec().id, "toy/multi-goal");
}

#[test]
fn wrong_action_length_nan_and_step_before_reset_are_errors() {
    let mut env = make("gym/Pendulum-v1", &EnvConfig::default()).unwrap();
    let mut obs = vec![0.0; 3];
    assert!(matches!(env.step(&[0.0], &mut obs), Err(EnvError::StepBeforeReset { .. })));
    env.reset(Some(0), &mut obs).unwrap();
    let e = env.step(&[0.0, 1.0], &mut obs).unwrap_err();
    assert!(matches!(e, EnvError::WrongLength { expected: 1, got: 2, .. }), "{e}");
    let e = env.step(&[f64::NAN], &mut obs).unwrap_err();
    assert!(matches!(e, EnvError::NonFiniteAction { index: 0, .. }), "{e}");
    assert!(matches!(env.step(&[f64::INFINITY], &mut obs), Err(EnvError::NonFiniteAction { .. })));
    // A rejected step does not advance the episode: the next valid step is step 1 of 200.
    for _ in 0..199 {
        assert!(!env.step(&[0.0], &mut obs).unwrap().done());
    }
    assert!(env.step(&[0.0], &mut obs).unwrap().truncated);
    assert!(matches!(env.step(&[0.0], &mut obs), Err(EnvError::StepAfterDone { .. })));
}

#[test]
fn unit_actions_rescale_to_native_bounds() {
    // Pendulum's torque bound is ±2: unit action 0.25 is torque 0.5. Compare one step of each.
    let mut native = make("gym/Pendulum-v1", &EnvConfig::default()).unwrap();
    let mut unit = make_unit("gym/Pendulum-v1", &EnvConfig::default()).unwrap();
    assert_eq!((unit.spec().act_low[0], unit.spec().act_high[0]), (-1.0, 1.0));
    let (mut a, mut b) = (vec![0.0; 3], vec![0.0; 3]);
    native.reset(Some(5), &mut a).unwrap();
    unit.reset(Some(5), &mut b).unwrap();
    let ra = native.step(&[0.5], &mut a).unwrap();
    let rb = unit.step(&[0.25], &mut b).unwrap();
    assert_eq!((a, ra), (b, rb));
    assert!(unit.step(&[f64::NAN], &mut [0.0; 3]).is_err());
}

#[test]
fn vec_env_rejects_wrong_buffer_sizes() {
    let mut venv = VecEnv::new("toy/multi-goal", 3, 0, &EnvConfig::default()).unwrap();
    let mut obs = vec![0.0f32; 5];
    assert!(matches!(venv.reset(&mut obs), Err(EnvError::WrongLength { expected: 6, got: 5, .. })));
    let mut obs = vec![0.0f32; 6];
    venv.reset(&mut obs).unwrap();
    let mut out = VecStep::new(3, 2);
    assert!(venv.step(&[0.0; 5], &mut out).is_err());
    let mut wrong = VecStep::new(2, 2);
    assert!(venv.step(&[0.0; 6], &mut wrong).is_err());
    venv.step(&[0.0; 6], &mut out).unwrap();
    assert!(VecEnv::from_envs(Vec::new(), 0).is_err());
}

#[test]
fn vec_env_autoreset_keeps_the_final_observation_and_episode_stats() {
    // Pendulum never terminates: every lane ends by truncation on its 200th step.
    let mut venv = VecEnv::new("gym/Pendulum-v1", 2, 42, &EnvConfig::default()).unwrap();
    let mut obs = vec![0.0f32; 6];
    venv.reset(&mut obs).unwrap();
    let mut out = VecStep::new(2, 3);
    let mut ret = [0.0f64; 2];
    for t in 1..=200 {
        venv.step(&[1.0, -1.0], &mut out).unwrap();
        for (r, &x) in ret.iter_mut().zip(&out.reward) {
            *r += f64::from(x);
        }
        assert_eq!(out.has_final, [t == 200, t == 200]);
    }
    assert!(out.truncated.iter().all(|&t| t) && !out.terminated.iter().any(|&t| t));
    assert_eq!(out.episode_len, [200, 200]);
    for (lane, ret) in ret.iter().enumerate() {
        // The running return is summed in f64 from f64 rewards; ours from f32 rewards.
        assert!((out.episode_return[lane] - ret).abs() < 1e-3 * ret.abs());
        // The reset observation differs from the final one, and both are valid pendulum observations.
        assert_ne!(out.obs[lane * 3..lane * 3 + 3], out.final_obs[lane * 3..lane * 3 + 3]);
    }
}

#[test]
fn same_seed_same_results_different_seed_different_results() {
    let run = |seed| {
        let mut venv = VecEnv::new("toy/multi-goal", 4, seed, &EnvConfig::default()).unwrap();
        let mut obs = vec![0.0f32; 8];
        venv.reset(&mut obs).unwrap();
        let mut out = VecStep::new(4, 2);
        let mut trace = obs.clone();
        for t in 0..100 {
            let a: Vec<f32> = (0..8).map(|i| ((t * 8 + i) as f32 * 0.37).sin()).collect();
            venv.step(&a, &mut out).unwrap();
            trace.extend_from_slice(&out.obs);
            trace.extend_from_slice(&out.reward);
        }
        trace.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

/// Lanes on rayon's pool give bitwise the results of lanes in order, resets included (Hopper's
/// episodes end by termination within tens of steps), and `Auto` settles on one way after timing
/// both, with the same results throughout.
#[test]
fn parallel_sequential_and_auto_stepping_give_identical_results() {
    let (lanes, steps) = (4, 120);
    let run = |stepping: Stepping| {
        let mut venv = VecEnv::new("gym/Hopper-v5", lanes, 7, &EnvConfig::default()).unwrap();
        venv.set_stepping(stepping);
        let (obs_dim, act_dim) = (venv.spec().obs_dim, venv.spec().act_dim);
        let mut obs = vec![0.0f32; lanes * obs_dim];
        venv.reset(&mut obs).unwrap();
        let mut out = VecStep::new(lanes, obs_dim);
        let (mut trace, mut ended) = (Vec::new(), 0);
        for t in 0..steps {
            let a: Vec<f32> = (0..lanes * act_dim).map(|i| ((t * 31 + i) as f32 * 0.37).sin()).collect();
            venv.step(&a, &mut out).unwrap();
            ended += out.has_final.iter().filter(|&&f| f).count();
            trace.extend(out.obs.iter().chain(&out.final_obs).chain(&out.reward).map(|x| x.to_bits()));
            trace.extend(out.terminated.iter().chain(&out.truncated).chain(&out.has_final).map(|&b| u32::from(b)));
            trace.extend(out.episode_len.iter().copied());
            if t + 1 == 2 * PROBE_CALLS as usize && stepping == Stepping::Auto && rayon::current_num_threads() > 1 {
                assert!(venv.steps_in_parallel().is_some(), "Auto decides after timing both ways");
            }
        }
        (trace, ended, venv.snapshot())
    };
    // One lane: Auto never moves it to the pool, however long it runs.
    let mut single = VecEnv::new("gym/Pendulum-v1", 1, 0, &EnvConfig::default()).unwrap();
    let (mut obs, mut out) = (vec![0.0f32; 3], VecStep::new(1, 3));
    single.reset(&mut obs).unwrap();
    for _ in 0..3 * PROBE_CALLS {
        single.step(&[0.5], &mut out).unwrap();
    }
    assert_eq!(single.steps_in_parallel(), Some(false));

    let sequential = run(Stepping::Sequential);
    assert!(sequential.1 > lanes, "episodes ended and lanes reset ({} ends)", sequential.1);
    assert_eq!(sequential, run(Stepping::Parallel));
    assert_eq!(sequential, run(Stepping::Auto));
}

mod broken {
    //! Test doubles that each break one property, to show `check_env` names what failed.
    use dime_envs::tasks::Pendulum;
    use dime_envs::{check_env_with, CheckConfig, Env, EnvError, EnvRng, EnvSpec, Property, Task, TaskEnv, TaskStep};

    /// Pendulum whose reward carries a per-instance offset: not deterministic across instances.
    struct Drifting(Pendulum, f64);
    impl Task for Drifting {
        fn spec(&self) -> &EnvSpec {
            self.0.spec()
        }
        fn reset_state(&mut self, rng: &mut EnvRng) {
            self.0.reset_state(rng)
        }
        fn observe(&self, obs: &mut [f64]) {
            self.0.observe(obs)
        }
        fn state(&self) -> Vec<f64> {
            self.0.state()
        }
        fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
            self.0.set_state(state)
        }
        fn advance(&mut self, action: &[f64], rng: &mut EnvRng) -> TaskStep {
            self.1 += 1.0;
            let mut s = self.0.advance(action, rng);
            s.reward += self.1 * 1e-9;
            s
        }
    }

    /// Pendulum that claims it cannot terminate but terminates after 10 steps and returns NaN obs.
    struct Lying(Pendulum, u32);
    impl Task for Lying {
        fn spec(&self) -> &EnvSpec {
            self.0.spec()
        }
        fn reset_state(&mut self, rng: &mut EnvRng) {
            self.1 = 0;
            self.0.reset_state(rng)
        }
        fn observe(&self, obs: &mut [f64]) {
            self.0.observe(obs);
            if self.1 >= 10 {
                obs[0] = f64::NAN;
            }
        }
        fn state(&self) -> Vec<f64> {
            self.0.state()
        }
        fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
            self.0.set_state(state)
        }
        fn advance(&mut self, action: &[f64], rng: &mut EnvRng) -> TaskStep {
            self.1 += 1;
            let s = self.0.advance(action, rng);
            TaskStep { terminated: self.1 >= 10, ..s }
        }
    }

    /// Pendulum whose saved state forgets the angular velocity.
    struct Forgetful(Pendulum);
    impl Task for Forgetful {
        fn spec(&self) -> &EnvSpec {
            self.0.spec()
        }
        fn reset_state(&mut self, rng: &mut EnvRng) {
            self.0.reset_state(rng)
        }
        fn observe(&self, obs: &mut [f64]) {
            self.0.observe(obs)
        }
        fn state(&self) -> Vec<f64> {
            vec![self.0.state()[0], 0.0]
        }
        fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
            self.0.set_state(state)
        }
        fn advance(&mut self, action: &[f64], rng: &mut EnvRng) -> TaskStep {
            self.0.advance(action, rng)
        }
    }

    #[test]
    fn check_env_reports_incomplete_snapshots() {
        let build = || -> Result<Box<dyn Env>, EnvError> { Ok(Box::new(TaskEnv::new(Forgetful(Pendulum::new())))) };
        assert_eq!(properties(&build), vec![Property::Snapshot]);
    }

    fn properties(build: &dyn Fn() -> Result<Box<dyn Env>, EnvError>) -> Vec<Property> {
        let cfg = CheckConfig { reset_seeds: 10, ..Default::default() };
        check_env_with(build, &cfg).expect_err("a broken task must fail").iter().map(|f| f.property).collect()
    }

    #[test]
    fn check_env_reports_nondeterminism() {
        // Each instance gets a different reward offset from a shared counter, so two instances
        // with the same seed and actions give different rewards.
        use std::sync::atomic::{AtomicU64, Ordering};
        static BUILT: AtomicU64 = AtomicU64::new(0);
        let build = || -> Result<Box<dyn Env>, EnvError> {
            let offset = BUILT.fetch_add(1000, Ordering::Relaxed) as f64;
            Ok(Box::new(TaskEnv::new(Drifting(Pendulum::new(), offset))))
        };
        assert!(properties(&build).contains(&Property::Determinism));
    }

    #[test]
    fn check_env_reports_bad_termination_and_non_finite_values() {
        let build = || -> Result<Box<dyn Env>, EnvError> { Ok(Box::new(TaskEnv::new(Lying(Pendulum::new(), 0)))) };
        let props = properties(&build);
        assert!(props.contains(&Property::EpisodeLogic), "{props:?}");
        assert!(props.contains(&Property::FiniteValues), "{props:?}");
    }
}

#[test]
fn vec_env_snapshot_restores_exactly_mid_episode() {
    let cfg = EnvConfig::default();
    let mut venv = VecEnv::new("gym/MountainCarContinuous-v0", 3, 8, &cfg).unwrap();
    let mut obs = vec![0.0f32; 6];
    venv.reset(&mut obs).unwrap();
    let mut out = VecStep::new(3, 2);
    let act = |t: usize| -> Vec<f32> { (0..3).map(|i| ((t * 3 + i) as f32 * 0.7).sin() * 1.2).collect() };
    for t in 0..500 {
        venv.step(&act(t), &mut out).unwrap();
    }
    let snap = venv.snapshot();
    // Through JSON, as a checkpoint stores it.
    let snap: dime_envs::VecEnvSnapshot = serde_json::from_str(&serde_json::to_string(&snap).unwrap()).unwrap();
    let mut other = VecEnv::new("gym/MountainCarContinuous-v0", 3, 999, &cfg).unwrap();
    other.restore(&snap).unwrap();
    let mut out2 = VecStep::new(3, 2);
    for t in 500..1600 {
        venv.step(&act(t), &mut out).unwrap();
        other.step(&act(t), &mut out2).unwrap();
        assert_eq!(out, out2, "step {t}");
    }
    let wrong = VecEnv::new("gym/MountainCarContinuous-v0", 2, 0, &cfg).unwrap().snapshot();
    assert!(other.restore(&wrong).is_err());
}
