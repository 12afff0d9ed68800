// SPDX-License-Identifier: MIT OR Apache-2.0
//! Word vectors learned from the training reviews' own text, without their labels, to start the
//! embedding from: skip-gram with negative sampling (Mikolov et al., 2013). A word seen in a
//! handful of labelled reviews then starts near the words that share its contexts, instead of at
//! a random point the classifier's few gradients barely move.

use crate::rng::Rng;
use crate::text::{PAD_ID, UNK_ID};

/// Context words on each side, at most (each centre word draws its own span up to this).
const WINDOW: usize = 5;
const NEGATIVES: usize = 5;
/// Frequent words are kept with probability about sqrt(SUBSAMPLE / frequency).
const SUBSAMPLE: f64 = 1e-4;
const START_LR: f32 = 0.025;
const NEGATIVE_TABLE: usize = 1 << 22;
/// Sequences between two calls of the progress report.
pub(crate) const REPORT_EVERY: usize = 1000;
/// Standard deviation of the embedding's components when it starts from learned vectors, ten
/// times a random start's: the classifier's gradients then adjust the vectors rather than
/// overwrite them. Chosen on the validation slice (bidirectional LSTM, seed 42), over 0.03,
/// the vectors' own scale (about 0.15) and 0.6.
pub(crate) const START_STD: f32 = 0.3;

/// Passes taken when the caller leaves the choice to the library and the text is large enough.
pub(crate) const AUTO_PASSES: usize = 5;
/// Tokens of training text below which the library does not learn word vectors on its own: on
/// less text they are too noisy to beat a random start. Measured on IMDB slices (default LSTM,
/// no wide path, seed 42): 4,500 reviews (about 1.2M tokens) tested 8 points worse with
/// vectors, 9,000 reviews (about 2.4M tokens) 1.4 points better.
pub(crate) const AUTO_MIN_TOKENS: usize = 2_000_000;

/// The passes to take over `sequences` when the caller did not say: `AUTO_PASSES` on enough
/// text, else none.
pub fn auto_passes(sequences: &[Vec<u32>]) -> usize {
    let tokens: usize = sequences.iter().map(Vec::len).sum();
    if tokens >= AUTO_MIN_TOKENS { AUTO_PASSES } else { 0 }
}

/// Scales `values` so that their standard deviation is `std`.
pub fn scale_to_std(values: &mut [f32], std: f32) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&x| x as f64).sum::<f64>() / n;
    let now = (values.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    if now > 0.0 {
        let factor = std as f64 / now;
        values.iter_mut().for_each(|x| *x = (*x as f64 * factor) as f32);
    }
}

/// Trains `dim`-wide vectors for `vocab` ids over `sequences` (token ids; padding and unknown
/// words are skipped) and returns them row-major, vocab × dim. Rows of words never seen keep
/// their small random start. Deterministic for a given `rng` state.
///
/// `report(epoch, chunk, chunks)` is called after every `REPORT_EVERY` sequences and at the end
/// of each epoch (1-based); returning false stops, and the function returns None.
pub fn train_vectors(
    sequences: &[Vec<u32>],
    vocab: usize,
    dim: usize,
    epochs: usize,
    rng: &mut Rng,
    report: &mut dyn FnMut(usize, usize, usize) -> bool,
) -> Option<Vec<f32>> {
    let mut counts = vec![0u64; vocab];
    for &id in sequences.iter().flatten() {
        if let Some(c) = counts.get_mut(id as usize) {
            *c += 1;
        }
    }
    counts[PAD_ID as usize] = 0;
    counts[UNK_ID as usize] = 0;
    let total: u64 = counts.iter().sum();
    let mut input: Vec<f32> = (0..vocab * dim).map(|_| (rng.next_f32() - 0.5) / dim as f32).collect();
    if total == 0 || dim == 0 || epochs == 0 {
        return Some(input);
    }
    let keep: Vec<f32> = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                return 0.0;
            }
            let ratio = SUBSAMPLE * total as f64 / c as f64;
            (ratio.sqrt() + ratio).min(1.0) as f32
        })
        .collect();
    let table = negative_table(&counts);
    let mut output = vec![0f32; vocab * dim];
    let planned = (total as f64 * epochs as f64).max(1.0);
    let mut done = 0f64;
    let mut sentence = Vec::new();
    let mut hidden_grad = vec![0f32; dim];
    let chunks = sequences.len().div_ceil(REPORT_EVERY);
    for epoch in 1..=epochs {
        for (chunk, part) in sequences.chunks(REPORT_EVERY).enumerate() {
            for seq in part {
                sentence.clear();
                for &id in seq {
                    let k = keep.get(id as usize).copied().unwrap_or(0.0);
                    if k > 0.0 && (k >= 1.0 || rng.next_f32() < k) {
                        sentence.push(id as usize);
                    }
                }
                done += seq.len() as f64;
                let lr = (START_LR * (1.0 - (done / planned) as f32)).max(START_LR * 1e-4);
                for (at, &centre) in sentence.iter().enumerate() {
                    let span = 1 + rng.below(WINDOW);
                    let from = at.saturating_sub(span);
                    let to = (at + span + 1).min(sentence.len());
                    for (ctx_at, &context) in sentence.iter().enumerate().take(to).skip(from) {
                        if ctx_at == at {
                            continue;
                        }
                        let mut negatives = [0usize; NEGATIVES];
                        for n in &mut negatives {
                            *n = table[rng.below(table.len())] as usize;
                        }
                        pair(&mut input, &mut output, &mut hidden_grad, dim, lr, context, centre, &negatives);
                    }
                }
            }
            if !report(epoch, chunk + 1, chunks) {
                return None;
            }
        }
    }
    Some(input)
}

