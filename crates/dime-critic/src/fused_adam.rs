//! Adam applied in place to the parameters' own storage (dime.md §7; bias-corrected, no decay).
//!
//! `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, `θ ← θ − (lr/(1−β1ᵗ))·m/(√v·(1/√(1−β2ᵗ)) + ε)`,
//! the same f32 arithmetic as [`dime_nn::Adam`], so both give bitwise-identical parameters.
//! What differs is the data movement: `dime_nn::Adam` copies each gradient and parameter to a host
//! vector, then uploads a new tensor and copies it into the variable (for the 8.9M-parameter paper
//! critic that was ~12% of a single-thread update). Here one candle in-place op per tensor reads
//! the gradient storage and rewrites the parameter storage directly. dime-nn is read-only for
//! this crate's author, hence the local implementation; it belongs next to `dime_nn::Adam`.

use std::sync::Mutex;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, Device, InplaceOp2, Layout, Tensor};
use dime_nn::{AdamConfig, ParamStore};

use crate::CriticError;

/// Adam state for one [`ParamStore`], updating the variables in place (on the CPU; other devices
/// go through a host copy).
#[derive(Debug, Clone)]
pub struct FusedAdam {
    config: AdamConfig,
    names: Vec<String>,
    first_moment: Vec<Vec<f32>>,
    second_moment: Vec<Vec<f32>>,
    steps: u64,
}

impl FusedAdam {
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

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// First and second moments in the store's sorted name order (checkpoints).
    pub fn moments(&self) -> (&[Vec<f32>], &[Vec<f32>]) {
        (&self.first_moment, &self.second_moment)
    }

    /// Replace the moments and the step counter (checkpoint restore); sizes must match the store.
    pub fn restore(&mut self, first: Vec<Vec<f32>>, second: Vec<Vec<f32>>, steps: u64) -> Result<(), CriticError> {
        let sizes = |m: &[Vec<f32>]| m.iter().map(Vec::len).collect::<Vec<_>>();
        let expected = sizes(&self.first_moment);
        if sizes(&first) != expected || sizes(&second) != expected {
            return Err(CriticError::Shape { what: "Adam moments", expected, got: sizes(&first) });
        }
        (self.first_moment, self.second_moment, self.steps) = (first, second, steps);
        Ok(())
    }

    /// One step with the gradients of `grads` (a variable without a gradient gets zeros).
    pub fn step(&mut self, store: &ParamStore, grads: &GradStore) -> Result<(), CriticError> {
        if store.names() != self.names {
            return Err(CriticError::InvalidConfig(
                "FusedAdam: the store differs from the one it was built for".into(),
            ));
        }
        self.steps += 1;
        let c = self.config;
        let kernel = |m, v| AdamKernel {
            moments: Mutex::new((m, v)),
            step_size: (c.lr / (1.0 - c.beta1.powi(self.steps as i32))) as f32,
            inv_sqrt_correction2: (1.0 / (1.0 - c.beta2.powi(self.steps as i32)).sqrt()) as f32,
            beta1: c.beta1 as f32,
            beta2: c.beta2 as f32,
            eps: c.eps as f32,
        };
        for (((_, var), m), v) in store.iter().zip(&mut self.first_moment).zip(&mut self.second_moment) {
            let grad = match grads.get(var.as_tensor()) {
                Some(g) => g.contiguous()?,
                None => var.as_tensor().zeros_like()?,
            };
            let op = kernel(m.as_mut_slice(), v.as_mut_slice());
            if var.device().is_cpu() {
                var.as_tensor().inplace_op2(&grad, &op)?;
            } else {
                // Other devices: the same kernel on a host copy (no device kernel is written yet).
                let host = var.as_tensor().to_device(&Device::Cpu)?;
                host.inplace_op2(&grad.to_device(&Device::Cpu)?, &op)?;
                var.set(&host.to_device(var.device())?)?;
            }
        }
        Ok(())
    }
}

/// The per-tensor kernel; the moments sit behind a mutex because candle's op takes `&self`.
struct AdamKernel<'a> {
    moments: Mutex<(&'a mut [f32], &'a mut [f32])>,
    step_size: f32,
    inv_sqrt_correction2: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
}

impl AdamKernel<'_> {
    /// One element: returns the parameter decrement `lr_t·m/(√v·c2 + ε)` after moving `m`, `v`.
    #[inline(always)]
    fn delta(&self, m: &mut f32, v: &mut f32, g: f32) -> f32 {
        *m = self.beta1 * *m + (1.0 - self.beta1) * g;
        *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
        self.step_size * *m / (v.sqrt() * self.inv_sqrt_correction2 + self.eps)
    }
}

fn contiguous_range(layout: &Layout, what: &str) -> candle_core::Result<(usize, usize)> {
    layout.contiguous_offsets().ok_or_else(|| candle_core::Error::Msg(format!("fused Adam: {what} is not contiguous")))
}

impl InplaceOp2 for AdamKernel<'_> {
    fn name(&self) -> &'static str {
        "fused-adam"
    }

    fn cpu_fwd(&self, s1: &mut CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<()> {
        let (p0, p1) = contiguous_range(l1, "parameter")?;
        let (g0, g1) = contiguous_range(l2, "gradient")?;
        let mut guard = self.moments.lock().map_err(|_| candle_core::Error::Msg("fused Adam: poisoned".into()))?;
        let (m, v) = &mut *guard;
        if p1 - p0 != m.len() || g1 - g0 != m.len() {
            candle_core::bail!("fused Adam: sizes differ from the optimiser state");
        }
        match (s1, s2) {
            (CpuStorage::F32(theta), CpuStorage::F32(grad)) => {
                for (((t, g), mi), vi) in
                    theta[p0..p1].iter_mut().zip(&grad[g0..g1]).zip(m.iter_mut()).zip(v.iter_mut())
                {
                    *t -= self.delta(mi, vi, *g);
                }
            }
            // f64 parameters (gradient checks): moments and step in f32 as dime_nn::Adam does.
            (CpuStorage::F64(theta), CpuStorage::F64(grad)) => {
                for (((t, g), mi), vi) in
                    theta[p0..p1].iter_mut().zip(&grad[g0..g1]).zip(m.iter_mut()).zip(v.iter_mut())
                {
                    *t = (*t as f32 - self.delta(mi, vi, *g as f32)) as f64;
                }
            }
            _ => candle_core::bail!("fused Adam: only f32 and f64 parameters with gradients of the same dtype"),
        }
        Ok(())
    }
}

/// Backward pass and one fused Adam step; returns (backward, optimiser) wall times.
pub(crate) fn descend(
    store: &ParamStore,
    adam: &mut FusedAdam,
    loss: &Tensor,
) -> Result<(std::time::Duration, std::time::Duration), CriticError> {
    let start = std::time::Instant::now();
    let grads = loss.backward()?;
    let backward = start.elapsed();
    let start = std::time::Instant::now();
    adam.step(store, &grads)?;
    Ok((backward, start.elapsed()))
}
