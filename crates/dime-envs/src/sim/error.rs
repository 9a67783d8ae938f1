//! Typed errors of the simulator: refused models, bad inputs, diverged states.

use thiserror::Error;

/// Everything the simulator refuses or reports.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SimError {
    /// The model file is not the expected JSON (syntax, a missing or unknown field).
    #[error("model `{model}`: cannot read the model file: {message}")]
    ModelFormat {
        /// Name of the model.
        model: String,
        /// What the parser reported.
        message: String,
    },
    /// A model constant is inconsistent (negative mass, non-unit quaternion, bad index, ...).
    #[error("model `{model}`: {what} is invalid: {why}")]
    InvalidModel {
        /// Name of the model.
        model: String,
        /// The offending element, e.g. `body 2 (pole) quat`.
        what: String,
        /// Why it was refused.
        why: String,
    },
    /// The model uses a feature this engine does not simulate (it would be wrong, not approximate).
    #[error("model `{model}`: {feature} is not supported by this engine (stages 1–3)")]
    Unsupported {
        /// Name of the model.
        model: String,
        /// The feature, e.g. `contacts`.
        feature: String,
    },
    /// A state or control vector has the wrong length.
    #[error("{what} has length {got}, but the model needs {expected}")]
    WrongLength {
        /// Which vector.
        what: &'static str,
        /// The length the model needs.
        expected: usize,
        /// The length that was passed.
        got: usize,
    },
    /// An input (state or control) entry is NaN or infinite.
    #[error("{what}[{index}] = {value} is not finite")]
    NonFiniteInput {
        /// Which vector.
        what: &'static str,
        /// Position of the entry.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A step produced a non-finite or huge (|x| > 1e10) value; the state was left at its pre-step value.
    #[error("simulation diverged at t = {time}: {what}[{index}] = {value}")]
    Diverged {
        /// Simulated time at the start of the failed step.
        time: f64,
        /// Which quantity (`qpos`, `qvel`, `qacc`).
        what: &'static str,
        /// Position of the first bad entry.
        index: usize,
        /// Its value.
        value: f64,
    },
}
