//! A trained model: the text pipeline, the network and what training recorded. Prediction and
//! evaluation take `&self` and may run from many threads at once.

use serde::{Deserialize, Serialize};

use crate::config::{ModelConfig, TextConfig, TrainParams};
use crate::data::Example;
use crate::error::{Error, Result};
use crate::nn::{Batch, Classifier, Mode};
use crate::text::Encoder;
use crate::wide::Wide;

/// Reviews per forward pass when predicting many at once, at most.
const PREDICT_CHUNK: usize = 128;
/// Padded tokens per forward pass, at most (a longer review still goes alone). A pass holds each
/// direction's states, 4·hidden bytes per token (more for models without an input table, which
/// also hold the input projections), so this bounds a predicting process's working memory
/// whatever the batch it is given: 8 MB for a 128-wide LSTM.
const PREDICT_TOKENS: usize = 16_384;

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
    pub recurrent: f64,
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
    pub(crate) wide: Option<Wide>,
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

    /// The wide path, if the model has one.
    pub fn wide(&self) -> Option<&Wide> {
        self.wide.as_ref()
    }

    fn logits(&self, texts: &[&str]) -> Result<Vec<f32>> {
        if texts.is_empty() {
            return Err(Error::invalid_argument("an empty batch has nothing to predict"));
        }
        self.part_logits(texts, Part::Model)
    }

    /// Logits of `texts` from one part of the model, in input order.
    pub fn part_logits(&self, texts: &[&str], part: Part) -> Result<Vec<f32>> {
        let wide = match (part, &self.wide) {
            (Part::Model, wide) => wide.as_ref(),
            (Part::Recurrent, _) => None,
            (Part::Wide, Some(wide)) => {
                return Ok(texts.iter().map(|t| wide.logit(&self.encoder.tokenizer, t)).collect());
            }
            (Part::Wide, None) => return Err(Error::config("this model has no wide path (it was trained with wide_ngrams 0)")),
        };
        // One tokenizing pass per review feeds both parts.
        let mut wide_logits = Vec::with_capacity(if wide.is_some() { texts.len() } else { 0 });
        let encoded: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| match wide {
                None => self.encoder.encode(t),
                Some(wide) => {
                    let (ids, hashes) = crate::wide::encode_with_hashes(&self.encoder, t, wide.config.ngrams);
                    wide_logits.push(wide.logit_of_hashes(&hashes));
                    ids
                }
            })
            .collect();
        let mut logits = logits_encoded(&self.classifier, &encoded, default_threads())?;
        if let Some(wide) = wide {
            for (z, w) in logits.iter_mut().zip(wide_logits) {
                *z = wide.combine(*z, w);
            }
        }
        Ok(logits)
    }

    pub fn evaluate(&self, examples: &[Example]) -> Result<Evaluation> {
        self.evaluate_part(examples, Part::Model)
    }

    /// Evaluates one part of the model: with `Part::Recurrent`, a model with a wide path is
    /// scored as the pure recurrent network it contains.
    pub fn evaluate_part(&self, examples: &[Example], part: Part) -> Result<Evaluation> {
        if examples.is_empty() {
            return Err(Error::invalid_argument("no examples to evaluate"));
        }
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let labels: Vec<u8> = examples.iter().map(|e| e.label).collect();
        let logits = self.part_logits(&texts, part)?;
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
    let mut rest = order.as_slice();
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
