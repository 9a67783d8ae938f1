//! Helpers shared by the benches.

pub mod fma_peak;
