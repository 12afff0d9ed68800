// SPDX-License-Identifier: MIT OR Apache-2.0
//! Multi-head scaled dot-product self-attention as one op, forward and backward, in the manner of
//! FlashAttention (Dao et al., 2022): scores are formed a block of queries at a time and never
//! kept. In Candle's general ops a batch of 64 reviews at 800 tokens with 4 heads held four
//! tensors of 64 × 4 × 800² floats (655 MB each) per layer, and the time went to the kernel
//! zeroing fresh pages for them. Here each review's keys stop at its length, its padded queries
//! give zeros, and the backward pass recomputes the probabilities from the scores and the saved
//! log-sum-exp of each row.

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor, bail};
use rayon::prelude::*;

use crate::nn::{Values, f32_slice};
use crate::nn::kernels::{Strided, StridedMut, gemm};
use crate::nn::simd::{MulAdd, dispatch, exp_with};

/// Queries per block: a block's scores (64 × 800 floats at the longest default review) stay in L2.
const QUERY_BLOCK: usize = 64;

/// The attended values (batch · steps, width) of `qkv` (batch · steps, 3 · width), which holds each
/// step's queries, keys and values side by side, each `heads` heads of `width / heads` wide.
pub(super) fn self_attention(qkv: &Tensor, lengths: &Arc<[usize]>, steps: usize, heads: usize) -> candle_core::Result<Tensor> {
    qkv.apply_op1(SelfAttention { lengths: lengths.clone(), steps, heads, log_sum_exp: Mutex::new(None) })
}

struct SelfAttention {
    lengths: Arc<[usize]>,
    steps: usize,
    heads: usize,
    /// Per (review, head, query): the log of the softmax's denominator, shift included, kept by
    /// the forward pass for the backward one.
    log_sum_exp: Mutex<Option<Vec<f32>>>,
}

/// Where one review's heads sit in its rows of `qkv` (t × 3d) and of the output (t × d).
#[derive(Clone, Copy)]
struct Heads {
    width: usize,
    head: usize,
    scale: f32,
}

impl Heads {
    fn query<'a>(&self, qkv: &'a [f32], h: usize, from: usize) -> Strided<'a> {
        Strided { data: &qkv[from * 3 * self.width + h * self.head..], row: 3 * self.width, col: 1 }
    }
    fn key<'a>(&self, qkv: &'a [f32], h: usize) -> Strided<'a> {
        Strided { data: &qkv[self.width + h * self.head..], row: 3 * self.width, col: 1 }
    }
    fn value<'a>(&self, qkv: &'a [f32], h: usize) -> Strided<'a> {
        Strided { data: &qkv[2 * self.width + h * self.head..], row: 3 * self.width, col: 1 }
    }
    /// Head `h`'s columns of rows `from..` of a (t × d) output or its gradient.
    fn output<'a>(&self, out: &'a [f32], h: usize, from: usize) -> Strided<'a> {
        Strided { data: &out[from * self.width + h * self.head..], row: self.width, col: 1 }
    }
}

impl SelfAttention {
    fn check(&self, l: &Layout) -> candle_core::Result<(usize, Heads)> {
        let (rows, three_d) = l.shape().dims2()?;
        let (b, t) = (self.lengths.len(), self.steps);
        if rows != b * t || three_d % 3 != 0 || (three_d / 3) % self.heads != 0 {
            bail!("self-attention: {:?} does not fit {b} reviews of {t} steps with {} heads", l.shape(), self.heads);
        }
        if self.lengths.iter().any(|&n| n == 0 || n > t) {
            bail!("self-attention: lengths must be 1..={t}, one per review");
        }
        let width = three_d / 3;
        let head = width / self.heads;
        Ok((b, Heads { width, head, scale: 1.0 / (head as f32).sqrt() }))
    }
}

