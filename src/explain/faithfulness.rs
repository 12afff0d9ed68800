// SPDX-License-Identifier: MIT OR Apache-2.0
//! A deletion test of faithfulness (after Samek et al., 2017; DeYoung et al., 2020's
//! "comprehensiveness"): if an explanation is faithful, deleting the tokens it credits most
//! should lower the explained class's score more than deleting as many tokens at random.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::rng::Rng;

/// The outcome over a set of texts: mean drops of the predicted class's score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DeletionScores {
    /// Texts explained (texts without tokens are skipped).
    pub texts: usize,
    /// Mean score drop after deleting the top `fraction` of tokens by contribution.
    pub top: f64,
    /// Mean score drop after deleting as many tokens chosen at random.
    pub random: f64,
    /// Mean of the explained class's score before any deletion.
    pub score: f64,
}

impl Model {
    /// Explains each text's predicted class (`steps` as for `explain`), deletes the top
    /// `fraction` of its tokens by contribution (at least one), and separately as many tokens at
    /// random (seeded by `seed`), and averages how far the class's score falls each way.
    pub fn deletion_test(&self, texts: &[&str], fraction: f64, steps: usize, seed: u64) -> Result<DeletionScores> {
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(Error::invalid_argument(format!("the fraction of tokens to delete must be in (0, 1], got {fraction}")));
        }
        let mut rng = Rng::new(seed);
        let (mut classes, mut before, mut top_texts, mut random_texts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for text in texts {
            let e = self.explain(text, None, steps)?;
            let n = e.tokens.len();
            if n == 0 {
                continue;
            }
            let k = ((n as f64 * fraction).round() as usize).clamp(1, n);
            let top: Vec<usize> = e.strongest_first().into_iter().take(k).collect();
            let mut all: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut all);
            top_texts.push(e.text_without(text, &top));
            random_texts.push(e.text_without(text, &all[..k]));
            classes.push(e.class);
            before.push(e.score as f64);
        }
        if classes.is_empty() {
            return Err(Error::invalid_argument("none of the texts has a token to delete"));
        }
        let k = self.labels.len();
        let score_after = |edited: &[String]| -> Result<Vec<f64>> {
            let refs: Vec<&str> = edited.iter().map(String::as_str).collect();
            let scores = self.scores_batch(&refs)?;
            Ok(classes.iter().enumerate().map(|(i, &c)| scores[i * k + c] as f64).collect())
        };
        let (after_top, after_random) = (score_after(&top_texts)?, score_after(&random_texts)?);
        let n = classes.len() as f64;
        let mean_drop = |after: &[f64]| before.iter().zip(after).map(|(b, a)| b - a).sum::<f64>() / n;
        Ok(DeletionScores { texts: classes.len(), top: mean_drop(&after_top), random: mean_drop(&after_random), score: before.iter().sum::<f64>() / n })
    }
}
