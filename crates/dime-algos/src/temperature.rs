//! The entropy temperature α, stored as `log α` (one variable) with an optional Adam: the
//! plumbing DIME and SAC share. A fixed α has no optimiser and ignores gradient steps. Checkpoint
//! layout: the variable under `temperature/`, the moments under `alpha_adam/` (when learned).

use candle_core::{DType, Device};
use dime_nn::{Adam, AdamConfig, ParamStore};

use crate::error::AlgoError;
use crate::tensor_file::{load_moments, load_store, put_moments, put_store, Arrays};

/// Name of the only variable.
const LOG_ALPHA: &str = "log_alpha";

/// `log α` and, when α is learned, its optimiser.
pub struct LogTemperature {
    store: ParamStore,
    adam: Option<Adam>,
}

impl LogTemperature {
    /// Start at `initial` (> 0); learned with `adam` if given, fixed otherwise.
    pub fn new(initial: f64, adam: Option<AdamConfig>) -> Result<Self, AlgoError> {
        if !(initial.is_finite() && initial > 0.0) {
            return Err(AlgoError::Config(format!("the temperature must be positive, got {initial}")));
        }
        let mut store = ParamStore::new();
        store.insert_host(LOG_ALPHA, vec![initial.ln() as f32], &[1], DType::F32, &Device::Cpu)?;
        let adam = adam.map(|config| Adam::new(&store, config));
        Ok(Self { store, adam })
    }

    /// The current α.
    pub fn alpha(&self) -> Result<f64, AlgoError> {
        let v = self.store.get(LOG_ALPHA)?.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        Ok(f64::from(v[0]).exp())
    }

    /// Whether α is learned.
    pub fn is_learned(&self) -> bool {
        self.adam.is_some()
    }

    /// One Adam step on `log α` with gradient `grad` (nothing for a fixed α).
    pub fn step(&mut self, grad: f64) -> Result<(), AlgoError> {
        if let Some(adam) = self.adam.as_mut() {
            adam.step(&self.store, &[vec![grad as f32]])?;
        }
        Ok(())
    }

    /// Adam steps taken so far (`None` for a fixed α).
    pub fn steps(&self) -> Option<u64> {
        self.adam.as_ref().map(|a| a.steps())
    }

    /// Write the variable and the optimiser moments into `arrays` (as `temperature` and `alpha_adam`).
    pub(crate) fn put(&self, arrays: &mut Arrays) -> Result<(), AlgoError> {
        self.put_named(arrays, "temperature", "alpha_adam")
    }

    /// Restore what [`LogTemperature::put`] wrote; `steps` is the saved [`LogTemperature::steps`].
    pub(crate) fn load(&mut self, arrays: &Arrays, file: &str, steps: Option<u64>) -> Result<(), AlgoError> {
        self.load_named(arrays, file, ("temperature", "alpha_adam"), steps)
    }

    /// Write the variable as `name` and the optimiser moments as `adam_name` (for a second
    /// positive multiplier of an agent, such as DiffWPO's KL Lagrange multiplier).
    pub(crate) fn put_named(&self, arrays: &mut Arrays, name: &str, adam_name: &str) -> Result<(), AlgoError> {
        put_store(arrays, name, &self.store)?;
        if let Some(adam) = &self.adam {
            let (m, v) = adam.moments();
            put_moments(arrays, adam_name, m, v);
        }
        Ok(())
    }

    /// Restore what [`LogTemperature::put_named`] wrote under `(name, adam_name)`.
    pub(crate) fn load_named(
        &mut self,
        arrays: &Arrays,
        file: &str,
        (name, adam_name): (&str, &str),
        steps: Option<u64>,
    ) -> Result<(), AlgoError> {
        load_store(arrays, file, name, &self.store)?;
        if let (Some(adam), Some(steps)) = (self.adam.as_mut(), steps) {
            let (m, v) = load_moments(arrays, file, adam_name, 1)?;
            adam.restore(m, v, steps)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_temperature_ignores_steps_and_bad_values_are_refused() {
        let mut fixed = LogTemperature::new(0.2, None).unwrap();
        fixed.step(5.0).unwrap();
        assert!((fixed.alpha().unwrap() - 0.2).abs() < 1e-6);
        assert_eq!(fixed.steps(), None);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(LogTemperature::new(bad, None), Err(AlgoError::Config(_))), "{bad}");
        }
    }

    #[test]
    fn learned_temperature_moves_against_the_gradient_and_round_trips() {
        let mut learned = LogTemperature::new(1.0, Some(AdamConfig::new(0.1, 0.9))).unwrap();
        learned.step(1.0).unwrap();
        assert!(learned.alpha().unwrap() < 1.0, "a positive gradient lowers log α");
        let mut arrays = Arrays::new();
        learned.put(&mut arrays).unwrap();
        let mut copy = LogTemperature::new(1.0, Some(AdamConfig::new(0.1, 0.9))).unwrap();
        copy.load(&arrays, "test", learned.steps()).unwrap();
        assert_eq!(copy.alpha().unwrap(), learned.alpha().unwrap());
        learned.step(-0.5).unwrap();
        copy.step(-0.5).unwrap();
        assert_eq!(copy.alpha().unwrap(), learned.alpha().unwrap(), "same moments, same next step");
    }
}
