//! DiffPPO (dmerl.md §5): PPO on the diffusion-augmented MDP, run in the shared training loop.
//!
//! Per environment step the agent samples the K-step chain one kernel at a time, keeping each
//! augmented transition `(s, x_k, k, x_{k+1}, log π_old, V(s, x_k, k), ℓ_k)`; the environment
//! sees `clip(tanh(x_K))`. When the loop stores the environment transition, the K augmented
//! transitions get their soft rewards `r̃_k = r·1[k = K−1] − γ_k·α·ℓ'_{k+1}` (`ℓ'_{k+1}`: the
//! log-ratio of a sample at the next augmented state — the chain's own next step, or a fresh
//! sample at `(s', x_0', 0)` after the environment step) and discounts `γ_k` (§3). After
//! `rollout_steps` environment steps: GAE over the augmented transitions, then `epochs` passes of
//! minibatches mixing all k with a per-step ratio, the centred entropy term
//! `Â = A − α·(ℓ_k − mean ℓ)` (ℓ_k recomputed under the current θ at the stored `x_{k+1}`, the
//! sample whose ratio is taken) and PPO's clipped surrogate and value loss.

use candle_core::{DType, Device, Tensor};
use dime_diffusion::{ActingPolicy, DiffusionPolicy, FRICTION_RAW, STEP_SIZE_RAW};
use dime_nn::clip::clip_global_norm;
use dime_nn::{host_gradients, init, Adam, AdamConfig};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::config::DiffPpoConfig;
use crate::agent::{check_lane_widths, ActMode, Agent};
use crate::checkpoint::CheckpointFiles;
use crate::dmerl::net::AugmentedMlp;
use crate::dmerl::AugmentedConfig;
use crate::error::AlgoError;
use crate::onpolicy::{
    centred_entropy_advantages, clipped_surrogate_loss, gae, normalise_advantages, ratio_diagnostics, value_loss,
    GaeInputs, Lanes,
};
use crate::ppo::Normalisers;
use crate::replay::ReplayBuffer;

/// The metrics reported after each rollout's update, in order.
pub const DIFFPPO_METRICS: [&str; 5] = ["policy_loss", "value_loss", "entropy_proxy", "approx_kl", "clip_fraction"];

/// The chain `act` sampled, waiting for its environment transition.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PendingChain {
    pub raw_obs: Vec<f32>,
    pub obs: Vec<f32>,
    /// `x_0..x_K`, `[(K+1)·d]`.
    pub states: Vec<f32>,
    pub log_pi: Vec<f32>,
    /// `ℓ_k = log π_k − log q_k` of each step.
    pub log_ratio: Vec<f32>,
    pub values: Vec<f32>,
}

/// Augmented transitions of one rollout, in order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AugmentedRollout {
    pub obs: Vec<f32>,
    pub x: Vec<f32>,
    pub steps: Vec<usize>,
    pub x_next: Vec<f32>,
    pub log_pi: Vec<f32>,
    pub values: Vec<f32>,
    pub rewards: Vec<f32>,
    pub next_values: Vec<f32>,
    pub discounts: Vec<f32>,
    pub terminated: Vec<bool>,
    pub ended: Vec<bool>,
}

impl AugmentedRollout {
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Append `other`'s rows.
    fn extend(&mut self, other: AugmentedRollout) {
        self.obs.extend(other.obs);
        self.x.extend(other.x);
        self.steps.extend(other.steps);
        self.x_next.extend(other.x_next);
        self.log_pi.extend(other.log_pi);
        self.values.extend(other.values);
        self.rewards.extend(other.rewards);
        self.next_values.extend(other.next_values);
        self.discounts.extend(other.discounts);
        self.terminated.extend(other.terminated);
        self.ended.extend(other.ended);
    }
}

/// A DiffPPO learner.
pub struct DiffPpoAgent {
    pub(super) cfg: DiffPpoConfig,
    pub(super) obs_dim: usize,
    pub(super) act_dim: usize,
    pub(super) policy: DiffusionPolicy,
    pub(super) value: AugmentedMlp,
    pub(super) policy_adam: Adam,
    pub(super) value_adam: Adam,
    pub(super) normalisers: Normalisers,
    /// Chains waiting for their transitions and each lane's unfinished augmented rollout.
    pub(super) lanes: Lanes<PendingChain, AugmentedRollout>,
    augmented: AugmentedConfig,
    /// The frozen acting copy of the policy (`None` after an update until next needed).
    acting: Option<ActingPolicy>,
}

fn host(t: &Tensor) -> Result<Vec<f32>, AlgoError> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

