// SPDX-License-Identifier: MIT OR Apache-2.0
//! Recurrent weights as 16-bit integers for prediction (`Precision::I16`): a single review's
//! step multiplies integers, pairs at a time (`vpmaddwd`), instead of widening halves.
//!
//! Why a second half-size form beside f16: a single review's step reads the whole recurrent
//! matrix, and at AVX2 the f16 product is bound by widening the halves (`vcvtph2ps` converts
//! eight a cycle, the same time f32's 256 KB take to stream from L2), so f16 gained little on
//! AVX2-only CPUs. Multiplying 16-bit integers needs no widening: one instruction multiplies
//! sixteen pairs and adds them in pairs.
//!
//! The numbers: each output row j of W_hh gets a scale `s_j = max_k |w_jk| / 4095` and integer
//! weights `round(w_jk / s_j)`; at every step the state h gets a scale `t = max_k |h_k| / 4095`
//! and integers `round(h_k / t)`. With both at most 4095 in magnitude, 64 pairs of products sum
//! exactly in an i32 lane (128 · 4095² < 2³¹), so sums are taken in i32 over 64 pairs at a time
//! and then added as f32, and the row's result is that sum times `s_j · t`. Integer sums are
//! exact, so every instruction set gives bit-identical results. A batch's step multiplies the
//! same integers, four states for each weight read, with each state's sums taken in the same
//! order, so a review scores the same bits alone and in a batch.

use super::half_precision::BLOCK;
use super::simd::{Level, level};

/// The largest integer a weight or a state value is scaled to.
const LIMIT: f32 = 4095.0;
/// Pairs of products an i32 lane sums before the sum is added as f32: 2 · 64 · 4095² < 2³¹.
const PAIRS_PER_SUM: usize = 64;

/// W_hh (G·H × H) as integers with a scale per row, in the layout the block products read: for
/// each block of 64 rows of W_hh (columns of the output), for each pair of H-columns (k, k+1),
/// the 64 rows' two integers side by side; then the remaining rows (G·H mod 64) the same way.
/// An odd H gets a zero column.
pub(crate) struct QuantizedMatrix {
    weights: Vec<i16>,
    scales: Vec<f32>,
    h_n: usize,
    g_n: usize,
}

/// One output row's scale and integers, `w ≈ scale · integers`.
#[inline(always)]
fn quantize(values: impl Iterator<Item = f32> + Clone) -> (f32, impl Iterator<Item = i16>) {
    let (scale, inverse) = scales(values.clone());
    (scale, values.map(move |v| nearest_integer(v * inverse)))
}

/// The scale that maps the largest magnitude of `values` to `LIMIT`, and its inverse (both 0
/// when every value is 0).
#[inline(always)]
fn scales(values: impl Iterator<Item = f32>) -> (f32, f32) {
    // The largest magnitude through the bits: for finite values the order of |x|'s bits is the
    // order of |x|, and an integer maximum vectorises where `f32::max` (NaN rules) does not.
    let max = f32::from_bits(values.map(|v| v.to_bits() & 0x7fff_ffff).max().unwrap_or(0));
    (max / LIMIT, if max > 0.0 { LIMIT / max } else { 0.0 })
}

/// `x` (|x| ≤ 4095) rounded to the nearest integer, ties to even: adding 1.5 · 2²³ leaves the
/// integer in the low mantissa bits. Plain float and integer operations, so the loop
/// vectorises (`f32::round` is a library call on the baseline x86-64 target) and every
/// instruction set rounds alike.
#[inline(always)]
fn nearest_integer(x: f32) -> i16 {
    const SHIFT: f32 = 12_582_912.0;
    ((x + SHIFT).to_bits() as i32 - SHIFT.to_bits() as i32) as i16
}

