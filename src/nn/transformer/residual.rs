// SPDX-License-Identifier: MIT OR Apache-2.0
//! A sublayer's output joined to the residual stream, `x + dropout(y + bias)`, as one op. In
//! Candle's general ops the bias, the dropout mask (drawn one value at a time on one thread) and
//! the sum were four passes forward and as many backward over the widest activations. The mask
//! here is a hash of a seed and each element's index, so it is the same for any number of
//! threads and the backward pass recomputes it instead of keeping it.

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor, bail};
use rayon::prelude::*;

use crate::nn::{Values, f32_slice};
use crate::rng::mix64;

const ROWS_PER_TASK: usize = 128;

/// `x + dropout(y + bias)` for `x`, `y` (rows, width) and `bias` (width); `dropout` is the rate
/// and the mask's seed, `None` outside training.
pub(super) fn residual(x: &Tensor, y: &Tensor, bias: &Tensor, dropout: Option<(f32, u64)>) -> candle_core::Result<Tensor> {
    let mask = dropout.filter(|&(p, _)| p > 0.0).map(|(p, seed)| Mask { seed, threshold: (p as f64 * (1u64 << 32) as f64) as u64, scale: 1.0 / (1.0 - p) });
    x.apply_op3(y, bias, Residual { mask })
}

#[derive(Clone, Copy)]
struct Mask {
    seed: u64,
    /// An element is dropped when the top 32 bits of its hash are below this.
    threshold: u64,
    scale: f32,
}

impl Mask {
    /// The factor element `index` of the sublayer's output is multiplied by: 0 or 1 / (1 − p).
    #[inline]
    fn factor(&self, index: usize) -> f32 {
        if mix64(self.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 32 < self.threshold { 0.0 } else { self.scale }
    }
}

struct Residual {
    mask: Option<Mask>,
}

impl Residual {
    fn factor(&self, index: usize) -> f32 {
        self.mask.map_or(1.0, |m| m.factor(index))
    }
}

impl CustomOp3 for Residual {
    fn name(&self) -> &'static str {
        "senti-residual"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout, s3: &CpuStorage, l3: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, width) = l1.shape().dims2()?;
        if l2.shape() != l1.shape() || l3.shape().dims() != [width] {
            bail!("residual: {:?} + {:?} + bias {:?} do not fit", l1.shape(), l2.shape(), l3.shape());
        }
        let (x, y, bias) = (f32_slice(s1, l1, "residual: x")?, f32_slice(s2, l2, "residual: y")?, f32_slice(s3, l3, "residual: bias")?);
        let mut out = vec![0f32; x.len()];
        let chunk = ROWS_PER_TASK * width;
        out.par_chunks_mut(chunk).enumerate().for_each(|(task, out)| {
            let from = task * chunk;
            for (i, o) in out.iter_mut().enumerate() {
                let at = from + i;
                *o = x[at] + self.factor(at) * (y[at] + bias[at % width]);
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, _bias: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let width = x.dims2()?.1;
        let g = Values::of(grad)?;
        let chunk = ROWS_PER_TASK * width;
        let mut dy = vec![0f32; g.len()];
        let partial: Vec<Vec<f32>> = dy
            .par_chunks_mut(chunk)
            .enumerate()
            .map(|(task, dy)| {
                let from = task * chunk;
                let mut d_bias = vec![0f32; width];
                for (i, d) in dy.iter_mut().enumerate() {
                    let at = from + i;
                    *d = self.factor(at) * g[at];
                    d_bias[at % width] += *d;
                }
                d_bias
            })
            .collect();
        let d_bias = super::sum_partials(&partial, width);
        Ok((Some(grad.clone()), Some(Tensor::from_vec(dy, x.shape(), x.device())?), Some(Tensor::from_vec(d_bias, width, x.device())?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::transformer::testing::{max_gap as gap, pattern_var};

    #[test]
    fn adds_the_biased_output_and_drops_a_share_of_it() {
        let (rows, width) = (300, 6);
        let (x, y, bias) = (pattern_var(rows * width, 7, 19), pattern_var(rows * width, 11, 19), pattern_var(width, 3, 19));
        let (xs, ys) = (x.as_tensor().reshape((rows, width)).unwrap(), y.as_tensor().reshape((rows, width)).unwrap());
        let plain = xs.add(&ys.broadcast_add(bias.as_tensor()).unwrap()).unwrap();
        assert!(gap(&residual(&xs, &ys, bias.as_tensor(), None).unwrap(), &plain) < 1e-6);

        let p = 0.3;
        let out = residual(&xs, &ys, bias.as_tensor(), Some((p, 9))).unwrap();
        assert_eq!(gap(&out, &residual(&xs, &ys, bias.as_tensor(), Some((p, 9))).unwrap()), 0.0, "the same seed, the same mask");
        let (o, xv, sub) = (out.flatten_all().unwrap().to_vec1::<f32>().unwrap(), xs.flatten_all().unwrap().to_vec1::<f32>().unwrap(), (plain.clone() - &xs).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap());
        // Elements whose biased output is 0 cannot show whether they were dropped.
        let visible: Vec<usize> = (0..o.len()).filter(|&i| sub[i].abs() > 1e-3).collect();
        let dropped = visible.iter().filter(|&&i| o[i] == xv[i]).count() as f32 / visible.len() as f32;
        assert!((dropped - p).abs() < 0.05, "dropped {dropped}");
        for ((o, x), s) in o.iter().zip(&xv).zip(&sub) {
            assert!(o == x || (o - x - s / (1.0 - p)).abs() < 1e-5);
        }
        // The gradient: the stream's passes through, the output's is masked as in the forward pass.
        let grads = out.sum_all().unwrap().backward().unwrap();
        assert!(grads.get(&x).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().all(|&g| g == 1.0));
        let dy = grads.get(&y).unwrap().to_vec1::<f32>().unwrap();
        for &i in &visible {
            assert!(if o[i] == xv[i] { dy[i] == 0.0 } else { (dy[i] - 1.0 / (1.0 - p)).abs() < 1e-6 });
        }
        let db = grads.get(&bias).unwrap().to_vec1::<f32>().unwrap();
        for (j, db) in db.iter().enumerate() {
            let expect: f32 = dy.iter().skip(j).step_by(width).sum();
            assert!((db - expect).abs() < 1e-3);
        }
    }
}
