// SPDX-License-Identifier: MIT OR Apache-2.0
//! Plain-Rust kernels for one direction of a recurrent layer over a block of batch rows.
//!
//! Rows are processed in order of decreasing length, so at every step the rows still running
//! form a prefix and the recurrent projection is one matrix multiply over that prefix: padding is
//! never computed and never reaches the state. Gate input projections come from the caller, either
//! computed for every step beforehand or as rows of a per-word table (`Inputs`).

use super::RecurrentCell;
use super::byte_table::ByteTable;
use super::half_precision::{self as halves, BLOCK, widen_halves};
use super::int16_precision::QuantizedMatrix;
use super::simd::{MulAdd, dispatch, sigmoid_with, tanh_with};

/// A matrix inside a slice: element (i, j) is at `i * row + j * col`, so a transpose is the
/// same slice with the strides swapped and a block of rows starts further in.
#[derive(Clone, Copy)]
pub(crate) struct Strided<'a> {
    pub data: &'a [f32],
    pub row: usize,
    pub col: usize,
}

/// The mutable form of [`Strided`], for a product's destination.
pub(crate) struct StridedMut<'a> {
    pub data: &'a mut [f32],
    pub row: usize,
    pub col: usize,
}

impl<'a> Strided<'a> {
    /// Row-major, `cols` wide.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        Self { data, row: cols, col: 1 }
    }
    pub fn t(self) -> Self {
        Self { data: self.data, row: self.col, col: self.row }
    }
}

impl<'a> StridedMut<'a> {
    pub fn rows(data: &'a mut [f32], cols: usize) -> Self {
        Self { data, row: cols, col: 1 }
    }
}

/// The slice length an `rows × cols` matrix with these strides reaches.
fn extent(rows: usize, cols: usize, row: usize, col: usize) -> usize {
    if rows == 0 || cols == 0 { 0 } else { (rows - 1) * row + (cols - 1) * col + 1 }
}

/// Whether every element of an `rows × cols` matrix with these strides has a place of its own:
/// the rows lie side by side, or the columns do.
fn distinct(rows: usize, cols: usize, row: usize, col: usize) -> bool {
    match (rows, cols) {
        (0, _) | (_, 0) | (1, 1) => true,
        (1, _) => col > 0,
        (_, 1) => row > 0,
        _ => (col > 0 && row >= cols * col) || (row > 0 && col >= rows * row),
    }
}

/// `dst (m×n) = scale · lhs (m×k) · rhs (k×n)`, or `dst +=` that when `accumulate`; any strides.
pub(crate) fn gemm(m: usize, n: usize, k: usize, dst: StridedMut, accumulate: bool, lhs: Strided, rhs: Strided, scale: f32, threads: usize) {
    assert!(
        dst.data.len() >= extent(m, n, dst.row, dst.col)
            && lhs.data.len() >= extent(m, k, lhs.row, lhs.col)
            && rhs.data.len() >= extent(k, n, rhs.row, rhs.col)
            && distinct(m, n, dst.row, dst.col),
        "gemm: a {m}×{k} by {k}×{n} product does not fit its slices, or its destination overlaps itself"
    );
    if m == 0 || n == 0 {
        return;
    }
    let stride = |s: usize| s as isize;
    // SAFETY: the assertion above shows every element gemm reads or writes with these strides lies
    // inside its slice and that no two destination elements share a place (gemm's threads write
    // them at once); `dst` is borrowed mutably, so it overlaps neither operand.
    unsafe {
        gemm::gemm(
            m, n, k,
            dst.data.as_mut_ptr(), stride(dst.col), stride(dst.row), accumulate,
            lhs.data.as_ptr(), stride(lhs.col), stride(lhs.row),
            rhs.data.as_ptr(), stride(rhs.col), stride(rhs.row),
            if accumulate { 1.0 } else { 0.0 }, scale,
            false, false, false,
            if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None },
        )
    }
}

/// `dst (m×n) = lhs (m×k) · rhs (k×n)`, both stored row-major; `dst +=` when `accumulate`.
pub(crate) fn matmul_nn(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], rhs: &[f32], accumulate: bool, threads: usize) {
    gemm(m, n, k, StridedMut::rows(dst, n), accumulate, Strided::rows(lhs, k), Strided::rows(rhs, n), 1.0, threads);
}

/// `dst (m×n) = lhsᵀ · rhs` with `lhs (k×m)` and `rhs (k×n)` row-major: the weight gradient
/// summed over all rows and steps in one multiply.
pub(crate) fn matmul_tn(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], rhs: &[f32], threads: usize) {
    gemm(m, n, k, StridedMut::rows(dst, n), false, Strided::rows(lhs, m).t(), Strided::rows(rhs, n), 1.0, threads);
}

/// Shapes shared by the forward and backward passes of one block.
pub(crate) struct Dims {
    pub cell: RecurrentCell,
    pub hidden: usize,
    pub steps: usize,
    pub reverse: bool,
}