impl QuantizedMatrix {
    /// `w_hh` row-major, G·H × H.
    pub fn new(w_hh: &[f32], h_n: usize, g_n: usize) -> Self {
        let pairs = h_n.div_ceil(2);
        let mut integers = vec![0i16; g_n * 2 * pairs]; // row-major, H padded to even
        let mut scales = Vec::with_capacity(g_n);
        for (j, row) in w_hh[..g_n * h_n].chunks_exact(h_n).enumerate() {
            let (scale, q) = quantize(row.iter().copied());
            scales.push(scale);
            for (k, v) in q.enumerate() {
                integers[j * 2 * pairs + k] = v;
            }
        }
        let mut weights = Vec::with_capacity(integers.len());
        let full = g_n / BLOCK * BLOCK;
        let mut lay_out = |rows: std::ops::Range<usize>| {
            for p in 0..pairs {
                for j in rows.clone() {
                    weights.extend_from_slice(&integers[j * 2 * pairs + 2 * p..][..2]);
                }
            }
        };
        for j0 in (0..full).step_by(BLOCK) {
            lay_out(j0..j0 + BLOCK);
        }
        lay_out(full..g_n);
        QuantizedMatrix { weights, scales, h_n, g_n }
    }

    /// `out = h · W_hhᵀ` for one state `h` (H values) into `out` (G·H values); `state` is scratch.
    /// The definition the batch product is held to, and the faster form for one state.
    #[inline(always)]
    pub fn product(&self, h: &[f32], state: &mut Vec<i16>, out: &mut [f32]) {
        let t = self.round_state_into(h, state);
        let full = self.g_n / BLOCK * BLOCK;
        for j0 in (0..full).step_by(BLOCK) {
            self.block_product(state, t, j0 / BLOCK, &mut out[j0..j0 + BLOCK]);
        }
        self.tail_products(state, t, &mut out[full..self.g_n]);
    }

    /// Integers per state: H rounded up to even.
    #[inline(always)]
    fn state_width(&self) -> usize {
        2 * self.h_n.div_ceil(2)
    }

    /// The state `h` (H values) as integers into `state`, returning its scale: the first half of
    /// a product, done once for any number of blocks.
    #[inline(always)]
    pub fn round_state_into(&self, h: &[f32], state: &mut Vec<i16>) -> f32 {
        state.clear();
        self.push_state(h, state)
    }

    /// [`Self::round_state_into`] appending to `states`, for a batch's states side by side.
    #[inline(always)]
    fn push_state(&self, h: &[f32], states: &mut Vec<i16>) -> f32 {
        let (t, q) = quantize(h[..self.h_n].iter().copied());
        let end = states.len() + self.state_width();
        states.extend(q);
        states.resize(end, 0);
        t
    }

    /// `out = h · W_hhᵀ` for `rows` states `h` (rows × H) into `out` (rows × G·H): each row's
    /// outputs are bit for bit what [`Self::product`] gives for that row alone, so a review
    /// scores the same alone and in a batch. Each weight read serves several rows. `states` and
    /// `scales` are scratch.
    #[inline(always)]
    pub fn rows_product(&self, rows: usize, h: &[f32], states: &mut Vec<i16>, scales: &mut Vec<f32>, out: &mut [f32]) {
        let (h_n, g_n, width) = (self.h_n, self.g_n, self.state_width());
        states.clear();
        scales.clear();
        for row in h[..rows * h_n].chunks_exact(h_n) {
            let t = self.push_state(row, states);
            scales.push(t);
        }
        let full = g_n / BLOCK * BLOCK;
        let mut sums = [0f32; ROWS_AT_ONCE * BLOCK];
        for r0 in (0..rows).step_by(ROWS_AT_ONCE) {
            let n = ROWS_AT_ONCE.min(rows - r0);
            let group = &states[r0 * width..(r0 + n) * width];
            for j0 in (0..full).step_by(BLOCK) {
                block_sums_rows(group, width, &self.weights[j0 * width..][..BLOCK * width], &mut sums[..n * BLOCK]);
                for (r, row_sums) in sums[..n * BLOCK].chunks_exact(BLOCK).enumerate() {
                    self.scale_sums(row_sums, scales[r0 + r], j0, &mut out[(r0 + r) * g_n + j0..][..BLOCK]);
                }
            }
        }
        for ((state, &t), out) in states.chunks_exact(width).zip(scales.iter()).zip(out.chunks_exact_mut(g_n)) {
            self.tail_products(state, t, &mut out[full..]);
        }
    }

