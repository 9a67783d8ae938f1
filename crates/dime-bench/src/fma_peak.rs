//! The machine's arithmetic ceiling: fused multiply-adds per second with no memory traffic.
//!
//! Each thread runs twelve independent chains of vector FMAs (enough to hide the FMA latency on
//! two FMA ports) for a fixed count, all threads started together at a barrier. The figure is
//! what no product can beat on this machine, so a throughput target divided by the FLOPs it
//! needs can be read against it. AVX-512 where the CPU has it, else AVX2 with FMA; `None` on
//! other CPUs.

use std::sync::Barrier;
use std::time::Instant;

/// One run of the probe.
#[derive(Clone, Debug)]
pub struct FmaPeak {
    /// The instruction set the loop used (`"avx512f"` or `"avx2+fma"`).
    pub isa: &'static str,
    /// GFLOP/s of each thread, in thread order (one FMA counts as two FLOPs per lane).
    pub per_thread: Vec<f64>,
}

impl FmaPeak {
    /// Sum over the threads, GFLOP/s.
    pub fn total(&self) -> f64 {
        self.per_thread.iter().sum()
    }
}

/// The probe's instruction set, its vector lanes, and the loop (iterations → a value to keep).
type Probe = (&'static str, f64, fn(u64) -> f32);

/// Vector FMA iterations per thread and run (12 FMAs each): about 0.1 s at 100 GFLOP/s.
const ITERATIONS: u64 = 20_000_000;

/// Run the probe on `threads` threads at once, `rounds` times, and keep the round with the
/// highest total (a peak: slower rounds measured interference, not the machine).
pub fn measure(threads: usize, rounds: usize) -> Option<FmaPeak> {
    let (isa, lanes, run): Probe = detect()?;
    let mut best: Option<FmaPeak> = None;
    for _ in 0..rounds.max(1) {
        let barrier = Barrier::new(threads.max(1));
        let per_thread: Vec<f64> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads.max(1))
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        let start = Instant::now();
                        std::hint::black_box(run(ITERATIONS));
                        let secs = start.elapsed().as_secs_f64();
                        ITERATIONS as f64 * 12.0 * lanes * 2.0 / secs / 1e9
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("probe thread")).collect()
        });
        let round = FmaPeak { isa, per_thread };
        if best.as_ref().is_none_or(|b| round.total() > b.total()) {
            best = Some(round);
        }
    }
    best
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Option<Probe> {
    if std::arch::is_x86_feature_detected!("avx512f") {
        Some(("avx512f", 16.0, |n| unsafe { x86::chains_avx512(n) }))
    } else if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        Some(("avx2+fma", 8.0, |n| unsafe { x86::chains_avx2(n) }))
    } else {
        None
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Option<Probe> {
    None
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Twelve independent FMA chains of `n` steps each; returns a value depending on all of them
    /// so that none can be optimised away.
    ///
    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn chains_avx512(n: u64) -> f32 {
        let (b, c) = (_mm512_set1_ps(1.000_000_1), _mm512_set1_ps(1e-9));
        let mut acc = [_mm512_setzero_ps(); 12];
        for (i, a) in acc.iter_mut().enumerate() {
            *a = _mm512_set1_ps(i as f32);
        }
        for _ in 0..n {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, b, c);
            }
        }
        let mut out = [0.0f32; 16];
        let sum = acc.iter().fold(_mm512_setzero_ps(), |s, a| _mm512_add_ps(s, *a));
        _mm512_storeu_ps(out.as_mut_ptr(), sum);
        out.iter().sum()
    }

    /// As [`chains_avx512`] with 8-lane AVX2 vectors.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn chains_avx2(n: u64) -> f32 {
        let (b, c) = (_mm256_set1_ps(1.000_000_1), _mm256_set1_ps(1e-9));
        let mut acc = [_mm256_setzero_ps(); 12];
        for (i, a) in acc.iter_mut().enumerate() {
            *a = _mm256_set1_ps(i as f32);
        }
        for _ in 0..n {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, b, c);
            }
        }
        let mut out = [0.0f32; 8];
        let sum = acc.iter().fold(_mm256_setzero_ps(), |s, a| _mm256_add_ps(s, *a));
        _mm256_storeu_ps(out.as_mut_ptr(), sum);
        out.iter().sum()
    }
}
