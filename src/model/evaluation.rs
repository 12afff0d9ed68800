// SPDX-License-Identifier: MIT OR Apache-2.0
//! Scoring a model's logits against known classes: loss, accuracy, macro-F1, per-class
//! precision, recall and F1, and the confusion matrix.

use serde::Serialize;

use crate::data::Labels;
use crate::math::{argmax, log_loss, softmax_loss};

/// One class's figures. Precision is 0 for a class never predicted, recall 0 for a class with
/// no examples (and its F1 then 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScores {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Examples of this class.
    pub support: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub count: u64,
    /// Mean cross-entropy (binary for two classes).
    pub loss: f64,
    pub accuracy: f64,
    /// Mean of the classes' F1 scores.
    pub macro_f1: f64,
    pub per_class: Vec<ClassScores>,
    /// `confusion[actual][predicted]`: examples of class `actual` predicted as `predicted`.
    pub confusion: Vec<Vec<u64>>,
}

impl Evaluation {
    /// Scores `logits` (`outputs` per example: one for two classes, else one per class) against
    /// the class indices `labels`. For two classes the second is predicted when the logit is
    /// above 0 (probability above 0.5).
    pub fn from_logits(logits: &[f32], labels: &[u32], names: &Labels) -> Self {
        let classes = names.len();
        let outputs = crate::nn::head_outputs(classes);
        let mut confusion = vec![vec![0u64; classes]; classes];
        let mut loss = 0.0;
        for (z, &y) in logits.chunks_exact(outputs).zip(labels) {
            let (predicted, l) = if classes <= 2 {
                ((z[0] > 0.0) as usize, log_loss(z[0] as f64, y == 1))
            } else {
                (argmax(z), softmax_loss(z, y as usize))
            };
            loss += l;
            confusion[y as usize][predicted] += 1;
        }
        let count = labels.len() as u64;
        let correct: u64 = (0..classes).map(|k| confusion[k][k]).sum();
        let per_class: Vec<ClassScores> = (0..classes)
            .map(|k| {
                let support: u64 = confusion[k].iter().sum();
                let predicted: u64 = confusion.iter().map(|row| row[k]).sum();
                let hit = confusion[k][k] as f64;
                let precision = if predicted > 0 { hit / predicted as f64 } else { 0.0 };
                let recall = if support > 0 { hit / support as f64 } else { 0.0 };
                let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
                ClassScores { label: names.names()[k].clone(), precision, recall, f1, support }
            })
            .collect();
        let macro_f1 = per_class.iter().map(|c| c.f1).sum::<f64>() / classes.max(1) as f64;
        Evaluation {
            count,
            loss: loss / count.max(1) as f64,
            accuracy: correct as f64 / count.max(1) as f64,
            macro_f1,
            per_class,
            confusion,
        }
    }

    /// For two classes: (true positives, true negatives, false positives, false negatives),
    /// the second class being the positive one. Zeros for more classes.
    pub fn binary_counts(&self) -> (u64, u64, u64, u64) {
        match self.confusion.as_slice() {
            [neg, pos] => (pos[1], neg[0], neg[1], pos[0]),
            _ => (0, 0, 0, 0),
        }
    }

    /// The report as JSON, with the labels in class order.
    pub fn to_json(&self) -> String {
        let labels: Vec<&str> = self.per_class.iter().map(|c| c.label.as_str()).collect();
        serde_json::json!({
            "count": self.count,
            "accuracy": self.accuracy,
            "loss": self.loss,
            "macro_f1": self.macro_f1,
            "labels": labels,
            "per_class": self.per_class,
            "confusion": self.confusion,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_class_figures_by_hand() {
        let names = Labels::new(vec!["a".into(), "b".into(), "c".into()]).unwrap();
        // Predictions: a→a, a→b, b→b, c→c, c→a.
        let logits = [5.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 5.0, 5.0, 0.0, 0.0];
        let e = Evaluation::from_logits(&logits, &[0, 0, 1, 2, 2], &names);
        assert_eq!(e.confusion, vec![vec![1, 1, 0], vec![0, 1, 0], vec![1, 0, 1]]);
        assert!((e.accuracy - 0.6).abs() < 1e-12);
        // a: p 1/2 r 1/2; b: p 1/2 r 1; c: p 1 r 1/2.
        let f1 = [0.5, 2.0 / 3.0, 2.0 / 3.0];
        for (c, want) in e.per_class.iter().zip(f1) {
            assert!((c.f1 - want).abs() < 1e-12, "{c:?}");
        }
        assert!((e.macro_f1 - (0.5 + 4.0 / 3.0) / 3.0).abs() < 1e-12);
        assert_eq!(e.binary_counts(), (0, 0, 0, 0));
        let json: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(json["confusion"][2][0], 1);
        assert_eq!(json["per_class"][1]["label"], "b");
    }

    #[test]
    fn two_classes_keep_the_binary_counts() {
        let e = Evaluation::from_logits(&[2.0, -1.0, 0.5, -3.0], &[1, 1, 0, 0], &Labels::binary());
        assert_eq!(e.binary_counts(), (1, 1, 1, 1));
        assert_eq!(e.per_class[1].label, "positive");
    }
}
