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

/// Most attention heads of a transformer layer.
pub(crate) const MAX_HEADS: usize = 64;

/// The network's shape: embedding, recurrent layers (or transformer layers), pooling and dropout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    pub cell: CellKind,
    pub embedding_dim: usize,
    /// The state width: per direction for recurrent layers, the model width for a transformer.
    pub hidden_size: usize,
    pub layers: usize,
    /// Recurrent layers only: a transformer's attention sees both sides anyway.
    pub bidirectional: bool,
    pub pooling: Pooling,
    pub dropout: f32,
    pub embedding_dropout: f32,
    /// For `CellKind::Transformer` only (and absent from the files of other models, which older
    /// libraries therefore still read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformer: Option<TransformerShape>,
}

/// What a transformer encoder has besides the shared sizes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerShape {
    /// Attention heads per layer; they divide `hidden_size`.
    pub heads: usize,
    /// Width of each layer's feed-forward block.
    pub ff_size: usize,
    /// What the embeddings are multiplied by before the positions are added: √width for the
    /// models trained now (as Vaswani et al. do). At 1, the unit-scale sinusoids drowned words
    /// whose embeddings start at a few hundredths, and the encoder stayed at chance for epochs
    /// on IMDB. Format-4 files predate it and hold 1 (the field absent); a scaled encoder is
    /// written as format 5.
    #[serde(default = "TransformerShape::unscaled", skip_serializing_if = "TransformerShape::is_unscaled")]
    pub embedding_scale: f32,
}

impl TransformerShape {
    /// The shape the training parameters ask for, the embedding scaled by √`width`.
    pub fn new(heads: usize, ff_size: usize, width: usize) -> Self {
        Self { heads, ff_size, embedding_scale: (width as f32).sqrt() }
    }
    fn unscaled() -> f32 {
        1.0
    }
    pub fn is_unscaled(scale: &f32) -> bool {
        *scale == 1.0
    }
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
        match (self.cell, self.transformer) {
            (CellKind::Transformer, None) => return Err(crate::error::Error::config("a transformer needs its heads and ff_size")),
            (CellKind::Transformer, Some(t)) => {
                check((1..=MAX_HEADS).contains(&t.heads), || format!("heads must be between 1 and {MAX_HEADS}, got {}", t.heads))?;
                check(self.hidden_size % t.heads == 0, || format!("heads ({}) must divide hidden_size ({})", t.heads, self.hidden_size))?;
                check((1..=4 * MAX_DIM).contains(&t.ff_size), || format!("ff_size must be between 1 and {}, got {}", 4 * MAX_DIM, t.ff_size))?;
                // √MAX_DIM is 64; far beyond it the embeddings overflow f32 in the first projection.
                check(t.embedding_scale > 0.0 && t.embedding_scale <= 1024.0, || format!("embedding_scale must be above 0 and at most 1024, got {}", t.embedding_scale))?;
            }
            (_, Some(_)) => return Err(crate::error::Error::config("heads, ff_size and embedding_scale belong to \"cell\": \"transformer\" only")),
            (_, None) => {}
        }
        let params = self.parameter_count(vocab_size, classes);
        check(params <= MAX_PARAMS, || format!("the model would have {params} parameters; the limit is {MAX_PARAMS}"))
    }

    pub fn directions(&self) -> usize {
        if self.bidirectional && self.cell != CellKind::Transformer { 2 } else { 1 }
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
        let mut total = vocab_size.saturating_mul(self.embedding_dim);
        match (self.cell.recurrent(), self.transformer) {
            (Some(cell), _) => {
                let g = cell.gates() * self.hidden_size;
                for layer in 0..self.layers {
                    let input = if layer == 0 { self.embedding_dim } else { self.hidden_size * self.directions() };
                    total = total.saturating_add(self.directions() * (g * input + g * self.hidden_size + 2 * g));
                }
            }
            (None, shape) => {
                let (d, f) = (self.hidden_size, shape.map_or(0, |s| s.ff_size));
                let input = if self.embedding_dim == d { 0 } else { d * self.embedding_dim };
                // Per layer: two layer norms, the fused q/k/v and output projections, the
                // feed-forward block; then the final layer norm.
                let layer = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (f * d + f) + (d * f + d);
                total = total.saturating_add(input).saturating_add(self.layers.saturating_mul(layer)).saturating_add(2 * d);
            }
        }
        if self.pooling == Pooling::Attention {
            let (a, d) = (self.attention_size(), self.hidden_size * self.directions());
            total = total.saturating_add(a * d + 2 * a);
        }
        let outputs = super::head_outputs(classes);
        total.saturating_add(outputs.saturating_mul(self.feature_size() + 1))
    }
}
