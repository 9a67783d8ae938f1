//! Typed errors of the critics. Bad input is reported, never a panic.

use dime_nn::NnError;

/// Everything that can go wrong in `dime-critic`.
#[derive(Debug, thiserror::Error)]
pub enum CriticError {
    /// An error from the tensor layer.
    #[error(transparent)]
    Nn(#[from] NnError),
    /// An error raised by candle itself.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// A tensor or slice had a shape other than the one required.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    Shape {
        /// What was being checked.
        what: &'static str,
        /// The required shape.
        expected: Vec<usize>,
        /// The shape that was passed.
        got: Vec<usize>,
    },
    /// The categorical support is empty, has fewer than two atoms, or is inverted.
    #[error(
        "invalid support: {atoms} atoms on [{v_min}, {v_max}] (need at least 2 atoms and v_min < v_max, both finite)"
    )]
    InvalidSupport {
        /// Number of atoms requested.
        atoms: usize,
        /// Lower end requested.
        v_min: f64,
        /// Upper end requested.
        v_max: f64,
    },
    /// An input that must be finite (reward, bound, temperature, discount) was NaN or infinite.
    #[error("{what}[{index}] is not finite ({value})")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Position of the first offending value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A configuration value is out of its valid range or combines options that do not fit.
    #[error("invalid critic configuration: {0}")]
    InvalidConfig(String),
    /// An operation was asked of a critic that does not have the part it needs.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// Fail with [`CriticError::NonFinite`] at the first non-finite value of `values`.
pub(crate) fn check_finite(what: &'static str, values: &[f32]) -> Result<(), CriticError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(CriticError::NonFinite { what, index, value: values[index] as f64 }),
        None => Ok(()),
    }
}

/// Fail with [`CriticError::Shape`] unless `got == expected`.
pub(crate) fn check_shape(what: &'static str, expected: &[usize], got: &[usize]) -> Result<(), CriticError> {
    if expected != got {
        return Err(CriticError::Shape { what, expected: expected.to_vec(), got: got.to_vec() });
    }
    Ok(())
}
