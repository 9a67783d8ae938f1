//! The DIME agent (dime.md §4–8): per environment step, one draw of `B·UTD` transitions split
//! into UTD minibatches; on each, a critic update, and on every `policy_delay`-th critic update
//! (global counter) an actor update on the same minibatch followed by a temperature update.

use candle_core::{DType, Device, Tensor};
use dime_critic::{CategoricalCritic, CriticBatch, CriticHead, TdInputs};
use dime_diffusion::{ActingPolicy, ChainNoise, DiffusionPolicy, HostChain, Tape, STEP_SIZE_RAW};
use dime_nn::clip::{clip_elementwise, zero_nans};
use dime_nn::{host_gradients, Adam};
use rand_chacha::ChaCha8Rng;

use super::config::{derived_support, DimeConfig, SupportChoice, Temperature};
use super::losses::{actor_loss, host_actor_loss, temperature_gradient};
use crate::agent::{ActMode, Agent};
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::replay::{Batch, Minibatch, ReplayBuffer};
use crate::temperature::LogTemperature;

/// The metrics [`DimeAgent::update`] reports, in order.
pub const DIME_METRICS: [&str; 7] =
    ["critic_loss", "mean_q", "actor_loss", "alpha", "bound_mean", "running_cost_mean", "step_size"];

/// What an actor pass returns: (loss, mean ℓ, mean ℓ_run, gradients in parameter order).
type ActorPass = (f64, f64, f64, Vec<Vec<f32>>);

/// A DIME learner: diffusion actor, categorical CrossQ critic, learned temperature.
pub struct DimeAgent {
    pub(super) cfg: DimeConfig,
    pub(super) act_dim: usize,
    pub(super) policy: DiffusionPolicy,
    /// Frozen copy for acting; rebuilt after each actor update.
    pub(super) acting: Option<ActingPolicy>,
    /// The policy's values for the CPU chain; rebuilt after each actor update (not state).
    pub(super) host_chain: Option<HostChain>,
    pub(super) critic: CategoricalCritic,
    pub(super) actor_adam: Adam,
    pub(super) temperature: LogTemperature,
    /// Critic updates so far: the global policy-delay counter.
    pub(super) n_updates: u64,
    pub(super) device: Device,
    pub(super) batch: Batch,
    /// Buffers of the actor update's CPU chain (reused by every update; not part of the state).
    pub(super) tape: Tape,
    /// Buffers of the critic targets' CPU chain, kept apart from `tape`: the targets keep one
    /// step's activations and the actor all K, and sharing would zero-fill 16 steps' worth of
    /// buffers at every switch (not part of the state).
    pub(super) target_tape: Tape,
    /// Wall time spent in each part of the updates so far (diagnostics; not part of the state).
    pub(super) timings: UpdateTimings,
}

/// Cumulative wall time of the parts of [`DimeAgent`]'s updates, for speed breakdowns.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UpdateTimings {
    /// Sampling `a'` and `ℓ(s')` for critic targets (no gradient).
    pub targets: std::time::Duration,
    /// Critic updates (joint forward, target, loss, backward, Adam).
    pub critic: std::time::Duration,
    /// Actor updates (chain forward and backward, critic's action gradient, Adam).
    pub actor: std::time::Duration,
    /// Temperature updates and everything else in `update` (minibatch assembly).
    pub other: std::time::Duration,
}

