//! One gradient step of a critic: backward, then `dime_nn::Adam::step_in_place`.

use std::time::{Duration, Instant};

use candle_core::Tensor;
use dime_nn::{Adam, ParamStore};

use crate::CriticError;

/// Backward pass and one in-place Adam step; returns (backward, optimiser) wall times.
pub(crate) fn descend(store: &ParamStore, adam: &mut Adam, loss: &Tensor) -> Result<(Duration, Duration), CriticError> {
    let start = Instant::now();
    let grads = loss.backward()?;
    let backward = start.elapsed();
    let start = Instant::now();
    adam.step_in_place(store, &grads)?;
    Ok((backward, start.elapsed()))
}
