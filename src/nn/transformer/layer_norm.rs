// SPDX-License-Identifier: MIT OR Apache-2.0
//! Layer normalisation (Ba et al., 2016) over the last axis as one op: in Candle's general ops it
//! was seven passes over the activations forward and about twice that backward, each through
//! Candle's thread pool.

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor, bail};
use rayon::prelude::*;

use crate::nn::{Values, f32_slice};

const EPSILON: f32 = 1e-5;

/// Rows handed to one task: enough that the per-task sums of the weight gradients are few.
const ROWS_PER_TASK: usize = 256;

/// `(x − mean) / sqrt(var + ε) · gain + bias`, row by row, for `x` (rows, width).
pub(super) fn layer_norm(x: &Tensor, gain: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
    x.apply_op3(gain, bias, LayerNorm)
}

struct LayerNorm;

/// A row's mean and reciprocal standard deviation.
fn moments(row: &[f32]) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + EPSILON).sqrt())
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "senti-layer-norm"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout, s3: &CpuStorage, l3: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, width) = l1.shape().dims2()?;
        if l2.shape().dims() != [width] || l3.shape().dims() != [width] {
            bail!("layer norm: gain {:?} and bias {:?} must be [{width}]", l2.shape(), l3.shape());
        }
        let (x, gain, bias) = (f32_slice(s1, l1, "layer norm: x")?, f32_slice(s2, l2, "layer norm: gain")?, f32_slice(s3, l3, "layer norm: bias")?);
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(ROWS_PER_TASK * width).zip(x.par_chunks(ROWS_PER_TASK * width)).for_each(|(out, x)| {
            for (o, row) in out.chunks_exact_mut(width).zip(x.chunks_exact(width)) {
                let (mean, inv) = moments(row);
                for (((o, &v), &g), &b) in o.iter_mut().zip(row).zip(gain).zip(bias) {
                    *o = (v - mean) * inv * g + b;
                }
            }
        });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, gain: &Tensor, _bias: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let width = x.dims2()?.1;
        let (xs, gain_v, g) = (Values::of(x)?, Values::of(gain)?, Values::of(grad)?);
        let mut dx = vec![0f32; xs.len()];
        // Per task: the gain's and the bias's gradient over its rows, summed afterwards.
        let partial: Vec<(Vec<f32>, Vec<f32>)> = dx
            .par_chunks_mut(ROWS_PER_TASK * width)
            .zip(xs.par_chunks(ROWS_PER_TASK * width).zip(g.par_chunks(ROWS_PER_TASK * width)))
            .map(|(dx, (x, g))| {
                let (mut d_gain, mut d_bias) = (vec![0f32; width], vec![0f32; width]);
                let mut gx = vec![0f32; width];
                for ((dx, row), g) in dx.chunks_exact_mut(width).zip(x.chunks_exact(width)).zip(g.chunks_exact(width)) {
                    let (mean, inv) = moments(row);
                    // With x̂ the normalised row and ĝ = g ⊙ gain:
                    // dx = inv · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)).
                    let (mut sum_g, mut sum_gx) = (0f32, 0f32);
                    for (j, ((&v, &gj), gx)) in row.iter().zip(g).zip(gx.iter_mut()).enumerate() {
                        let normed = (v - mean) * inv;
                        d_gain[j] += gj * normed;
                        d_bias[j] += gj;
                        *gx = gj * gain_v[j];
                        sum_g += *gx;
                        sum_gx += *gx * normed;
                    }
                    let (mean_g, mean_gx) = (sum_g / width as f32, sum_gx / width as f32);
                    for ((dx, &v), &gx) in dx.iter_mut().zip(row).zip(gx.iter()) {
                        *dx = inv * (gx - mean_g - (v - mean) * inv * mean_gx);
                    }
                }
                (d_gain, d_bias)
            })
            .collect();
        let d_gain = super::sum_partials(partial.iter().map(|(g, _)| g), width);
        let d_bias = super::sum_partials(partial.iter().map(|(_, b)| b), width);
        let device = x.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), device)?),
            Some(Tensor::from_vec(d_gain, width, device)?),
            Some(Tensor::from_vec(d_bias, width, device)?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::transformer::testing::{max_gap as gap, pattern, pattern_var};
    use candle_core::D;

    #[test]
    fn matches_plain_ops_forward_and_backward() {
        let (rows, width) = (300, 7);
        let x = pattern_var((rows, width), 31, 41);
        let (gain, bias) = (pattern_var(width, 5, 29), pattern_var(width, 3, 29));
        let probe = pattern((rows, width), 1, 13);
        let fused = layer_norm(x.as_tensor(), gain.as_tensor(), bias.as_tensor()).unwrap();
        let centred = x.as_tensor().broadcast_sub(&x.as_tensor().mean_keepdim(D::Minus1).unwrap()).unwrap();
        let scale = (centred.sqr().unwrap().mean_keepdim(D::Minus1).unwrap() + EPSILON as f64).unwrap().sqrt().unwrap();
        let plain = centred.broadcast_div(&scale).unwrap().broadcast_mul(gain.as_tensor()).unwrap().broadcast_add(bias.as_tensor()).unwrap();
        assert!(gap(&fused, &plain) < 1e-5);
        let grads = |y: Tensor| y.mul(&probe).unwrap().sum_all().unwrap().backward().unwrap();
        let (gf, gp) = (grads(fused), grads(plain));
        for v in [&x, &gain, &bias] {
            let (a, b) = (gf.get(v).unwrap(), gp.get(v).unwrap());
            assert!(gap(a, b) < 1e-4, "gradient differs by {}", gap(a, b));
        }
    }
}
