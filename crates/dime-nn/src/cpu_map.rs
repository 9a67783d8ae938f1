//! Element-wise maps over CPU storage, shared by the fused custom ops.

use candle_core::{CpuStorage, Layout, Shape};

/// Apply `f32_fn`/`f64_fn` to every element of a contiguous f32/f64 CPU tensor. Generic (not
/// function pointers) so that the element function is inlined and the loop can vectorise.
pub(crate) fn map_storage<F32, F64>(
    storage: &CpuStorage,
    layout: &Layout,
    f32_fn: F32,
    f64_fn: F64,
) -> candle_core::Result<(CpuStorage, Shape)>
where
    F32: Fn(f32) -> f32,
    F64: Fn(f64) -> f64,
{
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("fused element-wise op: input must be contiguous");
    };
    let out = match storage {
        CpuStorage::F32(values) => CpuStorage::F32(map_f32(&values[start..end], f32_fn)),
        CpuStorage::F64(values) => CpuStorage::F64(values[start..end].iter().map(|&v| f64_fn(v)).collect()),
        _ => candle_core::bail!("fused element-wise op: only f32 and f64 are supported"),
    };
    Ok((out, layout.shape().clone()))
}

/// `values.map(f)`, compiled a second time for AVX2+FMA and chosen at run time on x86-64.
fn map_f32<F: Fn(f32) -> f32>(values: &[f32], f: F) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { map_f32_avx2(values, f) };
        }
    }
    values.iter().map(|&v| f(v)).collect()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_f32_avx2<F: Fn(f32) -> f32>(values: &[f32], f: F) -> Vec<f32> {
    values.iter().map(|&v| f(v)).collect()
}

