// SPDX-License-Identifier: MIT OR Apache-2.0
//! A transformer encoder (Vaswani et al., 2017) in place of the recurrent layers: the
//! embeddings, projected to the model width when it differs, plus sinusoidal position encodings,
//! then pre-norm layers of multi-head self-attention and a GELU feed-forward block, each with a
//! residual connection, then a final layer norm. Padded steps are masked out of every
//! attention, so a review's states do not depend on its batch. Built from plain Candle ops:
//! their gradients come from Candle's autograd.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, D, Device, Layout, Shape, Tensor, bail};

use super::classifier::{Init, Mode, dropout};
use super::config::{NetworkConfig, TransformerShape};
use crate::error::{Error, Result};

const NORM_EPSILON: f64 = 1e-5;

/// Softmax over the keys of attention scores (batch, heads, queries, keys), each row's keys
/// masked to its review's length, as one op with its own backward pass: in plain tensor ops the
/// mask, the shift, the exponential and the normalisation each pass over (and keep) a tensor of
/// batch × heads × steps² values.
struct MaskedSoftmax {
    lengths: Arc<[usize]>,
}

impl CustomOp1 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "senti-masked-softmax"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (b, h, q, k) = l.shape().dims4()?;
        let scores = super::f32_slice(s, l, "masked softmax: scores")?;
        if self.lengths.len() != b || self.lengths.iter().any(|&n| n == 0 || n > k) {
            bail!("masked softmax: lengths must be 1..={k}, one per row");
        }
        let mut out = vec![0f32; scores.len()];
        for (block, (src, dst)) in scores.chunks_exact(h * q * k).zip(out.chunks_exact_mut(h * q * k)).enumerate() {
            let len = self.lengths[block];
            for (row, o) in src.chunks_exact(k).zip(dst.chunks_exact_mut(k)) {
                let max = row[..len].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0f32;
                for (o, &v) in o[..len].iter_mut().zip(&row[..len]) {
                    *o = (v - max).exp();
                    sum += *o;
                }
                let inv = 1.0 / sum;
                o[..len].iter_mut().for_each(|o| *o *= inv);
            }
        }
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let k = res.dims4()?.3;
        let (p, g) = (res.flatten_all()?.to_vec1::<f32>()?, grad.flatten_all()?.to_vec1::<f32>()?);
        // dS = P ⊙ (dP − Σ_k dP ⊙ P), row by row; masked keys have P = 0 and get 0.
        let mut d = vec![0f32; p.len()];
        for ((pr, gr), dr) in p.chunks_exact(k).zip(g.chunks_exact(k)).zip(d.chunks_exact_mut(k)) {
            let dot: f32 = pr.iter().zip(gr).map(|(a, b)| a * b).sum();
            for ((d, &pv), &gv) in dr.iter_mut().zip(pr).zip(gr) {
                *d = pv * (gv - dot);
            }
        }
        Ok(Some(Tensor::from_vec(d, res.shape(), res.device())?))
    }
}

struct LayerNorm {
    gain: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    /// Over the last axis of `x` (rows, width).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
        let scale = (centred.sqr()?.mean_keepdim(D::Minus1)? + NORM_EPSILON)?.sqrt()?;
        Ok(centred.broadcast_div(&scale)?.broadcast_mul(&self.gain)?.broadcast_add(&self.bias)?)
    }
}

struct Linear {
    w: Tensor,
    b: Tensor,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.matmul(&self.w.t()?)?.broadcast_add(&self.b)?)
    }
}

struct EncoderLayer {
    attention_norm: LayerNorm,
    /// Queries, keys and values in one projection: (3·width, width).
    qkv: Linear,
    output: Linear,
    ff_norm: LayerNorm,
    ff_in: Linear,
    ff_out: Linear,
}

pub(crate) struct TransformerEncoder {
    /// (width, embedding) when the embedding is not as wide as the model.
    input: Option<Tensor>,
    layers: Vec<EncoderLayer>,
    final_norm: LayerNorm,
    width: usize,
    heads: usize,
    dropout: f32,
}

/// The sinusoidal position encodings of `steps` positions, (steps, width).
fn positions(steps: usize, width: usize) -> Result<Tensor> {
    let mut values = vec![0f32; steps * width];
    for (t, row) in values.chunks_exact_mut(width).enumerate() {
        for i in 0..width.div_ceil(2) {
            let angle = t as f64 / 10_000f64.powf(2.0 * i as f64 / width as f64);
            row[2 * i] = angle.sin() as f32;
            if 2 * i + 1 < width {
                row[2 * i + 1] = angle.cos() as f32;
            }
        }
    }
    Ok(Tensor::from_vec(values, (steps, width), &Device::Cpu)?)
}

/// Where a weight comes from: its name, shape and initialiser in, the tensor out.
pub(crate) type Getter<'a> = dyn FnMut(String, &[usize], Init) -> Result<Tensor> + 'a;

fn norm(get: &mut Getter, name: &str, d: usize) -> Result<LayerNorm> {
    Ok(LayerNorm {
        gain: get(format!("{name}.gain"), &[d], Init::Bias { ones_block: Some(0), block: d })?,
        bias: get(format!("{name}.bias"), &[d], Init::Bias { ones_block: None, block: d })?,
    })
}

fn linear(get: &mut Getter, name: &str, out: usize, inp: usize) -> Result<Linear> {
    Ok(Linear {
        w: get(format!("{name}.weight"), &[out, inp], Init::Glorot)?,
        b: get(format!("{name}.bias"), &[out], Init::Bias { ones_block: None, block: out })?,
    })
}