impl Dims {
    pub fn gates(&self) -> usize {
        self.cell.gates() * self.hidden
    }
    /// Floats saved per (row, step) for the backward pass: the activated gates, then for the
    /// LSTM the cell state and its tanh, for the GRU the recurrent candidate projection.
    pub fn saved(&self) -> usize {
        match self.cell {
            RecurrentCell::Lstm => self.gates() + 2 * self.hidden,
            RecurrentCell::Gru => self.gates() + self.hidden,
        }
    }
    pub(crate) fn time(&self, len: usize, s: usize) -> usize {
        if self.reverse { len - 1 - s } else { s }
    }
}

fn order_by_length(lens: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by(|&a, &b| lens[b].cmp(&lens[a]));
    order
}

fn active_rows(order: &[usize], lens: &[usize], s: usize, mut active: usize) -> usize {
    while active > 0 && lens[order[active - 1]] <= s {
        active -= 1;
    }
    active
}

/// The input projections a forward pass reads, one row of G·H per (row, step) at index
/// `row · steps + step`.
#[derive(Clone, Copy)]
pub(crate) enum Inputs<'a> {
    /// Computed in advance: (rows, steps, G·H).
    Dense(&'a [f32]),
    /// Rows of a per-word table (vocab, G·H), picked by token id (rows, steps): a loaded model's
    /// first layer, with no (rows × steps × G·H) buffer to fill and read back.
    Gathered { table: &'a [f32], ids: &'a [u32] },
    /// The same table stored at half precision (`half_precision::f32_to_half`): half the memory, each row
    /// widened as the step reads it.
    GatheredHalf { table: &'a [half::f16], ids: &'a [u32] },
    /// The same table one byte a value with a scale per row (`byte_table`): a quarter of f32's
    /// memory, each row widened as the step reads it.
    GatheredBytes { table: ByteTable<'a>, ids: &'a [u32] },
}

impl<'a> Inputs<'a> {
    /// Row `at`, borrowed, or widened into `scratch` (G·H values) for a half table.
    #[inline(always)]
    pub(crate) fn row<'s>(&self, at: usize, g_n: usize, scratch: &'s mut [f32]) -> &'s [f32]
    where
        'a: 's,
    {
        match *self {
            Inputs::Dense(gx) => &gx[at * g_n..][..g_n],
            Inputs::Gathered { table, ids } => &table[ids[at] as usize * g_n..][..g_n],
            Inputs::GatheredHalf { table, ids } => {
                widen_halves(&table[ids[at] as usize * g_n..][..g_n], scratch);
                &scratch[..g_n]
            }
            Inputs::GatheredBytes { table, ids } => {
                table.widen_row(ids[at] as usize, scratch);
                &scratch[..g_n]
            }
        }
    }

    /// Whether [`Inputs::row`] widens rows into its scratch (which must then hold G·H values).
    pub(crate) fn widens(&self) -> bool {
        matches!(self, Inputs::GatheredHalf { .. } | Inputs::GatheredBytes { .. })
    }

    /// The inputs of rows `r0..r0 + n`.
    pub(crate) fn rows(self, r0: usize, n: usize, steps: usize, g_n: usize) -> Self {
        match self {
            Inputs::Dense(gx) => Inputs::Dense(&gx[r0 * steps * g_n..(r0 + n) * steps * g_n]),
            Inputs::Gathered { table, ids } => Inputs::Gathered { table, ids: &ids[r0 * steps..(r0 + n) * steps] },
            Inputs::GatheredHalf { table, ids } => Inputs::GatheredHalf { table, ids: &ids[r0 * steps..(r0 + n) * steps] },
            Inputs::GatheredBytes { table, ids } => Inputs::GatheredBytes { table, ids: &ids[r0 * steps..(r0 + n) * steps] },
        }
    }
}

/// A weight the single-review product reads: an f32, or a half (half the bytes to stream from
/// cache at every step, where that stream is the limit).
pub(crate) trait Weight: Copy {
    /// `acc = h · block`, one block of 64 columns over `h.len()` rows.
    fn block_product(h: &[f32], block: &[Self], acc: &mut [f32; BLOCK]);
    fn widen(self) -> f32;
}

impl Weight for f32 {
    #[inline(always)]
    fn block_product(h: &[f32], block: &[f32], acc: &mut [f32; BLOCK]) {
        // The 64 partial sums stay in registers across the whole of `h`.
        *acc = [0f32; BLOCK];
        for (&hk, w) in h.iter().zip(block.chunks_exact(BLOCK)) {
            for j in 0..BLOCK {
                acc[j] += hk * w[j];
            }
        }
    }
    #[inline(always)]
    fn widen(self) -> f32 {
        self
    }
}

impl Weight for half::f16 {
    #[inline(always)]
    fn block_product(h: &[f32], block: &[half::f16], acc: &mut [f32; BLOCK]) {
        halves::block_product(h, block, acc)
    }
    #[inline(always)]
    fn widen(self) -> f32 {
        halves::half_to_f32(self)
    }
}

