// SPDX-License-Identifier: MIT OR Apache-2.0
//! The wide path's logit taken apart by token, exactly.
//!
//! The logit is the bias plus one weight per distinct hash slot the review's n-grams reach. A
//! slot reached by several n-gram occurrences (a repeated word, a repeated pair, a collision)
//! counts once, so its weight is shared equally between those occurrences, and an occurrence's
//! share equally between its words. The contributions therefore sum to `logit − bias`.

use std::collections::BTreeMap;

use super::{NgramHasher, Wide};

impl Wide {
    /// Each token's part of logit `row` (0 for a two-class model), for the review whose tokens
    /// (all of them, as the tokenizer gives them) are `tokens`.
    pub(crate) fn token_contributions(&self, tokens: &[&str], row: usize) -> Vec<f32> {
        let rows = self.rows();
        let mut hasher = NgramHasher::new(self.config.ngrams);
        // slot -> (first token, words) of every n-gram occurrence that reaches it.
        let mut occurrences: BTreeMap<u32, Vec<(usize, usize)>> = BTreeMap::new();
        for (at, token) in tokens.iter().enumerate() {
            let before = hasher.pushed().len();
            hasher.push(token);
            for (n, &hash) in hasher.pushed()[before..].iter().enumerate() {
                let slot = (hash % self.config.buckets as u64) as u32;
                occurrences.entry(slot).or_default().push((at - n, n + 1));
            }
        }
        let mut out = vec![0f64; tokens.len()];
        for (slot, reached) in occurrences {
            let share = self.weights[slot as usize * rows + row] as f64 / reached.len() as f64;
            for (first, words) in reached {
                for v in &mut out[first..first + words] {
                    *v += share / words as f64;
                }
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Tokenizer;
    use crate::wide::WideConfig;

    fn wide(rows: usize, ngrams: usize, buckets: usize) -> Wide {
        let weights = (0..buckets * rows).map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0).collect();
        Wide { config: WideConfig { ngrams, buckets, mix: [1.0, 1.0, 0.0] }, weights, bias: (0..rows).map(|r| r as f32 * 0.1 - 0.3).collect() }
    }

    #[test]
    fn contributions_sum_to_the_logit_without_its_bias() {
        let tokenizer = Tokenizer::new();
        // Repeats and, with 1024 slots, collisions.
        let text = "not good , not good at all . the plot the plot the plot ! good";
        let tokens = tokenizer.tokenize(text);
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        for (rows, ngrams, buckets) in [(1, 1, 1 << 20), (1, 2, 1024), (3, 3, 1 << 12)] {
            let w = wide(rows, ngrams, buckets);
            let mut logits = vec![0.0; rows];
            w.logits_of(&crate::wide::features(&tokenizer, text, ngrams, buckets), &mut logits);
            for row in 0..rows {
                let parts = w.token_contributions(&refs, row);
                assert_eq!(parts.len(), tokens.len());
                let sum: f32 = parts.iter().sum();
                assert!((sum + w.bias[row] - logits[row]).abs() < 1e-4, "{rows} {ngrams} {buckets} row {row}: {sum} + {} vs {}", w.bias[row], logits[row]);
            }
        }
    }

    #[test]
    fn a_lone_word_gets_its_own_weight() {
        let w = wide(1, 1, 1 << 16);
        let single = w.token_contributions(&["great"], 0);
        let slot = crate::wide::features(&Tokenizer::new(), "great", 1, 1 << 16)[0];
        assert_eq!(single, [w.weights[slot as usize]]);
        // Said twice, the word's one weight is split between its two occurrences.
        let twice = w.token_contributions(&["great", "great"], 0);
        assert_eq!(twice, [single[0] / 2.0, single[0] / 2.0]);
    }
}
