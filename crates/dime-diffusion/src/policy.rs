//! [`DiffusionPolicy`]: parameters, validation and the three ways to run the chain
//! (with gradient, detached, frozen for acting).

use candle_core::{DType, Device, Tensor, Var};
use dime_nn::{inverse_softplus, ParamStore};
use rand_chacha::ChaCha8Rng;

use crate::chain::{finish_chain, run_chain, ChainPlan, TimePart};
use crate::kernels::{step_sizes, StepSizes};
use crate::schedule::schedule_factors;
use crate::score_net::{ScoreNet, Track};
use crate::{ActingPolicy, Chain, ChainNoise, FirstLayerForm, SamplerConfig, SamplerError};

/// Name of ρ, the raw step size (`[1]`); `softplus(ρ)` is dt.
pub const STEP_SIZE_RAW: &str = "step_size_raw";
/// Name of φ, the raw per-dimension friction (`[d]`); `softplus(φ)` is κ.
pub const FRICTION_RAW: &str = "friction_raw";

/// The DIME diffusion policy π(a|s): a K-step chain driven by a conditional score network.
#[derive(Debug, Clone)]
pub struct DiffusionPolicy {
    config: SamplerConfig,
    obs_dim: usize,
    action_dim: usize,
    params: ParamStore,
    net: ScoreNet,
    step_size_raw: Var,
    friction_raw: Var,
    schedule: Tensor,
}

impl DiffusionPolicy {
    /// A freshly initialised policy; all initial values come from `rng`.
    pub fn new(
        config: SamplerConfig,
        obs_dim: usize,
        action_dim: usize,
        rng: &mut ChaCha8Rng,
        dtype: DType,
        device: &Device,
    ) -> Result<Self, SamplerError> {
        config.validate()?;
        if obs_dim == 0 || action_dim == 0 {
            return Err(SamplerError::InvalidConfig("obs_dim and action_dim must be at least 1".into()));
        }
        let mut params = ParamStore::new();
        ScoreNet::register(&mut params, &config.score_net, (obs_dim, action_dim), rng, dtype, device)?;
        let rho = inverse_softplus(config.initial_step_size) as f32;
        let phi = inverse_softplus(config.initial_friction) as f32;
        params.insert_host(STEP_SIZE_RAW, vec![rho], &[1], dtype, device)?;
        params.insert_host(FRICTION_RAW, vec![phi; action_dim], &[action_dim], dtype, device)?;
        Self::from_params(config, obs_dim, action_dim, params)
    }

    /// A policy over existing parameters (a checkpoint, or a copy of another policy's store).
    pub fn from_params(
        config: SamplerConfig,
        obs_dim: usize,
        action_dim: usize,
        params: ParamStore,
    ) -> Result<Self, SamplerError> {
        config.validate()?;
        let net = ScoreNet::from_store(&params, &config.score_net)?;
        let step_size_raw = params.get(STEP_SIZE_RAW)?.clone();
        let friction_raw = params.get(FRICTION_RAW)?.clone();
        let (dtype, device) = (step_size_raw.dtype(), step_size_raw.device().clone());
        let steps = config.diffusion_steps;
        let factors = schedule_factors(config.schedule, steps);
        let schedule = Tensor::from_vec(factors, (steps, 1), &Device::Cpu)?.to_dtype(dtype)?.to_device(&device)?;
        Ok(Self { config, obs_dim, action_dim, params, net, step_size_raw, friction_raw, schedule })
    }

    /// The configuration.
    pub fn config(&self) -> &SamplerConfig {
        &self.config
    }

    /// Observation dimension o.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Action dimension d.
    pub fn action_dim(&self) -> usize {
        self.action_dim
    }

    /// All trainable parameters (score network, ρ, φ), sorted by name.
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// Replace the fixed Fourier frequencies (e.g. with a reference's exact float32 values).
    pub fn set_fourier_frequencies(&mut self, frequencies: Vec<f64>) {
        self.net.set_fourier_frequencies(frequencies);
    }

    /// Draw noise for a batch of `batch` chains from `rng` (see [`ChainNoise::draw`]).
    pub fn draw_noise(&self, rng: &mut ChaCha8Rng, batch: usize) -> Result<ChainNoise, SamplerError> {
        let dtype = self.step_size_raw.dtype();
        let device = self.step_size_raw.device();
        let c = &self.config;
        ChainNoise::draw(rng, c.diffusion_steps, batch, self.action_dim, c.prior_std, dtype, device)
    }