/// W_hh in `small_matmul_layout`, at the precision the model predicts with, or as integers.
#[derive(Clone, Copy)]
pub(crate) enum SmallRowWeights<'a> {
    F32(&'a [f32]),
    Half(&'a [half::f16]),
    Int16(&'a QuantizedMatrix),
}

impl SmallRowWeights<'_> {
    /// `h · W_hhᵀ` over whole 64-row blocks of W_hh: block `blocks[i]`'s 64 outputs into
    /// `out[64·i..]`, each computed as the whole product computes it. `state` is scratch.
    #[inline(always)]
    pub(crate) fn block_products(self, h: &[f32], state: &mut Vec<i16>, blocks: &[usize], out: &mut [f32]) {
        // Plain loops, not closures: a closure is compiled on its own, without the level of the
        // kernel it sits in.
        let h_n = h.len();
        let mut acc = [0f32; BLOCK];
        match self {
            SmallRowWeights::F32(w_b) => {
                for (&b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
                    f32::block_product(h, &w_b[b * h_n * BLOCK..][..h_n * BLOCK], &mut acc);
                    o.copy_from_slice(&acc);
                }
            }
            SmallRowWeights::Half(w_b) => {
                for (&b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
                    half::f16::block_product(h, &w_b[b * h_n * BLOCK..][..h_n * BLOCK], &mut acc);
                    o.copy_from_slice(&acc);
                }
            }
            SmallRowWeights::Int16(w_q) => {
                let t = w_q.round_state_into(h, state);
                for (&b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
                    w_q.block_product(state, t, b, o);
                }
            }
        }
    }
}

/// The owned form of [`SmallRowWeights`], kept by a loaded model for each direction of each layer.
#[derive(Clone)]
pub(crate) enum SmallRowMatrix {
    F32(std::sync::Arc<[f32]>),
    Half(std::sync::Arc<[half::f16]>),
    Int16(std::sync::Arc<QuantizedMatrix>),
}

impl SmallRowMatrix {
    /// W_hh (G·H × H, row-major) laid out for `small_matmul` at `precision`. At f16 without a
    /// fused half product on this CPU, the half-rounded values are kept as f32: the same
    /// answers, at f32's speed.
    pub fn new(w_hh: &[f32], h_n: usize, g_n: usize, precision: super::Precision) -> Self {
        match precision {
            super::Precision::F32 => SmallRowMatrix::F32(small_matmul_layout(w_hh, h_n, g_n, |v| v).into()),
            super::Precision::F16 if halves::fused_product_available() => SmallRowMatrix::Half(small_matmul_layout(w_hh, h_n, g_n, halves::f32_to_half).into()),
            super::Precision::F16 => SmallRowMatrix::F32(small_matmul_layout(w_hh, h_n, g_n, halves::round_to_half).into()),
            super::Precision::I16 => SmallRowMatrix::Int16(QuantizedMatrix::new(w_hh, h_n, g_n).into()),
        }
    }

    pub fn view(&self) -> SmallRowWeights<'_> {
        match self {
            SmallRowMatrix::F32(w) => SmallRowWeights::F32(w),
            SmallRowMatrix::Half(w) => SmallRowWeights::Half(w),
            SmallRowMatrix::Int16(w) => SmallRowWeights::Int16(w),
        }
    }
}

dispatch!(pub(crate) fn forward = forward_impl::<MulAdd>(d: &Dims, lens: &[usize], gx: Inputs, w_hh: &[f32], w_hh_small: Option<SmallRowWeights>, b_ih: &[f32], b_hh: &[f32], out: &mut [f32], saved: Option<&mut [f32]>));

/// Up to this many running rows, the recurrent projection is computed as vector updates over the
/// transposed weights (when the caller has them) instead of calling gemm: for one review the
/// per-call cost of gemm exceeds the arithmetic.
const SMALL_ROWS: usize = 4;

/// W_hh (G·H × H, row-major) in the layout `small_matmul` reads: for each block of 64 gate
/// columns, the H rows of W_hhᵀ restricted to those columns, one after another, then the
/// remaining columns (G·H mod 64) as plain W_hhᵀ rows. One review's step then streams the
/// weights from memory in order, which the hardware prefetcher follows.
pub(crate) fn small_matmul_layout<W>(w_hh: &[f32], h_n: usize, g_n: usize, store: impl Fn(f32) -> W) -> Vec<W> {
    let mut out = Vec::with_capacity(h_n * g_n);
    let full = g_n / BLOCK * BLOCK;
    for j0 in (0..full).step_by(BLOCK) {
        for k in 0..h_n {
            out.extend((j0..j0 + BLOCK).map(|j| store(w_hh[j * h_n + k])));
        }
    }
    for k in 0..h_n {
        out.extend((full..g_n).map(|j| store(w_hh[j * h_n + k])));
    }
    out
}

