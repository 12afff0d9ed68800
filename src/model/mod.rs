// SPDX-License-Identifier: MIT OR Apache-2.0
//! A trained model: the text pipeline, the network (recurrent or transformer; absent in a model
//! that is its wide path alone), the optional wide path, the class labels and what training
//! recorded. Prediction and evaluation take `&self` and may run from
//! many threads at once.

mod evaluation;

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

pub use evaluation::{ClassScores, Evaluation};

use crate::config::TrainParams;
use crate::data::{DataSpec, Example, Labels};
use crate::error::{Error, Result, require_object};
use crate::nn::{Batch, Classifier, Mode, NetworkConfig, Precision};
use crate::text::{Encoder, TextConfig};
use crate::runtime::MAX_THREADS;
use crate::wide::Wide;

/// Reviews per forward pass when predicting many at once, at most.
const PREDICT_CHUNK: usize = 128;
/// Padded tokens per forward pass, at most (a longer review still goes alone). A pass holds each
/// direction's states, 4·hidden bytes per token (more for models without an input table, which
/// also hold the input projections), so this bounds a predicting process's working memory
/// whatever the batch it is given: 6 MB for a 128-wide LSTM. From 16,384 to 12,288 the default
/// models' serving probe peaked at 97 and 95 MB instead of 164 and 160 (with the load's buffers
/// released), at the same batch throughput within the machine's noise.
const PREDICT_TOKENS: usize = 12_288;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub seconds: f64,
    /// Real (unpadded) tokens trained on in the epoch.
    #[serde(default)]
    pub tokens: u64,
}

/// How a model was trained: the parameters and the run's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub params: TrainParams,
    pub history: Vec<EpochStats>,
    /// The epoch whose weights the model holds (1-based).
    pub best_epoch: usize,
    pub train_examples: usize,
    pub validation_examples: usize,
    pub seconds: f64,
    /// For a model with a wide path: each part's accuracy on the validation slice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_parts: Option<PartScores>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PartScores {
    /// None for a model without a network (`layers` 0).
    pub recurrent: Option<f64>,
    pub wide: f64,
    pub combined: f64,
}

/// The part of a model that answers an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The whole model: the recurrent network, mixed with the wide path when there is one.
    #[default]
    Model,
    /// The recurrent network alone.
    Recurrent,
    /// The wide n-gram path alone.
    Wide,
}

/// What `senti_evaluate` is asked: a data source (`DataSpec`'s fields) and the part of the
/// model that answers (`"part"`, default the whole model).
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRequest {
    pub data: DataSpec,
    pub part: Part,
}

impl EvaluationRequest {
    pub fn from_json(json: &str) -> Result<Self> {
        require_object(json, "data specification")?;
        let mut map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|e| Error::config(format!("data specification: {e}")))?;
        let part = match map.remove("part") {
            None => Part::Model,
            Some(v) => serde_json::from_value(v).map_err(|e| Error::config(format!("data specification: field `part`: {e}")))?,
        };
        let data: DataSpec = serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| Error::config(format!("data specification: {e}")))?;
        data.validate()?;
        Ok(Self { data, part })
    }

    /// Loads the data and evaluates the requested part of `model` on it.
    pub fn evaluate(&self, model: &Model) -> Result<Evaluation> {
        model.evaluate_part(&self.data.load()?, self.part)
    }
}

/// A trained text classifier.
pub struct Model {
    pub(crate) text: TextConfig,
    pub(crate) encoder: Encoder,
    /// None for a model that is its wide path alone (trained with `layers` 0).
    pub(crate) classifier: Option<Classifier>,
    pub(crate) wide: Option<Wide>,
    pub(crate) labels: Labels,
    pub(crate) record: TrainingRecord,
    /// Threads one prediction call may split its reviews between; 0 means one per available
    /// core. Atomic because a model is shared by the threads that predict with it.
    pub(crate) prediction_threads: AtomicUsize,
}

/// The name the two-class library gave its model; the same type.
pub type SentimentModel = Model;

impl Model {
    /// The network's shape; None for a model that is its wide path alone.
    pub fn network_config(&self) -> Option<&NetworkConfig> {
        self.classifier.as_ref().map(Classifier::config)
    }

