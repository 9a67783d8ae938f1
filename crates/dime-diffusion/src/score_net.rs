//! The conditional score network f_θ(x_k, s, k) ("PISGRADNet", dime.md §2.5).
//!
//! - time path: `τ(k) = Dense_T(act(Dense_T(fourier(k))))`, `fourier(k) = [sin(w·k+ψ), cos(w·k+ψ)]`;
//! - main MLP: `h_1 = act(W_x·x_k + W_s·s + W_t·τ(k) + b_1)`, then hidden Dense+act layers,
//!   then `f = clip(Dense_d(h), ±clip)`.
//!
//! The first-layer kernel is stored as three row blocks (`weight_action [d,H]`, `weight_obs
//! [o,H]`, `weight_time [T,H]`) so that the hoisted form (dime.md §10) can use each block on its
//! own: `W_t·τ(k) + b_1` is one bias row per k for the whole batch ([`ScoreNet::time_bias_rows`])
//! and `W_s·s` is computed once per sample ([`ScoreNet::obs_contribution`]). The plain form
//! concatenates the blocks back into the reference kernel `[d+o+T, H]`.

use candle_core::{DType, Device, Tensor, Var};
use dime_nn::{init, Activation, FourierTimeFeatures, Linear, ParamStore};
use rand_chacha::ChaCha8Rng;

use crate::{OutputInit, SamplerError, ScoreNetConfig};

/// Whether an evaluation records the autograd graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Track {
    /// Record the graph (training path, rank-1 bias adds).
    Gradient,
    /// Detached parameters, no graph (acting and targets).
    Detached,
}

/// Parameter names of the score network inside the policy's store.
pub(crate) mod names {
    pub const FOURIER_PHASE: &str = "score.fourier_phase";
    pub const TIME_HIDDEN: &str = "score.time_encoder.0";
    pub const TIME_OUT: &str = "score.time_encoder.1";
    pub const FIRST_ACTION: &str = "score.main.0.weight_action";
    pub const FIRST_OBS: &str = "score.main.0.weight_obs";
    pub const FIRST_TIME: &str = "score.main.0.weight_time";
    pub const FIRST_BIAS: &str = "score.main.0.bias";
    pub const OUTPUT: &str = "score.output";

    /// Name of main hidden layer `i ≥ 1`.
    pub fn hidden(i: usize) -> String {
        format!("score.main.{i}")
    }
}

/// The score network; its variables live in the policy's [`ParamStore`].
#[derive(Debug, Clone)]
pub struct ScoreNet {
    fourier: FourierTimeFeatures,
    fourier_phase: Var,
    time_hidden: Linear,
    time_out: Linear,
    first_action: Var,
    first_obs: Var,
    first_time: Var,
    first_bias: Var,
    hidden: Vec<Linear>,
    output: Linear,
    activation: Activation,
    output_clip: f64,
}

fn value(var: &Var, track: Track) -> Tensor {
    match track {
        Track::Gradient => var.as_tensor().clone(),
        Track::Detached => var.as_tensor().detach(),
    }
}

fn linear(layer: &Linear, x: &Tensor, track: Track) -> Result<Tensor, SamplerError> {
    Ok(match track {
        Track::Gradient => layer.forward(x)?,
        Track::Detached => layer.forward_detached(x)?,
    })
}

/// `m + row` for every row of `m`: a rank-1 product when tracking, a broadcast add otherwise.
fn add_row(m: &Tensor, row: &Tensor, track: Track) -> Result<Tensor, SamplerError> {
    Ok(match track {
        Track::Gradient => dime_nn::add_row_rank1(m, row)?,
        Track::Detached => m.broadcast_add(row)?,
    })
}

