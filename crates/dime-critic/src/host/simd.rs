//! Run element-wise loops compiled for AVX2 when the CPU has it.
//!
//! The crate is built for baseline x86-64 (SSE2), so LLVM vectorises the host path's loops four
//! lanes wide. [`vectorised`] calls a closure from a function compiled with AVX2 and FMA enabled;
//! the closure and the `#[inline(always)]` kernels it calls are inlined there and vectorised eight
//! lanes wide. Floating-point results are unchanged: Rust never contracts `a·b + c` into an FMA
//! on its own, and the loops vectorise across features, never reordering a sum.

/// Whether the CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// Define `$name(args) -> ret` as `$kernel(args)` compiled with AVX2 and FMA when the CPU has
/// them: for kernels too large for LLVM to inline through [`vectorised`]'s closure.
macro_rules! vectorised_fn {
    ($(#[$meta:meta])* $vis:vis fn $name:ident => $kernel:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn with_avx2($($arg: $ty),*) -> $ret {
                    $kernel($($arg),*)
                }
                if $crate::host::simd::has_avx2() {
                    // SAFETY: the CPU supports the features `with_avx2` is compiled for.
                    return unsafe { with_avx2($($arg),*) };
                }
            }
            $kernel($($arg),*)
        }
    };
}
pub(crate) use vectorised_fn;

/// `f()`, compiled with AVX2 and FMA when the CPU supports them.
#[inline(always)]
pub(crate) fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2() {
            // SAFETY: the CPU supports the features `with_avx2` is compiled for.
            return unsafe { with_avx2(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
