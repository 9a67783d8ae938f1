//! The adapter against a recording environment: K augmented steps per environment step,
//! rewards and flags only on the last, discounts as configured, and the environment sees
//! `clip(tanh(x_K))`.

use std::sync::{Arc, Mutex};

use dime_envs::{EnvError, EnvSpec, ObsField, Task, TaskEnv, TaskStep, VecEnv};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{AugmentedConfig, AugmentedEnv, DiscountMode};

/// Observation = number of steps taken; reward = 1 + the action; ends after 3 steps
/// (terminated); records every action it receives.
struct Recording {
    spec: EnvSpec,
    t: f64,
    seen: Arc<Mutex<Vec<f64>>>,
}

impl Task for Recording {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn reset_state(&mut self, _rng: &mut dime_envs::EnvRng) {
        self.t = 0.0;
    }
    fn observe(&self, obs: &mut [f64]) {
        obs[0] = self.t;
    }
    fn advance(&mut self, action: &[f64], _rng: &mut dime_envs::EnvRng) -> TaskStep {
        self.seen.lock().unwrap().push(action[0]);
        self.t += 1.0;
        TaskStep { reward: 1.0 + action[0], terminated: self.t >= 3.0 }
    }
    fn state(&self) -> Vec<f64> {
        vec![self.t]
    }
    fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        self.t = state[0];
        Ok(())
    }
}

fn env(seen: &Arc<Mutex<Vec<f64>>>) -> VecEnv {
    let spec = EnvSpec {
        id: "test/recording".into(),
        obs_dim: 1,
        act_dim: 1,
        act_low: vec![-1.0],
        act_high: vec![1.0],
        obs_layout: vec![ObsField::new("t", 0, 1)],
        max_episode_steps: 100,
        dt: 1.0,
        physics: "analytic",
        reward_range: (0.0, 2.0),
        reset_obs_range: vec![(0.0, 0.0)],
        can_terminate: true,
        random_reset: false,
    };
    let lane = Box::new(TaskEnv::new(Recording { spec, t: 0.0, seen: seen.clone() }));
    VecEnv::from_envs(vec![lane], 0).unwrap()
}

fn config(mode: DiscountMode) -> AugmentedConfig {
    AugmentedConfig { denoising_steps: 4, prior_std: 2.5, action_clip: 0.999, gamma: 0.9, discount_mode: mode }
}

#[test]
fn k_augmented_steps_make_one_environment_step() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut aug = AugmentedEnv::new(env(&seen), config(DiscountMode::PerDenoisingStep)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    aug.reset(&mut rng).unwrap();
    let x0 = aug.latent().to_vec();
    assert!(x0[0] != 0.0, "x_0 is a prior draw");
    // Latents chosen so that the last one exercises the clip: tanh(10) > 0.999.
    let latents = [0.3f32, -0.2, 0.7, 10.0, 0.5, 0.1, -0.4, -0.6];
    let mut env_steps = 0;
    for (i, x) in latents.iter().enumerate() {
        assert_eq!(aug.step_index(), i % 4);
        let obs_before = aug.obs().to_vec();
        let step = aug.step(&[*x], &mut rng).unwrap();
        assert_eq!(step.step_index, i % 4);
        assert_eq!(step.discount, 0.9, "per denoising step: γ every time");
        if i % 4 < 3 {
            assert!(!step.env_stepped);
            assert_eq!((step.reward[0], step.terminated[0], step.truncated[0]), (0.0, false, false));
            assert_eq!(aug.obs(), &obs_before[..], "the environment did not move");
            assert_eq!(aug.latent(), &[*x], "the next state holds x_(k+1)");
        } else {
            env_steps += 1;
            assert!(step.env_stepped);
            let applied = x.tanh().clamp(-0.999, 0.999);
            assert_eq!(seen.lock().unwrap().last().copied(), Some(f64::from(applied)), "env sees clip(tanh(x_K))");
            assert_eq!(step.reward[0], 1.0 + applied);
            assert_eq!(aug.obs(), &[env_steps as f32]);
            assert_eq!(aug.step_index(), 0);
            assert!(aug.latent()[0] != *x, "a fresh prior sample");
        }
    }
    assert_eq!(seen.lock().unwrap().len(), 2, "8 augmented steps = 2 environment steps");
    assert_eq!(seen.lock().unwrap()[0], f64::from(0.999f32), "tanh(10) clipped to 0.999");
}

#[test]
fn termination_is_reported_only_on_the_environment_step_and_discounts_follow_the_mode() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut aug = AugmentedEnv::new(env(&seen), config(DiscountMode::PerEnvStep)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    aug.reset(&mut rng).unwrap();
    let mut ends = Vec::new();
    for i in 0..12 {
        let step = aug.step(&[0.0], &mut rng).unwrap();
        assert_eq!(step.discount, if i % 4 == 3 { 0.9 } else { 1.0 });
        if step.terminated[0] {
            ends.push(i);
        }
    }
    assert_eq!(ends, vec![11], "the third environment step terminates, at augmented step 12");
    assert!((aug.config().effective_env_discount() - 0.9).abs() < 1e-7);
    let per_step = config(DiscountMode::PerDenoisingStep).effective_env_discount();
    assert!((per_step - 0.9f64.powi(4)).abs() < 1e-6);
}

#[test]
fn bad_actions_and_settings_are_refused() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut bad = config(DiscountMode::PerDenoisingStep);
    bad.denoising_steps = 0;
    assert!(AugmentedEnv::new(env(&seen), bad).is_err());
    let mut aug = AugmentedEnv::new(env(&seen), config(DiscountMode::PerDenoisingStep)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    aug.reset(&mut rng).unwrap();
    assert!(aug.step(&[f32::NAN], &mut rng).is_err());
    assert!(aug.step(&[0.0, 1.0], &mut rng).is_err());
}

#[test]
fn soft_steps_put_the_reward_and_the_episode_end_on_the_last_step() {
    // K = 3, γ 0.9, α 0.5, ℓ' = (1, 2, 4): per denoising step every γ_k = 0.9, so
    // r̃ = (−0.45, −0.9, 10 − 1.8); after a termination the last step has no soft term.
    let mut cfg = config(DiscountMode::PerDenoisingStep);
    cfg.denoising_steps = 3;
    cfg.gamma = 0.9;
    let steps = cfg.soft_steps(10.0, 0.5, &[1.0, 2.0, 4.0], false, true);
    let rewards: Vec<f32> = steps.iter().map(|s| s.reward).collect();
    for (got, want) in rewards.iter().zip([-0.45f32, -0.9, 8.2]) {
        assert!((got - want).abs() < 1e-6, "{rewards:?}");
    }
    assert_eq!(
        steps.iter().map(|s| (s.terminated, s.ended)).collect::<Vec<_>>(),
        [(false, false), (false, false), (false, true)]
    );
    let ended = cfg.soft_steps(10.0, 0.5, &[1.0, 2.0, 4.0], true, false);
    assert_eq!(ended[2].reward, 10.0);
    assert!(ended[2].terminated && ended[2].ended);
    // Per environment step the denoising steps are undiscounted: γ_k = (1, 1, 0.9).
    cfg.discount_mode = DiscountMode::PerEnvStep;
    let per_env: Vec<f32> =
        cfg.soft_steps(0.0, 1.0, &[1.0, 1.0, 1.0], false, false).iter().map(|s| s.discount).collect();
    assert_eq!(per_env, [1.0, 1.0, 0.9]);
}
