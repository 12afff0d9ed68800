// SPDX-License-Identifier: MIT OR Apache-2.0
//! Integrated gradients (Sundararajan, Taly & Yan, 2017) of one logit with respect to each
//! token's embedding: how much each token moved the logit from the reference (every embedding
//! zero) to the review as written.
//!
//! Taken against the first layer's input projections, which are linear in the embeddings: the
//! contributions are the same and the projection's backward pass is not needed.
//!
//! The path from the reference to the review is cut into `steps` equal pieces and the gradient
//! is taken at each piece's midpoint; all the points run as one batch, one forward and one
//! backward pass. A token's contribution is its averaged gradient dotted with its embedding, so
//! the contributions sum to `logit(review) − logit(reference)` up to the midpoint rule's error,
//! which shrinks as the square of the step count.

use std::sync::Arc;

use candle_core::{Tensor, Var};

use super::classifier::{Classifier, FirstInput, Mode};
use crate::error::{Error, Result};

/// Integration steps when the caller does not choose. On the default IMDB model 8 steps leave
/// 0.4% of the logit unexplained (median) and rank tokens as 16 do (benches/explain.rs), at
/// about 15 times the cost of a prediction.
pub const DEFAULT_STEPS: usize = 8;
/// The most integration steps one call may ask for.
pub const MAX_STEPS: usize = 256;

impl Classifier {
    /// Integrated gradients of logit `output` (0 for a two-class model) for the review `ids`:
    /// one value per token id, in order. They sum to `logit(ids) − reference_logits(len)`, up to
    /// the midpoint rule's error.
    pub fn integrated_gradients(&self, ids: &[u32], output: usize, steps: usize, threads: usize) -> Result<Vec<f32>> {
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
        // The first layer's input projection is linear in the embedding and the reference is
        // zero, so the path scales the projections: taking the gradient against them gives the
        // same contributions (x · Wᵀg = (Wx) · g) and skips the projection's own pass.
        // A transformer's gradient is taken against the embeddings themselves.
        let projections = if self.is_transformer() { vec![self.embed(ids)?] } else { self.classifier_projections(ids)? };
        // Plain loops, not tensor ops, for the path's points and the final dot products: Candle
        // splits element-wise ops over 64k elements between threads, a cost here, not a gain.
        let mut points = Vec::with_capacity(projections.len());
        let mut plain = Vec::with_capacity(projections.len());
        for p in &projections {
            let (_, g) = p.dims2()?;
            let values = p.flatten_all()?.to_vec1::<f32>()?;
            let mut path = Vec::with_capacity(steps * values.len());
            for k in 0..steps {
                let alpha = (k as f32 + 0.5) / steps as f32;
                path.extend(values.iter().map(|v| alpha * v));
            }
            points.push(Var::from_tensor(&Tensor::from_vec(path, (steps, t, g), &candle_core::Device::Cpu)?)?);
            plain.push(values);
        }
        let lengths: Arc<[usize]> = Arc::from(vec![t; steps]);
        let first = if self.is_transformer() {
            FirstInput::Embedded(points[0].as_tensor().reshape((steps * t, ()))?)
        } else {
            FirstInput::Projected(points.iter().map(|v| v.as_tensor().clone()).collect())
        };
        let logits = self.forward_from(first, t, &lengths, Mode::Gradients, threads, None)?;
        let grads = logits.narrow(1, output, 1)?.sum_all()?.backward()?;
        let mut per_token = vec![0f32; t];
        for (point, projection) in points.iter().zip(&plain) {
            let grad = grads.get(point).ok_or_else(|| Error::new(crate::error::ErrorKind::Internal, "integrated gradients: no gradient reached the inputs"))?;
            let grad = grad.flatten_all()?.to_vec1::<f32>()?;
            // Each step's projection dotted with its gradient summed over the path, over steps
            // (the mean's division, once per token).
            let g = projection.len() / t;
            let mut summed = vec![0f32; t * g];
            for point_grad in grad.chunks_exact(t * g) {
                summed.iter_mut().zip(point_grad).for_each(|(s, v)| *s += v);
            }
            for ((x, gs), acc) in projection.chunks_exact(g).zip(summed.chunks_exact(g)).zip(per_token.iter_mut()) {
                *acc += x.iter().zip(gs).map(|(a, b)| a * b).sum::<f32>() / steps as f32;
            }
        }
        Ok(per_token)
    }

