//! Named f32 arrays in one safetensors file: how agents store weights, optimiser moments and
//! normalisation statistics in a checkpoint. Shapes are kept; values round-trip bit for bit.

use std::collections::BTreeMap;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::error::AlgoError;

/// An f32 array with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

/// Named arrays in sorted name order.
pub type Arrays = BTreeMap<String, Array>;

/// Serialise `arrays` to safetensors bytes.
pub fn to_safetensors(arrays: &Arrays) -> Result<Vec<u8>, AlgoError> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = arrays
        .iter()
        .map(|(name, a)| (name.clone(), a.shape.clone(), a.values.iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| AlgoError::Config(format!("array `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, None).map_err(|e| AlgoError::Config(format!("safetensors: {e}")))
}

/// Read safetensors bytes written by [`to_safetensors`]; `file` names the source in errors.
pub fn from_safetensors(bytes: &[u8], file: &str) -> Result<Arrays, AlgoError> {
    let corrupt = |reason: String| AlgoError::CorruptCheckpoint { path: file.into(), reason };
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| corrupt(e.to_string()))?;
    let mut arrays = Arrays::new();
    for (name, view) in tensors.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(corrupt(format!("`{name}` is {:?}, expected F32", view.dtype())));
        }
        let values = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        arrays.insert(name, Array { shape: view.shape().to_vec(), values });
    }
    Ok(arrays)
}
