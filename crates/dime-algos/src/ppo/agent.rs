//! The PPO agent (dmerl.md §9.1, Schulman et al. 2017, CleanRL's continuous-action PPO) in the
//! shared training loop: it acts for one or several environments (one batch per vector step),
//! reads each stored transition back from the loop's (one-slot) buffer, and every `rollout_steps`
//! environment steps (summed over lanes) runs GAE along each lane and `epochs` passes of
//! clipped-surrogate minibatch updates over all lanes' steps.

use candle_core::{Device, Tensor};
use dime_nn::clip::clip_global_norm;
use dime_nn::{host_gradients, Adam, AdamConfig};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::config::PpoConfig;
use super::normalise::Normalisers;
use super::policy::GaussianPolicy;
use crate::agent::{check_lane_widths, ActMode, Agent};
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::onpolicy::{
    clipped_surrogate_loss, gae, normalise_advantages, ratio_diagnostics, value_loss, GaeInputs, Lanes,
};
use crate::replay::ReplayBuffer;

/// The metrics [`PpoAgent::update`] reports after each rollout's update, in order.
pub const PPO_METRICS: [&str; 6] =
    ["policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "learning_rate"];

/// What `act` decided in explore mode, waiting for the loop to store its transition.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Pending {
    pub raw_obs: Vec<f32>,
    pub obs: Vec<f32>,
    pub action: Vec<f32>,
    pub log_prob: f32,
    pub value: f32,
}

/// One rollout, step-major, as the update reads it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Rollout {
    /// Normalised observations `[T, o]`.
    pub obs: Vec<f32>,
    /// Unclipped actions `[T, d]` (the environment saw them clipped to [-1, 1]).
    pub actions: Vec<f32>,
    pub log_probs: Vec<f32>,
    pub values: Vec<f32>,
    /// Rewards after normalisation.
    pub rewards: Vec<f32>,
    pub next_values: Vec<f32>,
    pub terminated: Vec<bool>,
    pub ended: Vec<bool>,
}

impl Rollout {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Append `other`'s rows.
    fn extend(&mut self, other: Rollout) {
        self.obs.extend(other.obs);
        self.actions.extend(other.actions);
        self.log_probs.extend(other.log_probs);
        self.values.extend(other.values);
        self.rewards.extend(other.rewards);
        self.next_values.extend(other.next_values);
        self.terminated.extend(other.terminated);
        self.ended.extend(other.ended);
    }
}

/// A PPO learner with a Gaussian policy.
pub struct PpoAgent {
    pub(super) cfg: PpoConfig,
    pub(super) obs_dim: usize,
    pub(super) act_dim: usize,
    pub(super) policy: GaussianPolicy,
    pub(super) adam: Adam,
    pub(super) normalisers: Normalisers,
    /// Transitions learned from so far (the annealing clock).
    pub(super) env_steps: u64,
    /// Environment steps over which the learning rate anneals to 0 (set by the run; `None`: constant).
    pub(super) anneal_horizon: Option<u64>,
    /// Decisions waiting for their transitions and each lane's unfinished rollout.
    pub(super) lanes: Lanes<Pending, Rollout>,
}

impl PpoAgent {
    /// A fresh agent; initial parameters come from `rng` (the run's `init` stream).
    pub fn new(cfg: PpoConfig, obs_dim: usize, act_dim: usize, rng: &mut ChaCha8Rng) -> Result<Self, AlgoError> {
        cfg.validate()?;
        let policy = GaussianPolicy::new(obs_dim, act_dim, &cfg.hidden_widths, rng)?;
        let adam_cfg = AdamConfig { lr: cfg.learning_rate, beta1: 0.9, beta2: 0.999, eps: cfg.adam_eps };
        let adam = Adam::new(policy.params(), adam_cfg);
        Ok(Self {
            normalisers: Normalisers::new(
                obs_dim,
                cfg.normalise_observations,
                cfg.normalise_rewards,
                cfg.normalisation_clip,
            ),
            env_steps: 0,
            anneal_horizon: None,
            lanes: Lanes::default(),
            cfg,
            obs_dim,
            act_dim,
            policy,
            adam,
        })
    }

