//! Scalar Q ensembles: SAC's twin Q with Polyak targets and CrossQ's BatchRenorm critic with the
//! joint forward (baselines.md §1–2). Which one is chosen by [`Bootstrap`] in the config.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use dime_nn::{polyak_update, Adam, BatchRenorm, ParamStore};
use rand_chacha::ChaCha8Rng;

use crate::batch::{check_batch, check_pair, critic_input, joint_input, split_halves};
use crate::descend::descend;
use crate::mlp::{Mlp, MlpBuild};
use crate::{
    soft_q_target, squared_td_loss, Bootstrap, CriticBatch, CriticConfig, CriticError, CriticHead, CriticUpdate,
    ForwardMode, JointOutput, Normalisation, UpdateTimings,
};

/// Polyak target networks: their own store, members reading from it, and τ.
#[derive(Debug, Clone)]
pub(crate) struct TargetNetworks {
    pub(crate) store: ParamStore,
    members: Vec<Mlp>,
    tau: f64,
}

/// An ensemble of scalar critics `Q_i(s, a)`.
#[derive(Debug, Clone)]
pub struct ScalarCritic {
    pub(crate) obs_dim: usize,
    pub(crate) action_dim: usize,
    pub(crate) store: ParamStore,
    pub(crate) members: Vec<Mlp>,
    pub(crate) target: Option<TargetNetworks>,
    pub(crate) adam: Adam,
    /// Layer widths of every member: `[obs_dim + action_dim, hidden…, 1]`.
    pub(crate) widths: Vec<usize>,
    pub(crate) normalisation: Normalisation,
}