/// `gh[p] = h[p] · W_hhᵀ` for `rows` rows, with `w_b` = W_hh in `small_matmul_layout`.
#[inline(always)]
fn small_matmul<W: Weight>(rows: usize, h_n: usize, g_n: usize, gh: &mut [f32], h: &[f32], w_b: &[W]) {
    let full = g_n / BLOCK * BLOCK;
    let mut acc = [0f32; BLOCK];
    for p in 0..rows {
        let (out, hp) = (&mut gh[p * g_n..][..g_n], &h[p * h_n..][..h_n]);
        for (b, j0) in (0..full).step_by(BLOCK).enumerate() {
            W::block_product(hp, &w_b[b * h_n * BLOCK..][..h_n * BLOCK], &mut acc);
            out[j0..j0 + BLOCK].copy_from_slice(&acc);
        }
        if full < g_n {
            let tail_n = g_n - full;
            let tail = &mut out[full..];
            tail.fill(0.0);
            for (&hk, w) in hp.iter().zip(w_b[full * h_n..].chunks_exact(tail_n)) {
                for (o, &w) in tail.iter_mut().zip(w) {
                    *o += hk * w.widen();
                }
            }
        }
    }
}

/// Forward pass over a block of rows. `gx` gives the input projection of every (row, step)
/// without its bias `b_ih`; `out` is (rows, steps, H) and must be zeroed; `saved`, when given, is
/// (rows, steps, saved()).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_impl<M: MulAdd>(
    d: &Dims,
    lens: &[usize],
    gx: Inputs,
    w_hh: &[f32],
    w_hh_small: Option<SmallRowWeights>,
    b_ih: &[f32],
    b_hh: &[f32],
    out: &mut [f32],
    mut saved: Option<&mut [f32]>,
) {
    let (h_n, g_n, sv_n, t_n) = (d.hidden, d.gates(), d.saved(), d.steps);
    let n = lens.len();
    let order = order_by_length(lens);
    let max_len = lens.iter().copied().max().unwrap_or(0);
    let mut h = vec![0f32; n * h_n];
    let mut c = vec![0f32; n * h_n];
    let mut gh = vec![0f32; n * g_n];
    // The LSTM adds both biases to every pre-activation: one sum, added once.
    let biases: Vec<f32> = b_ih[..g_n].iter().zip(&b_hh[..g_n]).map(|(a, b)| a + b).collect();
    let mut w_t: Option<Vec<f32>> = None;
    let mut widened = vec![0f32; if gx.widens() { g_n } else { 0 }];
    let (mut state_integers, mut state_scales) = (Vec::new(), Vec::new());
    let mut active = n;
    for s in 0..max_len {
        active = active_rows(&order, lens, s, active);
        if s == 0 {
            gh[..active * g_n].fill(0.0);
        } else {
            match w_hh_small {
                Some(SmallRowWeights::F32(w_b)) if active <= SMALL_ROWS => small_matmul(active, h_n, g_n, &mut gh, &h, w_b),
                Some(SmallRowWeights::Half(w_b)) if active <= SMALL_ROWS => small_matmul(active, h_n, g_n, &mut gh, &h, w_b),
                // Integers at any batch size (the same sums row by row or four rows at a time),
                // so a review scores the same alone and in a batch.
                Some(SmallRowWeights::Int16(w_q)) if active <= SMALL_ROWS => {
                    for (out, hp) in gh.chunks_exact_mut(g_n).zip(h.chunks_exact(h_n)).take(active) {
                        w_q.product(hp, &mut state_integers, out);
                    }
                }
                Some(SmallRowWeights::Int16(w_q)) => w_q.rows_product(active, &h, &mut state_integers, &mut state_scales, &mut gh),
                _ => {
                    // W_hhᵀ (H × G·H) row-major is the operand gemm reads without repacking it
                    // at every step.
                    let w_t = w_t.get_or_insert_with(|| {
                        let mut t = vec![0f32; h_n * g_n];
                        for (j, row) in w_hh[..g_n * h_n].chunks_exact(h_n).enumerate() {
                            for (k, &v) in row.iter().enumerate() {
                                t[k * g_n + j] = v;
                            }
                        }
                        t
                    });
                    matmul_nn(active, g_n, h_n, &mut gh, &h, w_t, false, 1)
                }
            }
        }
        for p in 0..active {
            let b = order[p];
            let at = b * t_n + d.time(lens[b], s);
            let pre = &mut gh[p * g_n..][..g_n];
            let x = gx.row(at, g_n, &mut widened);
            let hp = &mut h[p * h_n..][..h_n];
            let o_row = &mut out[at * h_n..][..h_n];
            let sv = saved.as_deref_mut().map(|sv| &mut sv[at * sv_n..][..sv_n]);
            cell_step::<M>(d.cell, h_n, pre, x, Biases { sum: &biases, input: b_ih, recurrent: b_hh }, hp, &mut c[p * h_n..][..h_n], o_row, sv);
        }
    }
}

/// A step's biases: for the LSTM both summed, for the GRU apart.
#[derive(Clone, Copy)]
pub(crate) struct Biases<'a> {
    pub sum: &'a [f32],
    pub input: &'a [f32],
    pub recurrent: &'a [f32],
}

