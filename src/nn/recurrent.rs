// SPDX-License-Identifier: MIT OR Apache-2.0
//! One direction of an LSTM or GRU layer as a single Candle custom op with a hand-written backward
//! pass: the whole recurrence is one node of the graph instead of a dozen small ops per time step.
//!
//! Inputs: the input projections `gx` (batch, steps, G·H) for every step, without bias, or a
//! table of projections (words, G·H) with each step's row given by id; the recurrent weights
//! `w_hh` (G·H, H); and both biases side by side, `[b_ih, b_hh]` (2·G·H) — adding the input bias
//! here saves a pass over `gx` and its gradient. Output: hidden states (batch, steps, H), zero
//! past each row's length. Gate order: LSTM i, f, g, o; GRU r, z, n.

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor, bail};
use rayon::prelude::*;

use super::{RecurrentCell, Values, f32_slice, split_units};
use super::byte_table::{self, ByteTable};
use super::kernels::{self, Dims, Inputs, SmallRowMatrix};

pub(crate) struct RecurrenceOp {
    pub cell: RecurrentCell,
    pub hidden: usize,
    pub reverse: bool,
    pub lengths: Arc<[usize]>,
    /// Worker threads for this op (rows are split between them).
    pub threads: usize,
    /// Whether the forward pass keeps what the backward pass needs.
    pub training: bool,
    /// Whether the backward pass may skip the weights' and biases' gradients (explanations need
    /// only the inputs'; the weight gradient costs as much as the rest of the pass).
    inputs_only: bool,
    /// W_hh in the layout of single-review steps, when the caller keeps it (loaded models).
    w_hh_small: Option<SmallRowMatrix>,
    /// Inputs from a per-word table: each (row, step)'s table row (batch × steps) and steps. The
    /// first input is then the table (words, G·H) instead of `gx`, and its gradient is the
    /// table's: every step's gradient added into its word's row. Outside training the table may
    /// be f16 or bytes (a model predicting at f16 or i16).
    ids: Option<(Arc<[u32]>, usize)>,
    /// The training forward pass's saved values for its backward pass: the first `batch × steps ×
    /// saved-per-unit` values of a spare buffer that may be longer.
    saved: Mutex<Option<Vec<f32>>>,
}

/// Rows per block: enough to keep each thread's multiplies efficient.
const MIN_ROWS_PER_THREAD: usize = 8;

impl RecurrenceOp {
    pub fn new(cell: RecurrentCell, hidden: usize, reverse: bool, lengths: Arc<[usize]>, threads: usize, training: bool) -> Self {
        Self { cell, hidden, reverse, lengths, threads, training, inputs_only: false, w_hh_small: None, ids: None, saved: Mutex::new(None) }
    }

    /// The backward pass gives the inputs' gradient only.
    pub fn inputs_gradient_only(mut self) -> Self {
        self.inputs_only = true;
        self
    }

    /// Reads the input projections from a table by row id.
    pub fn with_input_table_ids(mut self, ids: Arc<[u32]>, steps: usize) -> Self {
        self.ids = Some((ids, steps));
        self
    }

    pub fn with_small_row_weights(mut self, w_hh_small: Option<SmallRowMatrix>) -> Self {
        self.w_hh_small = w_hh_small;
        self
    }

    fn rows_per_block(&self, batch: usize) -> usize {
        let blocks = self.threads.min(batch / MIN_ROWS_PER_THREAD).max(1);
        batch.div_ceil(blocks)
    }

    fn dims(&self, steps: usize) -> Dims {
        Dims { cell: self.cell, hidden: self.hidden, steps, reverse: self.reverse }
    }
}

/// Saved-activation buffers of finished backward passes, for the next training step. At 200
/// tokens a batch of 64 saves 39 MB for an LSTM: glibc serves that with a fresh mapping
/// (allocations over 32 MiB always are), so every step page-faulted it in and unmapped it
/// again, which cost from a tenth to a third of an epoch depending on the host.
mod spare_saved {
    use std::sync::Mutex;

    /// Buffers kept at most: one per direction of a two-layer bidirectional model.
    const KEEP: usize = 4;
    static SPARE: Pool = Pool(Mutex::new(Vec::new()));

    pub(super) fn take(len: usize) -> Vec<f32> {
        SPARE.take(len)
    }

    pub(super) fn give(v: Vec<f32>) {
        SPARE.give(v)
    }