    /// The 64 outputs of block `block` (rows 64·block.., a full block) for a state rounded by
    /// [`Self::round_state_into`] with scale `t`.
    #[inline(always)]
    pub fn block_product(&self, state: &[i16], t: f32, block: usize, out: &mut [f32]) {
        let j0 = block * BLOCK;
        let mut sums = [0f32; BLOCK];
        block_sums(state, &self.weights[j0 * self.state_width()..][..BLOCK * self.state_width()], &mut sums);
        self.scale_sums(&sums, t, j0, out);
    }

    /// Outputs `j0..` from their integer sums: each sum times its row's scale and the state's.
    #[inline(always)]
    fn scale_sums(&self, sums: &[f32], t: f32, j0: usize, out: &mut [f32]) {
        for ((o, &s), &scale) in out.iter_mut().zip(sums).zip(&self.scales[j0..]) {
            *o = s * (scale * t);
        }
    }

    /// The outputs past the last full block (G·H mod 64 of them, in `out`), one sum each.
    #[inline(always)]
    fn tail_products(&self, state: &[i16], t: f32, out: &mut [f32]) {
        let (pairs, full) = (self.state_width() / 2, self.g_n / BLOCK * BLOCK);
        let (width, tail) = (out.len(), &self.weights[full * 2 * pairs..]);
        for (i, o) in out.iter_mut().enumerate() {
            let column = (0..pairs).map(|p| [tail[(p * width + i) * 2], tail[(p * width + i) * 2 + 1]]);
            *o = pair_sums(state, column) * (self.scales[full + i] * t);
        }
    }
}

/// One output's sum over pairs: i32 sums of `PAIRS_PER_SUM` pairs at a time, added as f32 (the
/// order every kernel uses).
fn pair_sums(state: &[i16], column: impl Iterator<Item = [i16; 2]>) -> f32 {
    let (mut total, mut partial, mut n) = (0f32, 0i32, 0);
    for (p, w) in column.enumerate() {
        partial += state[2 * p] as i32 * w[0] as i32 + state[2 * p + 1] as i32 * w[1] as i32;
        n += 1;
        if n == PAIRS_PER_SUM {
            total += partial as f32;
            (partial, n) = (0, 0);
        }
    }
    if n > 0 {
        total += partial as f32;
    }
    total
}

/// `sums[j]` = the pair sums of one 64-row block (`block` holds `state.len() / 2` pairs of 64).
fn block_sums(state: &[i16], block: &[i16], sums: &mut [f32; BLOCK]) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: each kernel runs only where the CPU has the features it enables (the level
        // was detected; AVX-512BW checked too), and `block` holds `state.len() / 2` pairs of 64.
        if level() == Level::Avx512 && avx512bw() {
            return unsafe { block_sums_avx512(state, block, sums) };
        }
        if level() >= Level::Avx2 {
            return unsafe { block_sums_avx2(state, block, sums) };
        }
    }
    let pairs = state.len() / 2;
    for (j, s) in sums.iter_mut().enumerate() {
        *s = pair_sums(state, (0..pairs).map(|p| [block[(p * BLOCK + j) * 2], block[(p * BLOCK + j) * 2 + 1]]));
    }
}

/// States a batch product multiplies by each weight it reads.
const ROWS_AT_ONCE: usize = 4;

