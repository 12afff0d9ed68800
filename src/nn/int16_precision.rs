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
//! exact, so every instruction set gives bit-identical results. Products over many rows
//! (gemm) read the dequantized weights `s_j · w_jk` and the rounded state `t · round(h_k / t)`,
//! which agree with the integer product up to f32 rounding.

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
    /// Inlined into the dispatched kernels, so the state's rounding vectorises at their level.
    #[inline(always)]
    pub fn product(&self, h: &[f32], state: &mut Vec<i16>, out: &mut [f32]) {
        let g_n = self.g_n;
        let pairs = self.h_n.div_ceil(2);
        let t = self.round_state_into(h, state);
        let full = g_n / BLOCK * BLOCK;
        for j0 in (0..full).step_by(BLOCK) {
            self.block_product(state, t, j0 / BLOCK, &mut out[j0..j0 + BLOCK]);
        }
        let width = g_n - full;
        if width > 0 {
            let tail = &self.weights[full * 2 * pairs..];
            for (i, o) in out[full..g_n].iter_mut().enumerate() {
                let column = (0..pairs).map(|p| [tail[(p * width + i) * 2], tail[(p * width + i) * 2 + 1]]);
                *o = pair_sums(state, column) * (self.scales[full + i] * t);
            }
        }
    }

    /// The state `h` (H values) as integers into `state` (H rounded up to even), returning its
    /// scale: the first half of a product, done once for any number of blocks.
    #[inline(always)]
    pub fn round_state_into(&self, h: &[f32], state: &mut Vec<i16>) -> f32 {
        let (t, q) = quantize(h[..self.h_n].iter().copied());
        state.clear();
        state.extend(q);
        state.resize(2 * self.h_n.div_ceil(2), 0);
        t
    }

    /// The 64 outputs of block `block` (rows 64·block.., a full block) for a state rounded by
    /// [`Self::round_state_into`] with scale `t`.
    #[inline(always)]
    pub fn block_product(&self, state: &[i16], t: f32, block: usize, out: &mut [f32]) {
        let (pairs, j0) = (self.h_n.div_ceil(2), block * BLOCK);
        let mut sums = [0f32; BLOCK];
        block_sums(state, &self.weights[j0 * 2 * pairs..][..BLOCK * 2 * pairs], &mut sums);
        for ((o, &s), &scale) in out[..BLOCK].iter_mut().zip(&sums).zip(&self.scales[j0..]) {
            *o = s * (scale * t);
        }
    }
}

/// W_hh (G·H × H, row-major) as the integer product sees it, `s_j · round(w_jk / s_j)`, for
/// products over many rows.
pub fn round_weights(w_hh: &[f32], h_n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(w_hh.len());
    for row in w_hh.chunks_exact(h_n) {
        let (scale, q) = quantize(row.iter().copied());
        out.extend(q.map(|v| scale * v as f32));
    }
    out
}

/// `h` rounded as [`QuantizedMatrix::product`] rounds it, in place: what products over many rows
/// multiply by the dequantized weights.
#[inline(always)]
pub fn round_state(h: &mut [f32]) {
    let (scale, inverse) = scales(h.iter().copied());
    for v in h {
        *v = scale * nearest_integer(*v * inverse) as f32;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn matrix(g_n: usize, h_n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..g_n * h_n).map(|_| (rng.next_f32() - 0.5) * 0.8).collect()
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