    pub(super) struct Pool(Mutex<Vec<Vec<f32>>>);

    impl Pool {
        /// A buffer of at least `len` values: the shortest spare one that is long enough, kept
        /// at its full length so that it still serves the longest batches after a short one
        /// (cut to the short batch's length, it served no longer batch again, and training
        /// faulted in a fresh buffer at most steps). A reused one keeps its old values: the
        /// forward pass writes the saved values of every real step, and the backward pass reads
        /// no other.
        pub(super) fn take(&self, len: usize) -> Vec<f32> {
            let mut spare = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let fitting = spare.iter().enumerate().filter(|(_, v)| v.len() >= len).min_by_key(|(_, v)| v.len()).map(|(i, _)| i);
            match fitting {
                Some(i) => spare.swap_remove(i),
                None => vec![0f32; len],
            }
        }

        pub(super) fn give(&self, v: Vec<f32>) {
            let mut spare = self.0.lock().unwrap_or_else(|e| e.into_inner());
            spare.push(v);
            if spare.len() > KEEP {
                // Keep the largest: they serve every shorter batch.
                spare.sort_by_key(|v| std::cmp::Reverse(v.len()));
                spare.truncate(KEEP);
            }
        }
    }

    #[test]
    fn a_buffer_that_served_a_short_batch_still_serves_a_long_one() {
        let pool = Pool(Mutex::new(Vec::new()));
        let long = pool.take(1000);
        let at = long.as_ptr();
        pool.give(long);
        let short = pool.take(10);
        assert_eq!((short.as_ptr(), short.len()), (at, 1000), "the short batch borrows the whole buffer");
        pool.give(short);
        assert_eq!(pool.take(1000).as_ptr(), at, "and the next long batch gets it back");
        let (a, b) = (pool.take(50), pool.take(500));
        pool.give(b);
        pool.give(a);
        assert_eq!(pool.take(40).len(), 50, "the shortest buffer that fits is lent");
    }
}

