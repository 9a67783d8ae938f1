//! DIME's categorical critic ensemble (dime.md §5): BatchRenorm MLPs with a softmax over atoms,
//! one joint train-mode pass over current and next pairs, no target network.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use dime_nn::{Adam, BatchRenorm, ParamStore};
use rand_chacha::ChaCha8Rng;

use crate::batch::{check_pair, critic_input, joint_input, split_halves};
use crate::descend::descend;
use crate::mlp::{Mlp, MlpBuild};
use crate::{
    categorical_td_loss, critic_target, Bootstrap, CriticBatch, CriticConfig, CriticError, CriticHead, CriticUpdate,
    ForwardMode, Normalisation, Support, UpdateTimings,
};

/// Per-member outputs of the joint pass, split into the current half `(s, a)` and the next half
/// `(s', a')`, each `[B, …]`.
#[derive(Debug, Clone)]
pub struct JointOutput {
    /// One tensor per member for `(s, a)`.
    pub current: Vec<Tensor>,
    /// One tensor per member for `(s', a')`.
    pub next: Vec<Tensor>,
}

/// An ensemble of categorical critics `p_i(s, a) ∈ Δ^N`.
#[derive(Debug, Clone)]
pub struct CategoricalCritic {
    pub(crate) support: Support,
    pub(crate) support_column: Tensor,
    pub(crate) entropy_coef: f64,
    pub(crate) obs_dim: usize,
    pub(crate) action_dim: usize,
    /// Layer widths of every member: `[obs_dim + action_dim, hidden…, atoms]`.
    pub(crate) widths: Vec<usize>,
    pub(crate) normalisation: Normalisation,
    pub(crate) store: ParamStore,
    pub(crate) members: Vec<Mlp>,
    pub(crate) adam: Adam,
}

impl CategoricalCritic {
    /// Build the ensemble with seeded LeCun-normal kernels; `config.head` must be categorical
    /// and `config.bootstrap` the joint forward (DIME has no target network).
    pub fn new(
        config: &CriticConfig,
        obs_dim: usize,
        action_dim: usize,
        rng: &mut ChaCha8Rng,
        dtype: DType,
        device: &Device,
    ) -> Result<Self, CriticError> {
        config.validate()?;
        let CriticHead::Categorical { atoms, v_min, v_max, entropy_coef } = config.head else {
            return Err(CriticError::InvalidConfig("CategoricalCritic needs a categorical head".into()));
        };
        if config.bootstrap != Bootstrap::JointForward {
            return Err(CriticError::InvalidConfig("CategoricalCritic bootstraps with the joint forward only".into()));
        }
        let support = Support::new(v_min, v_max, atoms)?;
        let mut store = ParamStore::new();
        let mut members = Vec::with_capacity(config.members);
        for i in 0..config.members {
            let build = MlpBuild { store: &mut store, rng, dtype, device };
            let input = obs_dim + action_dim;
            members.push(Mlp::new(build, &format!("q{i}"), input, &config.hidden_widths, atoms, config.normalisation)?);
        }
        let support_column = Tensor::from_vec(support.values().to_vec(), (atoms, 1), &Device::Cpu)?
            .to_dtype(dtype)?
            .to_device(device)?;
        let adam = Adam::new(&store, config.adam);
        let mut widths = vec![obs_dim + action_dim];
        widths.extend(&config.hidden_widths);
        widths.push(atoms);
        let normalisation = config.normalisation;
        Ok(Self {
            support,
            support_column,
            entropy_coef,
            obs_dim,
            action_dim,
            widths,
            normalisation,
            store,
            members,
            adam,
        })
    }

    /// The support the members predict on.
    pub fn support(&self) -> &Support {
        &self.support
    }

    /// All trainable parameters, sorted by name (`q<i>.hidden<k>.weight`, …).
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

    /// Member `i`'s BatchRenorm layers, input first (tests, checkpoints).
    pub fn batch_renorms(&self, member: usize) -> Vec<&BatchRenorm> {
        self.members.get(member).map(Mlp::norms).unwrap_or_default()
    }

    /// Member `i`'s BatchRenorm layers for restoring their state (`BatchRenorm::set_state`).
    pub fn batch_renorms_mut(&mut self, member: usize) -> Vec<&mut BatchRenorm> {
        self.members.get_mut(member).map(Mlp::norms_mut).unwrap_or_default()
    }