/// [`block_sums`] for up to `ROWS_AT_ONCE` states of `width` integers each (`states` holds them
/// one after another): `sums[64·r + j]` for state r, the same sums in the same order.
fn block_sums_rows(states: &[i16], width: usize, block: &[i16], sums: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: each kernel runs only where the CPU has the features it enables, and the
        // lengths are those the kernels require (checked here).
        assert!(states.len() <= ROWS_AT_ONCE * width && states.len().is_multiple_of(width) && block.len() == BLOCK * width && sums.len() == states.len() / width * BLOCK);
        // Full groups only: fewer states go one by one through the kernel made for one.
        if states.len() == ROWS_AT_ONCE * width {
            if level() == Level::Avx512 && avx512bw() {
                return unsafe { block_sums_rows_avx512::<ROWS_AT_ONCE>(states, width, block, sums) };
            }
            if level() >= Level::Avx2 {
                return unsafe { block_sums_rows_avx2::<ROWS_AT_ONCE>(states, width, block, sums) };
            }
        }
    }
    for (state, out) in states.chunks_exact(width).zip(sums.chunks_exact_mut(BLOCK)) {
        let out: &mut [f32; BLOCK] = out.try_into().expect("64 sums per state");
        block_sums(state, block, out);
    }
}

#[cfg(target_arch = "x86_64")]
fn avx512bw() -> bool {
    static BW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *BW.get_or_init(|| std::is_x86_feature_detected!("avx512bw"))
}

/// # Safety
/// The CPU must have AVX2; `block.len() == state.len() * 64`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn block_sums_avx2(state: &[i16], block: &[i16], sums: &mut [f32; BLOCK]) {
    use std::arch::x86_64::*;
    let pairs = state.len() / 2;
    // Two halves of 32 outputs each: 4 integer and 4 float accumulators stay in registers.
    for half in 0..2 {
        let mut totals = [_mm256_setzero_ps(); 4];
        for chunk in (0..pairs).step_by(PAIRS_PER_SUM) {
            let mut partial = [_mm256_setzero_si256(); 4];
            for p in chunk..(chunk + PAIRS_PER_SUM).min(pairs) {
                // SAFETY: `state` holds `2 · pairs` values and `block` 128 per pair.
                unsafe {
                    let h = _mm256_set1_epi32(state.as_ptr().add(2 * p).cast::<i32>().read_unaligned());
                    let row = block.as_ptr().add(p * 2 * BLOCK + half * BLOCK);
                    for (i, acc) in partial.iter_mut().enumerate() {
                        let w = _mm256_loadu_si256(row.add(16 * i).cast::<__m256i>());
                        *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(w, h));
                    }
                }
            }
            for (total, acc) in totals.iter_mut().zip(partial) {
                *total = _mm256_add_ps(*total, _mm256_cvtepi32_ps(acc));
            }
        }
        for (i, total) in totals.iter().enumerate() {
            // SAFETY: `sums` holds 64 floats: 8 from 32·half + 8·i are inside it.
            unsafe { _mm256_storeu_ps(sums.as_mut_ptr().add(32 * half + 8 * i), *total) };
        }
    }
}

/// # Safety
/// The CPU must have AVX-512F and AVX-512BW; `block.len() == state.len() * 64`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn block_sums_avx512(state: &[i16], block: &[i16], sums: &mut [f32; BLOCK]) {
    use std::arch::x86_64::*;
    let pairs = state.len() / 2;
    let mut totals = [_mm512_setzero_ps(); 4];
    for chunk in (0..pairs).step_by(PAIRS_PER_SUM) {
        let mut partial = [_mm512_setzero_si512(); 4];
        for p in chunk..(chunk + PAIRS_PER_SUM).min(pairs) {
            // SAFETY: `state` holds `2 · pairs` values and `block` 128 per pair.
            unsafe {
                let h = _mm512_set1_epi32(state.as_ptr().add(2 * p).cast::<i32>().read_unaligned());
                let row = block.as_ptr().add(p * 2 * BLOCK);
                for (i, acc) in partial.iter_mut().enumerate() {
                    let w = _mm512_loadu_si512(row.add(32 * i).cast());
                    *acc = _mm512_add_epi32(*acc, _mm512_madd_epi16(w, h));
                }
            }
        }
        for (total, acc) in totals.iter_mut().zip(partial) {
            *total = _mm512_add_ps(*total, _mm512_cvtepi32_ps(acc));
        }
    }
    for (i, total) in totals.iter().enumerate() {
        // SAFETY: `sums` holds 64 floats: 16 from 16·i are inside it.
        unsafe { _mm512_storeu_ps(sums.as_mut_ptr().add(16 * i), *total) };
    }
}

