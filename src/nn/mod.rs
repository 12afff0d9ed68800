// SPDX-License-Identifier: MIT OR Apache-2.0
//! The network: recurrent layers (with their kernels) and the classifier built from them.

mod attention;
mod attribution;
mod classifier;
mod config;
mod kernels;
mod pooling;
pub(crate) mod simd;
pub mod word2vec;
mod recurrent;
mod transformer;

pub use attribution::{DEFAULT_STEPS as DEFAULT_EXPLAIN_STEPS, MAX_STEPS as MAX_EXPLAIN_STEPS};
pub use classifier::{Batch, Classifier, Mode, Weights};
pub use config::{NetworkConfig, TransformerShape};
pub(crate) use config::{MAX_DIM, MAX_LAYERS, MAX_PARAMS};
#[cfg(test)]
pub(crate) use classifier::test_hooks;

use candle_core::{CpuStorage, Layout, bail};
use serde::{Deserialize, Serialize};

/// The f32 values a custom op's operand covers; `what` names the operand in errors
/// ("recurrence: gx").
pub(crate) fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else { bail!("{what} must be f32") };
    let Some((start, end)) = l.contiguous_offsets() else { bail!("{what} must be contiguous") };
    Ok(&v[start..end])
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
