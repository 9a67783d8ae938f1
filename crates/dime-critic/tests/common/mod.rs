//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use dime_critic::{CategoricalCritic, CriticBatch, CriticConfig, ForwardMode, ScalarCritic, TdInputs};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// Minibatch size of the fitting tests.
pub const BATCH: usize = 64;

/// `rows × cols` values uniform on [−1, 1], as a tensor and on the host.
pub fn uniform(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> (Tensor, Vec<f32>) {
    let values = dime_nn::init::uniform(rng, -1.0, 1.0, rows * cols);
    (Tensor::from_vec(values.clone(), (rows, cols), &Device::Cpu).unwrap(), values)
}

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

/// Reward `r = 1 + s0·a0` with states and actions uniform on [−1, 1] and next states drawn
/// independently of the current pair: with α = 0, `E[Q*(s', a')] = E[r] + γ·E[Q*]`, so
/// `E[Q*] = E[r]/(1 − γ)` and `Q*(s, a) = r(s, a) + γ/(1 − γ) = 1 + γ/(1 − γ) + s0·a0`
/// (γ = 0.5: `2 + s0·a0`; γ = 0: `1 + s0·a0`). Returns the mean squared error at 256 fresh
/// pairs, eval mode, over members, and prints it with the mean error.
pub fn fit_known_q(config: CriticConfig, updates: usize, gamma: f32) -> f64 {
    let offset = 1.0 + gamma / (1.0 - gamma);
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let mut critic = ScalarCritic::new(&config, 2, 1, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let continues = [if gamma == 0.0 { 0.0f32 } else { 1.0 }; BATCH];
    let log_prob = [0.0f32; BATCH];
    for _ in 0..updates {
        let (obs, s) = uniform(&mut rng, BATCH, 2);
        let (actions, a) = uniform(&mut rng, BATCH, 1);
        let (next_obs, _) = uniform(&mut rng, BATCH, 2);
        let (next_actions, _) = uniform(&mut rng, BATCH, 1);
        let rewards: Vec<f32> = (0..BATCH).map(|b| 1.0 + s[2 * b] * a[b]).collect();
        let td = TdInputs { rewards: &rewards, continues: &continues, next_log_prob: &log_prob, alpha: 0.0, gamma };
        critic
            .update(&CriticBatch { obs: &obs, actions: &actions, next_obs: &next_obs, next_actions: &next_actions, td })
            .unwrap();
    }
    let (obs, s) = uniform(&mut rng, 256, 2);
    let (actions, a) = uniform(&mut rng, 256, 1);
    let q = critic.q_values(&obs, &actions, ForwardMode::Eval).unwrap();
    let mut squared_error = 0.0;
    let mut bias = 0.0;
    for qi in &q {
        for (b, v) in qi.to_vec1::<f32>().unwrap().iter().enumerate() {
            squared_error += ((v - (offset + s[2 * b] * a[b])) as f64).powi(2);
            bias += (v - (offset + s[2 * b] * a[b])) as f64;
        }
    }
    let count = 256.0 * q.len() as f64;
    eprintln!("γ = {gamma}: MSE {:.5}, mean error {:.4}", squared_error / count, bias / count);
    squared_error / count
}

/// A tensor's values, flattened, as f32 on the host.
pub fn host(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_dtype(DType::F32).unwrap().to_vec1::<f32>().unwrap()
}

/// Running mean, running variance and step counter of every BatchRenorm layer, member by member.
pub type Stats = Vec<(Vec<f32>, Vec<f32>, u64)>;

pub fn brn_state(critic: &CategoricalCritic) -> Stats {
    (0..critic.members())
        .flat_map(|i| critic.batch_renorms(i))
        .map(|n| (host(n.running_mean()), host(n.running_var()), n.steps()))
        .collect()
}

/// `rows × cols` standard normals times `scale` plus `shift`, as a tensor on the CPU.
pub fn normal(rng: &mut ChaCha8Rng, rows: usize, cols: usize, shift: f32, scale: f32) -> Tensor {
    let values: Vec<f32> = dime_nn::init::standard_normal(rng, rows * cols).iter().map(|v| v * scale + shift).collect();
    Tensor::from_vec(values, (rows, cols), &Device::Cpu).unwrap()
}

/// How [`Data::new`] draws a random critic batch. Each of the four inputs is
/// `shift + scale · N(0, 1)`, given as `(shift, scale)`.
pub struct DataSpec {
    pub rows: usize,
    pub obs_dim: usize,
    pub act_dim: usize,
    pub obs: (f32, f32),
    pub actions: (f32, f32),
    pub next_obs: (f32, f32),
    pub next_actions: (f32, f32),
    /// Whether transition `b` is terminal (`continues[b] = 0`).
    pub terminal: fn(usize) -> bool,
    /// `None`: rewards (uniform on [−3, 3]) and next-action log-probabilities (uniform on
    /// [−2, 2]) continue the stream of the inputs; `Some(k)`: they come from a second stream
    /// seeded `seed + k`.
    pub td_seed_offset: Option<u64>,
}

/// A random critic batch (α = 0.2, γ = 0.99).
pub struct Data {
    pub obs: Tensor,
    pub actions: Tensor,
    pub next_obs: Tensor,
    pub next_actions: Tensor,
    pub rewards: Vec<f32>,
    pub continues: Vec<f32>,
    pub bound: Vec<f32>,
}

impl Data {
    pub fn new(seed: u64, spec: &DataSpec) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (rows, obs_dim, act_dim) = (spec.rows, spec.obs_dim, spec.act_dim);
        let obs = normal(&mut rng, rows, obs_dim, spec.obs.0, spec.obs.1);
        let actions = normal(&mut rng, rows, act_dim, spec.actions.0, spec.actions.1);
        let next_obs = normal(&mut rng, rows, obs_dim, spec.next_obs.0, spec.next_obs.1);
        let next_actions = normal(&mut rng, rows, act_dim, spec.next_actions.0, spec.next_actions.1);
        if let Some(offset) = spec.td_seed_offset {
            rng = ChaCha8Rng::seed_from_u64(seed + offset);
        }
        Self {
            obs,
            actions,
            next_obs,
            next_actions,
            rewards: dime_nn::init::uniform(&mut rng, -3.0, 3.0, rows),
            continues: (0..rows).map(|b| if (spec.terminal)(b) { 0.0 } else { 1.0 }).collect(),
            bound: dime_nn::init::uniform(&mut rng, -2.0, 2.0, rows),
        }
    }

    pub fn batch(&self) -> CriticBatch<'_> {
        CriticBatch {
            obs: &self.obs,
            actions: &self.actions,
            next_obs: &self.next_obs,
            next_actions: &self.next_actions,
            td: TdInputs {
                rewards: &self.rewards,
                continues: &self.continues,
                next_log_prob: &self.bound,
                alpha: 0.2,
                gamma: 0.99,
            },
        }
    }
}