    pub fn text_config(&self) -> &TextConfig {
        &self.text
    }

    pub fn record(&self) -> &TrainingRecord {
        &self.record
    }

    pub fn vocab_len(&self) -> usize {
        self.encoder.vocab.len()
    }

    /// Sets how many threads each later prediction call may use (0: one per available core).
    /// A service that predicts from many threads at once gets more throughput from 1; a program
    /// that makes one call at a time gets lower latency from the default.
    pub fn set_prediction_threads(&self, threads: usize) -> Result<()> {
        if threads > MAX_THREADS {
            return Err(Error::invalid_argument(format!("prediction threads must be between 0 and {MAX_THREADS}, got {threads}")));
        }
        self.prediction_threads.store(threads, Ordering::Relaxed);
        Ok(())
    }

    /// The threads a prediction call uses now.
    pub fn prediction_threads(&self) -> usize {
        match self.prediction_threads.load(Ordering::Relaxed) {
            0 => crate::runtime::default_threads(),
            n => n,
        }
    }

    /// Sets the precision later predictions store the network's input table and recurrent weights
    /// at (`Precision::F32` after loading). `F16` and `I16` halve the memory of the per-word input
    /// table — which lets the default bidirectional model keep one at all — and the bytes a single
    /// review reads at every step, where that reading is the limit; probabilities move by about
    /// 1e-4. `I16` multiplies integers where `F16` widens halves (faster where the CPU has AVX2
    /// but not AVX-512).
    /// Calls already running finish with the weights they started with. Training, the wide path
    /// and a transformer's layers stay f32, and explanations integrate at f32 (their score is the
    /// model's at its precision, the difference in their unexplained part); for a model without
    /// a network it changes nothing.
    pub fn set_prediction_precision(&self, precision: Precision) -> Result<()> {
        if let Some(classifier) = &self.classifier
            && classifier.set_precision(precision)?
        {
            // Building the new tables freed blocks the size of a table, which the library's
            // allocator would keep for reuse; a switch is not repeated like a batch.
            crate::runtime::release_cached_memory();
        }
        Ok(())
    }

    /// The precision the network predicts with now.
    pub fn prediction_precision(&self) -> Precision {
        self.classifier.as_ref().map_or(Precision::F32, Classifier::precision)
    }

    /// The classes, in score order.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// The wide path, if the model has one.
    pub fn wide(&self) -> Option<&Wide> {
        self.wide.as_ref()
    }

    /// For a two-class model, the probability of the second class (`positive` for IMDB).
    pub fn predict(&self, text: &str) -> Result<f32> {
        Ok(self.predict_batch(&[text])?[0])
    }

