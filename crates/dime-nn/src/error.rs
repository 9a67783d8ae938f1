//! Typed errors of the tensor layer.

/// Everything that can go wrong in `dime-nn`.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// An error raised by candle itself (shape mismatch inside an op, device failure, ...).
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// A parameter name was looked up but is not in the store.
    #[error("unknown parameter `{0}`")]
    UnknownParam(String),
    /// A parameter name was inserted twice.
    #[error("parameter `{0}` already exists")]
    DuplicateParam(String),
    /// Two stores (or a store and a gradient list) do not hold the same parameters.
    #[error("parameter sets differ: {0}")]
    ParamMismatch(String),
    /// A tensor had a shape other than the one required.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    Shape {
        /// What was being checked.
        what: &'static str,
        /// The required shape.
        expected: Vec<usize>,
        /// The shape that was passed.
        got: Vec<usize>,
    },
    /// A configuration value is out of its valid range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A device back-end was requested that this build does not include.
    #[error("device `{0}` is not available in this build (enable the crate feature)")]
    DeviceUnavailable(&'static str),
}
