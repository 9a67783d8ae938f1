//! Named f32 arrays in one safetensors file: how agents store weights, optimiser moments and
//! normalisation statistics in a checkpoint. Shapes are kept; values round-trip bit for bit.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use dime_nn::{BatchRenorm, ParamStore};
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

/// Store every variable of `store` as `<prefix>/<name>`.
pub fn put_store(arrays: &mut Arrays, prefix: &str, store: &ParamStore) -> Result<(), AlgoError> {
    for (name, var) in store.iter() {
        let values = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        arrays.insert(format!("{prefix}/{name}"), Array { shape: var.dims().to_vec(), values });
    }
    Ok(())
}

/// Store Adam moments (one host vector per variable) as `<prefix>/m/<i>` and `<prefix>/v/<i>`.
pub fn put_moments(arrays: &mut Arrays, prefix: &str, first: &[Vec<f32>], second: &[Vec<f32>]) {
    for (i, (m, v)) in first.iter().zip(second).enumerate() {
        arrays.insert(format!("{prefix}/m/{i:04}"), Array { shape: vec![m.len()], values: m.clone() });
        arrays.insert(format!("{prefix}/v/{i:04}"), Array { shape: vec![v.len()], values: v.clone() });
    }
}

/// Store the running statistics of `norms` (one network's BatchRenorm layers, input first) as
/// `<prefix>/<layer>/{mean,var}` and return their train-call counters, for the counters file.
pub fn put_batch_renorms(arrays: &mut Arrays, prefix: &str, norms: &[&BatchRenorm]) -> Result<Vec<u64>, AlgoError> {
    let mut steps = Vec::with_capacity(norms.len());
    for (layer, norm) in norms.iter().enumerate() {
        for (what, t) in [("mean", norm.running_mean()), ("var", norm.running_var())] {
            let values = t.flatten_all()?.to_vec1::<f32>()?;
            arrays.insert(format!("{prefix}/{layer}/{what}"), Array { shape: t.dims().to_vec(), values });
        }
        steps.push(norm.steps());
    }
    Ok(steps)
}

/// The array `name` of `file`, or an error naming both.
pub fn take<'a>(arrays: &'a Arrays, file: &str, name: &str) -> Result<&'a Array, AlgoError> {
    arrays
        .get(name)
        .ok_or_else(|| AlgoError::CorruptCheckpoint { path: file.into(), reason: format!("`{name}` missing") })
}

/// Restore what [`put_store`] wrote into a store of the same layout; shapes must match.
pub fn load_store(arrays: &Arrays, file: &str, prefix: &str, store: &ParamStore) -> Result<(), AlgoError> {
    for (name, var) in store.iter() {
        let a = take(arrays, file, &format!("{prefix}/{name}"))?;
        if a.shape != var.dims() {
            let reason = format!("`{prefix}/{name}` has shape {:?}, the agent {:?}", a.shape, var.dims());
            return Err(AlgoError::CorruptCheckpoint { path: file.into(), reason });
        }
        store.set(name, &Tensor::from_slice(&a.values, a.shape.as_slice(), &Device::Cpu)?)?;
    }
    Ok(())
}

/// First and second Adam moments, one host vector per variable.
pub type Moments = (Vec<Vec<f32>>, Vec<Vec<f32>>);

/// Read what [`put_moments`] wrote for `count` variables.
pub fn load_moments(arrays: &Arrays, file: &str, prefix: &str, count: usize) -> Result<Moments, AlgoError> {
    let get = |which: &str| -> Result<Vec<Vec<f32>>, AlgoError> {
        (0..count).map(|i| Ok(take(arrays, file, &format!("{prefix}/{which}/{i:04}"))?.values.clone())).collect()
    };
    Ok((get("m")?, get("v")?))
}

/// Restore what [`put_batch_renorms`] wrote, with the saved train-call counters `steps`
/// (read from `counters_file`, named in the error when one is missing).
pub fn load_batch_renorms(
    arrays: &Arrays,
    file: &str,
    counters_file: &str,
    prefix: &str,
    norms: Vec<&mut BatchRenorm>,
    steps: &[u64],
) -> Result<(), AlgoError> {
    for (layer, norm) in norms.into_iter().enumerate() {
        let get = |what: &str| -> Result<Tensor, AlgoError> {
            let a = take(arrays, file, &format!("{prefix}/{layer}/{what}"))?;
            Ok(Tensor::from_slice(&a.values, a.shape.as_slice(), &Device::Cpu)?)
        };
        let count = *steps.get(layer).ok_or_else(|| AlgoError::CorruptCheckpoint {
            path: counters_file.into(),
            reason: format!("no BatchRenorm step count for `{prefix}` layer {layer}"),
        })?;
        norm.set_state(&get("mean")?, &get("var")?, count)?;
    }
    Ok(())
}

/// An agent's checkpoint: its arrays as one safetensors file and its counters as one JSON file.
pub fn pack_agent_files<C: serde::Serialize>(
    arrays_file: &str,
    arrays: &Arrays,
    counters_file: &str,
    counters: &C,
) -> Result<crate::checkpoint::CheckpointFiles, AlgoError> {
    let mut files = crate::checkpoint::CheckpointFiles::new();
    files.insert(arrays_file.into(), to_safetensors(arrays)?);
    files.insert(counters_file.into(), serde_json::to_vec_pretty(counters).expect("counters serialise"));
    Ok(files)
}

/// Read back what [`pack_agent_files`] wrote; a missing or unreadable file is named in the error.
pub fn unpack_agent_files<C: serde::de::DeserializeOwned>(
    files: &crate::checkpoint::CheckpointFiles,
    arrays_file: &str,
    counters_file: &str,
) -> Result<(Arrays, C), AlgoError> {
    let get = |f: &str| {
        files.get(f).ok_or_else(|| AlgoError::CorruptCheckpoint {
            path: f.into(),
            reason: "missing from the checkpoint".into(),
        })
    };
    let arrays = from_safetensors(get(arrays_file)?, arrays_file)?;
    let counters = serde_json::from_slice(get(counters_file)?)
        .map_err(|e| AlgoError::CorruptCheckpoint { path: counters_file.into(), reason: e.to_string() })?;
    Ok((arrays, counters))
}