impl ScoreNet {
    /// Draw initial values into `store` (flax defaults: LeCun-normal kernels, zero biases, zero
    /// phase; the output kernel as configured). Draw order: time encoder, first layer (as one
    /// `[d+o+T, H]` kernel), hidden layers, output.
    pub fn register(
        store: &mut ParamStore,
        cfg: &ScoreNetConfig,
        dims: (usize, usize),
        rng: &mut ChaCha8Rng,
        dtype: DType,
        device: &Device,
    ) -> Result<(), SamplerError> {
        let (obs_dim, action_dim) = dims;
        let (h, t, f) = (cfg.hidden_width, cfg.time_encoder_width, cfg.fourier_frequencies);
        store.insert_host(names::FOURIER_PHASE, vec![0.0; f], &[1, f], dtype, device)?;
        Linear::lecun(store, names::TIME_HIDDEN, 2 * f, t, rng, dtype, device)?;
        Linear::lecun(store, names::TIME_OUT, t, t, rng, dtype, device)?;
        let fan_in = action_dim + obs_dim + t;
        let kernel = init::lecun_normal(rng, fan_in, fan_in * h);
        let (action_rows, rest) = kernel.split_at(action_dim * h);
        let (obs_rows, time_rows) = rest.split_at(obs_dim * h);
        store.insert_host(names::FIRST_ACTION, action_rows.to_vec(), &[action_dim, h], dtype, device)?;
        store.insert_host(names::FIRST_OBS, obs_rows.to_vec(), &[obs_dim, h], dtype, device)?;
        store.insert_host(names::FIRST_TIME, time_rows.to_vec(), &[t, h], dtype, device)?;
        store.insert_host(names::FIRST_BIAS, vec![0.0; h], &[h], dtype, device)?;
        for i in 1..cfg.hidden_layers {
            Linear::lecun(store, &names::hidden(i), h, h, rng, dtype, device)?;
        }
        match cfg.output_init {
            OutputInit::Constant { value } => {
                Linear::constant(store, names::OUTPUT, h, action_dim, value as f32, dtype, device)?
            }
            OutputInit::LecunNormal => Linear::lecun(store, names::OUTPUT, h, action_dim, rng, dtype, device)?,
        };
        Ok(())
    }

    /// Look the network's variables up in `store`.
    pub fn from_store(store: &ParamStore, cfg: &ScoreNetConfig) -> Result<Self, SamplerError> {
        let var = |name: &str| -> Result<Var, SamplerError> { Ok(store.get(name)?.clone()) };
        let layer = |name: &str| -> Result<Linear, SamplerError> {
            Ok(Linear::from_vars(var(&format!("{name}.weight"))?, var(&format!("{name}.bias"))?))
        };
        let frequencies = FourierTimeFeatures::linspace_frequencies(
            cfg.fourier_frequencies,
            cfg.fourier_min_frequency,
            cfg.fourier_max_frequency,
        );
        Ok(Self {
            fourier: FourierTimeFeatures::from_parts(frequencies, var(names::FOURIER_PHASE)?),
            fourier_phase: var(names::FOURIER_PHASE)?,
            time_hidden: layer(names::TIME_HIDDEN)?,
            time_out: layer(names::TIME_OUT)?,
            first_action: var(names::FIRST_ACTION)?,
            first_obs: var(names::FIRST_OBS)?,
            first_time: var(names::FIRST_TIME)?,
            first_bias: var(names::FIRST_BIAS)?,
            hidden: (1..cfg.hidden_layers).map(|i| layer(&names::hidden(i))).collect::<Result<_, _>>()?,
            output: layer(names::OUTPUT)?,
            activation: cfg.activation,
            output_clip: cfg.output_clip,
        })
    }

    /// The same network over the same-named variables of another store (a frozen copy); keeps
    /// this network's Fourier frequencies.
    pub(crate) fn clone_onto(&self, store: &ParamStore, cfg: &ScoreNetConfig) -> Result<Self, SamplerError> {
        let mut net = Self::from_store(store, cfg)?;
        net.set_fourier_frequencies(self.fourier.frequency_values().to_vec());
        Ok(net)
    }

    /// Replace the fixed Fourier frequencies (e.g. with a reference's exact float32 values).
    pub fn set_fourier_frequencies(&mut self, frequencies: Vec<f64>) {
        let phase = self.fourier_phase.clone();
        self.fourier = FourierTimeFeatures::from_parts(frequencies, phase);
    }

    /// Time embeddings `τ(k)` for k = 0..steps−1, shape `[K, T]`.
    pub(crate) fn time_embedding(&self, steps: usize, track: Track) -> Result<Tensor, SamplerError> {
        let ks: Vec<f64> = (0..steps).map(|k| k as f64).collect();
        let features = match track {
            Track::Gradient => self.fourier.forward(&ks)?,
            Track::Detached => self.fourier.forward_detached(&ks)?,
        };
        let hidden = self.activation.apply(&linear(&self.time_hidden, &features, track)?)?;
        linear(&self.time_out, &hidden, track)
    }

    /// Hoisting 1: `W_t·τ(k) + b_1` for every k, shape `[K, H]` (one bias row per step).
    pub(crate) fn time_bias_rows(&self, tau: &Tensor, track: Track) -> Result<Tensor, SamplerError> {
        let product = tau.matmul(&value(&self.first_time, track))?;
        add_row(&product, &value(&self.first_bias, track), track)
    }

