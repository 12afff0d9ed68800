// SPDX-License-Identifier: MIT OR Apache-2.0
//! Word vectors learned from the training reviews' own text, without their labels, to start the
//! embedding from: skip-gram with negative sampling (Mikolov et al., 2013). A word seen in a
//! handful of labelled reviews then starts near the words that share its contexts, instead of at
//! a random point the classifier's few gradients barely move.

use rayon::prelude::*;

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
/// Shards trained at once, at most: each holds its own copy of both matrices (30 MB for the
/// default 30,000 words × 128), and the vectors are a minute of a run of minutes, so more
/// threads than this are not worth their memory.
pub(crate) const MAX_SHARDS: usize = 8;
/// Sequences per round of sharded training: how late a shard sees the others' updates. Rounds
/// of 1,000 IMDB reviews left the vectors after one pass visibly less sharp than one thread's
/// (`tests/learning.rs`: "boring" 0.82 from "dull" and 0.76 from "funny", against 0.91 and 0.76);
/// rounds of 100 come close (0.87 and 0.74), and their merges cost no measurable time.
const ROUND: usize = 100;

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
/// their small random start. Deterministic for a given `rng` state and number of shards.
///
/// With `shards` above 1, every round of `ROUND` sequences is cut into that many parts
/// of about equal tokens, trained at once on `pool`, each on its own copy of the
/// vectors with its own random stream; at the end of the round every shard's changes are added to
/// the shared vectors in shard order and the copies start the next round from the sum. Each part
/// sees the others' updates one round late (as Hogwild's threads see each other's a few updates
/// late), but the result does not depend on which thread ran what or when.
///
/// `report(epoch, chunk, chunks)` is called after every `REPORT_EVERY` sequences and at the end
/// of each epoch (1-based); returning false stops, and the function returns None.
pub fn train_vectors(
    sequences: &[Vec<u32>],
    vocab: usize,
    dim: usize,
    epochs: usize,
    shards: usize,
    pool: &rayon::ThreadPool,
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
    let corpus = Corpus { keep, table: negative_table(&counts), dim, planned: (total as f64 * epochs as f64).max(1.0) };
    let mut output = vec![0f32; vocab * dim];
    let chunks = sequences.len().div_ceil(REPORT_EVERY);
    let mut done = 0f64;
    if shards <= 1 {
        let mut worker = Worker::new(dim, 0, rng.next_u64());
        // The round's stamps are never read with one shard: 0 leaves them unwritten.
        for epoch in 1..=epochs {
            for (chunk, part) in sequences.chunks(REPORT_EVERY).enumerate() {
                for seq in part {
                    done += seq.len() as f64;
                    worker.train(&corpus, seq, corpus.rate(done), &mut input, &mut output, 0);
                }
                if !report(epoch, chunk + 1, chunks) {
                    return None;
                }
            }
        }
        return Some(input);
    }
    let mut workers: Vec<Worker> = (0..shards).map(|_| Worker::new(dim, vocab, rng.next_u64())).collect();
    let mut copies: Vec<(Vec<f32>, Vec<f32>)> = (0..shards).map(|_| (input.clone(), output.clone())).collect();
    let mut round = 0u32;
    for epoch in 1..=epochs {
        for (chunk, reported) in sequences.chunks(REPORT_EVERY).enumerate() {
            for part in reported.chunks(ROUND) {
                round += 1;
                let shared = (&mut input[..], &mut output[..]);
                pool.install(|| sharded_round(&corpus, part, done, round, &mut workers, &mut copies, shared));
                done += part.iter().map(|s| s.len() as f64).sum::<f64>();
            }
            if !report(epoch, chunk + 1, chunks) {
                return None;
            }
        }
    }
    Some(input)
}

