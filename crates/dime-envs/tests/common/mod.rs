//! Helpers shared by the golden-data tests (each test file uses a subset).
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Read `tests/data/<name>` (gzip-compressed when the name ends in `.gz`) as JSON of type `T`.
/// A missing or malformed file panics with its path: the test cannot run without it.
pub fn load<T: DeserializeOwned>(name: &str) -> T {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("golden file missing: looked for {} ({e})", path.display()));
    let mut text = String::new();
    if name.ends_with(".gz") {
        flate2::read::GzDecoder::new(file).read_to_string(&mut text).expect("golden file is not valid gzip");
    } else {
        std::io::BufReader::new(file).read_to_string(&mut text).expect("golden file is not UTF-8");
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not the expected JSON: {e}", path.display()))
}

/// The design's one-step error: `max(|Δqpos|, |Δqvel| / max(1, max|qvel|))` against the wanted state.
pub fn err(qpos: &[f64], qvel: &[f64], want_qpos: &[f64], want_qvel: &[f64]) -> f64 {
    let scale = want_qvel.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let dq = qpos.iter().zip(want_qpos).fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
    let dv = qvel.iter().zip(want_qvel).fold(0.0_f64, |m, (a, b)| m.max((a - b).abs()));
    dq.max(dv / scale)
}

/// Largest element-wise absolute difference.
pub fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0_f64, |m, (x, y)| m.max((x - y).abs()))
}

/// The actions and states of a golden file's trajectories (the file's other fields are not read).
#[derive(Deserialize)]
pub struct StateGolden {
    pub trajectories: Vec<StateTrajectory>,
}

/// One trajectory's actions and the states `qpos`, `qvel` before each of them.
#[derive(Deserialize)]
pub struct StateTrajectory {
    pub actions: Vec<Vec<f64>>,
    pub qpos: Vec<Vec<f64>>,
    pub qvel: Vec<Vec<f64>>,
}
