//! The SAC agent (baselines.md §1), also run as CrossQ (§2) with CrossQ's settings: per
//! environment step, one draw of `B·UTD` transitions split into UTD minibatches; on each, a
//! critic update, and when the policy schedule says so (global counter) actor updates on the same
//! minibatch, each followed by a temperature update.

use candle_core::{DType, Device, Tensor};
use dime_critic::{CriticBatch, ForwardMode, ScalarCritic, TdInputs};
use dime_nn::{host_gradients, Adam};
use rand_chacha::ChaCha8Rng;

use super::actor::TanhGaussianActor;
use super::config::{EntropyCoef, SacConfig, TemperatureSample};
use super::host_actor::{ActorTape, HostActor};
use super::losses::{actor_loss, temperature_gradient};
use crate::agent::{ActMode, Agent};
use crate::checkpoint::CheckpointFiles;
use crate::error::AlgoError;
use crate::replay::{Batch, Minibatch, ReplayBuffer};
use crate::temperature::LogTemperature;

/// The metrics [`SacAgent::update`] reports, in order; `entropy` is `−mean log π` of the last actor update.
pub const SAC_METRICS: [&str; 5] = ["critic_loss", "mean_q", "actor_loss", "alpha", "entropy"];

/// A SAC learner: tanh-Gaussian actor, scalar twin-Q critic, learned or fixed α.
pub struct SacAgent {
    pub(super) cfg: SacConfig,
    pub(super) obs_dim: usize,
    pub(super) act_dim: usize,
    pub(super) actor: TanhGaussianActor,
    pub(super) critic: ScalarCritic,
    pub(super) actor_adam: Adam,
    pub(super) temperature: LogTemperature,
    /// Critic updates so far: the global policy-delay counter.
    pub(super) n_updates: u64,
    pub(super) device: Device,
    pub(super) batch: Batch,
    /// The actor's values for the host path (`None` until first needed after an actor update,
    /// and always without it: actors with normalisation layers run on candle).
    host_actor: Option<HostActor>,
    host_supported: bool,
    tape: ActorTape,
}

impl SacAgent {
    /// A fresh agent for observations of `obs_dim` and actions of `act_dim`.
    /// Initial parameters come from `rng` (the run's `init` stream).
    pub fn new(cfg: SacConfig, obs_dim: usize, act_dim: usize, rng: &mut ChaCha8Rng) -> Result<Self, AlgoError> {
        if cfg.batch_size == 0 || cfg.updates_per_step == 0 || cfg.policy_schedule.every() == 0 {
            return Err(AlgoError::Config("batch_size, updates_per_step and the policy delay must be positive".into()));
        }
        if !(cfg.gamma > 0.0 && cfg.gamma < 1.0) {
            return Err(AlgoError::Config(format!("gamma = {} must lie in (0, 1)", cfg.gamma)));
        }
        let device = Device::Cpu;
        let actor = TanhGaussianActor::new(cfg.actor.clone(), obs_dim, act_dim, rng)?;
        let critic = ScalarCritic::new(&cfg.critic, obs_dim, act_dim, rng, DType::F32, &device)?;
        let actor_adam = Adam::new(actor.params(), cfg.actor_adam);
        let temperature = match cfg.entropy_coef {
            EntropyCoef::Auto { initial, adam, .. } => LogTemperature::new(initial, Some(adam))?,
            EntropyCoef::Fixed(alpha) => LogTemperature::new(alpha, None)?,
        };
        let host_supported = actor.host_shape().is_some();
        Ok(Self {
            cfg,
            obs_dim,
            act_dim,
            actor,
            critic,
            actor_adam,
            temperature,
            n_updates: 0,
            device,
            batch: Batch::default(),
            host_actor: None,
            host_supported,
            tape: ActorTape::default(),
        })
    }

    /// The host path's view of the actor, taken when first needed after a change; `None` when
    /// the actor runs on candle.
    fn host_actor(&mut self) -> Result<Option<&HostActor>, AlgoError> {
        if self.host_supported && self.host_actor.is_none() {
            self.host_actor = HostActor::new(&self.actor)?;
        }
        Ok(self.host_actor.as_ref())
    }