impl DiffPpoAgent {
    /// A fresh agent; initial parameters come from `rng` (the run's `init` stream).
    pub fn new(cfg: DiffPpoConfig, obs_dim: usize, act_dim: usize, rng: &mut ChaCha8Rng) -> Result<Self, AlgoError> {
        cfg.validate()?;
        let policy = DiffusionPolicy::new(cfg.sampler.clone(), obs_dim, act_dim, rng, DType::F32, &Device::Cpu)?;
        let k = cfg.sampler.diffusion_steps;
        let value = AugmentedMlp::new("value", (obs_dim, act_dim, k), &cfg.value_widths, 0, rng)?;
        let adam = AdamConfig { lr: cfg.learning_rate, beta1: 0.9, beta2: 0.999, eps: 1e-5 };
        let augmented = AugmentedConfig {
            denoising_steps: k,
            prior_std: cfg.sampler.prior_std,
            action_clip: cfg.action_clip,
            gamma: cfg.gamma as f32,
            discount_mode: cfg.discount_mode,
        };
        Ok(Self {
            policy_adam: Adam::new(policy.params(), adam),
            value_adam: Adam::new(value.params(), adam),
            normalisers: Normalisers::new(obs_dim, cfg.normalise_observations, cfg.normalise_rewards, 10.0),
            lanes: Lanes::default(),
            cfg,
            obs_dim,
            act_dim,
            policy,
            value,
            augmented,
            acting: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DiffPpoConfig {
        &self.cfg
    }

    /// The diffusion policy.
    pub fn policy(&self) -> &DiffusionPolicy {
        &self.policy
    }

    /// The value network.
    pub fn value_net(&self) -> &AugmentedMlp {
        &self.value
    }

    /// Gradient steps of the policy so far.
    pub fn gradient_steps(&self) -> u64 {
        self.policy_adam.steps()
    }

    fn tensor(values: &[f32], rows: usize) -> Result<Tensor, AlgoError> {
        Ok(Tensor::from_slice(values, (rows, values.len() / rows), &Device::Cpu)?)
    }

    /// One kernel step for one row, without gradient: `(x_{k+1}, log π_k, ℓ_k)`.
    fn step_one(
        &self,
        obs: &[f32],
        x: &[f32],
        k: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<(Vec<f32>, f32, f32), AlgoError> {
        let eps = Tensor::from_vec(init::standard_normal(rng, self.act_dim), (1, self.act_dim), &Device::Cpu)?;
        let (x_next, lp) = self.policy.sample_step(&Self::tensor(obs, 1)?, &Self::tensor(x, 1)?, &[k], &eps)?;
        Ok((host(&x_next)?, host(&lp.generative)?[0], host(&lp.log_ratio()?)?[0]))
    }

    fn acting_policy(&mut self) -> Result<&ActingPolicy, AlgoError> {
        if self.acting.is_none() {
            self.acting = Some(self.policy.acting_policy()?);
        }
        Ok(self.acting.as_ref().expect("built above"))
    }

    fn prior_sample(&self, rng: &mut ChaCha8Rng) -> Vec<f32> {
        let std = self.cfg.sampler.prior_std as f32;
        init::standard_normal(rng, self.act_dim).into_iter().map(|e| std * e).collect()
    }

    /// GAE along each lane's augmented transitions, then the minibatch passes over all lanes.
    fn learn(&mut self, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        let (mut r, mut advantages, mut returns) = (AugmentedRollout::default(), Vec::new(), Vec::new());
        for lane in self.lanes.take_rollouts() {
            let (a, g) = gae(&GaeInputs {
                lanes: 1,
                rewards: &lane.rewards,
                values: &lane.values,
                next_values: &lane.next_values,
                discounts: &lane.discounts,
                terminated: &lane.terminated,
                ended: &lane.ended,
                lambda: self.cfg.gae_lambda as f32,
            })?;
            advantages.extend(a);
            returns.extend(g);
            r.extend(lane);
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
        self.acting = None;
        Ok(sums.iter().map(|s| Some(s / self.cfg.minibatches as f64)).collect())
    }

    /// Under the current θ, for the stored rows `(s, x_k, k) → x_{k+1}`: `log π_θ(x_{k+1}|x_k, s, k)`
    /// with its gradient, and the detached `ℓ_k` of those same samples, which the centred entropy
    /// term needs (the samples whose ratios the surrogate takes; see [`centred_entropy_advantages`]).
    pub(super) fn taken_step_log_probs(
        &self,
        obs: &Tensor,
        x: &Tensor,
        steps: &[usize],
        x_next: &Tensor,
    ) -> Result<(Tensor, Vec<f32>), AlgoError> {
        let step = self.policy.step_log_probs(obs, x, steps, x_next)?;
        let taken = host(&step.log_ratio()?.detach())?;
        Ok((step.generative, taken))
    }

    fn minibatch_step(
        &mut self,
        r: &AugmentedRollout,
        rows: &[usize],
        advantages: &[f32],
        returns: &[f32],
    ) -> Result<[f64; 5], AlgoError> {
        let (o, d, b) = (self.obs_dim, self.act_dim, rows.len());
        let gather = |src: &[f32], w: usize| -> Vec<f32> {
            rows.iter().flat_map(|&i| &src[i * w..(i + 1) * w]).copied().collect()
        };
        let (obs, x, x_next) = (gather(&r.obs, o), gather(&r.x, d), gather(&r.x_next, d));
        let steps: Vec<usize> = rows.iter().map(|&i| r.steps[i]).collect();
        let old_log_pi = Tensor::from_vec(gather(&r.log_pi, 1), b, &Device::Cpu)?;
        let old_value = Tensor::from_vec(gather(&r.values, 1), b, &Device::Cpu)?;
        let ret = Tensor::from_vec(gather(returns, 1), b, &Device::Cpu)?;
        let (obs_t, x_t, x_next_t) = (Self::tensor(&obs, b)?, Self::tensor(&x, b)?, Self::tensor(&x_next, b)?);

        let (log_pi, taken) = self.taken_step_log_probs(&obs_t, &x_t, &steps, &x_next_t)?;
        let mut adv = gather(advantages, 1);
        normalise_advantages(&mut adv);
        let mean_taken = centred_entropy_advantages(&mut adv, &taken, self.cfg.alpha as f32);
        let adv = Tensor::from_vec(adv, b, &Device::Cpu)?;

        let log_ratio = (&log_pi - &old_log_pi)?;
        let ratio = log_ratio.exp()?;
        let policy_loss = clipped_surrogate_loss(&ratio, &adv, self.cfg.clip)?;
        let value = self.value.forward(&obs, &x, &steps, None)?;
        let value_loss = value_loss(&value, &old_value, &ret, Some(self.cfg.clip))?;
        let loss = (&policy_loss + (&value_loss * self.cfg.value_coef)?)?;
        let grad_store = loss.backward()?;
        let mut policy_grads = host_gradients(self.policy.params(), &grad_store)?;
        if !self.cfg.learn_step_sizes {
            for (name, g) in self.policy.params().names().iter().zip(policy_grads.iter_mut()) {
                if name == STEP_SIZE_RAW || name == FRICTION_RAW {
                    g.iter_mut().for_each(|v| *v = 0.0);
                }
            }
        }
        let mut value_grads = host_gradients(self.value.params(), &grad_store)?;
        clip_global_norm(&mut policy_grads, self.cfg.max_grad_norm);
        clip_global_norm(&mut value_grads, self.cfg.max_grad_norm);
        self.policy_adam.step(self.policy.params(), &policy_grads)?;
        self.value_adam.step(self.value.params(), &value_grads)?;

        let scalar = |t: &Tensor| -> Result<f64, AlgoError> { Ok(f64::from(t.to_scalar::<f32>()?)) };
        let (approx_kl, clip_fraction) = ratio_diagnostics(&ratio, &log_ratio, self.cfg.clip)?;
        // The per-env-step entropy proxy of the code: H ≈ −K·mean(ℓ_k).
        let entropy = -(self.cfg.sampler.diffusion_steps as f64) * f64::from(mean_taken);
        Ok([scalar(&policy_loss)?, scalar(&value_loss)?, entropy, approx_kl, clip_fraction])
    }
}

impl Agent for DiffPpoAgent {
    /// Explore: sample the chain, keeping every augmented transition with its log-densities;
    /// Eval: the same chain without keeping anything (DIME's and DMERL's evaluation is stochastic).
    fn act(&mut self, obs: &[f32], mode: ActMode, rng: &mut ChaCha8Rng, action: &mut [f32]) -> Result<(), AlgoError> {
        self.act_batch(obs, 1, mode, rng, action)
    }

    /// [`Agent::act`] for `lanes` observations: each lane's chain on the host fast path (prior
    /// sample, then the K noises, lane by lane), then the log-densities and values of all
    /// `lanes·K` augmented states in one batch each.
    fn act_batch(
        &mut self,
        obs: &[f32],
        lanes: usize,
        mode: ActMode,
        rng: &mut ChaCha8Rng,
        actions: &mut [f32],
    ) -> Result<(), AlgoError> {
        let (o, d, k_steps) = (self.obs_dim, self.act_dim, self.cfg.sampler.diffusion_steps);
        check_lane_widths("DiffPPO", obs, actions, lanes, (o, d))?;
        let (mut normalised, mut chains) = (Vec::with_capacity(obs.len()), Vec::with_capacity(lanes));
        for (row, action) in obs.chunks_exact(o).zip(actions.chunks_exact_mut(d)) {
            if mode == ActMode::Explore {
                self.normalisers.observe(row);
            }
            let lane_obs = self.normalisers.observation(row);
            let x0 = self.prior_sample(rng);
            let eps = init::standard_normal(rng, k_steps * d);
            let states = self.acting_policy()?.chain_one_with_noise(&lane_obs, &x0, &eps)?;
            let clip = self.cfg.action_clip;
            for (out, x) in action.iter_mut().zip(&states[k_steps * d..]) {
                *out = x.tanh().clamp(-clip, clip);
            }
            normalised.extend(lane_obs);
            chains.push(states);
        }
        if mode == ActMode::Eval {
            return Ok(());
        }
        // Every lane's K augmented transitions: (s, x_k, k) → x_{k+1}, lane-major.
        let rows = lanes * k_steps;
        let steps: Vec<usize> = (0..rows).map(|i| i % k_steps).collect();
        let obs_rows: Vec<f32> = normalised.chunks_exact(o).flat_map(|row| row.repeat(k_steps)).collect();
        let x: Vec<f32> = chains.iter().flat_map(|c| &c[..k_steps * d]).copied().collect();
        let x_next: Vec<f32> = chains.iter().flat_map(|c| &c[d..]).copied().collect();
        let lp = self.policy.step_log_probs(
            &Self::tensor(&obs_rows, rows)?,
            &Self::tensor(&x, rows)?,
            &steps,
            &Self::tensor(&x_next, rows)?,
        )?;
        let (log_pi, log_ratio) = (host(&lp.generative.detach())?, host(&lp.log_ratio()?.detach())?);
        let values = host(&self.value.forward(&obs_rows, &x, &steps, None)?.detach())?;
        let per_lane = |v: &[f32], i: usize| v[i * k_steps..(i + 1) * k_steps].to_vec();
        let decisions = chains
            .into_iter()
            .enumerate()
            .map(|(i, states)| PendingChain {
                raw_obs: obs[i * o..(i + 1) * o].to_vec(),
                obs: normalised[i * o..(i + 1) * o].to_vec(),
                states,
                log_pi: per_lane(&log_pi, i),
                log_ratio: per_lane(&log_ratio, i),
                values: per_lane(&values, i),
            })
            .collect();
        self.lanes.begin(decisions);
        Ok(())
    }

    fn supports_parallel_envs(&self) -> bool {
        true
    }

    fn update(&mut self, replay: &ReplayBuffer, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        let none = vec![None; DIFFPPO_METRICS.len()];
        let (Some(t), Some((lane, p))) = (replay.latest(), self.lanes.next_pending()) else {
            return Ok(none);
        };
        if t.obs != &p.raw_obs[..] {
            return Ok(none);
        }
        let (k_steps, d, alpha) = (self.cfg.sampler.diffusion_steps, self.act_dim, self.cfg.alpha as f32);
        // The augmented state after the environment step: (s', x_0', 0) with a fresh prior sample.
        let next_obs = self.normalisers.observation(t.next_obs);
        let x0_next = self.prior_sample(rng);
        let (next_value, next_ratio) = if t.terminated {
            (0.0, 0.0)
        } else {
            let v = host(&self.value.forward(&next_obs, &x0_next, &[0], None)?.detach())?[0];
            (v, self.step_one(&next_obs, &x0_next, 0, rng)?.2)
        };
        let reward = self.normalisers.reward(lane, t.reward, t.terminated, self.cfg.gamma);
        let following: Vec<f32> =
            (1..=k_steps).map(|j| if j < k_steps { p.log_ratio[j] } else { next_ratio }).collect();
        let soft = self.augmented.soft_steps(reward, alpha, &following, t.terminated, t.truncated);
        let r = self.lanes.rollout_mut(lane);
        for (k, step) in soft.iter().enumerate() {
            r.obs.extend_from_slice(&p.obs);
            r.x.extend_from_slice(&p.states[k * d..(k + 1) * d]);
            r.x_next.extend_from_slice(&p.states[(k + 1) * d..(k + 2) * d]);
            r.steps.push(k);
            r.log_pi.push(p.log_pi[k]);
            r.values.push(p.values[k]);
            r.rewards.push(step.reward);
            r.next_values.push(if k + 1 < k_steps { p.values[k + 1] } else { next_value });
            r.discounts.push(step.discount);
            r.terminated.push(step.terminated);
            r.ended.push(step.ended);
        }
        if self.lanes.rows(AugmentedRollout::len) < self.cfg.rollout_steps * k_steps {
            return Ok(none);
        }
        self.learn(rng)
    }

    fn metric_names(&self) -> Vec<&'static str> {
        DIFFPPO_METRICS.to_vec()
    }

    fn save(&self) -> Result<CheckpointFiles, AlgoError> {
        self.save_files()
    }

    fn load(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        self.acting = None;
        self.load_files(files)
    }
}

#[cfg(test)]
mod tests;
