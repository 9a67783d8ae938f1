//! What the probes that compare one thread with the process's threads share.

/// Subnormal values flushed to zero as in training (`Trainer::run`), and the thread count, or
/// `None` after a message when the process has only one thread.
pub fn multi_thread_probe_setup() -> Option<usize> {
    dime_nn::flush_denormals();
    let threads = dime_nn::cpu_threads();
    if threads < 2 {
        println!("set RAYON_NUM_THREADS=2 (or more): this probe compares one thread with the process's threads");
        return None;
    }
    Some(threads)
}
