//! The critic networks of the DMERL agents: a tanh MLP on an augmented state
//! `[s, x_k, one-hot(k)]`, optionally followed by an augmented action `x_{k+1}` — DiffPPO's
//! `V(s, x_k, k)` and DiffWPO's `Q(s̃_k, x_{k+1})`. Orthogonal initialisation as CleanRL's PPO
//! (gain √2 on hidden layers, 1 on the output).

use candle_core::{Device, Tensor, Var};
use dime_nn::{Linear, ParamStore};
use rand_chacha::ChaCha8Rng;

use crate::error::AlgoError;
use crate::ppo::policy::{orthogonal_layer, tanh_mlp};

/// A scalar tanh MLP on `[s, x_k, one-hot(k)]` and, for a Q-network, `x_{k+1}`.
pub struct AugmentedMlp {
    store: ParamStore,
    layers: Vec<Linear>,
    steps: usize,
    action_input: bool,
}

impl AugmentedMlp {
    /// A network named `name{i}` per layer on states of `obs_dim`, latents `x_k` of
    /// `latent_dim` and `steps` step indices; `action_dim > 0` adds `x_{k+1}` of that width to
    /// the input (a Q-network).
    pub fn new(
        name: &str,
        (obs_dim, latent_dim, steps): (usize, usize, usize),
        widths: &[usize],
        action_dim: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, AlgoError> {
        let mut store = ParamStore::new();
        let mut layers = Vec::new();
        let action_input = action_dim > 0;
        let mut fan_in = obs_dim + latent_dim + steps + action_dim;
        for (i, &w) in widths.iter().enumerate() {
            layers.push(orthogonal_layer(&mut store, &format!("{name}{i}"), fan_in, w, std::f64::consts::SQRT_2, rng)?);
            fan_in = w;
        }
        layers.push(orthogonal_layer(&mut store, &format!("{name}{}", widths.len()), fan_in, 1, 1.0, rng)?);
        Ok(Self { store, layers, steps, action_input })
    }

    /// The state part of the input rows, `[s, x_k, one-hot(k)]`.
    fn state_rows(&self, obs: &[f32], x: &[f32], steps: &[usize]) -> Result<Tensor, AlgoError> {
        let rows = steps.len();
        let (o, d) = (obs.len() / rows, x.len() / rows);
        let mut values = Vec::with_capacity(rows * (o + d + self.steps));
        for (b, &k) in steps.iter().enumerate() {
            values.extend_from_slice(&obs[b * o..(b + 1) * o]);
            values.extend_from_slice(&x[b * d..(b + 1) * d]);
            values.extend((0..self.steps).map(|j| f32::from(u8::from(j == k))));
        }
        Ok(Tensor::from_vec(values, (rows, o + d + self.steps), &Device::Cpu)?)
    }

    fn head(&self, input: &Tensor) -> Result<Tensor, AlgoError> {
        let (hidden, out) = self.layers.split_at(self.layers.len() - 1);
        Ok(out[0].forward(&tanh_mlp(hidden, input)?)?.squeeze(1)?)
    }

    /// The value per row, `[B]`, with gradient to the parameters; `action` (`x_{k+1}`, `[B, d]`)
    /// is required exactly for a Q-network.
    pub fn forward(
        &self,
        obs: &[f32],
        x: &[f32],
        steps: &[usize],
        action: Option<&Tensor>,
    ) -> Result<Tensor, AlgoError> {
        let state = self.state_rows(obs, x, steps)?;
        let input = match (action, self.action_input) {
            (Some(a), true) => Tensor::cat(&[&state, a], 1)?,
            (None, false) => state,
            _ => return Err(AlgoError::InvalidInput("a Q-network needs the action, a value network none".into())),
        };
        self.head(&input)
    }

    /// `∂Q/∂x_{k+1}` per row, `[B, d]`, detached (a Q-network's action gradient).
    pub fn action_gradient(
        &self,
        obs: &[f32],
        x: &[f32],
        steps: &[usize],
        action: &Tensor,
    ) -> Result<Tensor, AlgoError> {
        let var = Var::from_tensor(&action.detach())?;
        let q = self.forward(obs, x, steps, Some(var.as_tensor()))?;
        let grads = q.sum_all()?.backward()?;
        let grad = grads.get(var.as_tensor()).ok_or_else(|| AlgoError::InvalidInput("no action gradient".into()))?;
        Ok(grad.detach())
    }

    /// All parameters, sorted by name.
    pub fn params(&self) -> &ParamStore {
        &self.store
    }
}
