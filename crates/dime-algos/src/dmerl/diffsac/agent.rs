//! DiffSAC (dmerl.md §7, inferred): SAC on the diffusion-augmented MDP, in the shared
//! off-policy loop.
//!
//! Acting samples the K-step chain and keeps its states `x_0..x_K`; the agent stores each
//! environment transition with its chain (the "expand at sample time" form of §7: K times
//! smaller than storing augmented transitions). Per environment step:
//! 1. draw `B·UTD` stored transitions and, for each, a step index `k ~ U{0..K−1}`; row `b` is the
//!    augmented transition `s̃_k = (s, x_k, k) → x_{k+1}`, whose successor is `(s, x_{k+1}, k+1)`
//!    with reward 0 for `k < K−1`, and `(s', x_0' ~ p_0, 0)` with the environment's reward and
//!    termination for `k = K−1`;
//! 2. critic: `y = R_k + γ_k·(1 − done_k)·[min_j Q̄_j(s̃', x') − α·ℓ'(x')]`, `x' ~ π_θ(·|s̃')`;
//! 3. actor (on the policy schedule): `mean[α·ℓ_k(x_{k+1}) − min_j Q_j(s̃_k, x_{k+1})]` with
//!    `x_{k+1} = μ_θ(s̃_k) + ς_k ⊙ ε` reparameterised: one denoising step, no backpropagation
//!    through the chain;
//! 4. temperature: `L(log α)` on `H = −K·mean(ℓ_k)` against the target `−m·d`.
//!
//! Transitions stored before the policy first acted (the loop's uniform warm-up) have no chain:
//! their `x_K = atanh(clip(a))` is completed backwards with the reference kernels
//! `x_k ~ q_k(·|x_{k+1})` (dime.md §2.4), the chain the bound compares the policy's with.
//! This is a project choice; dmerl.md does not say how DiffSAC warms up.

use candle_core::{DType, Device, Tensor};
use dime_critic::{CriticBatch, ScalarCritic, TdInputs};
use dime_diffusion::{ActingPolicy, DiffusionPolicy, FRICTION_RAW, STEP_SIZE_RAW};
use dime_nn::{host_gradients, init, Adam};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::config::DiffSacConfig;
use crate::agent::{ActMode, Agent};
use crate::checkpoint::CheckpointFiles;
use crate::dmerl::AugmentedConfig;
use crate::error::AlgoError;
use crate::replay::{Batch, ReplayBuffer, Transition};
use crate::sac::{temperature_gradient, EntropyCoef, TemperatureSample};
use crate::temperature::LogTemperature;

/// The metrics [`DiffSacAgent::update`] reports, in order; `entropy_proxy` is `−K·mean(ℓ_k)` of
/// the last actor update (pre-tanh, without the prior term: dmerl.md §2).
pub const DIFFSAC_METRICS: [&str; 5] = ["critic_loss", "mean_q", "actor_loss", "alpha", "entropy_proxy"];

/// The chain `act` sampled in explore mode, waiting for its environment transition.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PendingChain {
    pub obs: Vec<f32>,
    pub action: Vec<f32>,
    /// `x_0..x_K`, `[(K+1)·d]`.
    pub states: Vec<f32>,
}

/// Augmented transitions drawn from stored chains, as host columns.
#[derive(Debug, Default)]
struct AugmentedBatch {
    /// `s`, `x_k` and `k` of each row (the policy's inputs).
    obs: Vec<f32>,
    x: Vec<f32>,
    steps: Vec<usize>,
    /// `x_{k+1}`, the augmented action.
    x_next: Vec<f32>,
    /// The successor state `s̃'`'s `s`, `x` and `k`.
    next_obs: Vec<f32>,
    next_x: Vec<f32>,
    next_steps: Vec<usize>,
    /// `R_k`: the environment's reward at `k = K−1`, else 0.
    rewards: Vec<f32>,
    /// `γ_k·(1 − done_k)`: the whole bootstrap factor (the critic is called with γ = 1).
    continues: Vec<f32>,
}