impl CustomOp1 for SelfAttention {
    fn name(&self) -> &'static str {
        "senti-self-attention"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (b, geo) = self.check(l)?;
        let qkv = f32_slice(s, l, "self-attention: qkv")?;
        let (t, d, heads) = (self.steps, geo.width, self.heads);
        let mut out = vec![0f32; b * t * d];
        let mut lse = vec![0f32; b * heads * t];
        out.par_chunks_mut(t * d).zip(lse.par_chunks_mut(heads * t)).enumerate().for_each(|(r, (out, lse))| {
            let len = self.lengths[r];
            let qkv = &qkv[r * t * 3 * d..(r + 1) * t * 3 * d];
            let mut scores = vec![0f32; QUERY_BLOCK.min(len) * len];
            for h in 0..heads {
                for from in (0..len).step_by(QUERY_BLOCK) {
                    let m = QUERY_BLOCK.min(len - from);
                    let p = &mut scores[..m * len];
                    gemm(m, len, geo.head, StridedMut::rows(p, len), false, geo.query(qkv, h, from), geo.key(qkv, h).t(), geo.scale, 1);
                    for (row, lse) in p.chunks_exact_mut(len).zip(&mut lse[h * t + from..]) {
                        *lse = softmax_in_place(row);
                    }
                    let dst = StridedMut { data: &mut out[from * d + h * geo.head..], row: d, col: 1 };
                    gemm(m, geo.head, len, dst, false, Strided::rows(p, len), geo.value(qkv, h), 1.0, 1);
                }
            }
        });
        *self.log_sum_exp.lock().unwrap_or_else(|e| e.into_inner()) = Some(lse);
        Ok((CpuStorage::F32(out), Shape::from((b * t, d))))
    }

    fn bwd(&self, qkv: &Tensor, out: &Tensor, d_out: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let Some(lse) = self.log_sum_exp.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            bail!("self-attention: backward without a forward pass");
        };
        let (b, geo) = self.check(qkv.layout())?;
        let (t, d, heads) = (self.steps, geo.width, self.heads);
        let (x, o, d_o) = (Values::of(qkv)?, Values::of(out)?, Values::of(d_out)?);
        let mut d_qkv = vec![0f32; b * t * 3 * d];
        d_qkv.par_chunks_mut(t * 3 * d).enumerate().for_each(|(r, d_qkv)| {
            let len = self.lengths[r];
            let span = |k: usize| r * t * k..(r + 1) * t * k;
            let (x, o, d_o, lse) = (&x[span(3 * d)], &o[span(d)], &d_o[span(d)], &lse[r * heads * t..(r + 1) * heads * t]);
            let block = QUERY_BLOCK.min(len);
            let (mut probs, mut d_scores, mut d_row) = (vec![0f32; block * len], vec![0f32; block * len], vec![0f32; block]);
            for h in 0..heads {
                let (dq, dk, dv) = (h * geo.head, d + h * geo.head, 2 * d + h * geo.head);
                for from in (0..len).step_by(QUERY_BLOCK) {
                    let m = QUERY_BLOCK.min(len - from);
                    let (p, ds, d_row) = (&mut probs[..m * len], &mut d_scores[..m * len], &mut d_row[..m]);
                    let q = geo.query(x, h, from);
                    gemm(m, len, geo.head, StridedMut::rows(p, len), false, q, geo.key(x, h).t(), geo.scale, 1);
                    for (row, &lse) in p.chunks_exact_mut(len).zip(&lse[h * t + from..]) {
                        exp_shifted(row, lse);
                    }
                    // D_i = Σ_j dO_ij · O_ij, the row's share of the softmax's backward pass.
                    for (i, d_row) in d_row.iter_mut().enumerate() {
                        let at = (from + i) * d + h * geo.head;
                        *d_row = o[at..at + geo.head].iter().zip(&d_o[at..at + geo.head]).map(|(a, b)| a * b).sum();
                    }
                    let d_o_block = geo.output(d_o, h, from);
                    // dV += Pᵀ · dO
                    let dst = StridedMut { data: &mut d_qkv[dv..], row: 3 * d, col: 1 };
                    gemm(len, geo.head, m, dst, true, Strided::rows(p, len).t(), d_o_block, 1.0, 1);
                    // dP = dO · Vᵀ, then dS = P ⊙ (dP − D)
                    gemm(m, len, geo.head, StridedMut::rows(ds, len), false, d_o_block, geo.value(x, h).t(), 1.0, 1);
                    for ((ds, p), &d_row) in ds.chunks_exact_mut(len).zip(p.chunks_exact(len)).zip(d_row.iter()) {
                        ds.iter_mut().zip(p).for_each(|(ds, &p)| *ds = p * (*ds - d_row));
                    }
                    // dQ = scale · dS · K, dK += scale · dSᵀ · Q
                    let dst = StridedMut { data: &mut d_qkv[from * 3 * d + dq..], row: 3 * d, col: 1 };
                    gemm(m, geo.head, len, dst, false, Strided::rows(ds, len), geo.key(x, h), geo.scale, 1);
                    let dst = StridedMut { data: &mut d_qkv[dk..], row: 3 * d, col: 1 };
                    gemm(len, geo.head, m, dst, true, Strided::rows(ds, len).t(), q, geo.scale, 1);
                }
            }
        });
        Ok(Some(Tensor::from_vec(d_qkv, qkv.shape(), qkv.device())?))
    }
}