/// One row's step of `h_n` units from its recurrent pre-activations `pre` (G·h_n, gate-major)
/// and input projections `x` (the same layout): the new state into `h` (and `c`) and `out`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn cell_step<M: MulAdd>(cell: RecurrentCell, h_n: usize, pre: &mut [f32], x: &[f32], biases: Biases, h: &mut [f32], c: &mut [f32], out: &mut [f32], sv: Option<&mut [f32]>) {
    match cell {
        RecurrentCell::Lstm => lstm_step::<M>(h_n, pre, x, biases.sum, h, c, out, sv),
        RecurrentCell::Gru => {
            let g_n = 3 * h_n;
            let (bi, bh) = (&biases.input[..g_n], &biases.recurrent[..g_n]);
            // The candidate keeps x's part apart: r multiplies only the recurrent part.
            for k in 0..g_n {
                pre[k] += bh[k];
            }
            for k in 0..2 * h_n {
                pre[k] += x[k] + bi[k];
            }
            gru_step::<M>(h_n, pre, &x[2 * h_n..], &bi[2 * h_n..], h, out, sv)
        }
    }
}

/// `pre` holds the four recurrent gate projections (i, f, g, o); `x` the input projections and
/// `biases` both biases summed. One pass over the hidden units: every value is read and written
/// once per step, and the loop has no reads or writes that keep it from vectorising.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn lstm_step<M: MulAdd>(h_n: usize, pre: &[f32], x: &[f32], biases: &[f32], h: &mut [f32], c: &mut [f32], out: &mut [f32], sv: Option<&mut [f32]>) {
    // Slices of exactly h_n values, so that indexing by j < h_n needs no bounds checks.
    let (p0, p1, p2, p3) = (&pre[..h_n], &pre[h_n..2 * h_n], &pre[2 * h_n..3 * h_n], &pre[3 * h_n..4 * h_n]);
    let (x0, x1, x2, x3) = (&x[..h_n], &x[h_n..2 * h_n], &x[2 * h_n..3 * h_n], &x[3 * h_n..4 * h_n]);
    let (b0, b1, b2, b3) = (&biases[..h_n], &biases[h_n..2 * h_n], &biases[2 * h_n..3 * h_n], &biases[3 * h_n..4 * h_n]);
    let gate = |k: usize, j: usize| match k {
        0 => p0[j] + x0[j] + b0[j],
        1 => p1[j] + x1[j] + b1[j],
        2 => p2[j] + x2[j] + b2[j],
        _ => p3[j] + x3[j] + b3[j],
    };
    let (h, c, out) = (&mut h[..h_n], &mut c[..h_n], &mut out[..h_n]);
    match sv {
        Some(sv) => {
            let (acts, rest) = sv.split_at_mut(4 * h_n);
            let (cs, tcs) = rest.split_at_mut(h_n);
            let (ai, rest) = acts.split_at_mut(h_n);
            let (af, rest) = rest.split_at_mut(h_n);
            let (ag, ao) = rest.split_at_mut(h_n);
            let (ai, af, ag, ao, cs, tcs) = (&mut ai[..h_n], &mut af[..h_n], &mut ag[..h_n], &mut ao[..h_n], &mut cs[..h_n], &mut tcs[..h_n]);
            for j in 0..h_n {
                let (i, f, g, o) = (sigmoid_with::<M>(gate(0, j)), sigmoid_with::<M>(gate(1, j)), tanh_with::<M>(gate(2, j)), sigmoid_with::<M>(gate(3, j)));
                let cj = f * c[j] + i * g;
                let tc = tanh_with::<M>(cj);
                (ai[j], af[j], ag[j], ao[j]) = (i, f, g, o);
                (c[j], cs[j], tcs[j]) = (cj, cj, tc);
                h[j] = o * tc;
                out[j] = o * tc;
            }
        }
        None => {
            for j in 0..h_n {
                let (i, f, g, o) = (sigmoid_with::<M>(gate(0, j)), sigmoid_with::<M>(gate(1, j)), tanh_with::<M>(gate(2, j)), sigmoid_with::<M>(gate(3, j)));
                let cj = f * c[j] + i * g;
                c[j] = cj;
                h[j] = o * tanh_with::<M>(cj);
                out[j] = h[j];
            }
        }
    }
}