/// # Safety
/// The CPU must have AVX2; `states` holds `R` states of `width` (even) integers,
/// `block.len() == 64 · width`, `sums.len() == 64 · R`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn block_sums_rows_avx2<const R: usize>(states: &[i16], width: usize, block: &[i16], sums: &mut [f32]) {
    use std::arch::x86_64::*;
    let pairs = width / 2;
    sums.fill(0.0);
    // 16 outputs at a time (two registers of 8), for every state: 8 integer accumulators.
    for quarter in 0..4 {
        for chunk in (0..pairs).step_by(PAIRS_PER_SUM) {
            let mut partial = [[_mm256_setzero_si256(); 2]; R];
            for p in chunk..(chunk + PAIRS_PER_SUM).min(pairs) {
                // SAFETY: pair p of every state is inside `states`; `block` holds 128 per pair.
                unsafe {
                    let w = block.as_ptr().add(p * 2 * BLOCK + quarter * 32);
                    let (w0, w1) = (_mm256_loadu_si256(w.cast()), _mm256_loadu_si256(w.add(16).cast()));
                    for (r, acc) in partial.iter_mut().enumerate() {
                        let h = _mm256_set1_epi32(states.as_ptr().add(r * width + 2 * p).cast::<i32>().read_unaligned());
                        acc[0] = _mm256_add_epi32(acc[0], _mm256_madd_epi16(w0, h));
                        acc[1] = _mm256_add_epi32(acc[1], _mm256_madd_epi16(w1, h));
                    }
                }
            }
            for (r, acc) in partial.iter().enumerate() {
                for (i, a) in acc.iter().enumerate() {
                    // SAFETY: 8 sums from 64·r + 16·quarter + 8·i are inside `sums`.
                    unsafe {
                        let at = sums.as_mut_ptr().add(r * BLOCK + quarter * 16 + 8 * i);
                        _mm256_storeu_ps(at, _mm256_add_ps(_mm256_loadu_ps(at), _mm256_cvtepi32_ps(*a)));
                    }
                }
            }
        }
    }
}