/// Softmax of one row of scores in place; returns the log of its denominator, shift included.
fn softmax_in_place(row: &mut [f32]) -> f32 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum = exp_shifted_sum(row, max);
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
    max + sum.ln()
}

dispatch!(fn exp_shifted_sum = exp_shifted_sum_impl::<MulAdd>(row: &mut [f32], shift: f32) -> f32);
dispatch!(fn exp_shifted = exp_shifted_impl::<MulAdd>(row: &mut [f32], shift: f32));

/// `row = e^(row − shift)`, returning the sum.
#[inline(always)]
fn exp_shifted_sum_impl<M: MulAdd>(row: &mut [f32], shift: f32) -> f32 {
    // Eight partial sums let the loop vectorise without reassociating one.
    let mut sums = [0f32; 8];
    let mut chunks = row.chunks_exact_mut(8);
    for c in &mut chunks {
        for (v, s) in c.iter_mut().zip(&mut sums) {
            *v = exp_with::<M>(*v - shift);
            *s += *v;
        }
    }
    let mut total: f32 = sums.iter().sum();
    for v in chunks.into_remainder() {
        *v = exp_with::<M>(*v - shift);
        total += *v;
    }
    total
}

#[inline(always)]
fn exp_shifted_impl<M: MulAdd>(row: &mut [f32], shift: f32) {
    row.iter_mut().for_each(|v| *v = exp_with::<M>(*v - shift));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::transformer::testing::{max_gap as gap, pattern, pattern_var};
    use candle_core::{D, Device};

    /// The same attention in plain Candle ops: masked keys at −∞, padded queries zeroed.
    fn reference(qkv: &Tensor, lengths: &[usize], t: usize, heads: usize) -> Tensor {
        let (b, d) = (lengths.len(), qkv.dims2().unwrap().1 / 3);
        let dh = d / heads;
        let x = qkv.reshape((b, t, 3, heads, dh)).unwrap().permute((2, 0, 3, 1, 4)).unwrap();
        let part = |i: usize| x.get(i).unwrap().contiguous().unwrap();
        let (q, k, v) = (part(0), part(1), part(2));
        let scores = (q.matmul(&k.t().unwrap().contiguous().unwrap()).unwrap() / (dh as f64).sqrt()).unwrap();
        let mask: Vec<f32> = lengths.iter().flat_map(|&n| (0..t).map(move |j| if j < n { 0.0 } else { f32::NEG_INFINITY })).collect();
        let mask = Tensor::from_vec(mask, (b, 1, 1, t), &Device::Cpu).unwrap();
        let weights = candle_nn::ops::softmax(&scores.broadcast_add(&mask).unwrap(), D::Minus1).unwrap();
        let keep: Vec<f32> = lengths.iter().flat_map(|&n| (0..t).map(move |i| if i < n { 1.0 } else { 0.0 })).collect();
        let keep = Tensor::from_vec(keep, (b, 1, t, 1), &Device::Cpu).unwrap();
        weights.matmul(&v).unwrap().broadcast_mul(&keep).unwrap().transpose(1, 2).unwrap().reshape((b * t, d)).unwrap()
    }

    #[test]
    fn matches_plain_ops_forward_and_backward() {
        // 70 steps: a full block of queries and a partial one.
        let (t, heads, d) = (70, 2, 8);
        let lengths: Arc<[usize]> = Arc::from(vec![70, 23, 1]);
        let b = lengths.len();
        let x = pattern_var((b * t, 3 * d), 37, 23);
        let probe = pattern((b * t, d), 1, 11);
        let fused = self_attention(x.as_tensor(), &lengths, t, heads).unwrap();
        let plain = reference(x.as_tensor(), &lengths, t, heads);
        assert!(gap(&fused, &plain) < 1e-5, "forward differs by {}", gap(&fused, &plain));
        let grad = |y: Tensor| y.mul(&probe).unwrap().sum_all().unwrap().backward().unwrap().get(&x).unwrap().clone();
        let (g_fused, g_plain) = (grad(fused), grad(plain));
        assert!(gap(&g_fused, &g_plain) < 1e-4, "gradients differ by {}", gap(&g_fused, &g_plain));
        // A padded step's keys and values reach nothing, and its queries give zeros.
        let padded = g_fused.narrow(0, t + 23, t - 23).unwrap();
        assert_eq!(padded.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap(), 0.0);
        assert!(g_fused.abs().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() > 1.0);
    }
}