/// One round: `part` cut into one run per shard, each trained on its shard's copy, then every
/// shard's changes summed into `shared` (input and output vectors) and copied back. `done`:
/// tokens read before the round.
fn sharded_round(
    corpus: &Corpus,
    part: &[Vec<u32>],
    done: f64,
    round: u32,
    workers: &mut [Worker],
    copies: &mut [(Vec<f32>, Vec<f32>)],
    (input, output): (&mut [f32], &mut [f32]),
) {
    let shards = workers.len();
    let runs = split_by_tokens(part, shards);
    workers.par_iter_mut().zip(copies.par_iter_mut()).zip(runs.par_iter()).for_each(|((worker, (input, output)), run)| {
        // Each shard's tokens count `shards` times: the rate falls as if the runs went
        // interleaved on one thread.
        let mut local = 0f64;
        for seq in *run {
            local += seq.len() as f64;
            worker.train(corpus, seq, corpus.rate(done + local * shards as f64), input, output, round);
        }
    });
    merge(input, copies, workers, round, corpus.dim, |w| &w.input_stamps, |c| &mut c.0);
    merge(output, copies, workers, round, corpus.dim, |w| &w.output_stamps, |c| &mut c.1);
}

/// What every shard reads and no one writes.
struct Corpus {
    /// Each word's probability of being kept (frequent words are subsampled).
    keep: Vec<f32>,
    /// Negatives are drawn from this table.
    table: Vec<u32>,
    dim: usize,
    /// Tokens the whole run reads: the learning rate falls linearly over them.
    planned: f64,
}

impl Corpus {
    fn rate(&self, done: f64) -> f32 {
        (START_LR * (1.0 - (done / self.planned) as f32)).max(START_LR * 1e-4)
    }
}

/// One shard's own state: its random stream, scratch, and the round in which it last changed
/// each row of the two matrices (0: never; unused with one shard).
struct Worker {
    rng: Rng,
    sentence: Vec<usize>,
    hidden_grad: Vec<f32>,
    input_stamps: Vec<u32>,
    output_stamps: Vec<u32>,
}

impl Worker {
    fn new(dim: usize, stamped_rows: usize, seed: u64) -> Self {
        Worker { rng: Rng::new(seed), sentence: Vec::new(), hidden_grad: vec![0f32; dim], input_stamps: vec![0; stamped_rows], output_stamps: vec![0; stamped_rows] }
    }

    /// One sequence: each kept word's input vector learns to predict the words around it.
    fn train(&mut self, corpus: &Corpus, seq: &[u32], lr: f32, input: &mut [f32], output: &mut [f32], round: u32) {
        let rng = &mut self.rng;
        self.sentence.clear();
        for &id in seq {
            let k = corpus.keep.get(id as usize).copied().unwrap_or(0.0);
            if k > 0.0 && (k >= 1.0 || rng.next_f32() < k) {
                self.sentence.push(id as usize);
            }
        }
        let stamped = round > 0;
        let sentence = &self.sentence;
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
                    *n = corpus.table[rng.below(corpus.table.len())] as usize;
                }
                if stamped {
                    self.input_stamps[context] = round;
                    self.output_stamps[centre] = round;
                    negatives.iter().for_each(|&n| self.output_stamps[n] = round);
                }
                pair(input, output, &mut self.hidden_grad, corpus.dim, lr, context, centre, &negatives);
            }
        }
    }
}

/// Cuts `part` into `shards` consecutive runs of about equal tokens (some may be empty).
fn split_by_tokens(part: &[Vec<u32>], shards: usize) -> Vec<&[Vec<u32>]> {
    let total: usize = part.iter().map(Vec::len).sum();
    let mut runs = Vec::with_capacity(shards);
    let (mut from, mut seen) = (0, 0);
    for (i, seq) in part.iter().enumerate() {
        seen += seq.len();
        // Close run k once it holds its share of the tokens.
        if seen * shards >= total * (runs.len() + 1) && runs.len() + 1 < shards {
            runs.push(&part[from..=i]);
            from = i + 1;
        }
    }
    runs.push(&part[from..]);
    runs.resize(shards, &part[part.len()..]);
    runs
}