/// GRU with the reset gate applied after the recurrent projection (Keras' `reset_after=True`,
/// PyTorch's formulation): n = tanh(Wx + r ⊙ (U h + b)). `pre` holds the r and z pre-activations
/// in its first two blocks and, in the third, U h + b for the candidate, whose input part is
/// `xn + bn`.
#[inline(always)]
fn gru_step<M: MulAdd>(h_n: usize, pre: &mut [f32], xn: &[f32], bn: &[f32], h: &mut [f32], out: &mut [f32], sv: Option<&mut [f32]>) {
    for k in 0..2 * h_n {
        pre[k] = sigmoid_with::<M>(pre[k]);
    }
    let (r, rest) = pre.split_at_mut(h_n);
    let (z, hn_pre) = rest.split_at_mut(h_n);
    let (r, z, hn_pre, xn, bn) = (&r[..h_n], &z[..h_n], &hn_pre[..h_n], &xn[..h_n], &bn[..h_n]);
    let (h, out) = (&mut h[..h_n], &mut out[..h_n]);
    match sv {
        Some(sv) => {
            let (acts, extra) = sv.split_at_mut(3 * h_n);
            let (sr, rest) = acts.split_at_mut(h_n);
            let (sz, sn) = rest.split_at_mut(h_n);
            let (sr, sz, sn, extra) = (&mut sr[..h_n], &mut sz[..h_n], &mut sn[..h_n], &mut extra[..h_n]);
            for j in 0..h_n {
                let n = tanh_with::<M>(xn[j] + bn[j] + r[j] * hn_pre[j]);
                let hn = (1.0 - z[j]) * n + z[j] * h[j];
                h[j] = hn;
                sr[j] = r[j];
                sz[j] = z[j];
                sn[j] = n;
                extra[j] = hn_pre[j];
            }
        }
        None => {
            for j in 0..h_n {
                let n = tanh_with::<M>(xn[j] + bn[j] + r[j] * hn_pre[j]);
                h[j] = (1.0 - z[j]) * n + z[j] * h[j];
            }
        }
    }
    out.copy_from_slice(h);
}

dispatch!(pub(crate) fn backward = backward_impl(
    d: &Dims,
    lens: &[usize],
    w_hh: &[f32],
    out: &[f32],
    saved: &[f32],
    d_out: &[f32],
    d_gx: &mut [f32],
    d_gh: &mut [f32],
    h_prev: &mut [f32],
));

/// Backward pass over a block of rows. Inputs: the forward outputs `out` and `saved`, the gradient
/// of the outputs `d_out`. Writes the gradient of the gate inputs `d_gx` (rows, steps, G·H), the
/// gradient of the recurrent pre-activations `d_gh` (same shape; equal to `d_gx` for the LSTM, so
/// it is left untouched then) and each step's previous hidden state `h_prev` (rows, steps, H), from
/// which the caller forms the weight gradients in one multiply.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_impl(
    d: &Dims,
    lens: &[usize],
    w_hh: &[f32],
    out: &[f32],
    saved: &[f32],
    d_out: &[f32],
    d_gx: &mut [f32],
    d_gh: &mut [f32],
    h_prev: &mut [f32],
) {
    let (h_n, g_n, sv_n, t_n) = (d.hidden, d.gates(), d.saved(), d.steps);
    let n = lens.len();
    let order = order_by_length(lens);
    let max_len = lens.iter().copied().max().unwrap_or(0);
    let mut dh_next = vec![0f32; n * h_n];
    let mut dc_next = vec![0f32; n * h_n];
    let mut dgs = vec![0f32; n * g_n];
    let zeros = vec![0f32; h_n];
    let mut active = 0;
    for s in (0..max_len).rev() {
        while active < n && lens[order[active]] > s {
            active += 1;
        }
        for p in 0..active {
            let b = order[p];
            let at = b * t_n + d.time(lens[b], s);
            let prev_at = (s > 0).then(|| b * t_n + d.time(lens[b], s - 1));
            let sv = &saved[at * sv_n..][..sv_n];
            let dgs_p = &mut dgs[p * g_n..][..g_n];
            let dh_p = &mut dh_next[p * h_n..][..h_n];
            let hp_row = &mut h_prev[at * h_n..][..h_n];
            match prev_at {
                Some(pa) => hp_row.copy_from_slice(&out[pa * h_n..][..h_n]),
                None => hp_row.fill(0.0),
            }
            let dout = &d_out[at * h_n..][..h_n];
            match d.cell {
                RecurrentCell::Lstm => {
                    let c_prev = prev_at.map_or(&zeros[..], |pa| &saved[pa * sv_n + 4 * h_n..][..h_n]);
                    lstm_step_back(h_n, sv, c_prev, dout, dh_p, &mut dc_next[p * h_n..][..h_n], dgs_p);
                    d_gx[at * g_n..][..g_n].copy_from_slice(dgs_p);
                }
                RecurrentCell::Gru => {
                    gru_step_back(h_n, sv, hp_row, dout, dh_p, &mut d_gx[at * g_n..][..g_n], dgs_p);
                    d_gh[at * g_n..][..g_n].copy_from_slice(dgs_p);
                }
            }
        }
        // dh_prev = d(pre-activations) · W_hh, plus the GRU's direct path already in dh_next.
        let accumulate = d.cell == RecurrentCell::Gru;
        matmul_nn(active, h_n, g_n, &mut dh_next, &dgs, w_hh, accumulate, 1);
    }
}