    /// Current η_k and ς_k, `[K, d]` each, with gradient to ρ and φ.
    pub fn step_sizes(&self) -> Result<StepSizes, SamplerError> {
        self.step_sizes_tracked(Track::Gradient)
    }

    /// Sample with the autograd graph (actor update): gradients reach θ, ψ, ρ and φ.
    pub fn sample(&self, obs: &Tensor, noise: &ChainNoise) -> Result<Chain, SamplerError> {
        self.sample_tracked(obs, noise, Track::Gradient)
    }

    /// Sample without a graph (critic targets): same values, no gradient.
    pub fn sample_detached(&self, obs: &Tensor, noise: &ChainNoise) -> Result<Chain, SamplerError> {
        self.sample_tracked(obs, noise, Track::Detached)
    }

    /// A frozen copy for acting, with the time path precomputed. Take a new one after every
    /// parameter update: the copy does not follow later changes.
    pub fn acting_policy(&self) -> Result<ActingPolicy, SamplerError> {
        let params = self.params.deep_copy()?;
        let mut frozen = DiffusionPolicy::from_params(self.config.clone(), self.obs_dim, self.action_dim, params)?;
        frozen.net = self.net.clone_onto(&frozen.params, &self.config.score_net)?;
        let plan = frozen.plan(Track::Detached)?;
        ActingPolicy::new(frozen, plan)
    }

    pub(crate) fn net(&self) -> &ScoreNet {
        &self.net
    }

    fn step_sizes_tracked(&self, track: Track) -> Result<StepSizes, SamplerError> {
        let (rho, phi) = match track {
            Track::Gradient => (self.step_size_raw.as_tensor().clone(), self.friction_raw.as_tensor().clone()),
            Track::Detached => (self.step_size_raw.as_tensor().detach(), self.friction_raw.as_tensor().detach()),
        };
        step_sizes(&rho, &phi, &self.schedule)
    }

    pub(crate) fn plan(&self, track: Track) -> Result<ChainPlan, SamplerError> {
        let steps = self.config.diffusion_steps;
        let tau = self.net.time_embedding(steps, track)?;
        let time = match self.config.first_layer {
            FirstLayerForm::Hoisted => TimePart::Hoisted { bias_rows: self.net.time_bias_rows(&tau, track)? },
            FirstLayerForm::Plain => TimePart::Plain { tau, full_kernel: self.net.full_first_kernel(track)? },
        };
        let dtype = self.schedule.dtype();
        let device = self.schedule.device();
        let sigma0 = self.config.prior_std;
        Ok(ChainPlan {
            time,
            step_sizes: self.step_sizes_tracked(track)?,
            prior_var: Tensor::new(sigma0 * sigma0, &Device::Cpu)?.to_dtype(dtype)?.to_device(device)?,
            prior_std_row: Tensor::full(sigma0, (1, self.action_dim), &Device::Cpu)?
                .to_dtype(dtype)?
                .to_device(device)?,
            track,
        })
    }

    fn sample_tracked(&self, obs: &Tensor, noise: &ChainNoise, track: Track) -> Result<Chain, SamplerError> {
        self.check_inputs(obs, noise)?;
        let plan = self.plan(track)?;
        let (states, path) = run_chain(&self.net, &plan, obs, noise, true)?;
        finish_chain(states, path.expect("bound requested"), &plan.prior_std_row)
    }

    /// Typed errors for a wrong observation width, mismatched noise or non-finite values.
    pub(crate) fn check_inputs(&self, obs: &Tensor, noise: &ChainNoise) -> Result<(), SamplerError> {
        let batch = match obs.dims() {
            [batch, width] if *width == self.obs_dim => *batch,
            other => return Err(SamplerError::ObservationWidth { expected: self.obs_dim, got: other.to_vec() }),
        };
        noise.check(self.config.diffusion_steps, batch, self.action_dim)?;
        check_finite("observation", obs)?;
        check_finite("noise x0", &noise.x0)?;
        check_finite("noise eps", &noise.eps)
    }
}

fn check_finite(what: &'static str, t: &Tensor) -> Result<(), SamplerError> {
    let values = t.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(SamplerError::NonFinite(what))
    }
}
