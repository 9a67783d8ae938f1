//! Fourier features of the diffusion step index (PISGRADNet's time input, dime.md §2.5).
//!
//! `arg_j(k) = w_j·k + ψ_j`, `features(k) = [sin(arg), cos(arg)]` with fixed frequencies
//! `w = linspace(w_min, w_max, H)` and a learnable phase `ψ: [1, H]` (init 0).
//!
//! Precision: at `k = 15` the argument reaches ~1500 rad, where one float32 ulp is 1.2e-4 rad.
//! The reference (XLA) forms `w·k + ψ` with a single rounding, so the argument is computed
//! here on the host with `mul_add` in the tensor's dtype and re-attached to the graph through
//! `ψ − sg(ψ)` (exactly zero, gradient one). The value is the fused one; the gradient is exact.

use candle_core::{DType, Device, Tensor, Var};

use crate::{linear::add_row_rank1, ParamStore, Result};

/// Fourier time features with fixed frequencies and a learnable phase.
#[derive(Debug, Clone)]
pub struct FourierTimeFeatures {
    frequencies: Vec<f64>,
    phase: Var,
}

impl FourierTimeFeatures {
    /// `count` frequencies `linspace(min, max, count)` (rounded to the dtype) and phase
    /// `<name>` initialised to zero.
    pub fn linspace(
        store: &mut ParamStore,
        name: &str,
        count: usize,
        min: f64,
        max: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let frequencies = Self::linspace_frequencies(count, min, max);
        Self::with_frequencies(store, name, frequencies, dtype, device)
    }

    /// Explicit frequencies (e.g. the reference's float32 values) and a zero phase.
    pub fn with_frequencies(
        store: &mut ParamStore,
        name: &str,
        frequencies: Vec<f64>,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let count = frequencies.len();
        let phase = store.insert_host(name, vec![0.0; count], &[1, count], dtype, device)?;
        Ok(Self::from_parts(frequencies, phase))
    }

    /// Wrap an existing phase variable `[1, H]` with fixed `frequencies` (rounded to its dtype).
    pub fn from_parts(frequencies: Vec<f64>, phase: Var) -> Self {
        let frequencies = match phase.dtype() {
            DType::F64 => frequencies,
            _ => frequencies.iter().map(|&w| w as f32 as f64).collect(),
        };
        Self { frequencies, phase }
    }

    /// `count` values `linspace(min, max, count)` in f64.
    pub fn linspace_frequencies(count: usize, min: f64, max: f64) -> Vec<f64> {
        let step = if count > 1 { (max - min) / (count - 1) as f64 } else { 0.0 };
        (0..count).map(|i| min + step * i as f64).collect()
    }

    /// The fixed frequencies (as rounded to the phase's dtype).
    pub fn frequency_values(&self) -> &[f64] {
        &self.frequencies
    }

    /// Number of frequencies H (the feature width is 2H).
    pub fn frequencies(&self) -> usize {
        self.frequencies.len()
    }

    /// Features `[n, 2H]` (sin block first) for the step indices `steps`, differentiable in ψ.
    pub fn forward(&self, steps: &[f64]) -> Result<Tensor> {
        let phase = self.phase.as_tensor();
        let fused = self.fused_arguments(steps)?;
        let zero_with_gradient = (phase - phase.detach())?;
        let arg = add_row_rank1(&fused, &zero_with_gradient)?;
        Ok(Tensor::cat(&[arg.sin()?, arg.cos()?], 1)?)
    }

    /// Features `[n, 2H]` without a gradient path.
    pub fn forward_detached(&self, steps: &[f64]) -> Result<Tensor> {
        let arg = self.fused_arguments(steps)?;
        Ok(Tensor::cat(&[arg.sin()?, arg.cos()?], 1)?)
    }

    /// `w_j·k + ψ_j` with one rounding in the phase's dtype, `[n, H]`, as a constant tensor.
    fn fused_arguments(&self, steps: &[f64]) -> Result<Tensor> {
        let phase = self.phase.as_tensor();
        let (dtype, device) = (phase.dtype(), phase.device());
        let h = self.frequencies.len();
        let psi = phase.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
        let values: Vec<f64> = steps
            .iter()
            .flat_map(|&k| {
                let psi = &psi;
                self.frequencies.iter().enumerate().map(move |(j, &w)| match dtype {
                    DType::F64 => w.mul_add(k, psi[j]),
                    _ => (w as f32).mul_add(k as f32, psi[j] as f32) as f64,
                })
            })
            .collect();
        Ok(Tensor::from_vec(values, (steps.len(), h), &Device::Cpu)?.to_dtype(dtype)?.to_device(device)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_and_phase_gradient() -> Result<()> {
        let mut store = ParamStore::new();
        let dev = Device::Cpu;
        let f = FourierTimeFeatures::linspace(&mut store, "psi", 4, 0.1, 100.0, DType::F64, &dev)?;
        store.set("psi", &Tensor::new(&[[0.1f64, -0.2, 0.3, 0.0]], &dev)?)?;
        let steps = [0.0, 3.0, 15.0];
        let out = f.forward(&steps)?;
        let v = out.to_vec2::<f64>()?;
        let w = [0.1, 33.4, 66.7, 100.0];
        let psi = [0.1, -0.2, 0.3, 0.0];
        for (r, k) in steps.iter().enumerate() {
            for j in 0..4 {
                let arg: f64 = w[j] * k + psi[j];
                assert!((v[r][j] - arg.sin()).abs() < 1e-9);
                assert!((v[r][4 + j] - arg.cos()).abs() < 1e-9);
            }
        }
        // d/dψ_j Σ_rows sin(arg) = Σ_rows cos(arg).
        let grads = out.narrow(1, 0, 4)?.sum_all()?.backward()?;
        let g = grads.get(store.get("psi")?).unwrap().flatten_all()?.to_vec1::<f64>()?;
        for j in 0..4 {
            let e: f64 = steps.iter().map(|k| (w[j] * k + psi[j]).cos()).sum();
            assert!((g[j] - e).abs() < 1e-9);
        }
        Ok(())
    }
}
