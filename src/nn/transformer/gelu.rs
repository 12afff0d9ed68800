// SPDX-License-Identifier: MIT OR Apache-2.0
//! GELU (tanh form, as Candle's `gelu` and BERT have it) of a projection plus its bias, as one op:
//! Candle's own backward pass for `gelu` is a dozen tensor ops over the feed-forward block's
//! activations, the widest tensor of a layer.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor, bail};
use rayon::prelude::*;

use crate::nn::{Values, f32_slice};
use crate::nn::simd::{MulAdd, dispatch, tanh_with};

const SQRT_TWO_OVER_PI: f32 = 0.797_884_6;
const CUBIC: f32 = 0.044_715;
const ROWS_PER_TASK: usize = 128;

/// `gelu(x + bias)` for `x` (rows, width) and `bias` (width).
pub(super) fn bias_gelu(x: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
    x.apply_op2(bias, BiasGelu)
}

struct BiasGelu;

dispatch!(fn forward_rows = forward_rows_impl::<MulAdd>(x: &[f32], bias: &[f32], out: &mut [f32]));
dispatch!(fn backward_rows = backward_rows_impl::<MulAdd>(x: &[f32], bias: &[f32], grad: &[f32], dx: &mut [f32]));

#[inline(always)]
fn forward_rows_impl<M: MulAdd>(x: &[f32], bias: &[f32], out: &mut [f32]) {
    for (o, row) in out.chunks_exact_mut(bias.len()).zip(x.chunks_exact(bias.len())) {
        for ((o, &v), &b) in o.iter_mut().zip(row).zip(bias) {
            let v = v + b;
            *o = 0.5 * v * (1.0 + tanh_with::<M>(SQRT_TWO_OVER_PI * v * (1.0 + CUBIC * v * v)));
        }
    }
}

#[inline(always)]
fn backward_rows_impl<M: MulAdd>(x: &[f32], bias: &[f32], grad: &[f32], dx: &mut [f32]) {
    let width = bias.len();
    for ((d, row), g) in dx.chunks_exact_mut(width).zip(x.chunks_exact(width)).zip(grad.chunks_exact(width)) {
        for (((d, &v), &b), &g) in d.iter_mut().zip(row).zip(bias).zip(g) {
            let v = v + b;
            let th = tanh_with::<M>(SQRT_TWO_OVER_PI * v * (1.0 + CUBIC * v * v));
            let slope = 0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * SQRT_TWO_OVER_PI * (1.0 + 3.0 * CUBIC * v * v);
            *d = g * slope;
        }
    }
}

impl CustomOp2 for BiasGelu {
    fn name(&self) -> &'static str {
        "senti-bias-gelu"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, width) = l1.shape().dims2()?;
        if l2.shape().dims() != [width] {
            bail!("gelu: bias {:?} must be [{width}]", l2.shape());
        }
        let (x, bias) = (f32_slice(s1, l1, "gelu: x")?, f32_slice(s2, l2, "gelu: bias")?);
        let mut out = vec![0f32; x.len()];
        out.par_chunks_mut(ROWS_PER_TASK * width).zip(x.par_chunks(ROWS_PER_TASK * width)).for_each(|(o, x)| forward_rows(x, bias, o));
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, bias: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let width = x.dims2()?.1;
        let (xs, b, g) = (Values::of(x)?, Values::of(bias)?, Values::of(grad)?);
        let mut dx = vec![0f32; xs.len()];
        let chunk = ROWS_PER_TASK * width;
        let partial: Vec<Vec<f32>> = dx
            .par_chunks_mut(chunk)
            .zip(xs.par_chunks(chunk).zip(g.par_chunks(chunk)))
            .map(|(dx, (x, g))| {
                backward_rows(x, &b, g, dx);
                let mut d_bias = vec![0f32; width];
                for row in dx.chunks_exact(width) {
                    d_bias.iter_mut().zip(row).for_each(|(a, b)| *a += b);
                }
                d_bias
            })
            .collect();
        let d_bias = super::sum_partials(&partial, width);
        Ok((Some(Tensor::from_vec(dx, x.shape(), x.device())?), Some(Tensor::from_vec(d_bias, width, x.device())?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::transformer::testing::{max_gap as gap, pattern, pattern_var};
    use candle_core::{Device, Var};

    #[test]
    fn matches_candle_gelu_forward_and_backward() {
        let (rows, width) = (300, 5);
        let x = pattern_var((rows, width), 17, 43);
        let bias = Var::from_vec(vec![0.5f32, -1.0, 0.0, 2.0, -0.25], width, &Device::Cpu).unwrap();
        let probe = pattern((rows, width), 1, 9);
        let fused = bias_gelu(x.as_tensor(), bias.as_tensor()).unwrap();
        let plain = x.as_tensor().broadcast_add(bias.as_tensor()).unwrap().gelu().unwrap();
        assert!(gap(&fused, &plain) < 1e-5, "forward differs by {}", gap(&fused, &plain));
        let grads = |y: Tensor| y.mul(&probe).unwrap().sum_all().unwrap().backward().unwrap();
        let (gf, gp) = (grads(fused), grads(plain));
        for v in [&x, &bias] {
            let (a, b) = (gf.get(v).unwrap(), gp.get(v).unwrap());
            assert!(gap(a, b) < 1e-3, "gradient differs by {}", gap(a, b));
        }
    }
}
