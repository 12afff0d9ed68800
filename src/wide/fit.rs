// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fitting the wide path: NB-LR (Wang & Manning 2012) per row, one row for two classes and one
//! per class (one-vs-rest) beyond.

use rayon::prelude::*;

use super::{Wide, WideConfig};
use crate::error::{Error, Result};
use crate::math::sigmoid;
use crate::rng::Rng;

/// How the wide path is fitted.
#[derive(Debug, Clone)]
pub struct WideTraining {
    pub ngrams: usize,
    pub buckets: usize,
    pub epochs: usize,
    pub l2: f64,
    pub learning_rate: f64,
}

/// Fits one NB-LR row on `fit_x` (slot lists) against 0/1 targets. Features are the NB log-count ratios of the
/// present slots; the weights start at zero and follow AdaGrad on the L2-regularised log loss,
/// with the regulariser applied lazily to the slots a review touches.
fn fit_row(train: &WideTraining, fit_x: &[Vec<u32>], fit_y: &[bool], rng: &mut Rng) -> Result<(Vec<f32>, f32)> {
    let buckets = train.buckets;
    let (mut pos, mut neg) = (vec![1.0f64; buckets], vec![1.0f64; buckets]);
    for (slots, &y) in fit_x.iter().zip(fit_y) {
        let counts = if y { &mut pos } else { &mut neg };
        for &s in slots {
            counts[s as usize] += 1.0;
        }
    }
    let (pos_total, neg_total): (f64, f64) = (pos.iter().sum(), neg.iter().sum());
    let ratio: Vec<f32> = pos.iter().zip(&neg).map(|(p, n)| ((p / pos_total) / (n / neg_total)).ln() as f32).collect();
    drop((pos, neg));

    let mut w = vec![0.0f32; buckets];
    let mut g2 = vec![1e-8f32; buckets];
    let (mut bias, mut bias_g2) = (0.0f64, 1e-8f64);
    let lr = train.learning_rate as f32;
    let l2 = train.l2 as f32;
    let mut order: Vec<usize> = (0..fit_x.len()).collect();
    for _ in 0..train.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let slots = &fit_x[i];
            let z = bias + slots.iter().map(|&s| (w[s as usize] * ratio[s as usize]) as f64).sum::<f64>();
            let err = (sigmoid(z) - fit_y[i] as u8 as f64) as f32;
            for &s in slots {
                let s = s as usize;
                let g = err * ratio[s] + l2 * w[s];
                g2[s] += g * g;
                w[s] -= lr * g / g2[s].sqrt();
            }
            let gb = err as f64;
            bias_g2 += gb * gb;
            bias -= train.learning_rate * gb / bias_g2.sqrt();
        }
    }
    let weights: Vec<f32> = w.iter().zip(&ratio).map(|(w, r)| w * r).collect();
    if weights.iter().any(|v| !v.is_finite()) || !bias.is_finite() {
        return Err(Error::new(crate::ErrorKind::Diverged, "the wide path diverged; lower wide_learning_rate"));
    }
    Ok((weights, bias as f32))
}


/// Fits the wide path on `fit_x` (slot lists) and their class indices among `classes`: for two
/// classes one row (class 1 against class 0), for more one row per class against the rest,
/// fitted in parallel on the current thread pool, each with its own random stream.
pub fn fit(train: &WideTraining, fit_x: &[Vec<u32>], fit_y: &[u32], classes: usize, rng: &mut Rng) -> Result<Wide> {
    let config = WideConfig { ngrams: train.ngrams, buckets: train.buckets, mix: [0.0, 1.0, 0.0] };
    if classes <= 2 {
        let targets: Vec<bool> = fit_y.iter().map(|&y| y == 1).collect();
        let (weights, bias) = fit_row(train, fit_x, &targets, rng)?;
        return Ok(Wide { config, weights, bias: vec![bias] });
    }
    let mut seeds: Vec<Rng> = (0..classes).map(|_| rng.fork()).collect();
    let rows: Vec<(Vec<f32>, f32)> = seeds
        .par_iter_mut()
        .enumerate()
        .map(|(k, rng)| {
            let targets: Vec<bool> = fit_y.iter().map(|&y| y as usize == k).collect();
            fit_row(train, fit_x, &targets, rng)
        })
        .collect::<Result<_>>()?;
    let mut weights = vec![0.0f32; train.buckets * classes];
    for (k, (row, _)) in rows.iter().enumerate() {
        for (s, &w) in row.iter().enumerate() {
            weights[s * classes + k] = w;
        }
    }
    Ok(Wide { config, weights, bias: rows.iter().map(|(_, b)| *b).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Tokenizer;
    use crate::wide::features;

    #[test]
    fn fits_a_separable_toy_problem() {
        let t = Tokenizer::new();
        let texts = ["great fun", "great film", "awful mess", "awful film", "fun and great", "a mess, awful"];
        let labels = [1u32, 1, 0, 0, 1, 0];
        let x: Vec<Vec<u32>> = texts.iter().map(|s| features(&t, s, 2, 4096)).collect();
        let train = WideTraining { ngrams: 2, buckets: 4096, epochs: 20, l2: 1e-4, learning_rate: 0.2 };
        let wide = fit(&train, &x, &labels, 2, &mut Rng::new(1)).unwrap();
        assert_eq!(wide.rows(), 1);
        for (s, &y) in texts.iter().zip(&labels) {
            assert_eq!(wide.logits(&t, s)[0] > 0.0, y == 1, "{s}");
        }
    }

    #[test]
    fn one_row_per_class_beyond_two() {
        let t = Tokenizer::new();
        let texts = ["goal match team", "team wins match", "stocks market shares", "market rally shares", "vote election party", "party wins election"];
        let labels = [0u32, 0, 1, 1, 2, 2];
        let x: Vec<Vec<u32>> = texts.iter().map(|s| features(&t, s, 1, 1024)).collect();
        let train = WideTraining { ngrams: 1, buckets: 1024, epochs: 30, l2: 1e-4, learning_rate: 0.2 };
        let wide = fit(&train, &x, &labels, 3, &mut Rng::new(1)).unwrap();
        assert_eq!((wide.rows(), wide.weights.len()), (3, 3 * 1024));
        for (s, &y) in texts.iter().zip(&labels) {
            assert_eq!(crate::math::argmax(&wide.logits(&t, s)), y as usize, "{s}");
        }
    }
}