    /// Number of members.
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// Atom probabilities `p_i(s, a)`, one `[B, N]` tensor per member. `Train` moves the running
    /// statistics once per member; `Eval` changes nothing.
    pub fn probs(&mut self, obs: &Tensor, actions: &Tensor, mode: ForwardMode) -> Result<Vec<Tensor>, CriticError> {
        check_pair(obs, actions, self.obs_dim, self.action_dim)?;
        let x = critic_input(obs, actions)?;
        self.members.iter_mut().map(|m| softmax_rows(&m.forward(&x, mode)?)).collect()
    }

    /// Eval-mode atom probabilities through a shared borrow, with autograd (the actor update;
    /// [`CategoricalCritic::mean_q_and_action_grad`] is the fused host equivalent of
    /// `probs_eval` + `expected_value` + the gradient to the actions).
    pub fn probs_eval(&self, obs: &Tensor, actions: &Tensor) -> Result<Vec<Tensor>, CriticError> {
        check_pair(obs, actions, self.obs_dim, self.action_dim)?;
        let x = critic_input(obs, actions)?;
        self.members.iter().map(|m| softmax_rows(&m.forward_eval(&x)?)).collect()
    }

    /// `Q_i = Σ_j p_ij·z_j` for `[B, N]` probabilities, as `[B]`.
    pub fn expected_value(&self, probs: &Tensor) -> Result<Tensor, CriticError> {
        Ok(probs.matmul(&self.support_column)?.squeeze(1)?)
    }

    /// One train-mode pass over the joint batch `[(s, a); (s', a')]` (dime.md §5.3): every member's
    /// BatchRenorm statistics cover both halves and move exactly once. Returns probabilities.
    pub fn joint_forward(&mut self, batch: &CriticBatch) -> Result<JointOutput, CriticError> {
        let x = joint_input(batch, self.obs_dim, self.action_dim)?;
        let rows = batch.obs.dim(0)?;
        let outputs = self
            .members
            .iter_mut()
            .map(|m| softmax_rows(&m.forward(&x, ForwardMode::Train)?))
            .collect::<Result<_, _>>()?;
        let (current, next) = split_halves(outputs, rows)?;
        Ok(JointOutput { current, next })
    }

    /// DIME's critic update (dime.md §5.3–5.6): joint pass, target `P` = average of the members'
    /// projected next distributions, [`categorical_td_loss`], one Adam step.
    ///
    /// With f32 parameters on the CPU this runs the fused host path (`src/host/`), otherwise
    /// [`CategoricalCritic::update_reference`]; both compute the same update (to f32 rounding).
    pub fn update(&mut self, batch: &CriticBatch) -> Result<CriticUpdate, CriticError> {
        if crate::host::applies(&self.store) {
            return self.update_host(batch);
        }
        self.update_reference(batch)
    }

    /// The update written with candle tensors and autograd: the reference the host path is tested
    /// against, and the path for f64 parameters and other devices.
    pub fn update_reference(&mut self, batch: &CriticBatch) -> Result<CriticUpdate, CriticError> {
        let start = Instant::now();
        let joint = self.joint_forward(batch)?;
        let target = critic_target(&self.support, &joint.next, &batch.td)?;
        let loss = categorical_td_loss(&joint.current, &target, self.entropy_coef)?;
        let mut q_sum = 0.0;
        for p in &joint.current {
            q_sum += self.expected_value(&p.detach())?.mean_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        }
        let loss_value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let forward = start.elapsed();
        let (backward, optimiser) = descend(&self.store, &mut self.adam, &loss)?;
        Ok(CriticUpdate {
            loss: loss_value,
            mean_q: q_sum / self.members.len() as f64,
            timings: UpdateTimings { forward, backward, optimiser },
        })
    }
}

/// Row-wise softmax `exp(x − max)/Σ exp(x − max)` with gradient (candle's fused softmax has none).
/// The max is detached: the softmax does not depend on the shift.
pub(crate) fn softmax_rows(logits: &Tensor) -> Result<Tensor, CriticError> {
    let max = logits.max_keepdim(1)?.detach();
    let exp = logits.broadcast_sub(&max)?.exp()?;
    let sum = exp.sum_keepdim(1)?;
    Ok(exp.broadcast_div(&sum)?)
}