    fn classifier_projections(&self, ids: &[u32]) -> Result<Vec<Tensor>> {
        self.first_projections(&self.embed(ids)?)
    }

    /// The logits (`outputs()` of them) of a review of `len` tokens whose embeddings are all
    /// zero: the reference integrated gradients start from.
    pub fn reference_logits(&self, len: usize, threads: usize) -> Result<Vec<f32>> {
        let zeros = Tensor::zeros((len.max(1), self.embedding_dim()), candle_core::DType::F32, &candle_core::Device::Cpu)?;
        let one: Arc<[usize]> = Arc::from(vec![len.max(1)]);
        Ok(self.forward_from(FirstInput::Embedded(zeros), len.max(1), &one, Mode::Infer, threads, self.prepared()?)?.flatten_all()?.to_vec1::<f32>()?)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::nn::{CellKind, NetworkConfig, Pooling, Weights};
    use crate::rng::Rng;

    fn network(cell: CellKind, layers: usize, bidirectional: bool, pooling: Pooling, classes: usize) -> Classifier {
        let cfg = NetworkConfig { cell, embedding_dim: 8, hidden_size: 6, layers, bidirectional, pooling, dropout: 0.3, embedding_dropout: 0.2, transformer: None };
        let (mut rng, mut vars) = (Rng::new(9), Vec::new());
        Classifier::new(&cfg, 30, classes, Weights::Init { rng: &mut rng, vars: &mut vars }).unwrap();
        // Larger embeddings than the initialiser gives, so that the logits move visibly.
        let map: HashMap<String, Tensor> = vars
            .iter()
            .map(|(n, v)| {
                let t = v.as_tensor();
                // Detached, as a model file's weights are: not variables.
                (n.clone(), if n == "embedding.weight" { (t * 40.0).unwrap() } else { t.detach() })
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
                let batch = crate::nn::Batch::new(&[&ids]).unwrap();
                let at_input = net.forward(&batch, Mode::Infer, 1).unwrap().to_vec2::<f32>().unwrap()[0][0];
                let moved = at_input - net.reference_logits(ids.len(), 1).unwrap()[0];
                assert!(moved.abs() > 1e-3, "{cell:?} {layers} {bi}: the logit hardly moves ({moved})");
                let gap = |steps: usize| moved - net.integrated_gradients(&ids, 0, steps, 2).unwrap().iter().sum::<f32>();
                let fine = gap(64);
                assert!(fine.abs() <= 0.02 * moved.abs() + 1e-4, "{cell:?} {layers} {bi} {pooling:?}: gap {fine} of {moved}");
                // More steps shrink the gap.
                assert!(gap(2).abs() + 1e-5 >= fine.abs());
            }
        }
    }

    #[test]
    fn each_class_logit_has_its_own_attribution() {
        let net = network(CellKind::Gru, 1, true, Pooling::MaxMean, 3);
        let ids = [5u32, 6, 7, 8];
        let at_input = net.forward(&crate::nn::Batch::new(&[&ids]).unwrap(), Mode::Infer, 1).unwrap().to_vec2::<f32>().unwrap()[0].clone();
        let reference = net.reference_logits(ids.len(), 1).unwrap();
        let per: Vec<Vec<f32>> = (0..3).map(|k| net.integrated_gradients(&ids, k, 32, 1).unwrap()).collect();
        assert_ne!(per[0], per[1]);
        for (k, a) in per.iter().enumerate() {
            let moved = at_input[k] - reference[k];
            assert!((moved - a.iter().sum::<f32>()).abs() <= 0.02 * moved.abs() + 1e-4);
        }
        assert!(net.integrated_gradients(&ids, 3, 8, 1).is_err());
        assert!(net.integrated_gradients(&ids, 0, 0, 1).is_err());
        assert!(net.integrated_gradients(&[], 0, 8, 1).is_err());
        assert!(net.integrated_gradients(&[30], 0, 8, 1).is_err());
    }
}
