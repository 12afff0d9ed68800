// SPDX-License-Identifier: MIT OR Apache-2.0
//! Integrated gradients (Sundararajan, Taly & Yan, 2017) of one logit with respect to each
//! token's embedding: how much each token moved the logit from the reference (every embedding
//! zero) to the review as written.
//!
//! The path from the reference to the review is cut into `steps` equal pieces and the gradient
//! is taken at each piece's midpoint; all the points run as one batch, one forward and one
//! backward pass. A token's contribution is its averaged gradient dotted with its embedding, so
//! the contributions sum to `logit(review) − logit(reference)` up to the midpoint rule's error,
//! which shrinks as the square of the step count (`Attribution::gap` is what is left).

use std::sync::Arc;

use candle_core::{Tensor, Var};

use super::classifier::{Classifier, FirstInput, Mode};
use crate::error::{Error, Result};

/// Integration steps when the caller does not choose.
pub const DEFAULT_STEPS: usize = 16;
/// The most integration steps one call may ask for.
pub const MAX_STEPS: usize = 256;

/// One logit of one review, taken apart by token.
#[derive(Debug, Clone)]
pub struct Attribution {
    /// One value per token id, in order.
    pub per_token: Vec<f32>,
    /// The logit of the review.
    pub at_input: f32,
    /// The logit with every embedding zero: the network's answer to no words at all.
    pub at_reference: f32,
}

impl Attribution {
    /// What the contributions leave unexplained: `at_input − at_reference − Σ per_token`.
    pub fn gap(&self) -> f32 {
        self.at_input - self.at_reference - self.per_token.iter().map(|&v| v as f64).sum::<f64>() as f32
    }
}

impl Classifier {
    /// Integrated gradients of logit `output` (0 for a two-class model) for the review `ids`.
    pub fn integrated_gradients(&self, ids: &[u32], output: usize, steps: usize, threads: usize) -> Result<Attribution> {
        if ids.is_empty() {
            return Err(Error::invalid_argument("a review to explain needs at least one token id"));
        }
        if output >= self.outputs() {
            return Err(Error::invalid_argument(format!("logit {output}: the network has {}", self.outputs())));
        }
        if !(1..=MAX_STEPS).contains(&steps) {
            return Err(Error::invalid_argument(format!("integration steps must be between 1 and {MAX_STEPS}, got {steps}")));
        }
        let t = ids.len();
        let embedded = self.embed(ids)?;
        let e = embedded.dims()[1];
        // The ends of the path, as two rows of one inference batch.
        let ends = Tensor::cat(&[&embedded, &embedded.zeros_like()?], 0)?;
        let two: Arc<[usize]> = Arc::from(vec![t; 2]);
        let logits = self.forward_from(FirstInput::Embedded(ends), t, &two, Mode::Infer, threads)?.to_vec2::<f32>()?;
        let (at_input, at_reference) = (logits[0][output], logits[1][output]);

        let alphas: Vec<f32> = (0..steps).map(|k| (k as f32 + 0.5) / steps as f32).collect();
        let scale = Tensor::from_vec(alphas, (steps, 1, 1), embedded.device())?;
        let points = Var::from_tensor(&embedded.unsqueeze(0)?.broadcast_mul(&scale)?.reshape((steps * t, e))?)?;
        let lengths: Arc<[usize]> = Arc::from(vec![t; steps]);
        let logits = self.forward_from(FirstInput::Embedded(points.as_tensor().clone()), t, &lengths, Mode::Gradients, threads)?;
        let grads = logits.narrow(1, output, 1)?.sum_all()?.backward()?;
        let grad = grads.get(&points).ok_or_else(|| Error::new(crate::error::ErrorKind::Internal, "integrated gradients: no gradient reached the embeddings"))?;
        // Mean over the path's points, dotted with each token's embedding.
        let mean = grad.reshape((steps, t, e))?.mean(0)?;
        let per_token = mean.mul(&embedded)?.sum(1)?.to_vec1::<f32>()?;
        Ok(Attribution { per_token, at_input, at_reference })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::nn::{CellKind, NetworkConfig, Pooling, Weights};
    use crate::rng::Rng;

    fn network(cell: CellKind, layers: usize, bidirectional: bool, pooling: Pooling, classes: usize) -> Classifier {
        let cfg = NetworkConfig { cell, embedding_dim: 8, hidden_size: 6, layers, bidirectional, pooling, dropout: 0.3, embedding_dropout: 0.2 };
        let (mut rng, mut vars) = (Rng::new(9), Vec::new());
        Classifier::new(&cfg, 30, classes, Weights::Init { rng: &mut rng, vars: &mut vars }).unwrap();
        // Larger embeddings than the initialiser gives, so that the logits move visibly.
        let map: HashMap<String, Tensor> = vars
            .iter()
            .map(|(n, v)| {
                let t = v.as_tensor();
                (n.clone(), if n == "embedding.weight" { (t * 40.0).unwrap() } else { t.clone() })
            })
            .collect();
        Classifier::new(&cfg, 30, classes, Weights::Load(&map)).unwrap()
    }

    #[test]
    fn contributions_add_up_to_the_logit_moved() {
        let ids = [4u32, 9, 17, 4, 22, 3, 11];
        for cell in [CellKind::Lstm, CellKind::Gru] {
            for (layers, bi, pooling) in [(1, false, Pooling::Last), (2, true, Pooling::MaxMean), (1, true, Pooling::Mean)] {
                let net = network(cell, layers, bi, pooling, 2);
                let a = net.integrated_gradients(&ids, 0, 64, 2).unwrap();
                let moved = a.at_input - a.at_reference;
                assert!(moved.abs() > 1e-3, "{cell:?} {layers} {bi}: the logit hardly moves ({moved})");
                assert!(a.gap().abs() <= 0.02 * moved.abs() + 1e-4, "{cell:?} {layers} {bi} {pooling:?}: gap {} of {moved}", a.gap());
                // The logit at the input is the network's ordinary answer.
                let batch = crate::nn::Batch::new(&[&ids]).unwrap();
                let plain = net.forward(&batch, Mode::Infer, 1).unwrap().to_vec2::<f32>().unwrap()[0][0];
                assert!((plain - a.at_input).abs() < 1e-4, "{plain} vs {}", a.at_input);
                // More steps shrink the gap.
                let coarse = net.integrated_gradients(&ids, 0, 2, 1).unwrap();
                assert!(coarse.gap().abs() + 1e-5 >= a.gap().abs());
            }
        }
    }

    #[test]
    fn each_class_logit_has_its_own_attribution() {
        let net = network(CellKind::Gru, 1, true, Pooling::MaxMean, 3);
        let ids = [5u32, 6, 7, 8];
        let per: Vec<Attribution> = (0..3).map(|k| net.integrated_gradients(&ids, k, 32, 1).unwrap()).collect();
        assert_ne!(per[0].per_token, per[1].per_token);
        for a in &per {
            assert!(a.gap().abs() <= 0.02 * (a.at_input - a.at_reference).abs() + 1e-4);
        }
        assert!(net.integrated_gradients(&ids, 3, 8, 1).is_err());
        assert!(net.integrated_gradients(&ids, 0, 0, 1).is_err());
        assert!(net.integrated_gradients(&[], 0, 8, 1).is_err());
        assert!(net.integrated_gradients(&[30], 0, 8, 1).is_err());
    }
}
