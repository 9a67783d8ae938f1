//! Wrappers that change how an agent sees a task.

use crate::env::{check_action, Env, EnvSnapshot};
use crate::error::EnvError;
use crate::spec::{EnvSpec, StepOut};

/// Map an action in `[-1, 1]^d` to native units: `lo + (a + 1)·(hi − lo)/2`, without clipping
/// (Gymnasium `RescaleAction`; the task clips where its original does).
pub fn rescale_from_unit(low: &[f64], high: &[f64], unit: &[f64], native: &mut [f64]) {
    for (((n, &a), &lo), &hi) in native.iter_mut().zip(unit).zip(low).zip(high) {
        *n = lo + (a + 1.0) * (hi - lo) / 2.0;
    }
}

/// Map a native action to `[-1, 1]^d`: the inverse of [`rescale_from_unit`].
pub fn rescale_to_unit(low: &[f64], high: &[f64], native: &[f64], unit: &mut [f64]) {
    for (((u, &a), &lo), &hi) in unit.iter_mut().zip(native).zip(low).zip(high) {
        *u = 2.0 * (a - lo) / (hi - lo) - 1.0;
    }
}

/// An env whose actions are in `[-1, 1]^d`; the identity map when the bounds already are.
pub struct RescaleAction<E: Env> {
    inner: E,
    spec: EnvSpec,
    native: Vec<f64>,
}

impl<E: Env> RescaleAction<E> {
    /// Wrap `inner`.
    pub fn new(inner: E) -> Self {
        let mut spec = inner.spec().clone();
        spec.act_low = vec![-1.0; spec.act_dim];
        spec.act_high = vec![1.0; spec.act_dim];
        let native = vec![0.0; spec.act_dim];
        Self { inner, spec, native }
    }

    /// The wrapped env.
    pub fn inner(&self) -> &E {
        &self.inner
    }
}

impl<E: Env> Env for RescaleAction<E> {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<(), EnvError> {
        self.inner.reset(seed, obs)
    }

    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Result<StepOut, EnvError> {
        check_action(&self.spec, action)?;
        let inner_spec = self.inner.spec();
        rescale_from_unit(&inner_spec.act_low, &inner_spec.act_high, action, &mut self.native);
        self.inner.step(&self.native, obs)
    }

    fn reward_terms(&self) -> &[(&'static str, f64)] {
        self.inner.reward_terms()
    }
    fn snapshot(&self) -> EnvSnapshot {
        self.inner.snapshot()
    }
    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        self.inner.restore(snapshot)
    }
}

impl Env for Box<dyn Env> {
    fn spec(&self) -> &EnvSpec {
        (**self).spec()
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<(), EnvError> {
        (**self).reset(seed, obs)
    }
    fn step(&mut self, action: &[f64], obs: &mut [f64]) -> Result<StepOut, EnvError> {
        (**self).step(action, obs)
    }
    fn reward_terms(&self) -> &[(&'static str, f64)] {
        (**self).reward_terms()
    }
    fn snapshot(&self) -> EnvSnapshot {
        (**self).snapshot()
    }
    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        (**self).restore(snapshot)
    }
}
