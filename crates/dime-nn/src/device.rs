//! Device selection: `cpu` always; `cuda` and `metal` only behind the crate features of the same
//! name. The device paths are deliberately tiny because they cannot be built on the project's
//! machines (no CUDA toolkit, no macOS).

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::{NnError, Result};

/// Which device tensors live on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// The host CPU (always available).
    #[default]
    Cpu,
    /// CUDA device with the given ordinal (feature `cuda`).
    Cuda(usize),
    /// Metal device with the given ordinal (feature `metal`).
    Metal(usize),
}

impl DeviceChoice {
    /// Open the chosen device, or fail with [`NnError::DeviceUnavailable`] if this build lacks it.
    pub fn open(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda(ordinal) => Ok(Device::new_cuda(ordinal)?),
            #[cfg(not(feature = "cuda"))]
            DeviceChoice::Cuda(_) => Err(NnError::DeviceUnavailable("cuda")),
            #[cfg(feature = "metal")]
            DeviceChoice::Metal(ordinal) => Ok(Device::new_metal(ordinal)?),
            #[cfg(not(feature = "metal"))]
            DeviceChoice::Metal(_) => Err(NnError::DeviceUnavailable("metal")),
        }
    }
}

/// Number of threads candle's CPU kernels use (`RAYON_NUM_THREADS` if set, else all cores).
pub fn cpu_threads() -> usize {
    candle_core::utils::get_num_threads()
}
