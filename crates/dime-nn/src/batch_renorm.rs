//! Batch Renormalization (Ioffe 2017) as the DIME/CrossQ critic uses it (dime.md §5.2).
//!
//! Per feature, learnable scale `g` and bias `h`, state `μ_run`, `v_run`, `steps`:
//!
//! - train: `μ_B = mean(x)`, `σ²_B = mean((x − μ_B)²)` (biased, over rows; the reference writes
//!   `max(0, mean(x²) − μ_B²)`, equal in exact arithmetic);
//!   `r = clip(sg(√(σ²_B+ε)/√(v_run+ε)), 1/r_max, r_max)`,
//!   `d = clip(sg((μ_B − μ_run)/√(v_run+ε)), −d_max, d_max)`;
//!   after warm-up `μ' = μ_B − d·√σ²_B / r`, `σ'² = σ²_B / r²`, before it `μ' = μ_B`, `σ'² = σ²_B`;
//!   `y = (x − μ')/√(σ'² + ε)·g + h`; then the running statistics move by `momentum`.
//! - eval: `y = (x − μ_run)/√(v_run + ε)·g + h`, no state change.
//!
//! Shapes: `x: [B, F]`, every per-feature vector `[1, F]`. Column means are the rank-1
//! products `ones[1,B]·x / B`, and per-feature rows are spread over the batch as
//! `ones[B,1]·row`, so no backward pass needs candle's slow CPU sum over rows.

use candle_core::{DType, Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::{NnError, ParamStore, Result};

/// Constants of a BatchRenorm layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRenormConfig {
    /// Weight of the old running statistic in each update (DIME: 0.99).
    pub momentum: f64,
    /// Added to variances before the square root (DIME: 1e-3).
    pub epsilon: f64,
    /// Clip of the scale correction r to [1/r_max, r_max] (DIME: 3).
    pub r_max: f64,
    /// Clip of the shift correction d to [−d_max, d_max] (DIME: 5).
    pub d_max: f64,
    /// Train-mode calls of plain BatchNorm before the renormalisation is switched on (DIME: 100 000).
    pub warmup_steps: u64,
}

impl BatchRenormConfig {
    /// The constants of DIME's critic (dime.md §5.2).
    pub fn dime() -> Self {
        Self { momentum: 0.99, epsilon: 1e-3, r_max: 3.0, d_max: 5.0, warmup_steps: 100_000 }
    }
}

/// A BatchRenorm layer: parameters in a [`ParamStore`], running statistics owned here.
#[derive(Debug, Clone)]
pub struct BatchRenorm {
    config: BatchRenormConfig,
    scale: Var,
    bias: Var,
    running_mean: Tensor,
    running_var: Tensor,
    steps: u64,
}

impl BatchRenorm {
    /// Register `<name>.scale` (ones) and `<name>.bias` (zeros); running mean 0, variance 1.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        features: usize,
        config: BatchRenormConfig,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let scale = store.insert_host(&format!("{name}.scale"), vec![1.0; features], &[1, features], dtype, device)?;
        let bias = store.insert_host(&format!("{name}.bias"), vec![0.0; features], &[1, features], dtype, device)?;
        Ok(Self {
            config,
            scale,
            bias,
            running_mean: Tensor::zeros((1, features), dtype, device)?,
            running_var: Tensor::ones((1, features), dtype, device)?,
            steps: 0,
        })
    }

    /// Replace the running statistics and the train-call counter (checkpoints, tests).
    pub fn set_state(&mut self, running_mean: &Tensor, running_var: &Tensor, steps: u64) -> Result<()> {
        let shape = self.running_mean.dims().to_vec();
        for (what, t) in [("running_mean", running_mean), ("running_var", running_var)] {
            if t.elem_count() != shape[1] {
                return Err(NnError::Shape { what, expected: shape.clone(), got: t.dims().to_vec() });
            }
        }
        let dtype = self.running_mean.dtype();
        let cast = |t: &Tensor| -> Result<Tensor> { Ok(t.reshape(shape.as_slice())?.to_dtype(dtype)?.detach()) };
        self.running_mean = cast(running_mean)?;
        self.running_var = cast(running_var)?;
        self.steps = steps;
        Ok(())
    }

    /// Running mean `[1, F]`.
    pub fn running_mean(&self) -> &Tensor {
        &self.running_mean
    }

    /// Running variance `[1, F]`.
    pub fn running_var(&self) -> &Tensor {
        &self.running_var
    }

    /// Number of train-mode calls so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Train mode: normalise with batch statistics (renormalised after warm-up), then update the
    /// running statistics and the step counter.
    pub fn forward_train(&mut self, x: &Tensor) -> Result<Tensor> {
        let c = self.config;
        let rows = x.dim(0)?;
        let ones_row = Tensor::ones((1, rows), x.dtype(), x.device())?;
        let batch_mean = (ones_row.matmul(x)? / rows as f64)?;
        // Two-pass variance: mathematically the reference's max(0, mean(x²) − μ²), but without its
        // float32 cancellation (a feature with mean 9.4 and variance 0.6 loses 5 digits there).
        let ones_col = Tensor::ones((rows, 1), x.dtype(), x.device())?;
        let deviation = (x - ones_col.matmul(&batch_mean)?)?;
        let batch_var = (ones_row.matmul(&deviation.sqr()?)? / rows as f64)?;

        let running_std = (&self.running_var + c.epsilon)?.sqrt()?;
        let batch_std = (batch_var.detach() + c.epsilon)?.sqrt()?;
        let r = (batch_std / &running_std)?.clamp(1.0 / c.r_max, c.r_max)?;
        let d = ((batch_mean.detach() - &self.running_mean)? / &running_std)?.clamp(-c.d_max, c.d_max)?;

        let (mean, var) = if self.steps >= c.warmup_steps {
            let mean = (&batch_mean - (d * batch_var.sqrt()?)?.div(&r)?)?;
            let var = batch_var.div(&r.sqr()?)?;
            (mean, var)
        } else {
            (batch_mean.clone(), batch_var.clone())
        };
        let y = self.normalise(x, &mean, &var)?;

        let m = c.momentum;
        self.running_mean = ((&self.running_mean * m)? + (batch_mean.detach() * (1.0 - m))?)?;
        self.running_var = ((&self.running_var * m)? + (batch_var.detach() * (1.0 - m))?)?;
        self.steps += 1;
        Ok(y)
    }

    /// Eval mode: normalise with the running statistics; no state changes (`&self`).
    pub fn forward_eval(&self, x: &Tensor) -> Result<Tensor> {
        self.normalise(x, &self.running_mean, &self.running_var)
    }

    /// `(x − mean)/√(var + ε)·g + h`, every `[1, F]` row spread over the batch by a rank-1 product.
    fn normalise(&self, x: &Tensor, mean: &Tensor, var: &Tensor) -> Result<Tensor> {
        let rows = x.dim(0)?;
        let ones_col = Tensor::ones((rows, 1), x.dtype(), x.device())?;
        let gain = self.scale.as_tensor().div(&(var + self.config.epsilon)?.sqrt()?)?;
        let centred = (x - ones_col.matmul(mean)?)?;
        let scaled = (centred * ones_col.matmul(&gain)?)?;
        Ok((scaled + ones_col.matmul(self.bias.as_tensor())?)?)
    }
}