/// Ids drawn in proportion to count^0.75, the smoothed unigram distribution negatives come from.
fn negative_table(counts: &[u64]) -> Vec<u32> {
    let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
    let sum: f64 = weights.iter().sum();
    let mut table = Vec::with_capacity(NEGATIVE_TABLE);
    let mut cumulative = 0.0;
    for (id, w) in weights.iter().enumerate() {
        cumulative += w / sum;
        let upto = ((cumulative * NEGATIVE_TABLE as f64).round() as usize).min(NEGATIVE_TABLE);
        while table.len() < upto {
            table.push(id as u32);
        }
    }
    table
}

// One (word, context) pair: `word`'s input vector learns to score `target` above the sampled
// negatives.
super::simd::dispatch!(fn pair = pair_impl(input: &mut [f32], output: &mut [f32], grad: &mut [f32], dim: usize, lr: f32, word: usize, target: usize, negatives: &[usize]));

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pair_impl(input: &mut [f32], output: &mut [f32], grad: &mut [f32], dim: usize, lr: f32, word: usize, target: usize, negatives: &[usize]) {
    let v = &mut input[word * dim..(word + 1) * dim];
    grad.fill(0.0);
    for (k, &other) in std::iter::once(&target).chain(negatives).enumerate() {
        if k > 0 && other == target {
            continue;
        }
        let label = if k == 0 { 1.0 } else { 0.0 };
        let u = &mut output[other * dim..(other + 1) * dim];
        let score = dot(v, u).clamp(-6.0, 6.0);
        let g = lr * (label - super::simd::sigmoid(score));
        for ((gi, ui), vi) in grad.iter_mut().zip(u.iter_mut()).zip(v.iter()) {
            *gi += g * *ui;
            *ui += g * vi;
        }
    }
    for (vi, gi) in v.iter_mut().zip(grad.iter()) {
        *vi += gi;
    }
}

/// Sum of products in 16 independent lanes, so the compiler can keep them in vector registers.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let (a_blocks, b_blocks) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = a_blocks.remainder().iter().zip(b_blocks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_blocks.zip(b_blocks) {
        for i in 0..16 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(v: &[f32], dim: usize, a: usize, b: usize) -> f32 {
        let rows = v.len() / dim;
        let mean: Vec<f32> = (0..dim).map(|j| (2..rows).map(|r| v[r * dim + j]).sum::<f32>() / (rows - 2) as f32).collect();
        let centred = |r: usize| -> Vec<f32> { (0..dim).map(|j| v[r * dim + j] - mean[j]).collect() };
        let (x, y) = (&centred(a), &centred(b));
        dot(x, y) / (dot(x, x).sqrt() * dot(y, y).sqrt())
    }

    /// Two families of words that never meet: words of one family end up closer to each other
    /// than to the other family's.
    #[test]
    fn words_sharing_contexts_end_up_close() {
        let (family, dim) = (40u32, 16);
        let mut rng = Rng::new(7);
        // ids 2.. and 2 + family.. form two families that never share a review.
        let sequences: Vec<Vec<u32>> = (0..2000)
            .map(|i| {
                let base = if i % 2 == 0 { 2 } else { 2 + family };
                (0..30).map(|_| base + rng.below(family as usize) as u32).collect()
            })
            .collect();
        let v = train_vectors(&sequences, 2 + 2 * family as usize, dim, 3, &mut Rng::new(1), &mut |_, _, _| true).unwrap();
        let (mut within, mut across) = (0.0, 0.0);
        for a in 2..2 + family as usize {
            within += cosine(&v, dim, a, 2 + (a - 1) % family as usize);
            across += cosine(&v, dim, a, a + family as usize);
        }
        let (within, across) = (within / family as f32, across / family as f32);
        assert!(within > across + 0.5, "mean cosine within a family {within}, across {across}");
    }
}
