// SPDX-License-Identifier: MIT OR Apache-2.0
//! Why a model gave a text its score: every token of the text, with its byte range in the text
//! as the caller gave it and a signed contribution to one class's logit.
//!
//! A model's logit for a class is `a · network + b · wide + c` (see `wide`; a model without a
//! wide path has a = 1, b = c = 0). Each part is taken apart by token:
//! - the wide path exactly (`Wide::token_contributions`): its part sums to `b · (wide − bias)`;
//! - the network by integrated gradients over the token embeddings (`nn::attribution`): its
//!   part sums to `a · (network(text) − network(no words))`, up to the integration's error.
//!
//! So `reference + Σ contributions + unexplained = logit`, where `reference` is the logit the
//! model gives a text whose embeddings are all zero and whose n-grams reach no slot, and
//! `unexplained` is the integration's error, reported with every explanation. For a two-class
//! model the explained logit of the first class is the negated logit of the second (the scores
//! are `1 − σ(z)` and `σ(z)`); beyond two classes it is the class's own logit, before the
//! softmax. Tokens past `max_len` are not read by the network; only the wide path credits them.

mod faithfulness;
mod html;

use std::ops::Range;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::nn::{DEFAULT_EXPLAIN_STEPS, MAX_EXPLAIN_STEPS};
use crate::text::{Truncation, UNK_ID};

pub use faithfulness::DeletionScores;

/// How the network's part was computed; named in every explanation.
pub const METHOD: &str = "integrated_gradients";
/// The method of a model without a network: its wide path's part is exact, and there is no
/// other (`steps` is then 0).
pub const METHOD_WIDE_ONLY: &str = "wide_path";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The class explained: the caller's choice, or the predicted class.
    pub class: usize,
    pub label: String,
    /// The model's score for that class (as `Model::scores` gives it).
    pub score: f32,
    /// The class's logit: `reference + Σ contributions + unexplained`.
    pub logit: f32,
    /// The logit with no words.
    pub reference: f32,
    /// The part of `logit − reference` the contributions leave out (the integration's error).
    pub unexplained: f32,
    pub method: &'static str,
    /// Integration steps of the network's part.
    pub steps: usize,
    pub tokens: Vec<TokenContribution>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenContribution {
    /// The token as the model saw it (lowercased).
    pub token: String,
    /// Its byte range in the text as given: `text[start..end]`.
    pub start: usize,
    pub end: usize,
    /// `network + wide`: how far the token moved the class's logit.
    pub contribution: f32,
    /// The network's part (0 for a token past `max_len`).
    pub network: f32,
    /// The wide path's part (0 without a wide path).
    pub wide: f32,
    /// Whether the network read the token (false past `max_len`).
    pub read_by_network: bool,
    /// For a network with attention pooling: the token's weight in the pooled vector (the
    /// weights of the tokens read sum to 1). Absent for other poolings and past `max_len`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention: Option<f32>,
}

impl Explanation {
    pub fn to_json(&self) -> String {
        // Only finite floats, strings and integers: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The tokens' byte ranges.
    pub fn spans(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.tokens.iter().map(|t| t.start..t.end)
    }

    /// Token indices from the strongest contribution towards the class to the strongest against.
    pub fn strongest_first(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.tokens.len()).collect();
        order.sort_by(|&a, &b| self.tokens[b].contribution.total_cmp(&self.tokens[a].contribution));
        order
    }

    /// `text` (the explained text) with the tokens at `indices` deleted, each replaced by a
    /// space so that its neighbours stay apart: what a deletion test of faithfulness feeds back
    /// to the model.
    pub fn text_without(&self, text: &str, indices: &[usize]) -> String {
        let mut cut: Vec<Range<usize>> = indices.iter().filter_map(|&i| self.tokens.get(i)).map(|t| t.start..t.end).collect();
        cut.sort_by_key(|r| r.start);
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for r in cut {
            // Tokens that share a character (İ) share its range: cut it once.
            let start = r.start.max(last);
            if start < r.end && r.end <= text.len() {
                out.push_str(&text[last..start]);
                out.push(' ');
                last = r.end;
            }
        }
        out.push_str(&text[last.min(text.len())..]);
        out
    }
}

