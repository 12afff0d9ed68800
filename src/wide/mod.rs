// SPDX-License-Identifier: MIT OR Apache-2.0
//! The wide path: a linear model over hashed word n-grams that sits beside the recurrent network.
//!
//! A bag of n-grams scaled by naive-Bayes log-count ratios and fitted by logistic regression
//! (NB-LR, after Wang & Manning 2012) is a strong sentiment baseline on long reviews, and it errs
//! on different reviews than a recurrent network does. A model with a wide path adds the two
//! logits, with a mix fitted on the validation slice:
//!
//!   logit = a · recurrent_logit + b · wide_logit + c
//!
//! A model of K > 2 classes has K wide logits, one-vs-rest NB-LR models (class k against the
//! rest), and K recurrent logits; class k's logit is `a · recurrent_k + b · wide_k` and a softmax
//! turns them into scores (an offset is meaningless under a softmax).
//!
//! The wide path reads every token of the review (no `max_len` truncation): its cost is one hash
//! per token. Features are binary (an n-gram is present or not) and hashed into `buckets` slots,
//! so unseen n-grams need no vocabulary. After training, each slot's weight folds the NB ratio in:
//! `wide_logit = bias + Σ weight[slot]` over the distinct slots of the review.

mod attribution;
mod fit;
mod mix;

use serde::{Deserialize, Serialize};

pub use fit::{WideTraining, fit};
pub use mix::fit_mix;

use crate::error::{Error, Result};
use crate::rng::mix64;
use crate::text::{Encoder, Tokenizer};

pub(crate) const MAX_BUCKETS: usize = 1 << 26;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WideConfig {
    /// Longest n-gram: 1 (words), 2 (words and word pairs) or 3.
    pub ngrams: usize,
    /// Hash slots.
    pub buckets: usize,
    /// The mix `[a, b, c]`: logit = a · recurrent + b · wide + c (c is 0 for K > 2 classes).
    pub mix: [f32; 3],
}

