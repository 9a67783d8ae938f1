//! Flushing subnormal floats to zero on the CPU.
//!
//! Gradients through saturated units (GELU far below zero, softmax tails) become subnormal
//! (|x| < 1.2e-38 in f32), and x86 cores handle subnormal operands in microcode, 10–100× slower:
//! a matrix product whose operand is full of them can take minutes instead of milliseconds
//! (seen on `toy/multi-goal`, where the actor's backward products slowed down ~50×). XLA and
//! PyTorch (`torch.set_flush_denormal`) avoid this by setting the FTZ ("flush to zero") and DAZ
//! ("denormals are zero") bits of the SSE control register; training does the same. Values that
//! would be subnormal become ±0, a change far below float32 resolution of any quantity that
//! matters to learning. (The compiler assumes the default floating-point environment, so an
//! operation it evaluates at compile time is not flushed; that only changes which tiny values
//! become zero, and it is the same for every run of a binary.)

/// Set FTZ and DAZ for the calling thread (x86-64; a no-op elsewhere).
pub fn flush_denormals_on_this_thread() {
    #[cfg(target_arch = "x86_64")]
    {
        const FLUSH_TO_ZERO: u32 = 1 << 15;
        const DENORMALS_ARE_ZERO: u32 = 1 << 6;
        // SAFETY: MXCSR exists on every x86-64 CPU (SSE2 is baseline); changing the rounding of
        // subnormals has no memory-safety effect. The intrinsics are deprecated only in favour
        // of inline assembly, not unsound.
        #[allow(deprecated)]
        unsafe {
            use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
            _mm_setcsr(_mm_getcsr() | FLUSH_TO_ZERO | DENORMALS_ARE_ZERO);
        }
    }
}

/// Set FTZ and DAZ on the calling thread and on every thread of rayon's global pool (where the
/// parallel host paths and the `gemm` crate run their work).
pub fn flush_denormals() {
    flush_denormals_on_this_thread();
    rayon::broadcast(|_| flush_denormals_on_this_thread());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnormal_results_become_zero_after_the_flush() {
        // Run on a fresh thread so that the test does not change its harness thread.
        std::thread::spawn(|| {
            // Fresh opaque operands for each product, so the compiler cannot reuse the first.
            let product = || std::hint::black_box(f32::MIN_POSITIVE) * std::hint::black_box(0.5f32);
            #[cfg(target_arch = "x86_64")]
            {
                assert!(product() > 0.0, "subnormal before the flush");
                flush_denormals_on_this_thread();
                assert_eq!(product(), 0.0, "flushed to zero");
            }
        })
        .join()
        .unwrap();
    }
}