#[inline(always)]
fn lstm_step_back(h_n: usize, sv: &[f32], c_prev: &[f32], dout: &[f32], dh: &[f32], dc_next: &mut [f32], dg: &mut [f32]) {
    let (i, f, g, o) = (&sv[..h_n], &sv[h_n..2 * h_n], &sv[2 * h_n..3 * h_n], &sv[3 * h_n..4 * h_n]);
    let tc = &sv[5 * h_n..6 * h_n];
    let (c_prev, dout, dh, dc_next) = (&c_prev[..h_n], &dout[..h_n], &dh[..h_n], &mut dc_next[..h_n]);
    let (di, rest) = dg.split_at_mut(h_n);
    let (df, rest) = rest.split_at_mut(h_n);
    let (dgg, do_) = rest.split_at_mut(h_n);
    let (di, df, dgg, do_) = (&mut di[..h_n], &mut df[..h_n], &mut dgg[..h_n], &mut do_[..h_n]);
    for j in 0..h_n {
        let dhj = dout[j] + dh[j];
        let dc = dhj * o[j] * (1.0 - tc[j] * tc[j]) + dc_next[j];
        dc_next[j] = dc * f[j];
        di[j] = dc * g[j] * i[j] * (1.0 - i[j]);
        df[j] = dc * c_prev[j] * f[j] * (1.0 - f[j]);
        dgg[j] = dc * i[j] * (1.0 - g[j] * g[j]);
        do_[j] = dhj * tc[j] * o[j] * (1.0 - o[j]);
    }
}

