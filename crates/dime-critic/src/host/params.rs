//! Zero-copy views of a critic's parameters: each `Var`'s CPU `f32` storage read in place.
//!
//! A view holds one read lock per parameter tensor for as long as it lives. The in-place Adam
//! step takes write locks on the same storages, so every [`ParamViews`] must be dropped before
//! the optimiser runs (the update scopes it so).

use candle_core::{CpuStorage, Layout, Storage, StorageRef};
use dime_nn::ParamStore;

use crate::CriticError;

/// Read locks on the storages of the parameters a critic reads, in the order they were taken.
pub(crate) struct ParamViews<'a> {
    guards: Vec<(StorageRef<'a>, &'a Layout)>,
}

/// Position of a parameter inside a [`ParamViews`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot(usize);

impl<'a> ParamViews<'a> {
    pub fn new() -> Self {
        Self { guards: Vec::new() }
    }

    /// Lock `name`'s storage for reading and return its slot.
    pub fn lock(&mut self, store: &'a ParamStore, name: &str) -> Result<Slot, CriticError> {
        let var = store.get(name)?;
        self.guards.push(var.as_tensor().storage_and_layout());
        Ok(Slot(self.guards.len() - 1))
    }

    /// The values of the parameter in `slot` (contiguous CPU `f32`, which the caller checked).
    pub fn slice(&self, slot: Slot) -> Result<&[f32], CriticError> {
        let (storage, layout) = &self.guards[slot.0];
        let (start, end) =
            layout.contiguous_offsets().ok_or(CriticError::Unsupported("host critic: non-contiguous parameter"))?;
        match &**storage {
            Storage::Cpu(CpuStorage::F32(values)) => Ok(&values[start..end]),
            _ => Err(CriticError::Unsupported("host critic: parameters must be f32 on the CPU")),
        }
    }
}

/// A dense layer `y = x·W + b`, `W: [fan_in, fan_out]` row-major.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DenseView<'v> {
    pub weight: &'v [f32],
    pub bias: &'v [f32],
    pub fan_in: usize,
    pub fan_out: usize,
}

/// A BatchRenorm layer's learnable scale `g` and bias `h`, `[F]` each.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NormView<'v> {
    pub scale: &'v [f32],
    pub bias: &'v [f32],
}

/// One member's parameters: `[input norm] → (Dense → ReLU → [norm]) × H → Dense`.
#[derive(Debug, Clone)]
pub(crate) struct MemberView<'v> {
    pub input_norm: Option<NormView<'v>>,
    pub hidden: Vec<(DenseView<'v>, Option<NormView<'v>>)>,
    pub output: DenseView<'v>,
}

/// Slots of a layer's two parameters (weight and bias, or scale and bias).
type SlotPair = (Slot, Slot);

/// Slots of one member's parameters, taken before the slices are read.
pub(crate) struct MemberSlots {
    input_norm: Option<SlotPair>,
    hidden: Vec<(SlotPair, Option<SlotPair>)>,
    output: SlotPair,
    widths: Vec<usize>,
}

/// Name of parameter `kind` (`weight`, `bias`, `scale`) of layer `layer` of member `member`, as
/// `crate::mlp::Mlp::new` registered it.
fn name(member: usize, layer: &str, kind: &str) -> String {
    format!("q{member}.{layer}.{kind}")
}

impl MemberSlots {
    /// Lock member `member`'s parameters; `widths` = `[input, hidden…, output]`.
    pub fn lock<'a>(
        views: &mut ParamViews<'a>,
        store: &'a ParamStore,
        member: usize,
        widths: &[usize],
        normalised: bool,
    ) -> Result<Self, CriticError> {
        let mut pair = |layer: &str, first: &str, second: &str| -> Result<SlotPair, CriticError> {
            Ok((views.lock(store, &name(member, layer, first))?, views.lock(store, &name(member, layer, second))?))
        };
        let input_norm = if normalised { Some(pair("input_norm", "scale", "bias")?) } else { None };
        let mut hidden = Vec::with_capacity(widths.len().saturating_sub(2));
        for k in 0..widths.len().saturating_sub(2) {
            let dense = pair(&format!("hidden{k}"), "weight", "bias")?;
            let norm = if normalised { Some(pair(&format!("hidden{k}_norm"), "scale", "bias")?) } else { None };
            hidden.push((dense, norm));
        }
        let output = pair("output", "weight", "bias")?;
        Ok(Self { input_norm, hidden, output, widths: widths.to_vec() })
    }

    /// Read the slices, checking every length against the widths.
    pub fn view<'v>(&self, views: &'v ParamViews<'_>) -> Result<MemberView<'v>, CriticError> {
        let norm = |(s, b): SlotPair, width: usize| -> Result<NormView<'v>, CriticError> {
            let (scale, bias) = (views.slice(s)?, views.slice(b)?);
            check_len("norm scale", width, scale.len())?;
            check_len("norm bias", width, bias.len())?;
            Ok(NormView { scale, bias })
        };
        let dense = |(w, b): SlotPair, fan_in: usize, fan_out: usize| -> Result<DenseView<'v>, CriticError> {
            let (weight, bias) = (views.slice(w)?, views.slice(b)?);
            check_len("dense weight", fan_in * fan_out, weight.len())?;
            check_len("dense bias", fan_out, bias.len())?;
            Ok(DenseView { weight, bias, fan_in, fan_out })
        };
        let w = &self.widths;
        let input_norm = self.input_norm.map(|s| norm(s, w[0])).transpose()?;
        let hidden = self
            .hidden
            .iter()
            .enumerate()
            .map(|(k, &(d, n))| Ok((dense(d, w[k], w[k + 1])?, n.map(|s| norm(s, w[k + 1])).transpose()?)))
            .collect::<Result<Vec<_>, CriticError>>()?;
        let output = dense(self.output, w[w.len() - 2], w[w.len() - 1])?;
        Ok(MemberView { input_norm, hidden, output })
    }
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), CriticError> {
    crate::error::check_shape(what, &[expected], &[got])
}