/// A DiffSAC learner.
pub struct DiffSacAgent {
    pub(super) cfg: DiffSacConfig,
    pub(super) obs_dim: usize,
    pub(super) act_dim: usize,
    pub(super) policy: DiffusionPolicy,
    pub(super) critic: ScalarCritic,
    pub(super) actor_adam: Adam,
    pub(super) temperature: LogTemperature,
    /// Critic updates so far: the global policy-delay counter.
    pub(super) n_updates: u64,
    /// Stored transitions with their chains in the action column (`[(K+1)·d]`); created with
    /// the loop's buffer capacity on the first update.
    pub(super) chains: Option<ReplayBuffer>,
    pub(super) pending: Option<PendingChain>,
    augmented: AugmentedConfig,
    /// The frozen acting copy of the policy (`None` after an actor update until next needed).
    acting: Option<ActingPolicy>,
    batch: Batch,
}

fn host(t: &Tensor) -> Result<Vec<f32>, AlgoError> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

fn tensor(values: &[f32], rows: usize) -> Result<Tensor, AlgoError> {
    Ok(Tensor::from_slice(values, (rows, values.len() / rows), &Device::Cpu)?)
}

impl DiffSacAgent {
    /// A fresh agent; initial parameters come from `rng` (the run's `init` stream).
    pub fn new(cfg: DiffSacConfig, obs_dim: usize, act_dim: usize, rng: &mut ChaCha8Rng) -> Result<Self, AlgoError> {
        cfg.validate()?;
        let k = cfg.sampler.diffusion_steps;
        let policy = DiffusionPolicy::new(cfg.sampler.clone(), obs_dim, act_dim, rng, DType::F32, &Device::Cpu)?;
        let critic = ScalarCritic::new(&cfg.critic, obs_dim + act_dim + k, act_dim, rng, DType::F32, &Device::Cpu)?;
        let temperature = match cfg.entropy_coef {
            EntropyCoef::Auto { initial, adam, .. } => LogTemperature::new(initial, Some(adam))?,
            EntropyCoef::Fixed(alpha) => LogTemperature::new(alpha, None)?,
        };
        let augmented = AugmentedConfig {
            denoising_steps: k,
            prior_std: cfg.sampler.prior_std,
            action_clip: cfg.action_clip,
            gamma: cfg.gamma as f32,
            discount_mode: cfg.discount_mode,
        };
        Ok(Self {
            actor_adam: Adam::new(policy.params(), cfg.actor_adam),
            cfg,
            obs_dim,
            act_dim,
            policy,
            critic,
            temperature,
            n_updates: 0,
            chains: None,
            pending: None,
            augmented,
            acting: None,
            batch: Batch::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DiffSacConfig {
        &self.cfg
    }

    /// The diffusion policy.
    pub fn policy(&self) -> &DiffusionPolicy {
        &self.policy
    }

    /// The critic `Q(s̃_k, x_{k+1})`.
    pub fn critic(&self) -> &ScalarCritic {
        &self.critic
    }

    /// The current temperature α.
    pub fn alpha(&self) -> Result<f64, AlgoError> {
        self.temperature.alpha()
    }

    /// Critic updates done so far.
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

    /// The stored transitions with their chains (`None` before the first update).
    pub fn stored_chains(&self) -> Option<&ReplayBuffer> {
        self.chains.as_ref()
    }

    /// A chain for a transition the policy did not sample (warm-up): `x_K = atanh(clip(a))`,
    /// then `x_k ~ q_k(·|x_{k+1})` for `k = K−1..0`.
    /// `(eta, scale)` are the step sizes `η_k` and `ς_k`, `[K·d]` each.
    fn reference_chain(
        &self,
        action: &[f32],
        (eta, scale): (&[f32], &[f32]),
        rng: &mut ChaCha8Rng,
    ) -> Result<Vec<f32>, AlgoError> {
        let (k_steps, d) = (self.cfg.sampler.diffusion_steps, self.act_dim);
        let prior_var = (self.cfg.sampler.prior_std * self.cfg.sampler.prior_std) as f32;
        let clip = self.cfg.action_clip;
        let mut states = vec![0.0f32; (k_steps + 1) * d];
        for (x, a) in states[k_steps * d..].iter_mut().zip(action) {
            *x = a.clamp(-clip, clip).atanh();
        }
        for k in (0..k_steps).rev() {
            let eps = init::standard_normal(rng, d);
            for i in 0..d {
                let x_next = states[(k + 1) * d + i];
                states[k * d + i] = x_next - eta[k * d + i] * x_next / prior_var + scale[k * d + i] * eps[i];
            }
        }
        Ok(states)
    }

    /// Copy the loop's newest transition (and, on the first call, everything stored before it)
    /// into the chain buffer, with the chain that produced it when the policy acted.
    fn store_new_transitions(&mut self, replay: &ReplayBuffer, rng: &mut ChaCha8Rng) -> Result<(), AlgoError> {
        let width = (self.cfg.sampler.diffusion_steps + 1) * self.act_dim;
        if self.chains.is_none() {
            self.chains = Some(ReplayBuffer::new(self.obs_dim, width, replay.capacity())?);
        }
        let backfill = if self.chains.as_ref().is_some_and(|c| c.is_empty()) { replay.len() } else { 1 };
        let pending = self.pending.take();
        // The step sizes once for every completion (a warm-up backfill completes thousands).
        let sizes = self.policy.step_sizes()?;
        let (eta, scale) = (host(&sizes.eta)?, host(&sizes.scale)?);
        for i in replay.len().saturating_sub(backfill)..replay.len() {
            let t = replay.get(i).expect("index below len");
            let states = match &pending {
                Some(p) if i + 1 == replay.len() && p.obs == t.obs && p.action == t.action => p.states.clone(),
                _ => self.reference_chain(t.action, (&eta, &scale), rng)?,
            };
            self.chains.as_mut().expect("created above").push(Transition { action: &states, ..t })?;
        }
        Ok(())
    }

    /// Rows `start..start + rows` of the sampled batch as augmented transitions, each at a
    /// uniformly drawn step index.
    fn augmented_rows(&self, start: usize, rows: usize, rng: &mut ChaCha8Rng) -> Result<AugmentedBatch, AlgoError> {
        let (o, d, k_steps) = (self.obs_dim, self.act_dim, self.cfg.sampler.diffusion_steps);
        let width = (k_steps + 1) * d;
        let sigma0 = self.cfg.sampler.prior_std as f32;
        let mut out = AugmentedBatch::default();
        for b in start..start + rows {
            let k = rng.random_range(0..k_steps);
            let (obs, chain) = (&self.batch.obs[b * o..(b + 1) * o], &self.batch.action[b * width..(b + 1) * width]);
            out.obs.extend_from_slice(obs);
            out.x.extend_from_slice(&chain[k * d..(k + 1) * d]);
            out.x_next.extend_from_slice(&chain[(k + 1) * d..(k + 2) * d]);
            out.steps.push(k);
            let discount = self.augmented.discount(k);
            if k + 1 < k_steps {
                out.next_obs.extend_from_slice(obs);
                out.next_x.extend_from_slice(&chain[(k + 1) * d..(k + 2) * d]);
                out.next_steps.push(k + 1);
                out.rewards.push(0.0);
                out.continues.push(discount);
            } else {
                out.next_obs.extend_from_slice(&self.batch.next_obs[b * o..(b + 1) * o]);
                out.next_x.extend(init::standard_normal(rng, d).into_iter().map(|e| sigma0 * e));
                out.next_steps.push(0);
                out.rewards.push(self.batch.reward[b]);
                out.continues.push(discount * self.batch.not_terminated[b]);
            }
        }
        Ok(out)
    }

    /// The critic's state rows `[s, x_k, one-hot(k)]`.
    fn critic_state(&self, obs: &[f32], x: &[f32], steps: &[usize]) -> Vec<f32> {
        let (o, d, k_steps) = (self.obs_dim, self.act_dim, self.cfg.sampler.diffusion_steps);
        let mut out = Vec::with_capacity(steps.len() * (o + d + k_steps));
        for (b, &k) in steps.iter().enumerate() {
            out.extend_from_slice(&obs[b * o..(b + 1) * o]);
            out.extend_from_slice(&x[b * d..(b + 1) * d]);
            out.extend((0..k_steps).map(|j| f32::from(u8::from(j == k))));
        }
        out
    }

    /// `x_{k+1} ~ π_θ(·|s, x_k, k)` and `ℓ_k` per row, without gradient.
    fn sample_detached(
        &self,
        obs: &[f32],
        x: &[f32],
        steps: &[usize],
        rng: &mut ChaCha8Rng,
    ) -> Result<(Vec<f32>, Vec<f32>), AlgoError> {
        let rows = steps.len();
        let eps =
            Tensor::from_vec(init::standard_normal(rng, rows * self.act_dim), (rows, self.act_dim), &Device::Cpu)?;
        let (x_next, lp) = self.policy.sample_step(&tensor(obs, rows)?, &tensor(x, rows)?, steps, &eps)?;
        Ok((host(&x_next.detach())?, host(&lp.log_ratio()?.detach())?))
    }

    /// Critic update: the soft target of the successor states, the squared TD loss, Adam, Polyak.
    fn update_critic(
        &mut self,
        rows: &AugmentedBatch,
        alpha: f64,
        rng: &mut ChaCha8Rng,
    ) -> Result<(f64, f64), AlgoError> {
        let b = rows.steps.len();
        let (next_action, next_log_ratio) =
            self.sample_detached(&rows.next_obs, &rows.next_x, &rows.next_steps, rng)?;
        let state = tensor(&self.critic_state(&rows.obs, &rows.x, &rows.steps), b)?;
        let next_state = tensor(&self.critic_state(&rows.next_obs, &rows.next_x, &rows.next_steps), b)?;
        let batch = CriticBatch {
            obs: &state,
            actions: &tensor(&rows.x_next, b)?,
            next_obs: &next_state,
            next_actions: &tensor(&next_action, b)?,
            td: TdInputs {
                rewards: &rows.rewards,
                continues: &rows.continues,
                next_log_prob: &next_log_ratio,
                alpha: alpha as f32,
                gamma: 1.0,
            },
        };
        let report = self.critic.update(&batch)?;
        Ok((report.loss, report.mean_q))
    }

    /// The actor loss `mean[α·ℓ_k − min_j Q_j(s̃_k, x_{k+1})]` on one denoising step per row,
    /// at `x_{k+1} = μ_θ + ς ⊙ eps` (reparameterised), and its gradient for every policy
    /// parameter (zero for the step sizes unless they are learned). The critic's action gradient
    /// enters as a stop-gradient cotangent of `x_{k+1}`. Returns (gradients, loss, mean ℓ_k).
    fn actor_gradients(
        &self,
        rows: &AugmentedBatch,
        alpha: f64,
        eps: &Tensor,
    ) -> Result<(Vec<Vec<f32>>, f64, f64), AlgoError> {
        let (b, d) = (rows.steps.len(), self.act_dim);
        let (x_next, lp) = self.policy.sample_step(&tensor(&rows.obs, b)?, &tensor(&rows.x, b)?, &rows.steps, eps)?;
        let log_ratio = lp.log_ratio()?;
        let state = self.critic_state(&rows.obs, &rows.x, &rows.steps);
        let (min_q, q_grad) = self.critic.min_q_and_action_grad(&state, &host(&x_next)?, b)?;
        let q_grad = Tensor::from_vec(q_grad, (b, d), &Device::Cpu)?;
        let surrogate = (((&log_ratio * alpha)?.sum_all()? - (&x_next * &q_grad)?.sum_all()?)? / b as f64)?;
        let mut grads = host_gradients(self.policy.params(), &surrogate.backward()?)?;
        if !self.cfg.learn_step_sizes {
            for (name, g) in self.policy.params().names().iter().zip(grads.iter_mut()) {
                if name == STEP_SIZE_RAW || name == FRICTION_RAW {
                    g.iter_mut().for_each(|v| *v = 0.0);
                }
            }
        }
        let log_ratio = host(&log_ratio.detach())?;
        let loss = log_ratio.iter().zip(&min_q).map(|(l, q)| f64::from(alpha as f32 * l - q)).sum::<f64>() / b as f64;
        Ok((grads, loss, log_ratio.iter().map(|&v| f64::from(v)).sum::<f64>() / b as f64))
    }

    /// Actor update: [`Self::actor_gradients`] with fresh noise, then Adam. Returns (loss, mean ℓ_k).
    fn update_actor(
        &mut self,
        rows: &AugmentedBatch,
        alpha: f64,
        rng: &mut ChaCha8Rng,
    ) -> Result<(f64, f64), AlgoError> {
        let (b, d) = (rows.steps.len(), self.act_dim);
        let eps = Tensor::from_vec(init::standard_normal(rng, b * d), (b, d), &Device::Cpu)?;
        let (grads, loss, mean_log_ratio) = self.actor_gradients(rows, alpha, &eps)?;
        self.actor_adam.step(self.policy.params(), &grads)?;
        self.acting = None;
        Ok((loss, mean_log_ratio))
    }

    /// Temperature update on `H = −K·mean(ℓ_k)`: the actor update's ℓ, or a fresh sample's.
    fn update_temperature(
        &mut self,
        rows: &AugmentedBatch,
        update_mean: f64,
        rng: &mut ChaCha8Rng,
    ) -> Result<(), AlgoError> {
        let EntropyCoef::Auto { target_entropy_per_action_dim, sample, .. } = self.cfg.entropy_coef else {
            return Ok(());
        };
        let mean_log_ratio = match sample {
            TemperatureSample::ActorUpdate => update_mean,
            TemperatureSample::Fresh => {
                let (_, fresh) = self.sample_detached(&rows.obs, &rows.x, &rows.steps, rng)?;
                fresh.iter().map(|&v| f64::from(v)).sum::<f64>() / fresh.len() as f64
            }
        };
        let k_steps = self.cfg.sampler.diffusion_steps as f64;
        let target = target_entropy_per_action_dim * self.act_dim as f64;
        self.temperature.step(temperature_gradient(self.alpha()?, k_steps * mean_log_ratio, target))
    }

    fn acting_policy(&mut self) -> Result<&ActingPolicy, AlgoError> {
        if self.acting.is_none() {
            self.acting = Some(self.policy.acting_policy()?);
        }
        Ok(self.acting.as_ref().expect("built above"))
    }
}

impl Agent for DiffSacAgent {
    /// Both modes sample the chain (evaluation is stochastic, as DIME's and DMERL's); explore
    /// mode keeps the chain for the transition the loop stores next.
    fn act(&mut self, obs: &[f32], mode: ActMode, rng: &mut ChaCha8Rng, action: &mut [f32]) -> Result<(), AlgoError> {
        let (d, k_steps) = (self.act_dim, self.cfg.sampler.diffusion_steps);
        let sigma0 = self.cfg.sampler.prior_std as f32;
        let x0: Vec<f32> = init::standard_normal(rng, d).into_iter().map(|e| sigma0 * e).collect();
        let eps = init::standard_normal(rng, k_steps * d);
        let states = self.acting_policy()?.chain_one_with_noise(obs, &x0, &eps)?;
        let clip = self.cfg.action_clip;
        for (out, x) in action.iter_mut().zip(&states[k_steps * d..]) {
            *out = x.tanh().clamp(-clip, clip);
        }
        if mode == ActMode::Explore {
            self.pending = Some(PendingChain { obs: obs.to_vec(), action: action.to_vec(), states });
        }
        Ok(())
    }

    fn update(&mut self, replay: &ReplayBuffer, rng: &mut ChaCha8Rng) -> Result<Vec<Option<f64>>, AlgoError> {
        self.store_new_transitions(replay, rng)?;
        let (b, utd) = (self.cfg.batch_size, self.cfg.updates_per_step);
        let mut batch = std::mem::take(&mut self.batch);
        self.chains.as_ref().expect("stored above").sample_into(b * utd, rng, &mut batch)?;
        self.batch = batch;
        let mut out = vec![None; DIFFSAC_METRICS.len()];
        for i in 0..utd {
            let rows = self.augmented_rows(i * b, b, rng)?;
            let (critic_loss, mean_q) = self.update_critic(&rows, self.alpha()?, rng)?;
            (out[0], out[1]) = (Some(critic_loss), Some(mean_q));
            for _ in 0..self.cfg.policy_schedule.actor_updates_after(self.n_updates + i as u64 + 1) {
                let (loss, mean_log_ratio) = self.update_actor(&rows, self.alpha()?, rng)?;
                self.update_temperature(&rows, mean_log_ratio, rng)?;
                let k_steps = self.cfg.sampler.diffusion_steps as f64;
                (out[2], out[4]) = (Some(loss), Some(-k_steps * mean_log_ratio));
            }
        }
        self.n_updates += utd as u64;
        out[3] = Some(self.alpha()?);
        Ok(out)
    }

    fn metric_names(&self) -> Vec<&'static str> {
        DIFFSAC_METRICS.to_vec()
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