impl ScalarCritic {
    /// Build the ensemble with seeded LeCun-normal kernels. With [`Bootstrap::PolyakTarget`] the
    /// targets start as exact copies; that combination needs [`Normalisation::None`].
    pub fn new(
        config: &CriticConfig,
        obs_dim: usize,
        action_dim: usize,
        rng: &mut ChaCha8Rng,
        dtype: DType,
        device: &Device,
    ) -> Result<Self, CriticError> {
        config.validate()?;
        if config.head != CriticHead::Scalar {
            return Err(CriticError::InvalidConfig("ScalarCritic needs the scalar head".into()));
        }
        let mut store = ParamStore::new();
        let mut members = Vec::with_capacity(config.members);
        for i in 0..config.members {
            let build = MlpBuild { store: &mut store, rng, dtype, device };
            let input = obs_dim + action_dim;
            members.push(Mlp::new(build, &format!("q{i}"), input, &config.hidden_widths, 1, config.normalisation)?);
        }
        let target = match config.bootstrap {
            Bootstrap::JointForward => None,
            Bootstrap::PolyakTarget { tau } => {
                if config.normalisation != Normalisation::None {
                    return Err(CriticError::InvalidConfig(
                        "Polyak targets are for critics without BatchRenorm".into(),
                    ));
                }
                let target_store = store.deep_copy()?;
                let target_members = members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| m.rebind(&target_store, &format!("q{i}")))
                    .collect::<Result<_, _>>()?;
                Some(TargetNetworks { store: target_store, members: target_members, tau })
            }
        };
        let adam = Adam::new(&store, config.adam);
        let mut widths = vec![obs_dim + action_dim];
        widths.extend(&config.hidden_widths);
        widths.push(1);
        Ok(Self { obs_dim, action_dim, store, members, target, adam, widths, normalisation: config.normalisation })
    }

    /// All trainable parameters, sorted by name.
    pub fn params(&self) -> &ParamStore {
        &self.store
    }

    /// The optimiser state (checkpoints).
    pub fn optimiser(&self) -> &Adam {
        &self.adam
    }

    /// The optimiser state, for restoring it from a checkpoint ([`Adam::restore`]).
    pub fn optimiser_mut(&mut self) -> &mut Adam {
        &mut self.adam
    }

    /// The target parameters, if this critic has Polyak targets.
    pub fn target_params(&self) -> Option<&ParamStore> {
        self.target.as_ref().map(|t| &t.store)
    }

    /// Member `i`'s BatchRenorm layers, input first.
    pub fn batch_renorms(&self, member: usize) -> Vec<&BatchRenorm> {
        self.members.get(member).map(Mlp::norms).unwrap_or_default()
    }

    /// Member `i`'s BatchRenorm layers for restoring their state (`BatchRenorm::set_state`).
    pub fn batch_renorms_mut(&mut self, member: usize) -> Vec<&mut BatchRenorm> {
        self.members.get_mut(member).map(Mlp::norms_mut).unwrap_or_default()
    }

    /// `Q_i(s, a)`, one `[B]` tensor per member, with gradient.
    pub fn q_values(&mut self, obs: &Tensor, actions: &Tensor, mode: ForwardMode) -> Result<Vec<Tensor>, CriticError> {
        check_pair(obs, actions, self.obs_dim, self.action_dim)?;
        let x = critic_input(obs, actions)?;
        self.members.iter_mut().map(|m| Ok(m.forward(&x, mode)?.squeeze(1)?)).collect()
    }

    /// Eval-mode `Q_i(s, a)` through a shared borrow (the actor update).
    pub fn q_values_eval(&self, obs: &Tensor, actions: &Tensor) -> Result<Vec<Tensor>, CriticError> {
        check_pair(obs, actions, self.obs_dim, self.action_dim)?;
        let x = critic_input(obs, actions)?;
        self.members.iter().map(|m| Ok(m.forward_eval(&x)?.squeeze(1)?)).collect()
    }

    /// `Q̄_i(s, a)` of the target networks, detached; an error without targets.
    pub fn target_q_values(&self, obs: &Tensor, actions: &Tensor) -> Result<Vec<Tensor>, CriticError> {
        let target = self.target.as_ref().ok_or(CriticError::Unsupported("this critic has no target networks"))?;
        check_pair(obs, actions, self.obs_dim, self.action_dim)?;
        let x = critic_input(obs, actions)?;
        target.members.iter().map(|m| Ok(m.forward_detached(&x)?.squeeze(1)?)).collect()
    }

    /// `θ̄ ← (1 − τ)·θ̄ + τ·θ` with the configured τ; an error without targets.
    pub fn update_targets(&self) -> Result<(), CriticError> {
        let target = self.target.as_ref().ok_or(CriticError::Unsupported("this critic has no target networks"))?;
        Ok(polyak_update(&target.store, &self.store, target.tau)?)
    }

    /// One train-mode pass over `[(s, a); (s', a')]`; BatchRenorm statistics move once. `[B]` values.
    pub fn joint_forward(&mut self, batch: &CriticBatch) -> Result<JointOutput, CriticError> {
        let x = joint_input(batch, self.obs_dim, self.action_dim)?;
        let rows = batch.obs.dim(0)?;
        let outputs = self
            .members
            .iter_mut()
            .map(|m| Ok(m.forward(&x, ForwardMode::Train)?.squeeze(1)?))
            .collect::<Result<_, CriticError>>()?;
        let (current, next) = split_halves(outputs, rows)?;
        Ok(JointOutput { current, next })
    }

    /// One critic update. CrossQ (joint forward): `y` from the same pass, loss
    /// `0.5·Σ_i mean (Q_i − y)²`. SAC (Polyak targets): `y` from the targets, loss
    /// `Σ_i mean (Q_i − y)²`, then the targets move by τ. Both use [`soft_q_target`] (min over members).
    /// On the CPU with f32 parameters this runs on host buffers (`crate::host`); elsewhere, and
    /// in [`ScalarCritic::update_reference`], through candle autograd.
    pub fn update(&mut self, batch: &CriticBatch) -> Result<CriticUpdate, CriticError> {
        if crate::host::applies(&self.store) {
            return self.update_host(batch);
        }
        self.update_reference(batch)
    }

    /// [`ScalarCritic::update`] through candle autograd: the reference the host path is tested against.
    pub fn update_reference(&mut self, batch: &CriticBatch) -> Result<CriticUpdate, CriticError> {
        let start = Instant::now();
        let (current, loss) = if self.target.is_some() {
            check_batch(batch, self.obs_dim, self.action_dim)?;
            let next = self.target_q_values(batch.next_obs, batch.next_actions)?;
            let y = soft_q_target(&next, &batch.td)?;
            let current = self.q_values(batch.obs, batch.actions, ForwardMode::Train)?;
            let loss = squared_td_loss(&current, &y)?;
            (current, loss)
        } else {
            let joint = self.joint_forward(batch)?;
            let y = soft_q_target(&joint.next, &batch.td)?;
            let loss = (squared_td_loss(&joint.current, &y)? * 0.5)?;
            (joint.current, loss)
        };
        let mut q_sum = 0.0;
        for q in &current {
            q_sum += q.detach().mean_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        }
        let loss_value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let forward = start.elapsed();
        let (backward, optimiser) = descend(&self.store, &mut self.adam, &loss)?;
        if self.target.is_some() {
            self.update_targets()?;
        }
        Ok(CriticUpdate {
            loss: loss_value,
            mean_q: q_sum / self.members.len() as f64,
            timings: UpdateTimings { forward, backward, optimiser },
        })
    }
}
