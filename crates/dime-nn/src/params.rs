//! A name-sorted store of trainable variables.
//!
//! candle's `VarMap` is a hash map, so its iteration order changes between runs. Everything
//! that depends on order here (optimiser moments, Polyak averaging, checkpoints) iterates a
//! `BTreeMap`, i.e. sorted by name.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};

use crate::{NnError, Result};

/// Trainable parameters, keyed by a unique name, iterated in sorted name order.
#[derive(Debug, Clone, Default)]
pub struct ParamStore {
    vars: BTreeMap<String, Var>,
}

impl ParamStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register `value` under `name` as a new variable and return it.
    pub fn insert(&mut self, name: &str, value: Tensor) -> Result<Var> {
        if self.vars.contains_key(name) {
            return Err(NnError::DuplicateParam(name.to_string()));
        }
        let var = Var::from_tensor(&value)?;
        self.vars.insert(name.to_string(), var.clone());
        Ok(var)
    }

    /// Register host values of the given shape as a new variable.
    pub fn insert_host(
        &mut self,
        name: &str,
        values: Vec<f32>,
        shape: &[usize],
        dtype: DType,
        device: &Device,
    ) -> Result<Var> {
        let tensor = Tensor::from_vec(values, shape, &Device::Cpu)?.to_dtype(dtype)?.to_device(device)?;
        self.insert(name, tensor)
    }

    /// The variable called `name`.
    pub fn get(&self, name: &str) -> Result<&Var> {
        self.vars.get(name).ok_or_else(|| NnError::UnknownParam(name.to_string()))
    }

    /// Overwrite the value of `name` (same shape) with `value`.
    pub fn set(&self, name: &str, value: &Tensor) -> Result<()> {
        let var = self.get(name)?;
        let value = value.to_dtype(var.dtype())?.to_device(var.device())?;
        var.set(&value)?;
        Ok(())
    }

    /// Name and variable pairs in sorted name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.vars.iter().map(|(name, var)| (name.as_str(), var))
    }

    /// Names in sorted order.
    pub fn names(&self) -> Vec<String> {
        self.vars.keys().cloned().collect()
    }

    /// Number of variables (not of scalar parameters).
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether the store holds no variables.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Total number of scalar parameters.
    pub fn num_scalars(&self) -> usize {
        self.vars.values().map(|v| v.elem_count()).sum()
    }

    /// A new store with the same names and copied values (new variables, no shared storage).
    pub fn deep_copy(&self) -> Result<ParamStore> {
        let mut vars = BTreeMap::new();
        for (name, var) in self.iter() {
            vars.insert(name.to_string(), Var::from_tensor(&var.as_tensor().copy()?)?);
        }
        Ok(ParamStore { vars })
    }

    /// Copy every value of `other` (same names and shapes) into this store.
    pub fn copy_from(&self, other: &ParamStore) -> Result<()> {
        check_same_names(self, other)?;
        for (name, var) in self.iter() {
            var.set(&other.get(name)?.as_tensor().copy()?)?;
        }
        Ok(())
    }

    /// All values flattened to host `f32` vectors, in sorted name order.
    pub fn to_host(&self) -> Result<Vec<(String, Vec<f32>)>> {
        self.iter()
            .map(|(name, var)| {
                let values = var.as_tensor().flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
                Ok((name.to_string(), values))
            })
            .collect()
    }
}

/// Fail unless both stores hold exactly the same names.
pub(crate) fn check_same_names(a: &ParamStore, b: &ParamStore) -> Result<()> {
    if a.vars.keys().ne(b.vars.keys()) {
        return Err(NnError::ParamMismatch(format!("{:?} vs {:?}", a.names(), b.names())));
    }
    Ok(())
}
