// SPDX-License-Identifier: MIT OR Apache-2.0
//! Additive attention pooling (Bahdanau et al., 2015; for classification, Yang et al., 2016):
//! each step's state `x_t` (both directions side by side) gets a score `vᵀ tanh(W x_t + b)`, a
//! softmax over the row's real steps turns the scores into weights, and the pooled vector is the
//! weighted sum of the states. Padded steps get weight 0. The weights say where the network
//! looked, and explanations report them.

use std::sync::Arc;

use candle_core::{D, Device, Tensor};

use crate::error::Result;

/// Added to the scores of padded steps: their weight underflows to 0.
const MASKED: f32 = -1e30;

pub(crate) struct AttentionPool {
    /// (A, D): the projection of a state to the attention space.
    pub w: Tensor,
    /// (A)
    pub b: Tensor,
    /// (A): the scoring vector.
    pub v: Tensor,
}

impl AttentionPool {
    /// Each row's weights over its steps, (batch, steps), for states (batch, steps, D).
    pub fn weights(&self, states: &Tensor, lengths: &Arc<[usize]>) -> Result<Tensor> {
        let (b, t, d) = states.dims3()?;
        let hidden = states.reshape((b * t, d))?.matmul(&self.w.t()?)?.broadcast_add(&self.b)?.tanh()?;
        let scores = hidden.matmul(&self.v.unsqueeze(1)?)?.reshape((b, t))?;
        let mask: Vec<f32> = lengths.iter().flat_map(|&len| (0..t).map(move |s| if s < len { 0.0 } else { MASKED })).collect();
        let scores = scores.add(&Tensor::from_vec(mask, (b, t), &Device::Cpu)?)?;
        // A softmax over the last axis, stabilised by the row's maximum.
        let shifted = scores.broadcast_sub(&scores.max_keepdim(D::Minus1)?)?.exp()?;
        Ok(shifted.broadcast_div(&shifted.sum_keepdim(D::Minus1)?)?)
    }

    /// The pooled vectors, (batch, D).
    pub fn pool(&self, states: &Tensor, lengths: &Arc<[usize]>) -> Result<Tensor> {
        let weights = self.weights(states, lengths)?;
        Ok(states.broadcast_mul(&weights.unsqueeze(2)?)?.sum(1)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> AttentionPool {
        let dev = Device::Cpu;
        AttentionPool {
            w: Tensor::from_vec(vec![0.5f32, -1.0, 0.25, 2.0, 1.0, 0.0], (3, 2), &dev).unwrap(),
            b: Tensor::from_vec(vec![0.1f32, 0.0, -0.2], 3, &dev).unwrap(),
            v: Tensor::from_vec(vec![1.0f32, -0.5, 2.0], 3, &dev).unwrap(),
        }
    }

    #[test]
    fn weights_cover_the_real_steps_and_sum_to_one() {
        let states = Tensor::from_vec((0..12).map(|i| i as f32 * 0.3 - 1.0).collect::<Vec<_>>(), (2, 3, 2), &Device::Cpu).unwrap();
        let lengths: Arc<[usize]> = Arc::from(vec![3, 1]);
        let w = pool().weights(&states, &lengths).unwrap().to_vec2::<f32>().unwrap();
        for (row, len) in w.iter().zip([3, 1]) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{row:?}");
            assert!(row[..len].iter().all(|&v| v > 0.0) && row[len..].iter().all(|&v| v == 0.0), "{row:?}");
        }
        // A row of one real step pools to that step's state, whatever the padding holds.
        let pooled = pool().pool(&states, &lengths).unwrap().to_vec2::<f32>().unwrap();
        let second = states.to_vec3::<f32>().unwrap()[1][0].clone();
        assert!(pooled[1].iter().zip(&second).all(|(a, b)| (a - b).abs() < 1e-6), "{pooled:?}");
    }
}
