// SPDX-License-Identifier: MIT OR Apache-2.0
//! Small numeric helpers shared by the network, the wide path and evaluation.

pub(crate) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Binary cross-entropy of a logit against a 0/1 target, stable for large |z|:
/// max(z, 0) − z·y + log(1 + e^−|z|).
pub(crate) fn log_loss(z: f64, positive: bool) -> f64 {
    z.max(0.0) - if positive { z } else { 0.0 } + (-z.abs()).exp().ln_1p()
}

/// Turns logits into probabilities in place (max-shifted, so large logits stay finite).
pub(crate) fn softmax_in_place(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f64;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v as f64;
    }
    for v in z.iter_mut() {
        *v = (*v as f64 / sum) as f32;
    }
}

/// Cross-entropy of logits `z` against class `k`: logsumexp(z) − z_k.
pub(crate) fn softmax_loss(z: &[f32], k: usize) -> f64 {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let lse = max + z.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln();
    lse - z[k] as f64
}

/// Position of the largest value (the first of equals).
pub(crate) fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_match_their_definitions_and_stay_finite() {
        for z in [-30.0, -2.0, 0.0, 1.5, 40.0] {
            let p = sigmoid(z);
            assert!((log_loss(z, true) - -(p.max(1e-300)).ln()).abs() < 1e-6 || z < -20.0);
            assert!(log_loss(z, false).is_finite() && log_loss(z, true).is_finite());
        }
        let mut z = [1000.0f32, 0.0, -1000.0];
        assert!((softmax_loss(&z, 0)).abs() < 1e-9 && softmax_loss(&z, 1).is_finite());
        softmax_in_place(&mut z);
        assert!((z.iter().sum::<f32>() - 1.0).abs() < 1e-6 && z[0] > 0.99);
        // Two logits (0, d) under softmax are the sigmoid of d.
        let mut two = [0.0f32, 0.7];
        softmax_in_place(&mut two);
        assert!((two[1] as f64 - sigmoid(0.7)).abs() < 1e-6);
        assert_eq!(argmax(&[0.1, 0.5, 0.5]), 1);
    }
}