impl TransformerEncoder {
    /// The encoder's weights, each through `get`.
    pub fn new(config: &NetworkConfig, shape: TransformerShape, get: &mut Getter) -> Result<Self> {
        let (e, d, f) = (config.embedding_dim, config.hidden_size, shape.ff_size);
        let final_norm = norm(get, "enc.final_norm", d)?;
        let mut layers = Vec::with_capacity(config.layers);
        for l in 0..config.layers {
            layers.push(EncoderLayer {
                attention_norm: norm(get, &format!("enc.{l}.attention_norm"), d)?,
                qkv: linear(get, &format!("enc.{l}.qkv"), 3 * d, d)?,
                output: linear(get, &format!("enc.{l}.output"), d, d)?,
                ff_norm: norm(get, &format!("enc.{l}.ff_norm"), d)?,
                ff_in: linear(get, &format!("enc.{l}.ff_in"), f, d)?,
                ff_out: linear(get, &format!("enc.{l}.ff_out"), d, f)?,
            });
        }
        let input = if e == d { None } else { Some(get("enc.input.weight".into(), &[d, e], Init::Glorot)?) };
        Ok(Self { input, layers, final_norm, width: d, heads: shape.heads, dropout: config.dropout })
    }

    /// The states (batch, steps, width) of embedded steps `x` (batch · steps, embedding); rows
    /// end at `lengths`.
    pub fn forward(&self, x: &Tensor, steps: usize, lengths: &Arc<[usize]>, mode: &mut Mode) -> Result<Tensor> {
        let (b, t, d, heads) = (lengths.len(), steps, self.width, self.heads);
        if x.dims2()?.0 != b * t {
            return Err(Error::invalid_argument("transformer: the embeddings do not fit the batch"));
        }
        let dh = d / heads;
        let mut h = match &self.input {
            Some(w) => x.matmul(&w.t()?)?,
            None => x.clone(),
        };
        h = h.reshape((b, t, d))?.broadcast_add(&positions(t, d)?)?.reshape((b * t, d))?;
        let scale = 1.0 / (dh as f64).sqrt();
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&layer.attention_norm.forward(&h)?)?.reshape((b, t, 3, heads, dh))?.permute((2, 0, 3, 1, 4))?;
            let (q, k, v) = (qkv.get(0)?.contiguous()?, qkv.get(1)?.contiguous()?, qkv.get(2)?.contiguous()?);
            let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?;
            let weights = scores.apply_op1(MaskedSoftmax { lengths: lengths.clone() })?;
            let attended = weights.matmul(&v)?.transpose(1, 2)?.reshape((b * t, d))?;
            let mut out = layer.output.forward(&attended)?;
            if let Mode::Train { rng } = mode {
                out = dropout(&out, self.dropout, rng)?;
            }
            h = (h + out)?;
            let mut ff = layer.ff_out.forward(&layer.ff_in.forward(&layer.ff_norm.forward(&h)?)?.gelu()?)?;
            if let Mode::Train { rng } = mode {
                ff = dropout(&ff, self.dropout, rng)?;
            }
            h = (h + ff)?;
        }
        Ok(self.final_norm.forward(&h)?.reshape((b, t, d))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masked_softmax_and_its_gradient() {
        use candle_core::Var;
        let (b, h, q, k) = (2, 2, 3, 4);
        let values: Vec<f32> = (0..b * h * q * k).map(|i| ((i * 37) % 17) as f32 / 5.0 - 1.5).collect();
        let x = Var::from_vec(values.clone(), (b, h, q, k), &Device::Cpu).unwrap();
        let lengths: Arc<[usize]> = Arc::from(vec![4, 2]);
        let probe = Tensor::from_vec((0..b * h * q * k).map(|i| (i % 7) as f32 - 3.0).collect::<Vec<_>>(), (b, h, q, k), &Device::Cpu).unwrap();
        let loss = |x: &Tensor| x.apply_op1(MaskedSoftmax { lengths: lengths.clone() }).unwrap().mul(&probe).unwrap().sum_all().unwrap();
        let out = x.as_tensor().apply_op1(MaskedSoftmax { lengths: lengths.clone() }).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for (r, row) in out.chunks_exact(k).enumerate() {
            let len = if r < h * q { 4 } else { 2 };
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6 && row[len..].iter().all(|&v| v == 0.0), "{row:?}");
        }
        let analytic = loss(x.as_tensor()).backward().unwrap().get(&x).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for i in 0..values.len() {
            let at = |delta: f32| {
                let mut v = values.clone();
                v[i] += delta;
                loss(&Tensor::from_vec(v, (b, h, q, k), &Device::Cpu).unwrap()).to_scalar::<f32>().unwrap()
            };
            let numeric = (at(1e-2) - at(-1e-2)) / 2e-2;
            assert!((numeric - analytic[i]).abs() < 2e-3 + 1e-2 * numeric.abs(), "d[{i}]: numeric {numeric}, analytic {}", analytic[i]);
        }
    }

    #[test]
    fn positions_are_sines_and_cosines() {
        let p = positions(3, 4).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(p[0], [0.0, 1.0, 0.0, 1.0]);
        assert!((p[1][0] - 1f32.sin()).abs() < 1e-6 && (p[1][1] - 1f32.cos()).abs() < 1e-6);
        assert!((p[2][2] - (2.0f32 / 100.0).sin()).abs() < 1e-6);
    }
}
