//! The wide path: a linear model over hashed word n-grams that sits beside the recurrent network.
//!
//! A bag of n-grams scaled by naive-Bayes log-count ratios and fitted by logistic regression
//! (NB-LR, after Wang & Manning 2012) is a strong sentiment baseline on long reviews, and it errs
//! on different reviews than a recurrent network does. A model with a wide path adds the two
//! logits, with a mix fitted on the validation slice:
//!
//!   logit = a · recurrent_logit + b · wide_logit + c
//!
//! The wide path reads every token of the review (no `max_len` truncation): its cost is one hash
//! per token. Features are binary (an n-gram is present or not) and hashed into `buckets` slots,
//! so unseen n-grams need no vocabulary. After training, each slot's weight folds the NB ratio in:
//! `wide_logit = bias + Σ weight[slot]` over the distinct slots of the review.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::text::{Encoder, Tokenizer};

pub(crate) const MAX_BUCKETS: usize = 1 << 26;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WideConfig {
    /// Longest n-gram: 1 (words), 2 (words and word pairs) or 3.
    pub ngrams: usize,
    /// Hash slots.
    pub buckets: usize,
    /// The mix `[a, b, c]`: logit = a · recurrent + b · wide + c.
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

/// A 64-bit finaliser (splitmix64), so that n-gram hashes built by combining word hashes spread
/// over the slots.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
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
/// training split's words and word pairs reach).
pub(crate) fn auto_buckets(docs: &[Vec<u64>]) -> usize {
    let mut all: Vec<u64> = docs.iter().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    (2 * all.len()).next_power_of_two().clamp(1 << 10, 1 << 21)
}

/// A trained wide path: one weight per slot and a bias.
#[derive(Debug, Clone)]
pub struct Wide {
    pub config: WideConfig,
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Wide {
    pub fn logit_of(&self, slots: &[u32]) -> f32 {
        self.bias + slots.iter().map(|&s| self.weights[s as usize]).sum::<f32>()
    }

    pub(crate) fn logit(&self, tokenizer: &Tokenizer, text: &str) -> f32 {
        self.logit_of_hashes(&ngram_hashes(tokenizer, text, self.config.ngrams))
    }

    /// The logit of a review from its `NgramHasher::finish` hashes.
    pub(crate) fn logit_of_hashes(&self, hashes: &[u64]) -> f32 {
        self.logit_of(&slots_of(hashes, self.config.buckets))
    }

    /// The combined logit of a review.
    pub(crate) fn combine(&self, recurrent: f32, wide: f32) -> f32 {
        let [a, b, c] = self.config.mix;
        a * recurrent + b * wide + c
    }
}

/// How the wide path is fitted.
#[derive(Debug, Clone)]
pub struct WideTraining {
    pub ngrams: usize,
    pub buckets: usize,
    pub epochs: usize,
    pub l2: f64,
    pub learning_rate: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn log_loss(z: f64, y: u8) -> f64 {
    z.max(0.0) - z * y as f64 + (-z.abs()).exp().ln_1p()
}

/// Fits NB-LR on `fit` (slot lists and labels). Features are the NB log-count ratios of the
/// present slots; the weights start at zero and follow AdaGrad on the L2-regularised log loss,
/// with the regulariser applied lazily to the slots a review touches.
pub fn fit(train: &WideTraining, fit_x: &[Vec<u32>], fit_y: &[u8], rng: &mut Rng) -> Result<Wide> {
    let buckets = train.buckets;
    let (mut pos, mut neg) = (vec![1.0f64; buckets], vec![1.0f64; buckets]);
    for (slots, &y) in fit_x.iter().zip(fit_y) {
        let counts = if y == 1 { &mut pos } else { &mut neg };
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
            let err = (sigmoid(z) - fit_y[i] as f64) as f32;
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
    Ok(Wide { config: WideConfig { ngrams: train.ngrams, buckets, mix: [0.0, 1.0, 0.0] }, weights, bias: bias as f32 })
}

/// Mean log loss of logits against labels.
pub fn mean_log_loss(z: &[f32], y: &[u8]) -> f64 {
    z.iter().zip(y).map(|(&z, &y)| log_loss(z as f64, y)).sum::<f64>() / z.len().max(1) as f64
}

/// Fits `[a, b, c]` of `a·r + b·w + c` by logistic regression (Newton's method on three
/// parameters, with a small ridge so that a separable set stays finite). Where `use_part` is
/// false, that part's coefficient stays 0.
fn fit_masked(recurrent: &[f32], wide: &[f32], labels: &[u8], use_part: [bool; 2]) -> [f32; 3] {
    const RIDGE: f64 = 1e-3;
    let loss = |p: &[f64; 3]| -> f64 {
        let data: f64 = recurrent.iter().zip(wide).zip(labels).map(|((&r, &w), &y)| log_loss(p[0] * r as f64 + p[1] * w as f64 + p[2], y)).sum();
        data + 0.5 * RIDGE * p.iter().map(|v| v * v).sum::<f64>()
    };
    let on = [use_part[0] as u8 as f64, use_part[1] as u8 as f64, 1.0];
    let mut p = on;
    let mut current = loss(&p);
    for _ in 0..50 {
        let mut grad = [0.0f64; 3];
        let mut hess = [[0.0f64; 3]; 3];
        for ((&r, &w), &y) in recurrent.iter().zip(wide).zip(labels) {
            let x = [r as f64, w as f64, 1.0];
            let s = sigmoid(p[0] * x[0] + p[1] * x[1] + p[2]);
            for i in 0..3 {
                grad[i] += (s - y as f64) * x[i];
                for j in 0..3 {
                    hess[i][j] += s * (1.0 - s) * x[i] * x[j];
                }
            }
        }
        for i in 0..3 {
            grad[i] += RIDGE * p[i];
            hess[i][i] += RIDGE;
        }
        // A part left out keeps coefficient 0: its row and column become the identity.
        for i in 0..2 {
            if on[i] == 0.0 {
                grad[i] = 0.0;
                for j in 0..3 {
                    hess[i][j] = 0.0;
                    hess[j][i] = 0.0;
                }
                hess[i][i] = 1.0;
            }
        }
        let Some(step) = solve3(hess, grad) else { break };
        // Newton's step, halved until the loss goes down (a poor start can overshoot).
        let mut t = 1.0;
        let mut improved = None;
        while t > 1e-6 {
            let q = [p[0] - t * step[0], p[1] - t * step[1], p[2] - t * step[2]];
            let l = loss(&q);
            if l.is_finite() && l <= current {
                improved = Some((q, l));
                break;
            }
            t *= 0.5;
        }
        let Some((q, l)) = improved else { break };
        let done = current - l < 1e-10 * current.max(1.0);
        (p, current) = (q, l);
        if done {
            break;
        }
    }
    if p.iter().all(|v| v.is_finite()) { [p[0] as f32, p[1] as f32, p[2] as f32] } else { [on[0] as f32, on[1] as f32, 0.0] }
}

/// The mix for a model with a wide path, chosen on the validation slice: the candidates are
/// both parts, the wide path alone and the recurrent network alone (each with its scale and
/// offset fitted), and 5-fold cross-validation on the slice picks the one with the lowest
/// held-out log loss, which is then fitted on the whole slice. A part that adds nothing the
/// other has (a recurrent network that barely learned, say) thus gets weight 0 instead of a
/// coefficient fitted to the slice's noise.
pub fn fit_mix(recurrent: &[f32], wide: &[f32], labels: &[u8]) -> [f32; 3] {
    const FOLDS: usize = 5;
    let candidates = [[true, true], [false, true], [true, false]];
    let n = labels.len();
    if n < 2 * FOLDS {
        return fit_masked(recurrent, wide, labels, [true, true]);
    }
    let mut best = (f64::INFINITY, candidates[0]);
    for use_part in candidates {
        let mut loss = 0.0;
        for k in 0..FOLDS {
            // Folds by a hash of the position, so that no pattern in the slice's order lines up
            // with them.
            let held = |i: &usize| mix64(*i as u64) % FOLDS as u64 == k as u64;
            let pick = |v: &[f32], keep: bool| -> Vec<f32> { (0..n).filter(|i| held(i) != keep).map(|i| v[i]).collect() };
            let pick_y = |keep: bool| -> Vec<u8> { (0..n).filter(|i| held(i) != keep).map(|i| labels[i]).collect() };
            let [a, b, c] = fit_masked(&pick(recurrent, true), &pick(wide, true), &pick_y(true), use_part);
            let (hr, hw, hy) = (pick(recurrent, false), pick(wide, false), pick_y(false));
            loss += hr.iter().zip(&hw).zip(&hy).map(|((&r, &w), &y)| log_loss((a * r + b * w + c) as f64, y)).sum::<f64>();
        }
        if loss < best.0 {
            best = (loss, use_part);
        }
    }
    fit_masked(recurrent, wide, labels, best.1)
}

fn solve3(a: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(a);
    if d.abs() < 1e-300 || !d.is_finite() {
        return None;
    }
    let mut x = [0.0; 3];
    for (k, xk) in x.iter_mut().enumerate() {
        let mut m = a;
        for i in 0..3 {
            m[i][k] = b[i];
        }
        *xk = det(m) / d;
    }
    Some(x)
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
    fn fits_a_separable_toy_problem_and_mixes() {
        let t = Tokenizer::new();
        let texts = ["great fun", "great film", "awful mess", "awful film", "fun and great", "a mess, awful"];
        let labels = [1u8, 1, 0, 0, 1, 0];
        let x: Vec<Vec<u32>> = texts.iter().map(|s| features(&t, s, 2, 4096)).collect();
        let train = WideTraining { ngrams: 2, buckets: 4096, epochs: 20, l2: 1e-4, learning_rate: 0.2 };
        let wide = fit(&train, &x, &labels, &mut Rng::new(1)).unwrap();
        for (s, &y) in texts.iter().zip(&labels) {
            assert_eq!(wide.logit(&t, s) > 0.0, y == 1, "{s}");
        }
        // A useless recurrent logit gets (near) zero weight beside an informative wide one.
        let w: Vec<f32> = (0..200).map(|i| if i % 2 == 0 { 2.0 } else { -2.0 }).collect();
        let r: Vec<f32> = (0..200).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
        // The wide logit is right 90% of the time (every tenth label flipped), so the fit is finite.
        let y: Vec<u8> = (0..200).map(|i| ((i % 2 == 0) != (i % 10 == 1)) as u8).collect();
        let [a, b, _] = fit_mix(&r, &w, &y);
        assert!(b > 0.5 && b < 5.0 && a == 0.0, "{a} {b}");
    }
}
