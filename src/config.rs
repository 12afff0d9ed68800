//! Configuration: what a model is (stored in its file) and how to train one (the JSON accepted by
//! `senti_train`). Every training field is optional; its default is documented in the README and
//! the header. Unknown fields are errors, so a typo never silently trains the wrong model.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::Format;
use crate::error::{Error, Result, check, check_fraction, require_object};
use crate::nn::{CellKind, NetworkConfig, Pooling};
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

/// The parameters of `senti_train`, flat as the JSON is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainParams {
    pub data_path: PathBuf,
    pub data_format: Format,
    /// Use at most this many training reviews (a seeded, class-balanced sample); all when absent.
    pub train_limit: Option<usize>,
    pub validation_fraction: f32,
    pub cell: CellKind,
    pub embedding_dim: usize,
    pub hidden_size: usize,
    pub layers: usize,
    pub bidirectional: bool,
    pub pooling: Pooling,
    pub dropout: f32,
    pub embedding_dropout: f32,
    /// Passes of skip-gram word vectors over the training reviews' text that start the
    /// embedding (`crate::nn::word2vec`); 0 starts it at random. Absent (or null): the
    /// library decides by the size of the text (`word2vec::auto_passes`).
    pub embedding_pretrain_epochs: Option<usize>,
    pub vocab_size: usize,
    pub max_len: usize,
    pub truncation: Truncation,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: Optimizer,
    pub learning_rate: f64,
    pub lr_schedule: LrSchedule,
    pub weight_decay: f64,
    /// Global gradient-norm clip; 0 disables clipping.
    pub clip_norm: f64,
    /// Keep the weights of the epoch with the best validation accuracy.
    pub restore_best: bool,
    pub seed: u64,
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    /// Longest word n-gram of the wide path beside the recurrent network (`crate::wide`);
    /// 0 trains a pure recurrent model.
    pub wide_ngrams: usize,
    /// Hash slots of the wide path; 0 picks them from the training data (at most 2^21).
    pub wide_buckets: usize,
    pub wide_epochs: usize,
    pub wide_learning_rate: f64,
    pub wide_l2: f64,
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            data_path: PathBuf::from("data/imdb/reviews.json"),
            data_format: Format::Auto,
            train_limit: None,
            validation_fraction: 0.1,
            cell: CellKind::Lstm,
            embedding_dim: 128,
            hidden_size: 128,
            layers: 1,
            bidirectional: true,
            pooling: Pooling::MaxMean,
            dropout: 0.3,
            embedding_dropout: 0.1,
            embedding_pretrain_epochs: None,
            vocab_size: 30_000,
            max_len: 800,
            truncation: Truncation::KeepEnd,
            epochs: 3,
            batch_size: 64,
            optimizer: Optimizer::Adam,
            learning_rate: 2e-3,
            lr_schedule: LrSchedule::Cosine,
            weight_decay: 0.0,
            clip_norm: 1.0,
            restore_best: true,
            seed: 42,
            threads: 0,
            wide_ngrams: 2,
            wide_buckets: 0,
            wide_epochs: 3,
            wide_learning_rate: 0.03,
            wide_l2: 1e-6,
        }
    }
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
        }
    }

    pub fn text_config(&self) -> TextConfig {
        TextConfig { vocab_size: self.vocab_size, max_len: self.max_len, truncation: self.truncation }
    }

    pub fn validate(&self) -> Result<()> {
        self.text_config().validate()?;
        // The head's size is known once the data is: two classes here, checked again in training.
        self.network_config().validate(self.vocab_size, 2)?;
        check(self.epochs >= 1 && self.epochs <= 10_000, || format!("epochs must be between 1 and 10000, got {}", self.epochs))?;
        check((1..=MAX_BATCH).contains(&self.batch_size), || format!("batch_size must be between 1 and {MAX_BATCH}, got {}", self.batch_size))?;
        check(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 10.0, || {
            format!("learning_rate must be a finite number in (0, 10], got {}", self.learning_rate)
        })?;
        check(self.weight_decay.is_finite() && (0.0..=1.0).contains(&self.weight_decay), || {
            format!("weight_decay must be in [0, 1], got {}", self.weight_decay)
        })?;
        check(self.clip_norm.is_finite() && self.clip_norm >= 0.0, || format!("clip_norm must be finite and >= 0, got {}", self.clip_norm))?;
        check_fraction("validation_fraction", self.validation_fraction, 0.9)?;
        if let Some(passes) = self.embedding_pretrain_epochs {
            check(passes <= 100, || format!("embedding_pretrain_epochs must be at most 100, got {passes}"))?;
        }
        check(self.train_limit != Some(0), || "train_limit must be at least 1".to_string())?;
        check(self.threads <= 1024, || format!("threads must be at most 1024, got {}", self.threads))?;
        check(self.wide_ngrams <= 3, || format!("wide_ngrams must be 0 (no wide path), 1, 2 or 3, got {}", self.wide_ngrams))?;
        let max_buckets = crate::wide::MAX_BUCKETS;
        check(self.wide_buckets == 0 || (1024..=max_buckets).contains(&self.wide_buckets), || {
            format!("wide_buckets must be 0 (automatic) or between 1024 and {max_buckets}, got {}", self.wide_buckets)
        })?;
        check((1..=1000).contains(&self.wide_epochs), || format!("wide_epochs must be between 1 and 1000, got {}", self.wide_epochs))?;
        check(self.wide_learning_rate.is_finite() && self.wide_learning_rate > 0.0 && self.wide_learning_rate <= 10.0, || {
            format!("wide_learning_rate must be a finite number in (0, 10], got {}", self.wide_learning_rate)
        })?;
        check(self.wide_l2.is_finite() && (0.0..=1.0).contains(&self.wide_l2), || format!("wide_l2 must be in [0, 1], got {}", self.wide_l2))?;
        // Activations saved for the backward pass grow with batch × length × width.
        let per_step = self.hidden_size * (self.cell.gates() + 3) * self.layers * if self.bidirectional { 2 } else { 1 } + self.embedding_dim;
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