    /// `predict` for each text, in input order.
    pub fn predict_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
        if self.labels.len() != 2 {
            return Err(Error::invalid_argument(format!(
                "this model has {} labels; a single probability exists only for two (ask for every class's score instead)",
                self.labels.len()
            )));
        }
        let scores = self.scores_batch(texts)?;
        Ok(scores.chunks_exact(2).map(|s| s[1]).collect())
    }

    /// The score of every class for `text` (they sum to 1), in label order.
    pub fn scores(&self, text: &str) -> Result<Vec<f32>> {
        self.scores_batch(&[text])
    }

    /// Every class's score for each text: `texts.len() × labels().len()` values, row by row.
    pub fn scores_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
        if texts.is_empty() {
            return Err(Error::invalid_argument("an empty batch has nothing to predict"));
        }
        let logits = self.part_logits(texts, Part::Model)?;
        Ok(scores_of_logits(&logits, self.labels.len()))
    }

    /// The most likely class of `text` and its score.
    pub fn top_label(&self, text: &str) -> Result<(usize, f32)> {
        let scores = self.scores(text)?;
        let k = crate::math::argmax(&scores);
        Ok((k, scores[k]))
    }

    /// Logits of `texts` from one part of the model, in input order: one per text for two
    /// classes, else one per class, row by row.
    pub fn part_logits(&self, texts: &[&str], part: Part) -> Result<Vec<f32>> {
        // Without a network the model is its wide path: its mix is [0, 1, 0], so the model's
        // logits are the wide path's, with no vocabulary lookups or ids to make.
        let part = if part == Part::Model && self.classifier.is_none() { Part::Wide } else { part };
        let wide = match (part, &self.wide) {
            (Part::Model, wide) => wide.as_ref(),
            (Part::Recurrent, _) if self.classifier.is_none() => {
                return Err(Error::config("this model has no network: it is its wide path alone (it was trained with layers 0)"));
            }
            (Part::Recurrent, _) => None,
            (Part::Wide, Some(wide)) => {
                return Ok(texts.iter().flat_map(|t| wide.logits(&self.encoder.tokenizer, t)).collect());
            }
            (Part::Wide, None) => return Err(Error::config("this model has no wide path (it was trained with wide_ngrams 0)")),
        };
        // One tokenizing pass per review feeds both parts.
        let mut wide_logits = Vec::new();
        let encoded: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| match wide {
                None => self.encoder.encode(t),
                Some(wide) => {
                    let (ids, hashes) = crate::wide::encode_with_hashes(&self.encoder, t, wide.config.ngrams);
                    wide_logits.extend(wide.logits_of_hashes(&hashes));
                    ids
                }
            })
            .collect();
        let classifier = self.classifier.as_ref().ok_or_else(|| Error::config("this model has neither a network nor a wide path"))?;
        let mut logits = logits_encoded(classifier, &encoded, self.prediction_threads())?;
        if let Some(wide) = wide {
            wide.combine(&mut logits, &wide_logits);
        }
        Ok(logits)
    }

    pub fn evaluate(&self, examples: &[Example]) -> Result<Evaluation> {
        self.evaluate_part(examples, Part::Model)
    }

    /// Evaluates one part of the model: with `Part::Recurrent`, a model with a wide path is
    /// scored as the pure recurrent network it contains. A label the model does not know is a
    /// data error naming where the example came from.
    pub fn evaluate_part(&self, examples: &[Example], part: Part) -> Result<Evaluation> {
        if examples.is_empty() {
            return Err(Error::invalid_argument("no examples to evaluate"));
        }
        let labels = self.labels.indices(examples)?;
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let logits = self.part_logits(&texts, part)?;
        Ok(Evaluation::from_logits(&logits, &labels, &self.labels))
    }
}

/// Scores (probabilities summing to 1 per row) from logits of `classes` classes.
pub(crate) fn scores_of_logits(logits: &[f32], classes: usize) -> Vec<f32> {
    if classes <= 2 {
        return logits
            .iter()
            .flat_map(|&z| {
                let p = crate::math::sigmoid(z as f64) as f32;
                [1.0 - p, p]
            })
            .collect();
    }
    let mut out = logits.to_vec();
    for row in out.chunks_exact_mut(classes) {
        crate::math::softmax_in_place(row);
    }
    out
}

/// The classifier's logits for encoded reviews, in input order (`outputs` per review).
pub(crate) fn logits_encoded(classifier: &Classifier, encoded: &[Vec<u32>], threads: usize) -> Result<Vec<f32>> {
    let width = classifier.outputs();
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    order.sort_by_key(|&i| encoded[i].len());
    let mut out = vec![0f32; encoded.len() * width];
    let mut rest = order.as_slice();
    // One set of prediction weights for every chunk: a precision switched meanwhile waits for
    // the next call.
    let prepared = classifier.prepared()?;
    while !rest.is_empty() {
        // Sorted by length, so the chunk's last review is its longest: grow the chunk while the
        // padded size fits the token budget.
        let mut n = 1;
        while n < rest.len().min(PREDICT_CHUNK) && (n + 1) * encoded[rest[n]].len() <= PREDICT_TOKENS {
            n += 1;
        }
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let seqs: Vec<&[u32]> = chunk.iter().map(|&i| encoded[i].as_slice()).collect();
        let batch = Batch::new(&seqs)?;
        let logits = classifier.forward_with(&batch, Mode::Infer, threads, prepared.clone())?.flatten_all()?.to_vec1::<f32>()?;
        for (&i, z) in chunk.iter().zip(logits.chunks_exact(width)) {
            out[i * width..(i + 1) * width].copy_from_slice(z);
        }
    }
    Ok(out)
}
