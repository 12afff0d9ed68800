// SPDX-License-Identifier: MIT OR Apache-2.0
//! What the recurrent network is: stored in a model file (`senti.model_config`, a name kept for
//! format compatibility) and built from the training parameters.

use serde::{Deserialize, Serialize};

use super::{CellKind, Pooling};
use crate::error::{Result, check, check_fraction};

/// Limits that keep absurd requests from exhausting memory; far beyond any sensible model.
pub(crate) const MAX_DIM: usize = 4096;
pub(crate) const MAX_LAYERS: usize = 8;
/// Parameters of a model (floats), about 2 GB.
pub(crate) const MAX_PARAMS: usize = 500_000_000;

/// The recurrent network's shape: embedding, recurrent layers, pooling and dropout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    pub cell: CellKind,
    pub embedding_dim: usize,
    pub hidden_size: usize,
    pub layers: usize,
    pub bidirectional: bool,
    pub pooling: Pooling,
    pub dropout: f32,
    pub embedding_dropout: f32,
}

impl NetworkConfig {
    /// Checks the sizes, and that the network over `vocab_size` words with a head for
    /// `classes` labels stays under `MAX_PARAMS`.
    pub fn validate(&self, vocab_size: usize, classes: usize) -> Result<()> {
        for (name, v, max) in [
            ("embedding_dim", self.embedding_dim, MAX_DIM),
            ("hidden_size", self.hidden_size, MAX_DIM),
            ("layers", self.layers, MAX_LAYERS),
        ] {
            check((1..=max).contains(&v), || format!("{name} must be between 1 and {max}, got {v}"))?;
        }
        check_fraction("dropout", self.dropout, 1.0)?;
        check_fraction("embedding_dropout", self.embedding_dropout, 1.0)?;
        let params = self.parameter_count(vocab_size, classes);
        check(params <= MAX_PARAMS, || format!("the model would have {params} parameters; the limit is {MAX_PARAMS}"))
    }

    pub fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Width of the vector the dense head reads.
    pub fn feature_size(&self) -> usize {
        let width = self.hidden_size * self.directions();
        if self.pooling == Pooling::MaxMean { 2 * width } else { width }
    }

    /// Width of the attention space of `Pooling::Attention`.
    pub fn attention_size(&self) -> usize {
        self.hidden_size
    }

    pub fn parameter_count(&self, vocab_size: usize, classes: usize) -> usize {
        let g = self.cell.gates() * self.hidden_size;
        let mut total = vocab_size.saturating_mul(self.embedding_dim);
        for layer in 0..self.layers {
            let input = if layer == 0 { self.embedding_dim } else { self.hidden_size * self.directions() };
            total = total.saturating_add(self.directions() * (g * input + g * self.hidden_size + 2 * g));
        }
        if self.pooling == Pooling::Attention {
            let (a, d) = (self.attention_size(), self.hidden_size * self.directions());
            total = total.saturating_add(a * d + 2 * a);
        }
        let outputs = super::head_outputs(classes);
        total.saturating_add(outputs.saturating_mul(self.feature_size() + 1))
    }
}
