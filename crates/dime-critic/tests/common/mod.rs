//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use serde_json::Value;

/// The golden file copied into this crate (see `tests/data/README.md`).
pub fn golden() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dime_reference.json.gz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("golden file missing: looked for {} ({e})", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).expect("gzip JSON");
    serde_json::from_str(&text).expect("golden JSON parses")
}

/// The flat `data` of a golden array as f32 (values are exact f32 numbers written in decimal).
pub fn array(v: &Value) -> Vec<f32> {
    v["data"].as_array().expect("array data").iter().map(|x| x.as_f64().expect("number") as f32).collect()
}

/// Row-major host values as a tensor of `dtype` on the CPU.
pub fn tensor(values: &[f64], shape: (usize, usize), dtype: DType) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape, &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
}