    /// Anneal the learning rate over a run of `total_steps` environment steps (when the config
    /// asks for annealing).
    pub fn with_anneal_horizon(mut self, total_steps: u64) -> Self {
        self.anneal_horizon = self.cfg.anneal_learning_rate.then_some(total_steps);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &PpoConfig {
        &self.cfg
    }

    /// The networks.
    pub fn policy(&self) -> &GaussianPolicy {
        &self.policy
    }

    /// Gradient steps taken so far.
    pub fn gradient_steps(&self) -> u64 {
        self.adam.steps()
    }

    fn row(values: &[f32]) -> Result<Tensor, AlgoError> {
        Ok(Tensor::from_slice(values, (1, values.len()), &Device::Cpu)?)
    }

    /// GAE along each lane, then `epochs` passes of shuffled minibatches over all lanes' steps;
    /// returns the last pass's mean metrics.
    fn learn(&mut self, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        let (mut r, mut advantages, mut returns) = (Rollout::default(), Vec::new(), Vec::new());
        for lane in self.lanes.take_rollouts() {
            let discounts = vec![self.cfg.gamma as f32; lane.len()];
            let (a, g) = gae(&GaeInputs {
                lanes: 1,
                rewards: &lane.rewards,
                values: &lane.values,
                next_values: &lane.next_values,
                discounts: &discounts,
                terminated: &lane.terminated,
                ended: &lane.ended,
                lambda: self.cfg.gae_lambda as f32,
            })?;
            advantages.extend(a);
            returns.extend(g);
            r.extend(lane);
        }
        if let Some(horizon) = self.anneal_horizon {
            let remaining = 1.0 - (self.env_steps as f64 / horizon.max(1) as f64).min(1.0);
            self.adam.set_learning_rate(self.cfg.learning_rate * remaining);
        }
        let n = r.len();
        let size = n / self.cfg.minibatches;
        let mut order: Vec<usize> = (0..n).collect();
        let mut sums = [0.0f64; 5];
        for _ in 0..self.cfg.epochs {
            order.shuffle(rng);
            sums = [0.0; 5];
            for chunk in order.chunks_exact(size) {
                let m = self.minibatch_step(&r, chunk, &advantages, &returns)?;
                sums.iter_mut().zip(m).for_each(|(s, v)| *s += v);
            }
        }
        let count = self.cfg.minibatches as f64;
        let mut out: Vec<Option<f64>> = sums.iter().map(|s| Some(s / count)).collect();
        out.push(Some(self.adam.config().lr));
        Ok(out)
    }

    /// One clipped-surrogate step on rows `rows` of the rollout; returns
    /// `[policy loss, value loss, entropy, approx KL, clip fraction]`.
    fn minibatch_step(
        &mut self,
        r: &Rollout,
        rows: &[usize],
        advantages: &[f32],
        returns: &[f32],
    ) -> Result<[f64; 5], AlgoError> {
        let (o, d, b) = (self.obs_dim, self.act_dim, rows.len());
        let gather = |src: &[f32], w: usize| -> Vec<f32> {
            rows.iter().flat_map(|&i| &src[i * w..(i + 1) * w]).copied().collect()
        };
        let obs = Tensor::from_vec(gather(&r.obs, o), (b, o), &Device::Cpu)?;
        let actions = Tensor::from_vec(gather(&r.actions, d), (b, d), &Device::Cpu)?;
        let old_log_prob = Tensor::from_vec(gather(&r.log_probs, 1), b, &Device::Cpu)?;
        let old_value = Tensor::from_vec(gather(&r.values, 1), b, &Device::Cpu)?;
        let ret = Tensor::from_vec(gather(returns, 1), b, &Device::Cpu)?;
        let mut adv = gather(advantages, 1);
        if self.cfg.normalise_advantages {
            normalise_advantages(&mut adv);
        }
        let adv = Tensor::from_vec(adv, b, &Device::Cpu)?;

        let log_prob = self.policy.log_prob(&self.policy.mean(&obs)?, &actions)?;
        let log_ratio = (&log_prob - &old_log_prob)?;
        let ratio = log_ratio.exp()?;
        let policy_loss = clipped_surrogate_loss(&ratio, &adv, self.cfg.clip)?;
        let value = self.policy.value(&obs)?;
        let value_clip = self.cfg.clip_value_loss.then_some(self.cfg.clip);
        let value_loss = value_loss(&value, &old_value, &ret, value_clip)?;
        let entropy = self.policy.entropy()?;
        let loss = ((&policy_loss - (&entropy * self.cfg.entropy_coef)?)? + (&value_loss * self.cfg.value_coef)?)?;
        let mut grads = host_gradients(self.policy.params(), &loss.backward()?)?;
        clip_global_norm(&mut grads, self.cfg.max_grad_norm);
        self.adam.step(self.policy.params(), &grads)?;

        let scalar = |t: &Tensor| -> Result<f64, AlgoError> { Ok(f64::from(t.to_scalar::<f32>()?)) };
        let (approx_kl, clip_fraction) = ratio_diagnostics(&ratio, &log_ratio, self.cfg.clip)?;
        Ok([scalar(&policy_loss)?, scalar(&value_loss)?, scalar(&entropy)?, approx_kl, clip_fraction])
    }
}

impl Agent for PpoAgent {
    /// Explore: `a ~ N(μ(s), σ²)` (recorded for the rollout; the environment gets it clipped to
    /// [-1, 1]). Eval: the clipped mean.
    fn act(&mut self, obs: &[f32], mode: ActMode, rng: &mut ChaCha8Rng, action: &mut [f32]) -> Result<(), AlgoError> {
        self.act_batch(obs, 1, mode, rng, action)
    }

