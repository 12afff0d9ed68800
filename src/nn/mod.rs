// SPDX-License-Identifier: MIT OR Apache-2.0
//! The network: recurrent layers (with their kernels) and the classifier built from them.

mod attention;
mod attribution;
mod byte_table;
mod classifier;
mod config;
mod half_precision;
mod int16_precision;
mod kernels;
mod pooling;
mod precision;
pub(crate) mod simd;
mod split_units;
pub mod word2vec;
mod recurrent;
mod transformer;

pub use attribution::{DEFAULT_STEPS as DEFAULT_EXPLAIN_STEPS, MAX_STEPS as MAX_EXPLAIN_STEPS};
pub use classifier::{Batch, Classifier, Mode, Weights};
pub use config::{NetworkConfig, TransformerShape};
pub use precision::Precision;
pub(crate) use config::{MAX_DIM, MAX_LAYERS, MAX_PARAMS};
#[cfg(test)]
pub(crate) use classifier::test_hooks;

use candle_core::{CpuStorage, Layout, Storage, StorageRef, Tensor, bail};
use serde::{Deserialize, Serialize};

/// The f32 values a custom op's operand covers; `what` names the operand in errors
/// ("recurrence: gx").
pub(crate) fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else { bail!("{what} must be f32") };
    let Some((start, end)) = l.contiguous_offsets() else { bail!("{what} must be contiguous") };
    Ok(&v[start..end])
}

/// A tensor's f32 values for a custom op's backward pass: borrowed from its storage when it is a
/// contiguous f32 CPU tensor (the usual case), else copied. The activations a backward pass reads
/// are tens of megabytes, and copying each one cost a twentieth of a transformer's training step.
/// It holds a read lock on the storage: never hold one while writing to the same tensor (Candle's
/// lock is fair, so a waiting writer also blocks a second reader of it).
pub(crate) enum Values<'a> {
    Borrowed(StorageRef<'a>, std::ops::Range<usize>),
    Copied(Vec<f32>),
}

impl<'a> Values<'a> {
    pub fn of(t: &'a Tensor) -> candle_core::Result<Self> {
        let (storage, layout) = t.storage_and_layout();
        if let (Storage::Cpu(CpuStorage::F32(_)), Some((start, end))) = (&*storage, layout.contiguous_offsets()) {
            return Ok(Values::Borrowed(storage, start..end));
        }
        drop(storage);
        Ok(Values::Copied(t.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?))
    }
}

impl std::ops::Deref for Values<'_> {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        match self {
            Values::Borrowed(storage, range) => match &**storage {
                Storage::Cpu(CpuStorage::F32(v)) => &v[range.clone()],
                _ => unreachable!("Values::of borrows f32 CPU storage only"),
            },
            Values::Copied(v) => v,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellKind {
    Lstm,
    Gru,
    /// A transformer encoder instead of recurrent layers (`nn::transformer`).
    Transformer,
}

impl CellKind {
    /// The recurrent cell this is, if it is one.
    pub fn recurrent(self) -> Option<RecurrentCell> {
        match self {
            CellKind::Lstm => Some(RecurrentCell::Lstm),
            CellKind::Gru => Some(RecurrentCell::Gru),
            CellKind::Transformer => None,
        }
    }
}

/// The cells the recurrent kernels run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecurrentCell {
    Lstm,
    Gru,
}

impl RecurrentCell {
    /// Number of gate blocks in the stacked weight matrices.
    pub fn gates(self) -> usize {
        match self {
            RecurrentCell::Lstm => 4,
            RecurrentCell::Gru => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// The state after the last real token (for a backward direction: after the first).
    Last,
    /// Elementwise maximum over the real time steps.
    Max,
    /// Mean over the real time steps.
    Mean,
    /// Maximum and mean, concatenated.
    MaxMean,
    /// Additive attention over the states of both directions side by side (`attention`).
    Attention,
}

/// Outputs of the dense head for `classes` labels: one logit for two classes (the probability of
/// the second is its sigmoid, as format-1 files have it), one per class (a softmax) for more.
pub fn head_outputs(classes: usize) -> usize {
    if classes <= 2 { 1 } else { classes }
}
