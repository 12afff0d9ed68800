// SPDX-License-Identifier: MIT OR Apache-2.0
//! Pooling over time as one custom op with its own backward pass: over (batch, steps, H) hidden
//! states it reads only each row's real steps, so no mask tensor, no large reductions and no
//! broadcasting are needed (in Candle ops these cost more than the pooling itself).

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor, bail};

use super::{Pooling, f32_slice};

pub(crate) struct PoolOp {
    pub pooling: Pooling,
    pub lengths: Arc<[usize]>,
    /// For `Last`: the direction ran backwards, so its final state sits at step 0.
    pub reverse: bool,
}

impl PoolOp {
    fn width(&self, h: usize) -> usize {
        if self.pooling == Pooling::MaxMean { 2 * h } else { h }
    }
    fn last_step(&self, len: usize) -> usize {
        if self.reverse { 0 } else { len - 1 }
    }
}

/// Index of the maximum over the real steps of column `j` of one row (first one on ties).
fn argmax(row: &[f32], h: usize, len: usize, j: usize) -> usize {
    let mut best = 0;
    for t in 1..len {
        if row[t * h + j] > row[best * h + j] {
            best = t;
        }
    }
    best
}

impl CustomOp1 for PoolOp {
    fn name(&self) -> &'static str {
        "senti-pool"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (b, t, h) = l.shape().dims3()?;
        let x = f32_slice(s, l, "pool: input")?;
        if self.lengths.len() != b || self.lengths.iter().any(|&n| n == 0 || n > t) {
            bail!("pool: lengths must be 1..={t}, one per row");
        }
        if self.pooling == Pooling::Attention {
            bail!("pool: attention pooling has weights of its own (nn::attention)");
        }
        let w = self.width(h);
        let mut out = vec![0f32; b * w];
        for (r, (&len, o)) in self.lengths.iter().zip(out.chunks_exact_mut(w)).enumerate() {
            let row = &x[r * t * h..(r + 1) * t * h];
            match self.pooling {
                Pooling::Last => o.copy_from_slice(&row[self.last_step(len) * h..][..h]),
                Pooling::Max | Pooling::Mean | Pooling::MaxMean | Pooling::Attention => {
                    let (max, mean) = o.split_at_mut(if self.pooling == Pooling::Mean { 0 } else { h });
                    if !max.is_empty() {
                        max.copy_from_slice(&row[..h]);
                    }
                    if !mean.is_empty() {
                        mean.copy_from_slice(&row[..h]);
                    }
                    for step in row[h..len * h].chunks_exact(h) {
                        for j in 0..max.len() {
                            max[j] = max[j].max(step[j]);
                        }
                        for j in 0..mean.len() {
                            mean[j] += step[j];
                        }
                    }
                    let inv = 1.0 / len as f32;
                    mean.iter_mut().for_each(|m| *m *= inv);
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((b, w))))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let (b, t, h) = arg.dims3()?;
        let w = self.width(h);
        let x = arg.flatten_all()?.to_vec1::<f32>()?;
        let g = grad.flatten_all()?.to_vec1::<f32>()?;
        let mut dx = vec![0f32; b * t * h];
        for (r, &len) in self.lengths.iter().enumerate() {
            let (row, d, gr) = (&x[r * t * h..(r + 1) * t * h], &mut dx[r * t * h..(r + 1) * t * h], &g[r * w..(r + 1) * w]);
            match self.pooling {
                Pooling::Last => d[self.last_step(len) * h..][..h].copy_from_slice(gr),
                Pooling::Max | Pooling::MaxMean => {
                    for j in 0..h {
                        d[argmax(row, h, len, j) * h + j] += gr[j];
                    }
                }
                Pooling::Mean | Pooling::Attention => {}
            }
            if matches!(self.pooling, Pooling::Mean | Pooling::MaxMean) {
                let gm = &gr[w - h..];
                let inv = 1.0 / len as f32;
                for step in d[..len * h].chunks_exact_mut(h) {
                    for j in 0..h {
                        step[j] += gm[j] * inv;
                    }
                }
            }
        }
        Ok(Some(Tensor::from_vec(dx, (b, t, h), arg.device())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn values_and_gradients() {
        // Two rows, three steps, two features; the second row has one real step.
        let x = Var::from_vec(vec![1f32, -1., 3., 0., 2., 5., 7., 7., 9., 9., 9., 9.], (2, 3, 2), &Device::Cpu).unwrap();
        let lengths: Arc<[usize]> = Arc::from(vec![3, 1]);
        let pool = |pooling, reverse| PoolOp { pooling, lengths: lengths.clone(), reverse };
        let out = |p: PoolOp| x.as_tensor().apply_op1(p).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(out(pool(Pooling::Last, false)), [[2., 5.], [7., 7.]]);
        assert_eq!(out(pool(Pooling::Last, true)), [[1., -1.], [7., 7.]]);
        assert_eq!(out(pool(Pooling::Max, false)), [[3., 5.], [7., 7.]]);
        assert_eq!(out(pool(Pooling::Mean, false)), [[2., 4. / 3.], [7., 7.]]);
        assert_eq!(out(pool(Pooling::MaxMean, false)), [[3., 5., 2., 4. / 3.], [7., 7., 7., 7.]]);
        // d(sum of max-mean features)/dx: max picks one step per feature, mean spreads 1/len.
        let y = x.as_tensor().apply_op1(pool(Pooling::MaxMean, false)).unwrap().sum_all().unwrap();
        let g = y.backward().unwrap().get(&x).unwrap().to_vec3::<f32>().unwrap();
        let third = 1.0 / 3.0;
        assert_eq!(g[0], [[third, third], [1.0 + third, third], [third, 1.0 + third]]);
        assert_eq!(g[1], [[2., 2.], [0., 0.], [0., 0.]]);
    }
}