impl WideConfig {
    pub fn validate(&self) -> Result<()> {
        if !(1..=3).contains(&self.ngrams) {
            return Err(Error::config(format!("wide_ngrams must be 0 (no wide path), 1, 2 or 3, got {}", self.ngrams)));
        }
        if !(1024..=MAX_BUCKETS).contains(&self.buckets) {
            return Err(Error::config(format!("wide_buckets must be between 1024 and {MAX_BUCKETS}, got {}", self.buckets)));
        }
        if self.mix.iter().any(|v| !v.is_finite()) {
            return Err(Error::config("the wide path's mix must be finite"));
        }
        Ok(())
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Hashes the n-grams (1..=`ngrams` words) of a token stream as the tokens come.
pub struct NgramHasher {
    ngrams: usize,
    recent: [u64; 3],
    seen: usize,
    hashes: Vec<u64>,
}

impl NgramHasher {
    pub fn new(ngrams: usize) -> Self {
        Self { ngrams, recent: [0; 3], seen: 0, hashes: Vec::new() }
    }

    pub fn push(&mut self, token: &str) {
        self.recent.rotate_right(1);
        self.recent[0] = fnv1a(token.as_bytes());
        self.seen += 1;
        let mut h = 0u64;
        for (n, &word) in self.recent.iter().enumerate().take(self.ngrams.min(self.seen)) {
            // Order-sensitive combination; the constant keeps "a b" and "b a" apart.
            h = h.rotate_left(21).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ word ^ (n as u64 + 1);
            self.hashes.push(mix64(h));
        }
    }

    /// The hashes pushed so far, in order, repeats included: each `push` adds the hash of the
    /// one-word n-gram ending at its token, then the two-word one, and so on.
    pub(crate) fn pushed(&self) -> &[u64] {
        &self.hashes
    }

    /// The distinct hashes, sorted.
    pub fn finish(mut self) -> Vec<u64> {
        self.hashes.sort_unstable();
        self.hashes.dedup();
        self.hashes
    }
}

/// The distinct 64-bit hashes of the n-grams (1..=`ngrams` words) of `text`, sorted.
pub fn ngram_hashes(tokenizer: &Tokenizer, text: &str, ngrams: usize) -> Vec<u64> {
    let mut hasher = NgramHasher::new(ngrams);
    tokenizer.for_each_token(text, |t| hasher.push(t));
    hasher.finish()
}

/// The token ids `encoder` gives `text` and, from the same tokenizing pass, the distinct hashes of
/// all its n-grams (the whole text, not only the ids kept).
pub fn encode_with_hashes(encoder: &Encoder, text: &str, ngrams: usize) -> (Vec<u32>, Vec<u64>) {
    let mut hasher = NgramHasher::new(ngrams);
    let ids = encoder.encode_observing(text, |t| hasher.push(t));
    (ids, hasher.finish())
}

/// The distinct slots of sorted, distinct hashes, sorted.
pub fn slots_of(hashes: &[u64], buckets: usize) -> Vec<u32> {
    let mut out: Vec<u32> = hashes.iter().map(|&h| (h % buckets as u64) as u32).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The distinct hash slots of the n-grams of `text`, sorted.
pub fn features(tokenizer: &Tokenizer, text: &str, ngrams: usize, buckets: usize) -> Vec<u32> {
    slots_of(&ngram_hashes(tokenizer, text, ngrams), buckets)
}

/// Slots for `wide_buckets: 0`: a power of two at least twice the distinct n-grams of the
/// training reviews (few collisions), from 2^10 up to 2^21 (8 MB of weights, which the IMDB
/// training split's words and word pairs reach); with `rows` weights per slot (one per class
/// beyond two classes), at most 2^24 weights in all.
pub(crate) fn auto_buckets(docs: &[Vec<u64>], rows: usize) -> usize {
    let mut all: Vec<u64> = docs.iter().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    let most = ((1usize << 24) / rows.max(1)).max(1 << 10);
    let most = if most.is_power_of_two() { most } else { most.next_power_of_two() / 2 };
    (2 * all.len()).next_power_of_two().clamp(1 << 10, (1 << 21).min(most))
}

/// A trained wide path: per hash slot one weight per row, and a bias per row. There is one row
/// for two classes (the logit of the second) and one per class beyond.
#[derive(Debug, Clone)]
pub struct Wide {
    pub config: WideConfig,
    /// Slot-major: the weight of `slot` for `row` is `weights[slot * rows + row]`, so a review's
    /// slots each read one contiguous run.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Wide {
    /// Logits per row (one for two classes).
    pub fn rows(&self) -> usize {
        self.bias.len()
    }

    /// The logits of a review from its slots, into `out` (`rows()` long).
    pub fn logits_of(&self, slots: &[u32], out: &mut [f32]) {
        let rows = self.rows();
        if rows == 1 {
            // The two-class sum in the order format-1 models were scored in.
            out[0] = self.bias[0] + slots.iter().map(|&s| self.weights[s as usize]).sum::<f32>();
            return;
        }
        out.copy_from_slice(&self.bias);
        for &s in slots {
            let w = &self.weights[s as usize * rows..(s as usize + 1) * rows];
            for (o, &v) in out.iter_mut().zip(w) {
                *o += v;
            }
        }
    }

    /// The logits of a review from its `NgramHasher::finish` hashes.
    pub(crate) fn logits_of_hashes(&self, hashes: &[u64]) -> Vec<f32> {
        let mut out = vec![0.0; self.rows()];
        self.logits_of(&slots_of(hashes, self.config.buckets), &mut out);
        out
    }

    pub(crate) fn logits(&self, tokenizer: &Tokenizer, text: &str) -> Vec<f32> {
        self.logits_of_hashes(&ngram_hashes(tokenizer, text, self.config.ngrams))
    }

    /// The logits of a review already split into tokens (an explanation has them with their spans).
    pub(crate) fn logits_of_tokens(&self, tokens: &[&str]) -> Vec<f32> {
        let mut hasher = NgramHasher::new(self.config.ngrams);
        tokens.iter().for_each(|t| hasher.push(t));
        self.logits_of_hashes(&hasher.finish())
    }

    /// The model's logits from the recurrent network's and the wide path's, in place over
    /// `recurrent`.
    pub(crate) fn combine(&self, recurrent: &mut [f32], wide: &[f32]) {
        let [a, b, c] = self.config.mix;
        for (r, &w) in recurrent.iter_mut().zip(wide) {
            *r = a * *r + b * w + c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_distinct_sorted_and_order_sensitive() {
        let t = Tokenizer::new();
        let f = features(&t, "good good movie", 2, 1 << 20);
        assert!(f.windows(2).all(|w| w[0] < w[1]));
        // "good", "movie", "good good", "good movie"
        assert_eq!(f.len(), 4);
        assert_ne!(features(&t, "not good", 2, 1 << 20), features(&t, "good not", 2, 1 << 20));
        assert_eq!(features(&t, "not good", 1, 1 << 20), features(&t, "good not", 1, 1 << 20));
        assert!(features(&t, "", 3, 1024).is_empty());
    }

    #[test]
    fn automatic_slots_leave_room_for_every_class() {
        let docs: Vec<Vec<u64>> = vec![(0..100_000u64).collect()];
        assert_eq!(auto_buckets(&docs, 1), 1 << 18);
        assert_eq!(auto_buckets(&docs, 1000), 1 << 14);
        assert_eq!(auto_buckets(&[vec![1]], 3), 1 << 10);
    }
}