/// Writes the gradient of the gate inputs into `dgx` and of the recurrent pre-activations into
/// `dgh` (they differ in the candidate block, where r multiplies the recurrent part), and leaves
/// in `dh` the direct-path gradient dL/dh_prev = dL/dh · z.
#[inline(always)]
fn gru_step_back(h_n: usize, sv: &[f32], hp: &[f32], dout: &[f32], dh: &mut [f32], dgx: &mut [f32], dgh: &mut [f32]) {
    let (r, z, nn, hn_pre) = (&sv[..h_n], &sv[h_n..2 * h_n], &sv[2 * h_n..3 * h_n], &sv[3 * h_n..4 * h_n]);
    let (hp, dout, dh) = (&hp[..h_n], &dout[..h_n], &mut dh[..h_n]);
    let (xr, rest) = dgx.split_at_mut(h_n);
    let (xz, xn) = rest.split_at_mut(h_n);
    let (hr, rest) = dgh.split_at_mut(h_n);
    let (hz, hn) = rest.split_at_mut(h_n);
    let (xr, xz, xn, hr, hz, hn) = (&mut xr[..h_n], &mut xz[..h_n], &mut xn[..h_n], &mut hr[..h_n], &mut hz[..h_n], &mut hn[..h_n]);
    for j in 0..h_n {
        let dhj = dout[j] + dh[j];
        let dn = dhj * (1.0 - z[j]) * (1.0 - nn[j] * nn[j]);
        let dz = dhj * (hp[j] - nn[j]) * z[j] * (1.0 - z[j]);
        let dr = dn * hn_pre[j] * r[j] * (1.0 - r[j]);
        xr[j] = dr;
        xz[j] = dz;
        xn[j] = dn;
        hr[j] = dr;
        hz[j] = dz;
        hn[j] = dn * r[j];
        dh[j] = dhj * z[j];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_matmul_matches_a_plain_product() {
        // Gate widths below, at and across the 64-column blocks.
        for (h_n, g_n, rows) in [(5, 20, 1), (16, 64, 2), (16, 48, 3), (33, 132, 4), (128, 512, 1)] {
            let w: Vec<f32> = (0..g_n * h_n).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 1000.0).collect();
            let h: Vec<f32> = (0..rows * h_n).map(|i| ((i * 104729 % 997) as f32 - 498.0) / 997.0).collect();
            let mut got = vec![f32::NAN; rows * g_n];
            small_matmul(rows, h_n, g_n, &mut got, &h, &small_matmul_layout(&w, h_n, g_n, |v| v));
            // At half precision the product is exact over the rounded weights.
            let rounded: Vec<f32> = w.iter().map(|&v| halves::round_to_half(v)).collect();
            let mut got_half = vec![f32::NAN; rows * g_n];
            small_matmul(rows, h_n, g_n, &mut got_half, &h, &small_matmul_layout(&w, h_n, g_n, halves::f32_to_half));
            for p in 0..rows {
                for j in 0..g_n {
                    let product = |w: &[f32]| -> f32 { (0..h_n).map(|k| h[p * h_n + k] * w[j * h_n + k]).sum() };
                    let (want, want_half) = (product(&w), product(&rounded));
                    let (g, gh) = (got[p * g_n + j], got_half[p * g_n + j]);
                    assert!((g - want).abs() <= 1e-4 * (1.0 + want.abs()), "h {h_n} g {g_n} row {p} col {j}: {g} vs {want}");
                    assert!((gh - want_half).abs() <= 1e-4 * (1.0 + want_half.abs()), "half: h {h_n} g {g_n} row {p} col {j}: {gh} vs {want_half}");
                }
            }
        }
    }

    /// A small random first layer: dims, a per-word table of 9 words, W_hh, both biases, token
    /// ids and lengths for `rows` rows of 7 steps.
    struct Case {
        d: Dims,
        table: Vec<f32>,
        w_hh: Vec<f32>,
        b_ih: Vec<f32>,
        b_hh: Vec<f32>,
        ids: Vec<u32>,
        lens: Vec<usize>,
    }

    /// Every cell, direction and one to five rows, each with its random case.
    fn first_layer_cases(seed: u64) -> Vec<Case> {
        let mut rng = crate::rng::Rng::new(seed);
        let mut random = |n: usize, scale: f32| -> Vec<f32> { (0..n).map(|_| (rng.next_f32() - 0.5) * scale).collect() };
        let mut cases = Vec::new();
        for cell in [RecurrentCell::Lstm, RecurrentCell::Gru] {
            for reverse in [false, true] {
                for rows in 1..=5 {
                    let (h_n, words, steps) = (24, 9, 7);
                    let d = Dims { cell, hidden: h_n, steps, reverse };
                    let g_n = d.gates();
                    let (table, w_hh, b_ih, b_hh) = (random(words * g_n, 4.0), random(g_n * h_n, 0.6), random(g_n, 0.2), random(g_n, 0.2));
                    let ids = (0..rows * steps).map(|i| (i * 5 % words) as u32).collect();
                    let lens = (0..rows).map(|r| steps - r % steps).collect();
                    cases.push(Case { d, table, w_hh, b_ih, b_hh, ids, lens });
                }
            }
        }
        cases
    }

    /// A forward pass reading a half table and half recurrent weights equals one reading their
    /// rounded values at full precision, for both cells, both directions and one to five rows.
    #[test]
    fn half_inputs_and_weights_equal_their_rounded_values() {
        use crate::nn::half_precision::f32_to_half;
        let widen = |v: &[f32]| -> Vec<f32> { v.iter().map(|&x| halves::round_to_half(x)).collect() };
        for Case { d, table, w_hh, b_ih, b_hh, ids, lens } in first_layer_cases(11) {
            let (h_n, g_n, rows) = (d.hidden, d.gates(), lens.len());
            let (table_r, w_r) = (widen(&table), widen(&w_hh));
            let table_half: Vec<half::f16> = table.iter().map(|&x| f32_to_half(x)).collect();
            let (small, small_half) = (small_matmul_layout(&w_r, h_n, g_n, |v| v), small_matmul_layout(&w_hh, h_n, g_n, f32_to_half));
            let mut want = vec![0f32; rows * d.steps * h_n];
            let mut got = vec![0f32; rows * d.steps * h_n];
            forward(&d, &lens, Inputs::Gathered { table: &table_r, ids: &ids }, &w_r, Some(SmallRowWeights::F32(&small)), &b_ih, &b_hh, &mut want, None);
            forward(&d, &lens, Inputs::GatheredHalf { table: &table_half, ids: &ids }, &w_r, Some(SmallRowWeights::Half(&small_half)), &b_ih, &b_hh, &mut got, None);
            let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst <= 1e-5, "{:?} reverse {} rows {rows}: {worst}", d.cell, d.reverse);
            assert!(want.iter().any(|&v| v != 0.0));
        }
    }

    /// A forward pass reading a byte table equals one reading the rows it widens to, bit for bit,
    /// for both cells, both directions and one to five rows.
    #[test]
    fn byte_table_inputs_equal_their_widened_rows() {
        use crate::nn::byte_table::{SCALE_BYTES, push_rows};
        for Case { d, table, w_hh, b_ih, b_hh, ids, lens } in first_layer_cases(12) {
            let (h_n, g_n, rows) = (d.hidden, d.gates(), lens.len());
            let mut packed = Vec::new();
            push_rows(&table, g_n, &mut packed);
            let bytes = ByteTable::new(&packed, g_n).unwrap();
            let mut widened = vec![0f32; table.len()];
            for (word, row) in widened.chunks_exact_mut(g_n).enumerate() {
                bytes.widen_row(word, row);
            }
            assert_eq!(packed.len(), table.len() / g_n * (SCALE_BYTES + g_n));
            assert!(widened.iter().zip(&table).any(|(a, b)| a != b), "bytes round");
            let small = small_matmul_layout(&w_hh, h_n, g_n, |v| v);
            let mut want = vec![0f32; rows * d.steps * h_n];
            let mut got = vec![0f32; rows * d.steps * h_n];
            forward(&d, &lens, Inputs::Gathered { table: &widened, ids: &ids }, &w_hh, Some(SmallRowWeights::F32(&small)), &b_ih, &b_hh, &mut want, None);
            forward(&d, &lens, Inputs::GatheredBytes { table: bytes, ids: &ids }, &w_hh, Some(SmallRowWeights::F32(&small)), &b_ih, &b_hh, &mut got, None);
            assert_eq!(want, got, "{:?} reverse {} rows {rows}", d.cell, d.reverse);
            assert!(want.iter().any(|&v| v != 0.0));
        }
    }
}