    /// `a ~ π(·|s)` and `log π(a|s)` for host observations `obs: [rows, o]` with fresh noise from
    /// `rng`, without gradient: on the host when it applies, else through candle in eval mode.
    fn sample_detached(&mut self, obs: &[f32], rng: &mut ChaCha8Rng) -> Result<(Vec<f32>, Vec<f32>), AlgoError> {
        let rows = obs.len() / self.obs_dim;
        let noise = self.actor.draw_noise(rng, rows)?;
        if self.host_actor()?.is_some() {
            let noise = noise.flatten_all()?.to_vec1::<f32>()?;
            let mut tape = std::mem::take(&mut self.tape);
            self.host_actor.as_ref().expect("taken above").forward(obs, &noise, &mut tape);
            let out = (tape.action.clone(), tape.log_prob.clone());
            self.tape = tape;
            return Ok(out);
        }
        let obs = Tensor::from_slice(obs, (rows, obs.len() / rows), &Device::Cpu)?;
        let sample = self.actor.sample(&obs, &noise, ForwardMode::Eval)?;
        Ok((sample.action.detach().flatten_all()?.to_vec1::<f32>()?, sample.log_prob.detach().to_vec1::<f32>()?))
    }

    /// The configuration.
    pub fn config(&self) -> &SacConfig {
        &self.cfg
    }

    /// The current temperature α.
    pub fn alpha(&self) -> Result<f64, AlgoError> {
        self.temperature.alpha()
    }

    /// The actor.
    pub fn actor(&self) -> &TanhGaussianActor {
        &self.actor
    }

    /// The critic.
    pub fn critic(&self) -> &ScalarCritic {
        &self.critic
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

    /// Critic update (§1): `a' ~ π(·|s')` and `log π(a'|s')` from the actor in eval mode without
    /// gradient, then the soft target (min over target members, or over the joint pass for
    /// CrossQ), the squared TD loss and one Adam step; Polyak targets move by τ.
    fn update_critic(
        &mut self,
        mb: &Minibatch,
        next_obs: &[f32],
        alpha: f64,
        rng: &mut ChaCha8Rng,
    ) -> Result<(f64, f64), AlgoError> {
        let rows = mb.rewards.len();
        let (next_action, next_log_prob) = self.sample_detached(next_obs, rng)?;
        let next_action = Tensor::from_vec(next_action, (rows, self.act_dim), &Device::Cpu)?;
        let batch = CriticBatch {
            obs: &mb.obs,
            actions: &mb.actions,
            next_obs: &mb.next_obs,
            next_actions: &next_action,
            td: TdInputs {
                rewards: &mb.rewards,
                continues: &mb.continues,
                next_log_prob: &next_log_prob,
                alpha: alpha as f32,
                gamma: self.cfg.gamma as f32,
            },
        };
        let report = self.critic.update(&batch)?;
        Ok((report.loss, report.mean_q))
    }

    /// Actor update (§1): loss `mean(α·log π − min_i Q_i)` on a reparameterised sample, the
    /// actor in train mode and the critic in eval mode; Adam. Returns (loss, mean log π).
    fn update_actor(
        &mut self,
        obs: &Tensor,
        obs_host: &[f32],
        alpha: f64,
        rng: &mut ChaCha8Rng,
    ) -> Result<(f64, f64), AlgoError> {
        let rows = obs.dim(0)?;
        let noise = self.actor.draw_noise(rng, rows)?;
        if self.host_actor()?.is_some() {
            // The host path: forward with a tape, the critic's min-Q gradient, backward, Adam.
            let noise = noise.flatten_all()?.to_vec1::<f32>()?;
            let mut tape = std::mem::take(&mut self.tape);
            let host = self.host_actor.take().expect("taken above");
            host.forward(obs_host, &noise, &mut tape);
            let (min_q, q_grad) = self.critic.min_q_and_action_grad(obs_host, &tape.action, rows)?;
            let inv_rows = 1.0 / rows as f32;
            let d_action: Vec<f32> = q_grad.iter().map(|g| -g * inv_rows).collect();
            let d_log_prob = vec![alpha as f32 * inv_rows; rows];
            let grads = host.backward(&self.actor, &tape, &d_action, &d_log_prob)?;
            self.actor_adam.step(self.actor.params(), &grads)?;
            let loss = tape.log_prob.iter().zip(&min_q).map(|(lp, q)| f64::from(alpha as f32 * lp - q)).sum::<f64>()
                / rows as f64;
            let mean_log_prob = tape.log_prob.iter().map(|&v| f64::from(v)).sum::<f64>() / rows as f64;
            self.tape = tape;
            return Ok((loss, mean_log_prob));
        }
        let sample = self.actor.sample(obs, &noise, ForwardMode::Train)?;
        let q_members = self.critic.q_values_eval(obs, &sample.action)?;
        let loss = actor_loss(&q_members, &sample.log_prob, alpha)?;
        let grads = host_gradients(self.actor.params(), &loss.backward()?)?;
        self.actor_adam.step(self.actor.params(), &grads)?;
        let mean = |t: &Tensor| -> Result<f64, AlgoError> { Ok(f64::from(t.mean_all()?.to_scalar::<f32>()?)) };
        Ok((mean(&loss)?, mean(&sample.log_prob)?))
    }

    /// Temperature update (§1) on `mean log π`: the actor update's, or a fresh sample's.
    fn update_temperature(
        &mut self,
        obs: &Tensor,
        update_log_prob: f64,
        rng: &mut ChaCha8Rng,
    ) -> Result<(), AlgoError> {
        let EntropyCoef::Auto { target_entropy_per_action_dim, sample, .. } = self.cfg.entropy_coef else {
            return Ok(());
        };
        let log_prob_mean = match sample {
            TemperatureSample::ActorUpdate => update_log_prob,
            TemperatureSample::Fresh => {
                let (_, log_prob) = self.sample_detached(&obs.flatten_all()?.to_vec1::<f32>()?, rng)?;
                log_prob.iter().map(|&v| f64::from(v)).sum::<f64>() / log_prob.len() as f64
            }
        };
        let alpha = self.alpha()?;
        let target = target_entropy_per_action_dim * self.act_dim as f64;
        let grad = temperature_gradient(alpha, log_prob_mean, target);
        self.temperature.step(grad)?;
        Ok(())
    }
}

impl Agent for SacAgent {
    /// [`ActMode::Explore`]: a tanh-Gaussian sample. [`ActMode::Eval`]: deterministic, `tanh(μ)`.
    fn act(&mut self, obs: &[f32], mode: ActMode, rng: &mut ChaCha8Rng, action: &mut [f32]) -> Result<(), AlgoError> {
        if self.host_actor()?.is_some() {
            // Explore: a sample (the same noise draw as `act_one`); Eval: tanh(μ), i.e. zero noise.
            let noise = match mode {
                ActMode::Explore => self.actor.draw_noise(rng, 1)?.flatten_all()?.to_vec1::<f32>()?,
                ActMode::Eval => vec![0.0; self.act_dim],
            };
            let mut tape = std::mem::take(&mut self.tape);
            self.host_actor.as_ref().expect("taken above").forward(obs, &noise, &mut tape);
            for (out, a) in action.iter_mut().zip(&tape.action) {
                *out = a.clamp(-1.0, 1.0);
            }
            self.tape = tape;
            return Ok(());
        }
        let a = self.actor.act_one(obs, mode, rng)?;
        for (out, a) in action.iter_mut().zip(a) {
            *out = a.clamp(-1.0, 1.0);
        }
        Ok(())
    }

