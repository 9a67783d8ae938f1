//! Typed errors of the sampler: bad input never panics.

/// Everything that can go wrong when building or running the sampler.
#[derive(Debug, thiserror::Error)]
pub enum SamplerError {
    /// The configuration asks for zero diffusion steps.
    #[error("diffusion_steps must be at least 1 (K = 0 has no chain)")]
    ZeroSteps,
    /// A configuration value is out of range.
    #[error("invalid sampler configuration: {0}")]
    InvalidConfig(String),
    /// The observation batch has the wrong shape.
    #[error("observation: expected shape [batch, {expected}], got {got:?}")]
    ObservationWidth {
        /// The policy's observation dimension.
        expected: usize,
        /// The shape that was passed.
        got: Vec<usize>,
    },
    /// The noise does not fit the chain (steps, batch or action dimension).
    #[error("noise `{what}`: expected shape {expected:?}, got {got:?}")]
    NoiseShape {
        /// Which part of the noise.
        what: &'static str,
        /// The required shape.
        expected: Vec<usize>,
        /// The shape that was passed.
        got: Vec<usize>,
    },
    /// [`crate::ChainNoise::concat_rows`] was given no noise.
    #[error("no noise to concatenate")]
    NoNoise,
    /// An input contains NaN or ±∞.
    #[error("{0} contains a non-finite value")]
    NonFinite(&'static str),
    /// An error of the tensor layer.
    #[error(transparent)]
    Nn(#[from] dime_nn::NnError),
}

impl From<candle_core::Error> for SamplerError {
    fn from(e: candle_core::Error) -> Self {
        SamplerError::Nn(dime_nn::NnError::Candle(e))
    }
}