    /// [`Agent::act`] for `lanes` observations at once: one batch through the networks, the
    /// noise drawn for all lanes in one call, one pending decision per lane.
    fn act_batch(
        &mut self,
        obs: &[f32],
        lanes: usize,
        mode: ActMode,
        rng: &mut ChaCha8Rng,
        actions: &mut [f32],
    ) -> Result<(), AlgoError> {
        let (o, d) = (self.obs_dim, self.act_dim);
        check_lane_widths("PPO", obs, actions, lanes, (o, d))?;
        let mut normalised = Vec::with_capacity(obs.len());
        for row in obs.chunks_exact(o) {
            if mode == ActMode::Explore {
                self.normalisers.observe(row);
            }
            normalised.extend(self.normalisers.observation(row));
        }
        let obs_t = Tensor::from_slice(&normalised, (lanes, o), &Device::Cpu)?;
        let mean = self.policy.mean(&obs_t)?;
        if mode == ActMode::Eval {
            for (out, m) in actions.iter_mut().zip(mean.flatten_all()?.to_vec1::<f32>()?) {
                *out = m.clamp(-1.0, 1.0);
            }
            return Ok(());
        }
        let noise = dime_nn::init::standard_normal(rng, lanes * d);
        let std = self.policy.log_std()?.exp()?.flatten_all()?.to_vec1::<f32>()?;
        let sample: Vec<f32> = (mean.flatten_all()?.to_vec1::<f32>()?.iter().zip(std.iter().cycle()).zip(&noise))
            .map(|((m, s), e)| m + s * e)
            .collect();
        let sample_t = Tensor::from_slice(&sample, (lanes, d), &Device::Cpu)?;
        let log_probs = self.policy.log_prob(&mean, &sample_t)?.to_vec1::<f32>()?;
        let values = self.policy.value(&obs_t)?.flatten_all()?.to_vec1::<f32>()?;
        for (out, a) in actions.iter_mut().zip(&sample) {
            *out = a.clamp(-1.0, 1.0);
        }
        let decisions = (0..lanes)
            .map(|i| Pending {
                raw_obs: obs[i * o..(i + 1) * o].to_vec(),
                obs: normalised[i * o..(i + 1) * o].to_vec(),
                action: sample[i * d..(i + 1) * d].to_vec(),
                log_prob: log_probs[i],
                value: values[i],
            })
            .collect();
        self.lanes.begin(decisions);
        Ok(())
    }

    fn supports_parallel_envs(&self) -> bool {
        true
    }

    fn update(&mut self, replay: &ReplayBuffer, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        let none = vec![None; PPO_METRICS.len()];
        // The transition the loop just stored must be the one `act` chose (a diverged step is
        // not stored: its pending decision is dropped).
        let (Some(t), Some((lane, p))) = (replay.latest(), self.lanes.next_pending()) else {
            return Ok(none);
        };
        if t.obs != &p.raw_obs[..] {
            return Ok(none);
        }
        let ended = t.terminated || t.truncated;
        let reward = self.normalisers.reward(lane, t.reward, t.terminated, self.cfg.gamma);
        let next_value = if t.terminated {
            0.0
        } else {
            self.policy.value(&Self::row(&self.normalisers.observation(t.next_obs))?)?.to_vec1::<f32>()?[0]
        };
        let r = self.lanes.rollout_mut(lane);
        r.obs.extend_from_slice(&p.obs);
        r.actions.extend_from_slice(&p.action);
        r.log_probs.push(p.log_prob);
        r.values.push(p.value);
        r.rewards.push(reward);
        r.next_values.push(next_value);
        r.terminated.push(t.terminated);
        r.ended.push(ended);
        self.env_steps += 1;
        if self.lanes.rows(Rollout::len) < self.cfg.rollout_steps {
            return Ok(none);
        }
        self.learn(rng)
    }

    fn metric_names(&self) -> Vec<&'static str> {
        PPO_METRICS.to_vec()
    }

    fn save(&self) -> Result<CheckpointFiles, AlgoError> {
        self.save_files()
    }

    fn load(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        self.load_files(files)
    }
}