/// Adds every shard's change to the rows it touched this round into `shared`, in shard order,
/// and copies each changed row back into every shard's matrix. A shard that did not touch a row
/// holds it exactly as `shared` does, so its difference there is zero.
fn merge(
    shared: &mut [f32],
    copies: &mut [(Vec<f32>, Vec<f32>)],
    workers: &[Worker],
    round: u32,
    dim: usize,
    stamps: impl Fn(&Worker) -> &Vec<u32> + Sync,
    matrix: impl Fn(&mut (Vec<f32>, Vec<f32>)) -> &mut Vec<f32> + Sync,
) {
    let changed: Vec<usize>;
    {
        let views: Vec<&[f32]> = copies.iter_mut().map(|c| &matrix(c)[..]).collect();
        let mut changed_rows: Vec<(usize, &mut [f32])> =
            shared.chunks_exact_mut(dim).enumerate().filter(|(r, _)| workers.iter().any(|w| stamps(w)[*r] == round)).collect();
        changed = changed_rows.iter().map(|(r, _)| *r).collect();
        changed_rows.par_iter_mut().with_min_len(256).for_each(|(r, row)| {
            for (j, s) in row.iter_mut().enumerate() {
                let old = *s;
                *s = views.iter().fold(old, |sum, view| sum + (view[*r * dim + j] - old));
            }
        });
    }
    let shared = &*shared;
    copies.par_iter_mut().for_each(|c| {
        let m = matrix(c);
        for &r in &changed {
            m[r * dim..(r + 1) * dim].copy_from_slice(&shared[r * dim..(r + 1) * dim]);
        }
    });
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

    /// Two families of words that never share a review: `family` ids from 2 and as many after.
    fn two_families(family: u32) -> Vec<Vec<u32>> {
        let mut rng = Rng::new(7);
        (0..2000)
            .map(|i| {
                let base = if i % 2 == 0 { 2 } else { 2 + family };
                (0..30).map(|_| base + rng.below(family as usize) as u32).collect()
            })
            .collect()
    }

    fn vectors(sequences: &[Vec<u32>], vocab: usize, dim: usize, shards: usize, threads: usize) -> Vec<f32> {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        train_vectors(sequences, vocab, dim, 3, shards, &pool, &mut Rng::new(1), &mut |_, _, _| true).unwrap()
    }

    /// Words of one family end up closer to each other than to the other family's, trained on
    /// one shard or on several at once.
    #[test]
    fn words_sharing_contexts_end_up_close() {
        let (family, dim) = (40u32, 16);
        let sequences = two_families(family);
        for shards in [1, 2, 3] {
            let v = vectors(&sequences, 2 + 2 * family as usize, dim, shards, 2);
            let (mut within, mut across) = (0.0, 0.0);
            for a in 2..2 + family as usize {
                within += cosine(&v, dim, a, 2 + (a - 1) % family as usize);
                across += cosine(&v, dim, a, a + family as usize);
            }
            let (within, across) = (within / family as f32, across / family as f32);
            assert!(within > across + 0.5, "{shards} shards: mean cosine within a family {within}, across {across}");
        }
    }

    /// Shards trained at once give the vectors they give one after another, whatever thread runs
    /// which; and a shard's changes reach the others (two shards differ from one).
    #[test]
    fn shards_do_not_depend_on_the_threads_running_them() {
        let sequences = two_families(30);
        let (vocab, dim) = (62, 8);
        let one_thread = vectors(&sequences, vocab, dim, 2, 1);
        for _ in 0..3 {
            assert_eq!(vectors(&sequences, vocab, dim, 2, 2), one_thread);
        }
        assert_ne!(vectors(&sequences, vocab, dim, 1, 2), one_thread);
    }

    #[test]
    fn rounds_are_split_in_order_into_runs_of_about_equal_tokens() {
        let part: Vec<Vec<u32>> = [5, 1, 1, 1, 1, 1, 5, 5].iter().map(|&n| vec![2; n]).collect();
        let runs = split_by_tokens(&part, 2);
        assert_eq!(runs.iter().map(|r| r.len()).collect::<Vec<_>>(), [6, 2]);
        let runs = split_by_tokens(&part, 3);
        assert_eq!(runs.concat(), part);
        assert_eq!(runs.iter().map(|r| r.iter().map(Vec::len).sum::<usize>()).collect::<Vec<_>>(), [7, 8, 5]);
        // More shards than sequences: the rest get nothing.
        let runs = split_by_tokens(&part[..1], 3);
        assert_eq!(runs.iter().map(|r| r.len()).collect::<Vec<_>>(), [1, 0, 0]);
    }
}
