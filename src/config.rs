//! Configuration: what a model is (stored in its file) and how to train one (the JSON accepted by
//! `senti_train`). Every training field is optional; its default is documented in the README and
//! the header. Unknown fields are errors, so a typo never silently trains the wrong model.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::Format;
use crate::error::{Error, Result};
use crate::nn::{CellKind, Pooling};
use crate::text::Truncation;

/// Limits that keep absurd requests from exhausting memory; far beyond any sensible model.
pub(crate) const MAX_VOCAB: usize = 2_000_000;
pub(crate) const MAX_DIM: usize = 4096;
pub(crate) const MAX_LAYERS: usize = 8;
pub(crate) const MAX_LEN: usize = 100_000;
pub(crate) const MAX_BATCH: usize = 65_536;
/// Parameters of a model (floats), about 2 GB.
pub(crate) const MAX_PARAMS: usize = 500_000_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub cell: CellKind,
    pub embedding_dim: usize,
    pub hidden_size: usize,
    pub layers: usize,
    pub bidirectional: bool,
    pub pooling: Pooling,
    pub dropout: f32,
    pub embedding_dropout: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextConfig {
    /// Entries in the vocabulary, padding and unknown included.
    pub vocab_size: usize,
    pub max_len: usize,
    pub truncation: Truncation,
}

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

fn check(ok: bool, msg: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::config(msg())) }
}

fn check_fraction(name: &str, v: f32, max: f32) -> Result<()> {
    check(v.is_finite() && (0.0..max).contains(&v), || format!("{name} must be in [0, {max}), got {v}"))
}

/// Serde also fills a struct from a JSON array, field by field in declaration order: `[]` would
/// be every default (training the default model on the default data) and `["x.jsonl"]` a data
/// path. Parameters are JSON objects only.
fn require_object(json: &str, what: &str) -> Result<()> {
    check(!json.trim_start().starts_with('['), || format!("{what}: expected a JSON object, got an array"))
}

/// Serde names the position of a type error but not the field; find the first field that fails
/// on its own (for types whose fields are all optional).
fn offending_field<T: serde::de::DeserializeOwned>(json: &str) -> Option<String> {
    let serde_json::Value::Object(map) = serde_json::from_str(json).ok()? else { return None };
    map.into_iter().find_map(|(key, value)| {
        let single = serde_json::Value::Object([(key.clone(), value)].into_iter().collect());
        serde_json::from_value::<T>(single).is_err().then_some(key)
    })
}

impl ModelConfig {
    pub fn validate(&self, vocab_size: usize) -> Result<()> {
        for (name, v, max) in [
            ("embedding_dim", self.embedding_dim, MAX_DIM),
            ("hidden_size", self.hidden_size, MAX_DIM),
            ("layers", self.layers, MAX_LAYERS),
        ] {
            check((1..=max).contains(&v), || format!("{name} must be between 1 and {max}, got {v}"))?;
        }
        check_fraction("dropout", self.dropout, 1.0)?;
        check_fraction("embedding_dropout", self.embedding_dropout, 1.0)?;
        let params = self.parameter_count(vocab_size);
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

    pub fn parameter_count(&self, vocab_size: usize) -> usize {
        let g = self.cell.gates() * self.hidden_size;
        let mut total = vocab_size.saturating_mul(self.embedding_dim);
        for layer in 0..self.layers {
            let input = if layer == 0 { self.embedding_dim } else { self.hidden_size * self.directions() };
            total = total.saturating_add(self.directions() * (g * input + g * self.hidden_size + 2 * g));
        }
        total.saturating_add(self.feature_size() + 1)
    }
}

impl TextConfig {
    pub fn validate(&self) -> Result<()> {
        check((3..=MAX_VOCAB).contains(&self.vocab_size), || format!("vocab_size must be between 3 and {MAX_VOCAB}, got {}", self.vocab_size))?;
        check((1..=MAX_LEN).contains(&self.max_len), || format!("max_len must be between 1 and {MAX_LEN}, got {}", self.max_len))
    }
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

    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            cell: self.cell,
            embedding_dim: self.embedding_dim,
            hidden_size: self.hidden_size,
            layers: self.layers,
            bidirectional: self.bidirectional,
            pooling: self.pooling,
            dropout: self.dropout,
            embedding_dropout: self.embedding_dropout,
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
        self.model_config().validate(self.vocab_size)?;
        check(self.optimizer == Optimizer::Adamw || self.weight_decay == 0.0, || "weight_decay needs \"optimizer\": \"adamw\"".to_string())?;
        // Activations saved for the backward pass grow with batch × length × width.
        let per_step = self.hidden_size * (self.cell.gates() + 3) * self.layers * if self.bidirectional { 2 } else { 1 } + self.embedding_dim;
        let activations = self.batch_size.saturating_mul(self.max_len).saturating_mul(per_step);
        check(activations <= 1_000_000_000, || {
            format!("batch_size × max_len × model width needs about {} GB of activations; reduce one of them", activations * 4 / 1_000_000_000)
        })
    }

    pub fn thread_count(&self) -> usize {
        if self.threads > 0 { self.threads } else { std::thread::available_parallelism().map_or(1, |n| n.get()) }
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

/// Labeled data to evaluate on, as the JSON accepted by `senti_evaluate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    pub path: PathBuf,
    #[serde(default)]
    pub format: Format,
    /// For IMDB sources; defaults to the test split. Must be absent for JSONL and CSV files.
    #[serde(default)]
    pub split: Option<crate::data::Split>,
    /// Evaluate on at most this many reviews (a fixed, class-balanced sample).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Which part of the model answers: the whole model (default), or the recurrent network
    /// or the wide path of a model that has one, alone.
    #[serde(default)]
    pub part: crate::model::Part,
}

impl DataSpec {
    pub fn from_json(json: &str) -> Result<Self> {
        require_object(json, "data specification")?;
        let spec: Self = serde_json::from_str(json).map_err(|e| Error::config(format!("data specification: {e}")))?;
        check(spec.limit != Some(0), || "limit must be at least 1".to_string())?;
        Ok(spec)
    }

    pub fn load(&self) -> Result<Vec<crate::data::Example>> {
        let format = self.format.resolve(&self.path)?;
        let split = if format.has_splits() { Some(self.split.unwrap_or(crate::data::Split::Test)) } else { self.split };
        let examples = crate::data::load(&self.path, format, split)?;
        Ok(match self.limit {
            Some(limit) => crate::train::balanced_sample(examples, limit, &mut crate::rng::Rng::new(0)),
            None => examples,
        })
    }
}