impl Model {
    /// Explains the score `text` gets for `class` (None: the predicted class) with `steps`
    /// integration steps (0: the default, 8). Thread-safe, like prediction.
    pub fn explain(&self, text: &str, class: Option<usize>, steps: usize) -> Result<Explanation> {
        let steps = if steps == 0 { DEFAULT_EXPLAIN_STEPS } else { steps };
        if steps > MAX_EXPLAIN_STEPS {
            return Err(Error::invalid_argument(format!("integration steps must be between 0 (the default) and {MAX_EXPLAIN_STEPS}, got {steps}")));
        }
        let classes = self.labels.len();
        if let Some(k) = class.filter(|&k| k >= classes) {
            return Err(Error::invalid_argument(format!("class {k}: the model has {classes} labels")));
        }
        let threads = self.prediction_threads();
        let mut tokens: Vec<(String, Range<usize>)> = Vec::new();
        self.encoder.tokenizer.for_each_token_span(text, |t, span| tokens.push((t.to_string(), span)));
        // A model without a network reads no token through one.
        let window = if self.classifier.is_some() { self.network_window(tokens.len()) } else { 0..0 };
        let ids: Vec<u32> = if window.is_empty() {
            vec![UNK_ID]
        } else {
            tokens[window.clone()].iter().map(|(t, _)| self.encoder.vocab.id(t)).collect()
        };
        let words: Vec<&str> = tokens.iter().map(|(t, _)| t.as_str()).collect();

        // The scores as prediction computes them: the network's logits on the same path, the
        // wide path's from the same hashes, mixed.
        let rows = crate::nn::head_outputs(classes);
        let (network, reference_network) = match &self.classifier {
            Some(classifier) => (crate::model::logits_encoded(classifier, std::slice::from_ref(&ids), threads)?, classifier.reference_logits(ids.len(), threads)?),
            None => (vec![0.0; rows], vec![0.0; rows]),
        };
        let (mix, wide_logits, wide_bias) = match &self.wide {
            None => ([1.0, 0.0, 0.0], vec![0.0; network.len()], vec![0.0; network.len()]),
            Some(wide) => (wide.config.mix, wide.logits_of_tokens(&words), wide.bias.clone()),
        };
        let [a, b, c] = mix;
        let logits: Vec<f32> = network.iter().zip(&wide_logits).map(|(&r, &w)| a * r + b * w + c).collect();
        let scores = crate::model::scores_of_logits(&logits, classes);
        let class = class.unwrap_or_else(|| crate::math::argmax(&scores));
        // A two-class model has one logit, the second class's.
        let (row, sign) = if classes == 2 { (0, if class == 1 { 1.0 } else { -1.0 }) } else { (class, 1.0) };

        let (per_id, attention) = match &self.classifier {
            Some(classifier) => (classifier.integrated_gradients(&ids, row, steps, threads)?, classifier.attention_weights(&ids, threads)?),
            None => (Vec::new(), None),
        };
        let wide_parts = match &self.wide {
            None => vec![0.0; words.len()],
            Some(wide) => wide.token_contributions(&words, row),
        };
        let contributions: Vec<TokenContribution> = tokens
            .into_iter()
            .enumerate()
            .map(|(at, (token, span))| {
                let read = window.contains(&at);
                let network = if read { sign * a * per_id[at - window.start] } else { 0.0 };
                let wide = sign * b * wide_parts[at];
                let attention = attention.as_ref().filter(|_| read).map(|a| a[at - window.start]);
                TokenContribution { token, start: span.start, end: span.end, contribution: network + wide, network, wide, read_by_network: read, attention }
            })
            .collect();
        let logit = sign * logits[row];
        let reference = sign * (a * reference_network[row] + b * wide_bias[row] + c);
        let explained: f64 = contributions.iter().map(|t| t.contribution as f64).sum();
        Ok(Explanation {
            class,
            label: self.labels.name(class).unwrap_or_default().to_string(),
            score: scores[class],
            logit,
            reference,
            unexplained: (logit as f64 - reference as f64 - explained) as f32,
            method: if self.classifier.is_some() { METHOD } else { METHOD_WIDE_ONLY },
            steps: if self.classifier.is_some() { steps } else { 0 },
            tokens: contributions,
        })
    }

    /// The positions, among a text's `tokens`, that the network reads (as `Encoder::encode`
    /// truncates).
    fn network_window(&self, tokens: usize) -> Range<usize> {
        let keep = tokens.min(self.encoder.max_len);
        match self.encoder.truncation {
            Truncation::KeepStart => 0..keep,
            Truncation::KeepEnd => tokens - keep..tokens,
        }
    }
}

#[cfg(test)]
mod tests;
