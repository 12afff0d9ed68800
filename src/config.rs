// SPDX-License-Identifier: MIT OR Apache-2.0
//! Configuration: what a model is (stored in its file) and how to train one (the JSON accepted by
//! `senti_train`). Every training field is optional; its default is documented in the README and
//! the header. Unknown fields are errors, so a typo never silently trains the wrong model.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::Format;
use crate::error::{Error, Result, check, require_object};
use crate::nn::{CellKind, NetworkConfig, Pooling, TransformerShape};
use crate::text::{TextConfig, Truncation};

const MAX_BATCH: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    Adam,
    Adamw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    Constant,
    /// Linear decay to 10% of the initial rate over the whole run.
    Linear,
    /// Cosine decay to 10% of the initial rate over the whole run.
    Cosine,
}

pub mod fields;
mod setters;

pub use fields::FieldValue;

// `TrainParams`: the struct, its `Default` and its typed setters (`set`, `get`, `reset`), all
// generated from the one table of fields in src/config/fields.rs.
fields::train_fields!(define_train_params);
use setters::define_train_params;

/// Serde names the position of a type error but not the field; find the first field that fails
/// on its own (for types whose fields are all optional).
fn offending_field<T: serde::de::DeserializeOwned>(json: &str) -> Option<String> {
    let serde_json::Value::Object(map) = serde_json::from_str(json).ok()? else { return None };
    map.into_iter().find_map(|(key, value)| {
        let single = serde_json::Value::Object([(key.clone(), value)].into_iter().collect());
        serde_json::from_value::<T>(single).is_err().then_some(key)
    })
}

impl TrainParams {
    /// Parses the JSON given to `senti_train`. An empty string or `null` means all defaults.
    pub fn from_json(json: &str) -> Result<Self> {
        let trimmed = json.trim();
        if trimmed.is_empty() || trimmed == "null" {
            return Ok(Self::default());
        }
        require_object(trimmed, "training parameters")?;
        let params: Self = serde_json::from_str(trimmed).map_err(|e| match offending_field::<Self>(trimmed) {
            Some(field) => Error::config(format!("training parameters: field `{field}`: {e}")),
            None => Error::config(format!("training parameters: {e}")),
        })?;
        params.validate()?;
        Ok(params)
    }

    pub fn network_config(&self) -> NetworkConfig {
        NetworkConfig {
            cell: self.cell,
            embedding_dim: self.embedding_dim,
            hidden_size: self.hidden_size,
            layers: self.layers,
            bidirectional: self.bidirectional,
            pooling: self.pooling,
            dropout: self.dropout,
            embedding_dropout: self.embedding_dropout,
            transformer: (self.cell == CellKind::Transformer).then_some(TransformerShape::new(self.heads, self.ff_size, self.hidden_size)),
        }
    }

    pub fn text_config(&self) -> TextConfig {
        TextConfig { vocab_size: self.vocab_size, max_len: self.max_len, truncation: self.truncation }
    }

    pub fn validate(&self) -> Result<()> {
        // Each field's own range, from the table (src/config/fields.rs).
        self.check_fields()?;
        // Then what depends on several fields. The model and text checks repeat the ranges of
        // their fields and add the parameter-count bound.
        self.text_config().validate()?;
        // The head's size is known once the data is: two classes here, checked again in training.
        if self.layers == 0 {
            check(self.wide_ngrams > 0, || "layers 0 leaves the model no network: it needs a wide path (wide_ngrams above 0)".to_string())?;
        } else {
            self.network_config().validate(self.vocab_size, 2)?;
        }
        check(self.optimizer == Optimizer::Adamw || self.weight_decay == 0.0, || "weight_decay needs \"optimizer\": \"adamw\"".to_string())?;
        // Activations saved for the backward pass grow with batch × length × width.
        let per_step = match self.cell.recurrent() {
            Some(cell) => self.hidden_size * (cell.gates() + 3) * self.layers * if self.bidirectional { 2 } else { 1 } + self.embedding_dim,
            // Each layer keeps about a dozen widths per step, the feed-forward block's twice, and
            // every head's row of attention weights.
            None => self.layers * (12 * self.hidden_size + 2 * self.ff_size + 2 * self.heads * self.max_len) + self.embedding_dim,
        };
        let activations = self.batch_size.saturating_mul(self.max_len).saturating_mul(per_step);
        check(activations <= 1_000_000_000, || {
            format!("batch_size × max_len × model width needs about {} GB of activations; reduce one of them", activations * 4 / 1_000_000_000)
        })
    }

    pub fn thread_count(&self) -> usize {
        if self.threads > 0 { self.threads } else { crate::runtime::default_threads() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_gives_defaults_and_fields_override() {
        assert_eq!(TrainParams::from_json("").unwrap(), TrainParams::default());
        assert_eq!(TrainParams::from_json("{}").unwrap(), TrainParams::default());
        let p = TrainParams::from_json(r#"{"cell":"gru","epochs":2,"pooling":"last"}"#).unwrap();
        assert_eq!((p.cell, p.epochs, p.pooling), (CellKind::Gru, 2, Pooling::Last));
    }

    #[test]
    fn unknown_fields_and_bad_values_are_errors() {
        let err = TrainParams::from_json(r#"{"epoch":2}"#).unwrap_err().to_string();
        assert!(err.contains("unknown field `epoch`"), "{err}");
        for bad in [
            r#"{"hidden_size":0}"#,
            r#"{"vocab_size":2}"#,
            r#"{"dropout":1.0}"#,
            r#"{"learning_rate":-1}"#,
            r#"{"cell":"rnn"}"#,
            r#"{"batch_size":0}"#,
            r#"{"vocab_size":2000000,"embedding_dim":4096}"#,
            r#"{"max_len":100000,"batch_size":65536}"#,
            "[1,2]",
            "[]",
            "{",
        ] {
            assert!(TrainParams::from_json(bad).is_err(), "{bad} accepted");
        }
    }
}