/// # Safety
/// The CPU must have AVX-512F and AVX-512BW; lengths as for [`block_sums_rows_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn block_sums_rows_avx512<const R: usize>(states: &[i16], width: usize, block: &[i16], sums: &mut [f32]) {
    use std::arch::x86_64::*;
    let pairs = width / 2;
    sums.fill(0.0);
    // 32 outputs at a time (two registers of 16), for every state.
    for half in 0..2 {
        for chunk in (0..pairs).step_by(PAIRS_PER_SUM) {
            let mut partial = [[_mm512_setzero_si512(); 2]; R];
            for p in chunk..(chunk + PAIRS_PER_SUM).min(pairs) {
                // SAFETY: pair p of every state is inside `states`; `block` holds 128 per pair.
                unsafe {
                    let w = block.as_ptr().add(p * 2 * BLOCK + half * 64);
                    let (w0, w1) = (_mm512_loadu_si512(w.cast()), _mm512_loadu_si512(w.add(32).cast()));
                    for (r, acc) in partial.iter_mut().enumerate() {
                        let h = _mm512_set1_epi32(states.as_ptr().add(r * width + 2 * p).cast::<i32>().read_unaligned());
                        acc[0] = _mm512_add_epi32(acc[0], _mm512_madd_epi16(w0, h));
                        acc[1] = _mm512_add_epi32(acc[1], _mm512_madd_epi16(w1, h));
                    }
                }
            }
            for (r, acc) in partial.iter().enumerate() {
                for (i, a) in acc.iter().enumerate() {
                    // SAFETY: 16 sums from 64·r + 32·half + 16·i are inside `sums`.
                    unsafe {
                        let at = sums.as_mut_ptr().add(r * BLOCK + half * 32 + 16 * i);
                        _mm512_storeu_ps(at, _mm512_add_ps(_mm512_loadu_ps(at), _mm512_cvtepi32_ps(*a)));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn matrix(g_n: usize, h_n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..g_n * h_n).map(|_| (rng.next_f32() - 0.5) * 0.8).collect()
    }

    /// W_hh (G·H × H, row-major) as the integer product sees it, `s_j · round(w_jk / s_j)`: with
    /// [`round_state`], the f32 form the integer product is checked against.
    fn round_weights(w_hh: &[f32], h_n: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(w_hh.len());
        for row in w_hh.chunks_exact(h_n) {
            let (scale, q) = quantize(row.iter().copied());
            out.extend(q.map(|v| scale * v as f32));
        }
        out
    }

    /// `h` rounded as [`QuantizedMatrix::product`] rounds it, in place.
    fn round_state(h: &mut [f32]) {
        let (scale, inverse) = scales(h.iter().copied());
        for v in h {
            *v = scale * nearest_integer(*v * inverse) as f32;
        }
    }

    fn reference(w: &[f32], h: &[f32], g_n: usize) -> Vec<f32> {
        let h_n = h.len();
        (0..g_n).map(|j| (0..h_n).map(|k| w[j * h_n + k] * h[k]).sum()).collect()
    }

    /// Full blocks, a tail of rows, an odd H and more pairs than one i32 sum holds: the product
    /// matches f32 within the rounding's size, and the dequantized weights and rounded state
    /// give the same product through plain f32 arithmetic.
    #[test]
    fn the_integer_product_matches_f32_and_its_dequantized_form() {
        for (g_n, h_n) in [(512, 128), (384, 128), (200, 33), (128, 300), (64, 1)] {
            let w = matrix(g_n, h_n, g_n as u64 + h_n as u64);
            let mut rng = Rng::new(9);
            let h: Vec<f32> = (0..h_n).map(|_| rng.next_f32() * 2.0 - 1.0).collect();
            let q = QuantizedMatrix::new(&w, h_n, g_n);
            let mut out = vec![0f32; g_n];
            q.product(&h, &mut Vec::new(), &mut out);
            let exact = reference(&w, &h, g_n);
            let deq = round_weights(&w, h_n);
            let mut rounded = h.clone();
            round_state(&mut rounded);
            let through_f32 = reference(&deq, &rounded, g_n);
            for j in 0..g_n {
                let tolerance = 3e-4 * (h_n as f32).sqrt();
                assert!((out[j] - exact[j]).abs() < tolerance, "{g_n}×{h_n} row {j}: {} vs {}", out[j], exact[j]);
                let magnitude: f32 = (0..h_n).map(|k| (w[j * h_n + k] * h[k]).abs()).sum();
                assert!((out[j] - through_f32[j]).abs() <= 1e-6 * (1.0 + magnitude), "{g_n}×{h_n} row {j}: {} vs {}", out[j], through_f32[j]);
            }
            assert!(deq.iter().zip(&w).all(|(a, b)| (a - b).abs() <= 0.4 / LIMIT), "{g_n}×{h_n}");
        }
    }

    /// The largest magnitudes everywhere: no i32 sum overflows (an overflow would be off by 2³²
    /// times the scales), and this CPU's kernel gives the scalar sums' bits.
    #[test]
    fn extreme_values_sum_exactly_at_every_level() {
        let (g_n, h_n) = (128, 256);
        let w: Vec<f32> = (0..g_n * h_n).map(|i| if i % 7 == 0 { 1.0 } else { -1.0 }).collect();
        let h = vec![-1.0f32; h_n];
        let q = QuantizedMatrix::new(&w, h_n, g_n);
        let mut out = vec![0f32; g_n];
        q.product(&h, &mut Vec::new(), &mut out);
        for (j, o) in out.iter().enumerate() {
            let expected: f32 = (0..h_n).map(|k| -w[j * h_n + k]).sum();
            assert!((o - expected).abs() <= 1e-5 * h_n as f32, "row {j}: {o} vs {expected}");
        }
        // The scalar sums of one block, beside whichever kernel this CPU runs.
        let state: Vec<i16> = vec![-4095; h_n];
        let block = &q.weights[..BLOCK * h_n];
        let mut kernel = [0f32; BLOCK];
        block_sums(&state, block, &mut kernel);
        for (j, &k) in kernel.iter().enumerate() {
            let scalar = pair_sums(&state, (0..h_n / 2).map(|p| [block[(p * BLOCK + j) * 2], block[(p * BLOCK + j) * 2 + 1]]));
            assert_eq!(k, scalar, "row {j}");
        }
    }

    /// A batch's rows, in full groups of four and the rest, give each row's product alone bit
    /// for bit, and this CPU's batch kernel sums as the scalar one does.
    #[test]
    fn a_batch_gives_each_rows_product_alone() {
        for (g_n, h_n) in [(512, 128), (384, 128), (200, 33), (128, 300)] {
            let w = matrix(g_n, h_n, 7 + g_n as u64);
            let q = QuantizedMatrix::new(&w, h_n, g_n);
            for rows in [1, 3, 4, 9] {
                let mut rng = Rng::new(rows as u64);
                let h: Vec<f32> = (0..rows * h_n).map(|_| rng.next_f32() * 2.0 - 1.0).collect();
                let mut batch = vec![0f32; rows * g_n];
                q.rows_product(rows, &h, &mut Vec::new(), &mut Vec::new(), &mut batch);
                for r in 0..rows {
                    let mut alone = vec![0f32; g_n];
                    q.product(&h[r * h_n..][..h_n], &mut Vec::new(), &mut alone);
                    assert_eq!(&batch[r * g_n..][..g_n], &alone[..], "{g_n}×{h_n}, row {r} of {rows}");
                }
            }
            let width = 2 * h_n.div_ceil(2);
            let states: Vec<i16> = (0..ROWS_AT_ONCE * width).map(|i| ((i * 2_654_435_761) % 8191) as i16 - 4095).collect();
            let block = &q.weights[..BLOCK * width];
            let mut kernel = vec![0f32; ROWS_AT_ONCE * BLOCK];
            block_sums_rows(&states, width, block, &mut kernel);
            for (state, sums) in states.chunks_exact(width).zip(kernel.chunks_exact(BLOCK)) {
                for (j, &k) in sums.iter().enumerate() {
                    assert_eq!(k, pair_sums(state, (0..width / 2).map(|p| [block[(p * BLOCK + j) * 2], block[(p * BLOCK + j) * 2 + 1]])), "{g_n}×{h_n} output {j}");
                }
            }
        }
    }

    #[test]
    fn rounding_to_integers_is_to_nearest_with_ties_to_even() {
        for (x, q) in [(0.0, 0), (0.49, 0), (0.5, 0), (1.5, 2), (2.5, 2), (-0.5, 0), (-1.5, -2), (-2.6, -3), (4095.0, 4095), (-4095.0, -4095), (4094.7, 4095)] {
            assert_eq!(nearest_integer(x), q, "{x}");
        }
    }

    #[test]
    fn zero_rows_and_a_zero_state_give_zero() {
        let (g_n, h_n) = (64, 16);
        let mut w = matrix(g_n, h_n, 3);
        w[..h_n].fill(0.0);
        let q = QuantizedMatrix::new(&w, h_n, g_n);
        let mut out = vec![1f32; g_n];
        q.product(&vec![0.5; h_n], &mut Vec::new(), &mut out);
        assert_eq!(out[0], 0.0);
        q.product(&vec![0.0; h_n], &mut Vec::new(), &mut out);
        assert!(out.iter().all(|&v| v == 0.0));
    }
}
