//! A trained model: the text pipeline, the network and what training recorded. Prediction and
//! evaluation take `&self` and may run from many threads at once.

use serde::{Deserialize, Serialize};

use crate::config::{ModelConfig, TextConfig, TrainParams};
use crate::data::Example;
use crate::error::{Error, Result};
use crate::nn::{Batch, Classifier, Mode};
use crate::text::Encoder;

/// Reviews per forward pass when predicting many at once.
const PREDICT_CHUNK: usize = 128;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Evaluation {
    pub count: u64,
    pub true_positive: u64,
    pub true_negative: u64,
    pub false_positive: u64,
    pub false_negative: u64,
    /// Mean binary cross-entropy.
    pub loss: f64,
    pub accuracy: f64,
}

pub struct SentimentModel {
    pub(crate) text: TextConfig,
    pub(crate) encoder: Encoder,
    pub(crate) classifier: Classifier,
    pub(crate) record: TrainingRecord,
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Binary cross-entropy from a logit, stable for large |z|.
pub(crate) fn bce_from_logit(z: f32, label: u8) -> f64 {
    let z = z as f64;
    z.max(0.0) - z * label as f64 + (-z.abs()).exp().ln_1p()
}

impl SentimentModel {
    pub fn model_config(&self) -> &ModelConfig {
        self.classifier.config()
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

    /// Probability that `text` is positive.
    pub fn predict(&self, text: &str) -> Result<f32> {
        Ok(self.predict_batch(&[text])?[0])
    }

    /// Probability that each text is positive, in input order.
    pub fn predict_batch(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let logits = self.logits(texts)?;
        Ok(logits.into_iter().map(sigmoid).collect())
    }

    fn logits(&self, texts: &[&str]) -> Result<Vec<f32>> {
        if texts.is_empty() {
            return Err(Error::invalid_argument("an empty batch has nothing to predict"));
        }
        let encoded: Vec<Vec<u32>> = texts.iter().map(|t| self.encoder.encode(t)).collect();
        self.logits_encoded(&encoded, default_threads())
    }

    /// Logits of already-encoded reviews, in input order. Reviews are grouped by length so
    /// that a chunk wastes little on padding.
    pub(crate) fn logits_encoded(&self, encoded: &[Vec<u32>], threads: usize) -> Result<Vec<f32>> {
        logits_encoded(&self.classifier, encoded, threads)
    }

    pub fn evaluate(&self, examples: &[Example]) -> Result<Evaluation> {
        if examples.is_empty() {
            return Err(Error::invalid_argument("no examples to evaluate"));
        }
        let encoded: Vec<Vec<u32>> = examples.iter().map(|e| self.encoder.encode(&e.text)).collect();
        let labels: Vec<u8> = examples.iter().map(|e| e.label).collect();
        let logits = self.logits_encoded(&encoded, default_threads())?;
        Ok(evaluation(&logits, &labels))
    }
}

pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub(crate) fn logits_encoded(classifier: &Classifier, encoded: &[Vec<u32>], threads: usize) -> Result<Vec<f32>> {
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    order.sort_by_key(|&i| encoded[i].len());
    let mut out = vec![0f32; encoded.len()];
    for chunk in order.chunks(PREDICT_CHUNK) {
        let seqs: Vec<&[u32]> = chunk.iter().map(|&i| encoded[i].as_slice()).collect();
        let batch = Batch::new(&seqs)?;
        let logits = classifier.forward(&batch, Mode::Infer, threads)?.to_vec1::<f32>()?;
        for (&i, z) in chunk.iter().zip(logits) {
            out[i] = z;
        }
    }
    Ok(out)
}

pub(crate) fn evaluation(logits: &[f32], labels: &[u8]) -> Evaluation {
    let mut e = Evaluation { count: logits.len() as u64, ..Default::default() };
    let mut loss = 0.0;
    for (&z, &y) in logits.iter().zip(labels) {
        loss += bce_from_logit(z, y);
        match (z > 0.0, y == 1) {
            (true, true) => e.true_positive += 1,
            (false, false) => e.true_negative += 1,
            (true, false) => e.false_positive += 1,
            (false, true) => e.false_negative += 1,
        }
    }
    e.loss = loss / logits.len().max(1) as f64;
    e.accuracy = (e.true_positive + e.true_negative) as f64 / logits.len().max(1) as f64;
    e
}