impl CustomOp3 for RecurrenceOp {
    fn name(&self) -> &'static str {
        "senti-recurrence"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout, s3: &CpuStorage, l3: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (batch, steps, g_n) = match &self.ids {
            None => l1.shape().dims3()?,
            Some((ids, steps)) => {
                let (vocab, columns) = l1.shape().dims2()?;
                // A byte table's rows start with their scale.
                let g_n = if matches!(s1, CpuStorage::U8(_)) { columns.saturating_sub(byte_table::SCALE_BYTES) } else { columns };
                if ids.len() != self.lengths.len() * steps || ids.iter().any(|&i| i as usize >= vocab) {
                    bail!("recurrence: token ids do not fit the input table");
                }
                (self.lengths.len(), *steps, g_n)
            }
        };
        let d = self.dims(steps);
        if g_n != d.gates() || l2.shape().dims() != [d.gates(), d.hidden] || l3.shape().dims() != [2 * d.gates()] {
            bail!("recurrence: shapes {:?} {:?} {:?} do not fit hidden size {}", l1.shape(), l2.shape(), l3.shape(), d.hidden);
        }
        if self.lengths.len() != batch || self.lengths.iter().any(|&l| l == 0 || l > steps) {
            bail!("recurrence: lengths must be 1..={steps}, one per row");
        }
        let (w, b) = (f32_slice(s2, l2, "recurrence: w_hh")?, f32_slice(s3, l3, "recurrence: biases")?);
        let inputs = match (&self.ids, s1) {
            (Some((ids, _)), CpuStorage::F16(table)) if !self.training => {
                let Some((start, end)) = l1.contiguous_offsets() else { bail!("recurrence: the input table must be contiguous") };
                Inputs::GatheredHalf { table: &table[start..end], ids }
            }
            (Some((ids, _)), CpuStorage::U8(packed)) if !self.training => {
                let Some((start, end)) = l1.contiguous_offsets() else { bail!("recurrence: the input table must be contiguous") };
                let Some(table) = ByteTable::new(&packed[start..end], g_n) else { bail!("recurrence: the byte table is not whole rows") };
                Inputs::GatheredBytes { table, ids }
            }
            (Some((ids, _)), _) => Inputs::Gathered { table: f32_slice(s1, l1, "recurrence: the input table")?, ids },
            (None, _) => Inputs::Dense(f32_slice(s1, l1, "recurrence: gx")?),
        };
        let (b_ih, b_hh) = b.split_at(g_n);
        let h_n = d.hidden;
        let mut out = vec![0f32; batch * steps * h_n];
        let rows = self.rows_per_block(batch);
        let lens = &self.lengths;
        if self.training {
            let sv_n = d.saved();
            let mut spare = spare_saved::take(batch * steps * sv_n);
            let saved = &mut spare[..batch * steps * sv_n];
            let run = |(i, (o, sv)): (usize, (&mut [f32], &mut [f32]))| {
                let r0 = i * rows;
                let n = o.len() / (steps * h_n);
                kernels::forward(&d, &lens[r0..r0 + n], inputs.rows(r0, n, steps, g_n), w, self.w_hh_small.as_ref().map(SmallRowMatrix::view), b_ih, b_hh, o, Some(sv));
            };
            if rows >= batch {
                run((0, (&mut out, saved)));
            } else {
                out.par_chunks_mut(rows * steps * h_n).zip(saved.par_chunks_mut(rows * steps * sv_n)).enumerate().for_each(run);
            }
            *self.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(spare);
        } else if let (1, Some(w_small), true) = (batch, &self.w_hh_small, self.threads >= 2 && split_units::splittable(&d)) {
            // One review cannot be split by rows: its hidden units are, over two threads.
            split_units::forward(&d, lens[0], inputs, w_small.view(), b_ih, b_hh, &mut out);
        } else {
            let run = |(i, o): (usize, &mut [f32])| {
                let r0 = i * rows;
                let n = o.len() / (steps * h_n);
                kernels::forward(&d, &lens[r0..r0 + n], inputs.rows(r0, n, steps, g_n), w, self.w_hh_small.as_ref().map(SmallRowMatrix::view), b_ih, b_hh, o, None);
            };
            if rows >= batch {
                run((0, &mut out));
            } else {
                out.par_chunks_mut(rows * steps * h_n).enumerate().for_each(run);
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((batch, steps, h_n))))
    }

    fn bwd(&self, gx: &Tensor, w_hh: &Tensor, biases: &Tensor, res: &Tensor, grad_res: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let Some(saved) = self.saved.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            bail!("recurrence: backward without a training forward pass");
        };
        let (batch, steps, g_n) = match &self.ids {
            None => gx.dims3()?,
            Some((_, steps)) => (self.lengths.len(), *steps, gx.dims2()?.1),
        };
        let d = self.dims(steps);
        let (h_n, sv_n) = (d.hidden, d.saved());
        let (w, out, d_out) = (Values::of(w_hh)?, Values::of(res)?, Values::of(grad_res)?);
        let mut d_gx = vec![0f32; batch * steps * g_n];
        // The LSTM's recurrent pre-activation gradient equals d_gx; only the GRU needs its own.
        let mut d_gh = if self.cell == RecurrentCell::Gru { vec![0f32; batch * steps * g_n] } else { Vec::new() };
        let mut h_prev = vec![0f32; batch * steps * h_n];
        let rows = self.rows_per_block(batch);
        let lens = &self.lengths;
        let run = |i: usize, dgx: &mut [f32], dgh: &mut [f32], hp: &mut [f32]| {
            let r0 = i * rows;
            let n = hp.len() / (steps * h_n);
            let span = |k: usize| r0 * steps * k..(r0 + n) * steps * k;
            kernels::backward(&d, &lens[r0..r0 + n], &w, &out[span(h_n)], &saved[span(sv_n)], &d_out[span(h_n)], dgx, dgh, hp);
        };
        let block = |k: usize| rows * steps * k;
        if rows >= batch {
            run(0, &mut d_gx, &mut d_gh, &mut h_prev);
        } else if d_gh.is_empty() {
            d_gx.par_chunks_mut(block(g_n)).zip(h_prev.par_chunks_mut(block(h_n))).enumerate().for_each(|(i, (a, hp))| run(i, a, &mut [], hp));
        } else {
            d_gx.par_chunks_mut(block(g_n))
                .zip(d_gh.par_chunks_mut(block(g_n)))
                .zip(h_prev.par_chunks_mut(block(h_n)))
                .enumerate()
                .for_each(|(i, ((a, g), hp))| run(i, a, g, hp));
        }
        spare_saved::give(saved);
        let dev = gx.device();
        // Weights that are variables (a model still training) get their gradients regardless.
        if self.inputs_only && self.ids.is_none() && !w_hh.track_op() && !biases.track_op() {
            return Ok((Some(Tensor::from_vec(d_gx, (batch, steps, g_n), dev)?), None, None));
        }
        let d_pre = if d_gh.is_empty() { &d_gx } else { &d_gh };
        let mut d_w = vec![0f32; g_n * h_n];
        kernels::matmul_tn(g_n, h_n, batch * steps, &mut d_w, d_pre, &h_prev, self.threads);
        // Bias gradients: column sums of the input and recurrent pre-activation gradients.
        let mut d_b = vec![0f32; 2 * g_n];
        let (d_bi, d_bh) = d_b.split_at_mut(g_n);
        for (acc, src) in [(d_bi, &d_gx), (d_bh, d_pre)] {
            for row in src.chunks_exact(g_n) {
                for (a, v) in acc.iter_mut().zip(row) {
                    *a += v;
                }
            }
        }
        let d_input = match &self.ids {
            None => Tensor::from_vec(d_gx, (batch, steps, g_n), dev)?,
            Some((ids, _)) => {
                let words = gx.dims2()?.0;
                let tasks = batch.div_ceil(rows);
                Tensor::from_vec(table_gradient(&d_gx, ids, lens, steps, words, g_n, tasks), (words, g_n), dev)?
            }
        };
        Ok((
            Some(d_input),
            Some(Tensor::from_vec(d_w, (g_n, h_n), dev)?),
            Some(Tensor::from_vec(d_b, 2 * g_n, dev)?),
        ))
    }
}