/// `values[i] = f(values[i])` in place, with the same run-time AVX2 dispatch as [`map_storage`]
/// (AVX-512 first where the CPU has it).
pub(crate) fn map_in_place_f32<F: Fn(f32) -> f32>(values: &mut [f32], f: F) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { map_in_place_f32_avx512(values, f) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { map_in_place_f32_avx2(values, f) };
            return;
        }
    }
    values.iter_mut().for_each(|v| *v = f(*v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn map_in_place_f32_avx512<F: Fn(f32) -> f32>(values: &mut [f32], f: F) {
    values.iter_mut().for_each(|v| *v = f(*v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_in_place_f32_avx2<F: Fn(f32) -> f32>(values: &mut [f32], f: F) {
    values.iter_mut().for_each(|v| *v = f(*v));
}

/// `values[i] = f(other[i], values[i])` in place, with the same run-time AVX2 dispatch.
pub(crate) fn zip_in_place_f32<F: Fn(f32, f32) -> f32>(other: &[f32], values: &mut [f32], f: F) {
    assert_eq!(other.len(), values.len(), "zip_in_place_f32: slices must have equal lengths");
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { zip_in_place_f32_avx512(other, values, f) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { zip_in_place_f32_avx2(other, values, f) };
            return;
        }
    }
    values.iter_mut().zip(other).for_each(|(v, o)| *v = f(*o, *v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn zip_in_place_f32_avx2<F: Fn(f32, f32) -> f32>(other: &[f32], values: &mut [f32], f: F) {
    values.iter_mut().zip(other).for_each(|(v, o)| *v = f(*o, *v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn zip_in_place_f32_avx512<F: Fn(f32, f32) -> f32>(other: &[f32], values: &mut [f32], f: F) {
    values.iter_mut().zip(other).for_each(|(v, o)| *v = f(*o, *v));
}

/// `(out[i], values[i]) = f(values[i])`: two results per element, the second written in place.
pub(crate) fn map_pair_f32<F: Fn(f32) -> (f32, f32)>(values: &mut [f32], out: &mut [f32], f: F) {
    assert_eq!(out.len(), values.len(), "map_pair_f32: slices must have equal lengths");
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { map_pair_f32_avx512(values, out, f) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: as above.
            unsafe { map_pair_f32_avx2(values, out, f) };
            return;
        }
    }
    map_pair_generic(values, out, f);
}

#[inline(always)]
fn map_pair_generic<F: Fn(f32) -> (f32, f32)>(values: &mut [f32], out: &mut [f32], f: F) {
    for (v, o) in values.iter_mut().zip(out.iter_mut()) {
        let (first, second) = f(*v);
        *o = first;
        *v = second;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn map_pair_f32_avx512<F: Fn(f32) -> (f32, f32)>(values: &mut [f32], out: &mut [f32], f: F) {
    map_pair_generic(values, out, f);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_pair_f32_avx2<F: Fn(f32) -> (f32, f32)>(values: &mut [f32], out: &mut [f32], f: F) {
    map_pair_generic(values, out, f);
}

/// `out[r, j] = f(pre[r, j] + bias[j])` over the rows of `pre`, with the same run-time dispatch;
/// without `bias`, `out[i] = f(pre[i])`.
pub(crate) fn map_rows_into_f32<F: Fn(f32) -> f32>(pre: &[f32], bias: Option<&[f32]>, out: &mut [f32], f: F) {
    assert_eq!(pre.len(), out.len(), "map_rows_into_f32: slices must have equal lengths");
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { map_rows_into_f32_avx512(pre, bias, out, f) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: as above.
            unsafe { map_rows_into_f32_avx2(pre, bias, out, f) };
            return;
        }
    }
    map_rows_into_generic(pre, bias, out, f);
}

#[inline(always)]
fn map_rows_into_generic<F: Fn(f32) -> f32>(pre: &[f32], bias: Option<&[f32]>, out: &mut [f32], f: F) {
    match bias {
        Some(bias) => {
            for (p_row, o_row) in pre.chunks_exact(bias.len()).zip(out.chunks_exact_mut(bias.len())) {
                for ((o, p), b) in o_row.iter_mut().zip(p_row).zip(bias) {
                    *o = f(p + b);
                }
            }
        }
        None => out.iter_mut().zip(pre).for_each(|(o, p)| *o = f(*p)),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn map_rows_into_f32_avx512<F: Fn(f32) -> f32>(pre: &[f32], bias: Option<&[f32]>, out: &mut [f32], f: F) {
    map_rows_into_generic(pre, bias, out, f);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_rows_into_f32_avx2<F: Fn(f32) -> f32>(pre: &[f32], bias: Option<&[f32]>, out: &mut [f32], f: F) {
    map_rows_into_generic(pre, bias, out, f);
}

/// `(out[r, j], values[r, j]) = f(values[r, j] + bias[j])` over the rows of `values`, with the
/// same run-time dispatch; without `bias`, as [`map_pair_f32`].
pub(crate) fn map_pair_rows_f32<F: Fn(f32) -> (f32, f32)>(
    values: &mut [f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    f: F,
) {
    let Some(bias) = bias else {
        return map_pair_f32(values, out, f);
    };
    assert_eq!(out.len(), values.len(), "map_pair_rows_f32: slices must have equal lengths");
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { map_pair_rows_f32_avx512(values, bias, out, f) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: as above.
            unsafe { map_pair_rows_f32_avx2(values, bias, out, f) };
            return;
        }
    }
    map_pair_rows_generic(values, bias, out, f);
}

#[inline(always)]
fn map_pair_rows_generic<F: Fn(f32) -> (f32, f32)>(values: &mut [f32], bias: &[f32], out: &mut [f32], f: F) {
    for (v_row, o_row) in values.chunks_exact_mut(bias.len()).zip(out.chunks_exact_mut(bias.len())) {
        for ((v, o), b) in v_row.iter_mut().zip(o_row.iter_mut()).zip(bias) {
            let (first, second) = f(*v + b);
            *o = first;
            *v = second;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn map_pair_rows_f32_avx512<F: Fn(f32) -> (f32, f32)>(values: &mut [f32], bias: &[f32], out: &mut [f32], f: F) {
    map_pair_rows_generic(values, bias, out, f);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_pair_rows_f32_avx2<F: Fn(f32) -> (f32, f32)>(values: &mut [f32], bias: &[f32], out: &mut [f32], f: F) {
    map_pair_rows_generic(values, bias, out, f);
}