    /// Hoisting 2: `W_s·s` once per sample, shape `[B, H]`.
    pub(crate) fn obs_contribution(&self, obs: &Tensor, track: Track) -> Result<Tensor, SamplerError> {
        Ok(obs.matmul(&value(&self.first_obs, track))?)
    }

    /// The reference first-layer kernel `[W_x; W_s; W_t]` of shape `[d+o+T, H]`.
    pub(crate) fn full_first_kernel(&self, track: Track) -> Result<Tensor, SamplerError> {
        let blocks = [&self.first_action, &self.first_obs, &self.first_time].map(|v| value(v, track));
        Ok(Tensor::cat(&blocks, 0)?)
    }

    /// f_θ with the hoisted first layer: `W_x·x + obs_term + bias_row`.
    pub(crate) fn score_hoisted(
        &self,
        x: &Tensor,
        obs_term: &Tensor,
        bias_row: &Tensor,
        track: Track,
    ) -> Result<Tensor, SamplerError> {
        let pre = (x.matmul(&value(&self.first_action, track))? + obs_term)?;
        self.after_first_layer(&add_row(&pre, bias_row, track)?, track)
    }

    /// f_θ with the plain first layer: `[x, s, τ(k)]·W_1 + b_1` (`tau_row: [1, T]`).
    pub(crate) fn score_plain(
        &self,
        x: &Tensor,
        obs: &Tensor,
        tau_row: &Tensor,
        full_kernel: &Tensor,
        track: Track,
    ) -> Result<Tensor, SamplerError> {
        let rows = x.dim(0)?;
        let ones = Tensor::ones((rows, 1), x.dtype(), x.device())?;
        let input = Tensor::cat(&[x, obs, &ones.matmul(tau_row)?], 1)?;
        let pre = add_row(&input.matmul(full_kernel)?, &value(&self.first_bias, track), track)?;
        self.after_first_layer(&pre, track)
    }

    /// f_θ with a time row per sample: `W_x·x + obs_term + bias` (`bias: [B, H]`, the rows of
    /// `W_t·τ(k_b) + b_1`), with gradient (one denoising step per row, `crate::single_step`).
    pub(crate) fn score_rows(&self, x: &Tensor, obs_term: &Tensor, bias: &Tensor) -> Result<Tensor, SamplerError> {
        let pre = ((x.matmul(&value(&self.first_action, Track::Gradient))? + obs_term)? + bias)?;
        self.after_first_layer(&pre, Track::Gradient)
    }

    fn after_first_layer(&self, pre: &Tensor, track: Track) -> Result<Tensor, SamplerError> {
        let mut h = self.activation.apply(pre)?;
        for layer in &self.hidden {
            h = self.activation.apply(&linear(layer, &h, track)?)?;
        }
        let out = linear(&self.output, &h, track)?;
        Ok(out.clamp(-self.output_clip, self.output_clip)?)
    }
}

/// Host copies of the main MLP for single-sample acting (hoisted form).
#[derive(Debug, Clone)]
pub(crate) struct HostMlp {
    /// `W_x`, row-major `[d, H]`.
    pub weight_action: Vec<f32>,
    /// `W_s`, row-major `[o, H]`.
    pub weight_obs: Vec<f32>,
    /// `W_t·τ(k) + b_1`, row-major `[K, H]`.
    pub bias_rows: Vec<f32>,
    /// Hidden layers `(W [H, H], b [H])`.
    pub hidden: Vec<(Vec<f32>, Vec<f32>)>,
    /// Output layer `(W [H, d], b [d])`.
    pub output: (Vec<f32>, Vec<f32>),
    /// Hidden activation.
    pub activation: Activation,
    /// Output clip.
    pub output_clip: f32,
}

fn host_f32(t: &Tensor) -> Result<Vec<f32>, SamplerError> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

impl ScoreNet {
    /// Host copies of the weights, with the time path folded into `bias_rows` (`[K, H]`).
    pub(crate) fn host_mlp(&self, bias_rows: &Tensor) -> Result<HostMlp, SamplerError> {
        let layer = |l: &Linear| -> Result<(Vec<f32>, Vec<f32>), SamplerError> {
            Ok((host_f32(l.weight())?, host_f32(l.bias())?))
        };
        Ok(HostMlp {
            weight_action: host_f32(self.first_action.as_tensor())?,
            weight_obs: host_f32(self.first_obs.as_tensor())?,
            bias_rows: host_f32(bias_rows)?,
            hidden: self.hidden.iter().map(layer).collect::<Result<_, _>>()?,
            output: layer(&self.output)?,
            activation: self.activation,
            output_clip: self.output_clip as f32,
        })
    }
}