impl DimeAgent {
    /// A fresh agent for observations of `obs_dim` and actions of `act_dim`; `reward_range` is
    /// the task's declared per-step range, used when the support is derived from the task.
    /// Initial parameters come from `rng` (the run's `init` stream).
    pub fn new(
        mut cfg: DimeConfig,
        obs_dim: usize,
        act_dim: usize,
        reward_range: (f64, f64),
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, AlgoError> {
        if cfg.batch_size == 0 || cfg.updates_per_step == 0 || cfg.policy_delay == 0 {
            return Err(AlgoError::Config("batch_size, updates_per_step and policy_delay must be positive".into()));
        }
        if !(cfg.gamma > 0.0 && cfg.gamma < 1.0) {
            return Err(AlgoError::Config(format!("gamma = {} must lie in (0, 1)", cfg.gamma)));
        }
        if cfg.support == SupportChoice::DerivedFromTask {
            let (v_min, v_max) = derived_support(reward_range, cfg.gamma);
            cfg.critic = cfg.critic.with_support(v_min, v_max);
        }
        if !matches!(cfg.critic.head, CriticHead::Categorical { .. }) {
            return Err(AlgoError::Config("DIME needs a categorical critic head".into()));
        }
        let device = Device::Cpu;
        let policy = DiffusionPolicy::new(cfg.sampler.clone(), obs_dim, act_dim, rng, DType::F32, &device)?;
        let critic = CategoricalCritic::new(&cfg.critic, obs_dim, act_dim, rng, DType::F32, &device)?;
        let actor_adam = Adam::new(policy.params(), cfg.actor_adam);
        let temperature = match cfg.temperature {
            Temperature::Auto { initial, adam, .. } => LogTemperature::new(initial, Some(adam))?,
            Temperature::Fixed(alpha) => LogTemperature::new(alpha, None)?,
        };
        Ok(Self {
            cfg,
            act_dim,
            policy,
            acting: None,
            host_chain: None,
            critic,
            actor_adam,
            temperature,
            n_updates: 0,
            device,
            batch: Batch::default(),
            tape: Tape::default(),
            target_tape: Tape::default(),
            timings: UpdateTimings::default(),
        })
    }

    /// The configuration as resolved for this task (the critic's support filled in).
    pub fn config(&self) -> &DimeConfig {
        &self.cfg
    }

    /// The current temperature α.
    pub fn alpha(&self) -> Result<f64, AlgoError> {
        self.temperature.alpha()
    }

    /// The diffusion policy.
    pub fn policy(&self) -> &DiffusionPolicy {
        &self.policy
    }

    /// The learned base step size `softplus(ρ)` (dt; 0.1 at initialisation).
    pub fn step_size(&self) -> Result<f64, AlgoError> {
        let rho = self.policy.params().get(STEP_SIZE_RAW)?.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        Ok(f64::from(rho[0]).exp().ln_1p())
    }

    /// Wall time spent in each part of the updates since this agent was made or loaded.
    pub fn timings(&self) -> UpdateTimings {
        self.timings
    }

    /// Critic updates done so far (the global policy-delay counter).
    pub fn critic_updates(&self) -> u64 {
        self.n_updates
    }

    /// Actor updates done so far.
    pub fn actor_updates(&self) -> u64 {
        self.actor_adam.steps()
    }

    /// Temperature updates done so far (0 with a fixed α).
    pub fn temperature_updates(&self) -> u64 {
        self.temperature.steps().unwrap_or(0)
    }

    /// Take the policy's host copy for the CPU chain unless the one held is still current
    /// (it is dropped whenever the actor changes).
    fn build_host_chain(&mut self) -> Result<(), AlgoError> {
        if self.host_chain.is_none() {
            self.host_chain = Some(self.policy.host_chain()?);
        }
        Ok(())
    }

    /// `a' ~ π(·|s')` and `ℓ(s')` without gradient for the critic targets of minibatches
    /// `first..=last` of this step's draw (§5.1), one `(a', ℓ)` per minibatch. Their noise is
    /// drawn minibatch by minibatch, in order, and the chains run as one pass over all their
    /// rows: rows are independent, so this gives the values, and leaves the random streams, of
    /// one pass per minibatch just before its critic update (nothing in between draws or
    /// changes the actor).
    fn critic_targets(
        &mut self,
        first: usize,
        last: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Vec<(Tensor, Vec<f32>)>, AlgoError> {
        let started = std::time::Instant::now();
        let b = self.cfg.batch_size;
        let noises = (first..=last).map(|_| self.policy.draw_noise(rng, b)).collect::<Result<Vec<_>, _>>()?;
        let noise = ChainNoise::concat_rows(&noises)?;
        if self.device.is_cpu() {
            self.build_host_chain()?;
        }
        let o = self.batch.obs.len() / self.batch.len();
        let next_obs = &self.batch.next_obs[first * b * o..(last + 1) * b * o];
        let (actions, bound) = if self.device.is_cpu() {
            let chain = self.host_chain.as_ref().expect("built above");
            self.policy.forward_host(chain, next_obs, &noise, false, &mut self.target_tape)?;
            (self.target_tape.action.clone(), self.target_tape.log_prob_bound())
        } else {
            let rows = next_obs.len() / o;
            let next_obs = Tensor::from_slice(next_obs, (rows, o), &self.device)?;
            let next = self.policy.sample_detached(&next_obs, &noise)?;
            (next.action.flatten_all()?.to_vec1::<f32>()?, next.log_prob_bound()?.to_vec1::<f32>()?)
        };
        let d = self.act_dim;
        let out = actions
            .chunks_exact(b * d)
            .zip(bound.chunks_exact(b))
            .map(|(a, l)| Ok((Tensor::from_slice(a, (b, d), &self.device)?, l.to_vec())))
            .collect::<Result<Vec<_>, AlgoError>>()?;
        self.timings.targets += started.elapsed();
        Ok(out)
    }

    /// Critic update (§5) with `a'` and `ℓ(s')` from [`Self::critic_targets`]: the joint
    /// train-mode pass, the averaged projected target and one Adam step.
    fn update_critic(
        &mut self,
        mb: &Minibatch,
        (next_actions, next_bound): &(Tensor, Vec<f32>),
        alpha: f64,
    ) -> Result<(f64, f64), AlgoError> {
        let started = std::time::Instant::now();
        let batch = CriticBatch {
            obs: &mb.obs,
            actions: &mb.actions,
            next_obs: &mb.next_obs,
            next_actions,
            td: TdInputs {
                rewards: &mb.rewards,
                continues: &mb.continues,
                next_log_prob: next_bound,
                alpha: alpha as f32,
                gamma: self.cfg.gamma as f32,
            },
        };
        let report = self.critic.update(&batch)?;
        self.timings.critic += started.elapsed();
        Ok((report.loss, report.mean_q))
    }

    /// Actor update (§4): loss `mean(−Q̄ + α·ℓ)` through the whole chain with the critic in eval
    /// mode; NaN-zeroed, element-wise clipped gradients; Adam. Returns (loss, mean ℓ, mean ℓ_run).
    fn update_actor(&mut self, obs: &Tensor, alpha: f64, rng: &mut ChaCha8Rng) -> Result<(f64, f64, f64), AlgoError> {
        let noise = self.policy.draw_noise(rng, obs.dim(0)?)?;
        let (loss, bound, running_cost, mut grads) = match self.device.is_cpu() {
            true => self.actor_gradients_host(obs, &noise, alpha)?,
            false => self.actor_gradients_graph(obs, &noise, alpha)?,
        };
        zero_nans(&mut grads);
        clip_elementwise(&mut grads, self.cfg.actor_grad_clip);
        self.actor_adam.step(self.policy.params(), &grads)?;
        (self.acting, self.host_chain) = (None, None);
        Ok((loss, bound, running_cost))
    }

    /// The actor loss and its gradients by autograd through the candle chain (non-CPU devices).
    /// Returns (loss, mean ℓ, mean ℓ_run, gradients in parameter order).
    fn actor_gradients_graph(&self, obs: &Tensor, noise: &ChainNoise, alpha: f64) -> Result<ActorPass, AlgoError> {
        let chain = self.policy.sample(obs, noise)?;
        let probs = self.critic.probs_eval(obs, &chain.action)?;
        let q_members = probs.iter().map(|p| self.critic.expected_value(p)).collect::<Result<Vec<_>, _>>()?;
        let bound = chain.log_prob_bound()?;
        let loss = actor_loss(&q_members, &bound, alpha)?;
        let grads = host_gradients(self.policy.params(), &loss.backward()?)?;
        let mean = |t: &Tensor| -> Result<f64, AlgoError> { Ok(f64::from(t.mean_all()?.to_scalar::<f32>()?)) };
        Ok((mean(&loss)?, mean(&bound)?, mean(&chain.running_cost()?)?, grads))
    }

    /// The same loss on the CPU fast path: the chain on host slices, the critic's eval-mode
    /// `Q̄` and `∂Q̄/∂a` on host slices, `∂L/∂a = −(1/B)·∂Q̄/∂a`, `∂L/∂ℓ = α/B`, and the chain's
    /// hand-written backward.
    fn actor_gradients_host(&mut self, obs: &Tensor, noise: &ChainNoise, alpha: f64) -> Result<ActorPass, AlgoError> {
        let rows = obs.dim(0)?;
        let obs = obs.flatten_all()?.to_vec1::<f32>()?;
        self.build_host_chain()?;
        let chain = self.host_chain.as_ref().expect("built above");
        self.policy.forward_host(chain, &obs, noise, true, &mut self.tape)?;
        let (q_mean, dq_da) = self.critic.mean_q_and_action_grad(&obs, &self.tape.action, rows)?;
        let bound = self.tape.log_prob_bound();
        let loss = host_actor_loss(&q_mean, &bound, alpha);
        let per_row = 1.0 / rows as f32;
        let d_action: Vec<f32> = dq_da.iter().map(|g| -g * per_row).collect();
        let d_bound = vec![alpha as f32 * per_row; rows];
        let grads = self.policy.host_gradients(chain, &mut self.tape, &d_action, &d_bound)?;
        let mean = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
        Ok((loss, mean(&bound), mean(&self.tape.running_cost()), grads))
    }

    /// Temperature update (§6) from the actor update's batch mean of ℓ_run.
    fn update_temperature(&mut self, running_cost_mean: f64) -> Result<(), AlgoError> {
        let Temperature::Auto { running_cost_target_per_action_dim, .. } = self.cfg.temperature else {
            return Ok(());
        };
        let target = running_cost_target_per_action_dim * self.act_dim as f64;
        let grad = temperature_gradient(self.temperature.alpha()?, running_cost_mean, target);
        self.temperature.step(grad)?;
        Ok(())
    }
}

impl Agent for DimeAgent {
    /// A stochastic chain sample, also in [`ActMode::Eval`]: the reference code evaluates
    /// stochastically (dime.md §8.7), and the published curves were made that way.
    fn act(&mut self, obs: &[f32], _mode: ActMode, rng: &mut ChaCha8Rng, action: &mut [f32]) -> Result<(), AlgoError> {
        if self.acting.is_none() {
            self.acting = Some(self.policy.acting_policy()?);
        }
        let acting = self.acting.as_ref().expect("just built");
        let a = acting.act_one(obs, rng)?;
        for (out, a) in action.iter_mut().zip(a) {
            *out = a.clamp(-1.0, 1.0);
        }
        Ok(())
    }

    fn update(&mut self, replay: &ReplayBuffer, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        let (b, utd) = (self.cfg.batch_size, self.cfg.updates_per_step);
        let (started, before) = (std::time::Instant::now(), self.timings);
        let mut batch = std::mem::take(&mut self.batch);
        replay.sample_into(b * utd, rng, &mut batch)?;
        self.batch = batch;
        let mut out = vec![None; DIME_METRICS.len()];
        let actor_after = |i: usize| (self.n_updates + i as u64 + 1).is_multiple_of(self.cfg.policy_delay);
        let actor_after: Vec<bool> = (0..utd).map(actor_after).collect();
        let mut targets = std::collections::VecDeque::new();
        for i in 0..utd {
            if targets.is_empty() {
                // Targets for this minibatch and the following ones up to the next actor update.
                let last = (i..utd).find(|&j| actor_after[j]).unwrap_or(utd - 1);
                targets.extend(self.critic_targets(i, last, rng)?);
            }
            let alpha = self.alpha()?;
            let mb = self.batch.minibatch(i * b, b, &self.device)?;
            let next = targets.pop_front().expect("filled above");
            let (critic_loss, mean_q) = self.update_critic(&mb, &next, alpha)?;
            (out[0], out[1]) = (Some(critic_loss), Some(mean_q));
            if actor_after[i] {
                let actor_started = std::time::Instant::now();
                let (loss, bound, running_cost) = self.update_actor(&mb.obs, alpha, rng)?;
                self.timings.actor += actor_started.elapsed();
                self.update_temperature(running_cost)?;
                (out[2], out[4], out[5]) = (Some(loss), Some(bound), Some(running_cost));
            }
        }
        self.n_updates += utd as u64;
        out[3] = Some(self.alpha()?);
        out[6] = Some(self.step_size()?);
        let t = &mut self.timings;
        let parts = (t.targets - before.targets) + (t.critic - before.critic) + (t.actor - before.actor);
        t.other += started.elapsed().saturating_sub(parts);
        Ok(out)
    }

    fn metric_names(&self) -> Vec<&'static str> {
        DIME_METRICS.to_vec()
    }

    /// Learns from the replay buffer only, so transitions may come from any number of lanes.
    fn supports_parallel_envs(&self) -> bool {
        true
    }

    fn save(&self) -> Result<CheckpointFiles, AlgoError> {
        self.save_files()
    }

    fn load(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        self.load_files(files)
    }
}

#[cfg(test)]
mod tests;