/// The input table's gradient: the gradient of every real (row, step) added into the row of its
/// word. `tasks` parallel tasks split the table's rows and each reads every step in the same
/// order, so the sums do not depend on the number of tasks or threads.
fn table_gradient(d_gx: &[f32], ids: &[u32], lens: &[usize], steps: usize, words: usize, g_n: usize, tasks: usize) -> Vec<f32> {
    let mut d_table = vec![0f32; words * g_n];
    let per_task = words.div_ceil(tasks.max(1)).max(1);
    d_table.par_chunks_mut(per_task * g_n).enumerate().for_each(|(task, mine)| {
        let first = task * per_task;
        let owned = first..first + mine.len() / g_n;
        for (b, &len) in lens.iter().enumerate() {
            for at in b * steps..b * steps + len {
                let w = ids[at] as usize;
                if owned.contains(&w) {
                    let (dst, src) = (&mut mine[(w - first) * g_n..][..g_n], &d_gx[at * g_n..][..g_n]);
                    for (d, s) in dst.iter_mut().zip(src) {
                        *d += s;
                    }
                }
            }
        }
    });
    d_table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use candle_core::{DType, Device, Var};

    fn random(n: usize, rng: &mut Rng, scale: f32) -> Vec<f32> {
        (0..n).map(|_| (rng.next_f32() * 2.0 - 1.0) * scale).collect()
    }

    /// Compares the hand-written backward pass with central finite differences. With `table`,
    /// the inputs are rows of a 3-word table picked by id, so that words repeat across rows and
    /// steps and their gradients must add up.
    fn check_gradients(cell: RecurrentCell, reverse: bool, table: bool) {
        let (b, t, h) = (3, 4, 5);
        let g = cell.gates() * h;
        let mut rng = Rng::new(11);
        let lengths: Arc<[usize]> = Arc::from(vec![4, 1, 3]);
        let dev = Device::Cpu;
        // Padded steps (row 1 after step 0, row 2 at step 3) hold id 2: it must get no gradient
        // from them.
        let ids: Arc<[u32]> = Arc::from(vec![0, 1, 0, 2, 1, 2, 2, 2, 2, 0, 0, 2]);
        let gx = if table {
            Var::from_vec(random(3 * g, &mut rng, 1.0), (3, g), &dev).unwrap()
        } else {
            Var::from_vec(random(b * t * g, &mut rng, 1.0), (b, t, g), &dev).unwrap()
        };
        let w = Var::from_vec(random(g * h, &mut rng, 0.5), (g, h), &dev).unwrap();
        let bias = Var::from_vec(random(2 * g, &mut rng, 0.5), 2 * g, &dev).unwrap();
        let probe = Tensor::from_vec(random(b * t * h, &mut rng, 1.0), (b, t, h), &dev).unwrap();
        let loss = |gx: &Tensor, w: &Tensor, bias: &Tensor, training: bool| -> Tensor {
            let mut op = RecurrenceOp::new(cell, h, reverse, lengths.clone(), 2, training);
            if table {
                op = op.with_input_table_ids(ids.clone(), t);
            }
            gx.apply_op3(w, bias, op).unwrap().mul(&probe).unwrap().sum_all().unwrap()
        };
        let grads = loss(gx.as_tensor(), w.as_tensor(), bias.as_tensor(), true).backward().unwrap();
        for (name, var) in [("gx", &gx), ("w_hh", &w), ("biases", &bias)] {
            let analytic = grads.get(var).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let base = var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
            for i in 0..base.len() {
                let eps = 1e-2f32;
                let eval = |delta: f32| {
                    let mut v = base.clone();
                    v[i] += delta;
                    let moved = Tensor::from_vec(v, var.shape(), &dev).unwrap();
                    let (a, b2, c) = match name {
                        "gx" => (moved, w.as_tensor().clone(), bias.as_tensor().clone()),
                        "w_hh" => (gx.as_tensor().clone(), moved, bias.as_tensor().clone()),
                        _ => (gx.as_tensor().clone(), w.as_tensor().clone(), moved),
                    };
                    loss(&a, &b2, &c, false).to_scalar::<f32>().unwrap()
                };
                let numeric = (eval(eps) - eval(-eps)) / (2.0 * eps);
                let tol = 2e-3 + 1e-2 * numeric.abs();
                assert!((numeric - analytic[i]).abs() < tol, "{cell:?} reverse={reverse} table={table} d{name}[{i}]: numeric {numeric}, analytic {}", analytic[i]);
            }
        }
    }

    #[test]
    fn lstm_gradients_match_finite_differences() {
        for table in [false, true] {
            check_gradients(RecurrentCell::Lstm, false, table);
            check_gradients(RecurrentCell::Lstm, true, table);
        }
    }

    #[test]
    fn gru_gradients_match_finite_differences() {
        for table in [false, true] {
            check_gradients(RecurrentCell::Gru, false, table);
            check_gradients(RecurrentCell::Gru, true, table);
        }
    }

    #[test]
    fn table_gradient_is_the_same_on_any_number_of_threads() {
        let (rows, steps, g_n, words) = (40, 6, 8, 7);
        let mut rng = Rng::new(5);
        let lens: Vec<usize> = (0..rows).map(|r| 1 + r % steps).collect();
        let ids: Vec<u32> = (0..rows * steps).map(|i| (i * 5 % words) as u32).collect();
        let d_gx = random(rows * steps * g_n, &mut rng, 1.0);
        let one = table_gradient(&d_gx, &ids, &lens, steps, words, g_n, 1);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let split = pool.install(|| table_gradient(&d_gx, &ids, &lens, steps, words, g_n, 5));
        assert_eq!(one, split);
        // Each word's row is the sum over the real steps that use it.
        let mut want = vec![0f32; words * g_n];
        for (r, &len) in lens.iter().enumerate() {
            for at in r * steps..r * steps + len {
                for k in 0..g_n {
                    want[ids[at] as usize * g_n + k] += d_gx[at * g_n + k];
                }
            }
        }
        assert_eq!(one, want);
    }

    #[test]
    fn padding_does_not_change_a_rows_output() {
        let (h, cell) = (4, RecurrentCell::Lstm);
        let g = cell.gates() * h;
        let mut rng = Rng::new(3);
        let row = random(2 * g, &mut rng, 1.0);
        let w = Tensor::from_vec(random(g * h, &mut rng, 0.5), (g, h), &Device::Cpu).unwrap();
        let bias = Tensor::zeros(2 * g, DType::F32, &Device::Cpu).unwrap();
        for reverse in [false, true] {
            let run = |steps: usize| {
                let mut gx = row.clone();
                gx.resize(steps * g, 7.0); // garbage in the padded steps must not matter
                let gx = Tensor::from_vec(gx, (1, steps, g), &Device::Cpu).unwrap();
                let op = RecurrenceOp::new(cell, h, reverse, Arc::from(vec![2]), 1, false);
                let out = gx.apply_op3(&w, &bias, op).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
                (out[..2 * h].to_vec(), out[2 * h..].to_vec())
            };
            let (short, _) = run(2);
            let (long, pad) = run(5);
            assert_eq!(short, long);
            assert!(pad.iter().all(|&v| v == 0.0));
        }
    }
}
