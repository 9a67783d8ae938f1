//! The in-place Adam kernel: one candle `InplaceOp2` per parameter tensor that reads the
//! gradient storage and rewrites the parameter storage directly (CPU; other devices go through a
//! host copy). Its per-element arithmetic is [`adam_delta`], shared with the host-slice path.

use std::sync::Mutex;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, Device, InplaceOp1, InplaceOp2, Layout};

use crate::optim::{adam_delta, Adam};
use crate::{NnError, ParamStore, Result};

impl Adam {
    /// One step with the gradients of `grads` (a variable without a gradient gets zeros), applied
    /// in place to each parameter's storage by one candle op per tensor: the same f32 arithmetic
    /// as [`Adam::step`] (bitwise-equal results) without copying gradients and parameters through
    /// host vectors, which cost ~12% of a single-thread update of the 8.9M-parameter paper critic.
    pub fn step_in_place(&mut self, store: &ParamStore, grads: &GradStore) -> Result<()> {
        if store.names() != self.names {
            return Err(NnError::ParamMismatch("Adam: the store differs from the one it was built for".into()));
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
    #[inline(always)]
    fn delta(&self, m: &mut f32, v: &mut f32, g: f32) -> f32 {
        adam_delta(m, v, g, self.beta1, self.beta2, self.step_size, self.inv_sqrt_correction2, self.eps)
    }

    /// β1, β2, step size, 1/√(1−β2ᵗ), ε, as [`HostGradAdam::constants`] orders them.
    fn constants(&self) -> [f32; 5] {
        [self.beta1, self.beta2, self.step_size, self.inv_sqrt_correction2, self.eps]
    }
}

/// Tensors at least this long are updated in chunks on the CPU threads (below it, the pool's
/// wake-up costs more than the update).
const PARALLEL_ELEMENTS: usize = 1 << 16;
/// Elements per parallel chunk.
const CHUNK: usize = 1 << 14;

/// `θ −= adam_delta(m, v, g)` element by element. Each element's arithmetic is independent of
/// every other's, so splitting the slices into chunks on several threads gives the same bits as
/// one pass; large tensors (the paper critic's 2048×2048 layers) are split when more than one
/// CPU thread is configured and the caller is not already a rayon task.
fn update_f32(theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], constants: [f32; 5]) {
    let parallel =
        theta.len() >= PARALLEL_ELEMENTS && crate::cpu_threads() > 1 && rayon::current_thread_index().is_none();
    if !parallel {
        return update_chunk(theta, grad, m, v, constants);
    }
    use rayon::prelude::*;
    theta
        .par_chunks_mut(CHUNK)
        .zip(grad.par_chunks(CHUNK))
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .for_each(|(((t, g), m), v)| update_chunk(t, g, m, v, constants));
}

/// One pass of [`update_f32`], compiled for AVX-512 or AVX2 when the CPU has them (chosen at
/// run time). The vector forms do the same IEEE operations per element (Rust never fuses a
/// multiply and an add), so every path gives the same bits; they are several times faster
/// than the baseline x86-64 build, whose square root and division run four lanes at a time.
fn update_chunk(theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], constants: [f32; 5]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { update_chunk_avx512(theta, grad, m, v, constants) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            unsafe { update_chunk_avx2(theta, grad, m, v, constants) };
            return;
        }
    }
    update_chunk_portable(theta, grad, m, v, constants);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2")]
unsafe fn update_chunk_avx512(theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], constants: [f32; 5]) {
    update_chunk_portable(theta, grad, m, v, constants);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_chunk_avx2(theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], constants: [f32; 5]) {
    update_chunk_portable(theta, grad, m, v, constants);
}

#[inline(always)]
fn update_chunk_portable(theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], constants: [f32; 5]) {
    let [b1, b2, step, inv_c2, eps] = constants;
    let n = theta.len();
    let (grad, m, v) = (&grad[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        theta[i] -= adam_delta(&mut m[i], &mut v[i], grad[i], b1, b2, step, inv_c2, eps);
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
        if p1 - p0 != m.len() || g1 - g0 != m.len() || v.len() != m.len() {
            candle_core::bail!("fused Adam: sizes differ from the optimiser state");
        }
        match (s1, s2) {
            (CpuStorage::F32(theta), CpuStorage::F32(grad)) => {
                let c = self.constants();
                update_f32(&mut theta[p0..p1], &grad[g0..g1], m, v, c);
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

/// [`Adam::step`]'s kernel on the CPU: the update with a host gradient slice, applied to the
/// parameter's storage in place (same per-element arithmetic, [`adam_delta`]).
pub(crate) struct HostGradAdam<'a> {
    pub grad: &'a [f32],
    pub moments: Mutex<(&'a mut [f32], &'a mut [f32])>,
    /// β1, β2, step size, 1/√(1−β2ᵗ), ε.
    pub constants: [f32; 5],
}

impl InplaceOp1 for HostGradAdam<'_> {
    fn name(&self) -> &'static str {
        "host-gradient-adam"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let (p0, p1) = contiguous_range(layout, "parameter")?;
        let mut guard = self.moments.lock().map_err(|_| candle_core::Error::Msg("Adam: poisoned".into()))?;
        let (m, v) = &mut *guard;
        if p1 - p0 != m.len() || self.grad.len() != m.len() || v.len() != m.len() {
            candle_core::bail!("Adam: sizes differ from the optimiser state");
        }
        let [b1, b2, step, inv_c2, eps] = self.constants;
        match storage {
            CpuStorage::F32(theta) => update_f32(&mut theta[p0..p1], self.grad, m, v, self.constants),
            CpuStorage::F64(theta) => {
                for (((t, g), mi), vi) in theta[p0..p1].iter_mut().zip(self.grad).zip(m.iter_mut()).zip(v.iter_mut()) {
                    *t = (*t as f32 - adam_delta(mi, vi, *g, b1, b2, step, inv_c2, eps)) as f64;
                }
            }
            _ => candle_core::bail!("Adam: only f32 and f64 parameters"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn vector_build_of_the_step_gives_the_baseline_bits() {
        // The run-time dispatched pass (AVX-512 or AVX2 where the CPU has them) against the
        // same loop in the baseline x86-64 build, over uneven lengths and extreme values.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let n = 10_007;
        let mut values = crate::init::standard_normal(&mut rng, 4 * n);
        values[3] = 1e-30;
        values[n + 5] = 3e30;
        let (theta, rest) = values.split_at(n);
        let (grad, rest) = rest.split_at(n);
        let (m, v) = rest.split_at(n);
        let v: Vec<f32> = v.iter().map(|x| x * x).collect();
        let constants = [0.9, 0.999, 3e-4, 1.2, 1e-8];
        let (mut a, mut am, mut av) = (theta.to_vec(), m.to_vec(), v.clone());
        let (mut b, mut bm, mut bv) = (theta.to_vec(), m.to_vec(), v.clone());
        update_chunk(&mut a, grad, &mut am, &mut av, constants);
        update_chunk_portable(&mut b, grad, &mut bm, &mut bv, constants);
        assert_eq!((a.clone(), am, av), (b, bm, bv));
        assert_ne!(a, theta);
    }
}
