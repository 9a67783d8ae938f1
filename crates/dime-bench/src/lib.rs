//! Helpers shared by the benches.

pub mod fma_peak;
pub mod host_steal;