    fn update(&mut self, replay: &ReplayBuffer, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        let (b, utd) = (self.cfg.batch_size, self.cfg.updates_per_step);
        let mut batch = std::mem::take(&mut self.batch);
        replay.sample_into(b * utd, rng, &mut batch)?;
        self.batch = batch;
        let mut out = vec![None; SAC_METRICS.len()];
        for i in 0..utd {
            let alpha = self.alpha()?;
            let mb = self.batch.minibatch(i * b, b, &self.device)?;
            let o = self.batch.obs.len() / self.batch.len();
            let rows = i * b * o..(i + 1) * b * o;
            let (obs, next_obs) = (self.batch.obs[rows.clone()].to_vec(), self.batch.next_obs[rows].to_vec());
            let (critic_loss, mean_q) = self.update_critic(&mb, &next_obs, alpha, rng)?;
            (out[0], out[1]) = (Some(critic_loss), Some(mean_q));
            for _ in 0..self.cfg.policy_schedule.actor_updates_after(self.n_updates + i as u64 + 1) {
                let alpha = self.alpha()?;
                let (loss, log_prob) = self.update_actor(&mb.obs, &obs, alpha, rng)?;
                self.update_temperature(&mb.obs, log_prob, rng)?;
                (out[2], out[4]) = (Some(loss), Some(-log_prob));
            }
        }
        self.n_updates += utd as u64;
        out[3] = Some(self.alpha()?);
        Ok(out)
    }

    fn metric_names(&self) -> Vec<&'static str> {
        SAC_METRICS.to_vec()
    }

    /// Learns from the replay buffer only, so transitions may come from any number of lanes.
    fn supports_parallel_envs(&self) -> bool {
        true
    }

    fn save(&self) -> Result<CheckpointFiles, AlgoError> {
        self.save_files()
    }

    fn load(&mut self, files: &CheckpointFiles) -> Result<(), AlgoError> {
        self.host_actor = None;
        self.load_files(files)
    }
}
