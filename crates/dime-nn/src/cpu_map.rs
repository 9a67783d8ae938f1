//! Element-wise maps over CPU storage, shared by the fused custom ops.

use candle_core::{CpuStorage, Layout, Shape};

/// Apply `f32_fn`/`f64_fn` to every element of a contiguous f32/f64 CPU tensor.
pub(crate) fn map_storage(
    storage: &CpuStorage,
    layout: &Layout,
    f32_fn: fn(f32) -> f32,
    f64_fn: fn(f64) -> f64,
) -> candle_core::Result<(CpuStorage, Shape)> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("fused element-wise op: input must be contiguous");
    };
    let out = match storage {
        CpuStorage::F32(values) => CpuStorage::F32(values[start..end].iter().map(|&v| f32_fn(v)).collect()),
        CpuStorage::F64(values) => CpuStorage::F64(values[start..end].iter().map(|&v| f64_fn(v)).collect()),
        _ => candle_core::bail!("fused element-wise op: only f32 and f64 are supported"),
    };
    Ok((out, layout.shape().clone()))
}
