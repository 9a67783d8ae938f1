//! Adam on host slices (bias-corrected, no weight decay), dime.md §7.
//!
//! `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, `θ ← θ − lr·m̂/(√v̂ + ε)` with
//! `m̂ = m/(1−β1ᵗ)`, `v̂ = v/(1−β2ᵗ)`. One fused loop per parameter tensor over host values,
//! in the store's sorted name order; moments are kept on the host for checkpoints.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::{NnError, ParamStore, Result};

/// Adam hyper-parameters. There is no weight decay (candle-nn's AdamW default of 0.01 is a trap).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment (DIME actor and critic: 0.5).
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to √v̂ in the denominator.
    pub eps: f64,
}

impl AdamConfig {
    /// Adam with the given learning rate and β1, β2 = 0.999, ε = 1e-8.
    pub fn new(lr: f64, beta1: f64) -> Self {
        Self { lr, beta1, beta2: 0.999, eps: 1e-8 }
    }
}

/// Adam state for one [`ParamStore`].
#[derive(Debug, Clone)]
pub struct Adam {
    pub(crate) config: AdamConfig,
    pub(crate) names: Vec<String>,
    pub(crate) first_moment: Vec<Vec<f32>>,
    pub(crate) second_moment: Vec<Vec<f32>>,
    pub(crate) steps: u64,
}

impl Adam {
    /// Zero moments for every variable of `store`.
    pub fn new(store: &ParamStore, config: AdamConfig) -> Self {
        let sizes: Vec<usize> = store.iter().map(|(_, v)| v.elem_count()).collect();
        Self {
            config,
            names: store.names(),
            first_moment: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            second_moment: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            steps: 0,
        }
    }

    /// The hyper-parameters.
    pub fn config(&self) -> AdamConfig {
        self.config
    }

    /// Change the learning rate for the following steps (schedules such as PPO's linear annealing).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// First and second moments, one host vector per variable in sorted name order (checkpoints).
    pub fn moments(&self) -> (&[Vec<f32>], &[Vec<f32>]) {
        (&self.first_moment, &self.second_moment)
    }

    /// Restore moments and the step count saved from an Adam over the same store.
    pub fn restore(&mut self, first: Vec<Vec<f32>>, second: Vec<Vec<f32>>, steps: u64) -> Result<()> {
        let sizes = |m: &[Vec<f32>]| m.iter().map(Vec::len).collect::<Vec<_>>();
        if sizes(&first) != sizes(&self.first_moment) || sizes(&second) != sizes(&self.second_moment) {
            return Err(NnError::ParamMismatch("Adam: saved moments do not fit this store".into()));
        }
        (self.first_moment, self.second_moment, self.steps) = (first, second, steps);
        Ok(())
    }

    /// Apply one update with `grads` (one host vector per variable, sorted name order, as
    /// returned by [`host_gradients`]).
    pub fn step(&mut self, store: &ParamStore, grads: &[Vec<f32>]) -> Result<()> {
        if store.names() != self.names || grads.len() != self.names.len() {
            return Err(NnError::ParamMismatch(
                "Adam: store or gradients differ from the ones it was built for".into(),
            ));
        }
        self.steps += 1;
        let c = self.config;
        let correction1 = 1.0 - c.beta1.powi(self.steps as i32);
        let correction2 = 1.0 - c.beta2.powi(self.steps as i32);
        let step_size = (c.lr / correction1) as f32;
        let inv_sqrt_correction2 = (1.0 / correction2.sqrt()) as f32;
        let (b1, b2, eps) = (c.beta1 as f32, c.beta2 as f32, c.eps as f32);
        for (i, (_, var)) in store.iter().enumerate() {
            let g = &grads[i];
            if g.len() != var.elem_count() {
                return Err(NnError::ParamMismatch(format!("gradient {i} has the wrong size")));
            }
            let (m, v) = (&mut self.first_moment[i], &mut self.second_moment[i]);
            if var.device().is_cpu() && var.as_tensor().is_contiguous() {
                // In the parameter's own storage, without copying it out and back.
                let kernel = crate::adam_in_place::HostGradAdam {
                    grad: g,
                    moments: std::sync::Mutex::new((m.as_mut_slice(), v.as_mut_slice())),
                    constants: [b1, b2, step_size, inv_sqrt_correction2, eps],
                };
                var.as_tensor().inplace_op1(&kernel)?;
                continue;
            }
            let mut theta = host_values(var.as_tensor())?;
            for j in 0..theta.len() {
                theta[j] -= adam_delta(&mut m[j], &mut v[j], g[j], b1, b2, step_size, inv_sqrt_correction2, eps);
            }
            let new =
                Tensor::from_vec(theta, var.shape(), &Device::Cpu)?.to_dtype(var.dtype())?.to_device(var.device())?;
            var.set(&new)?;
        }
        Ok(())
    }
}

/// One element of Adam: move `m` and `v` with gradient `g` and return the parameter decrement
/// `step_size·m/(√v·inv_sqrt_correction2 + ε)`, with `step_size = lr/(1−β1ᵗ)` and
/// `inv_sqrt_correction2 = 1/√(1−β2ᵗ)`. Both [`Adam::step`] and [`Adam::step_in_place`] use it,
/// so they agree bit for bit.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn adam_delta(
    m: &mut f32,
    v: &mut f32,
    g: f32,
    beta1: f32,
    beta2: f32,
    step_size: f32,
    inv_sqrt_correction2: f32,
    eps: f32,
) -> f32 {
    *m = beta1 * *m + (1.0 - beta1) * g;
    *v = beta2 * *v + (1.0 - beta2) * g * g;
    step_size * *m / (v.sqrt() * inv_sqrt_correction2 + eps)
}

/// Gradients of every variable of `store` as host vectors in sorted name order; a variable that
/// received no gradient gets zeros.
pub fn host_gradients(store: &ParamStore, grads: &GradStore) -> Result<Vec<Vec<f32>>> {
    store
        .iter()
        .map(|(_, var)| match grads.get(var.as_tensor()) {
            Some(g) => host_values(g),
            None => Ok(vec![0.0; var.elem_count()]),
        })
        .collect()
}

fn host_values(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_matches_hand_computed_first_steps() -> Result<()> {
        let mut store = ParamStore::new();
        store.insert_host("w", vec![1.0, -2.0], &[2], DType::F32, &Device::Cpu)?;
        let mut adam = Adam::new(&store, AdamConfig::new(0.1, 0.5));
        // Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε) ≈ lr·sign(g).
        adam.step(&store, &[vec![0.5, -4.0]])?;
        let w = store.get("w")?.as_tensor().to_vec1::<f32>()?;
        assert!((w[0] - 0.9).abs() < 1e-6 && (w[1] + 1.9).abs() < 1e-6, "{w:?}");
        // Step 2 with g = (−0.5, 0): m = (0.125·… ) computed in f64 below.
        adam.step(&store, &[vec![-0.5, 0.0]])?;
        let w2 = store.get("w")?.as_tensor().to_vec1::<f32>()?;
        let m: f64 = 0.5 * (0.5 * 0.5) + 0.5 * -0.5;
        let v: f64 = 0.999 * 0.001 * 0.25 + 0.001 * 0.25;
        let upd = 0.1 * (m / 0.75) / ((v / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
        assert!((w2[0] as f64 - (0.9 - upd)).abs() < 1e-5);
        Ok(())
    }
}
