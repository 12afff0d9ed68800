// SPDX-License-Identifier: MIT OR Apache-2.0
//! A transformer encoder (Vaswani et al., 2017) in place of the recurrent layers: the
//! embeddings, projected to the model width when it differs and scaled (`embedding_scale`), plus
//! sinusoidal position encodings,
//! then pre-norm layers of multi-head self-attention and a GELU feed-forward block, each with a
//! residual connection, then a final layer norm. Padded steps are masked out of every
//! attention, so a review's states do not depend on its batch. The attention, the layer norms, the
//! feed-forward activation and the residual joins (with their dropout) are fused ops of their own
//! with hand-written backward passes (one file each); the projections are Candle matrix multiplies.

use std::sync::Arc;

use candle_core::{Device, Tensor};

use super::classifier::{Init, Mode};
use super::config::{NetworkConfig, TransformerShape};
use crate::error::{Error, Result};

mod gelu;
mod layer_norm;
mod residual;
mod self_attention;

use gelu::bias_gelu;
use layer_norm::layer_norm;
use residual::residual;
use self_attention::self_attention;

struct LayerNorm {
    gain: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    /// Over the last axis of `x` (rows, width).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(layer_norm(x, &self.gain, &self.bias)?)
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
    /// `gelu(forward(x))`, the bias added inside the activation.
    fn forward_gelu(&self, x: &Tensor) -> Result<Tensor> {
        Ok(bias_gelu(&x.matmul(&self.w.t()?)?, &self.b)?)
    }
    /// `stream + dropout(forward(x))`, the bias added inside the residual op.
    fn forward_into(&self, x: &Tensor, stream: &Tensor, dropout: Option<(f32, u64)>) -> Result<Tensor> {
        Ok(residual(stream, &x.matmul(&self.w.t()?)?, &self.b, dropout)?)
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
    embedding_scale: f32,
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
        Ok(Self { input, layers, final_norm, width: d, heads: shape.heads, embedding_scale: shape.embedding_scale, dropout: config.dropout })
    }

    /// The rate and seed of a sublayer's dropout in training, none otherwise.
    fn dropout_mask(&self, mode: &mut Mode) -> Option<(f32, u64)> {
        match mode {
            Mode::Train { rng } => Some((self.dropout, rng.next_u64())),
            _ => None,
        }
    }

    /// The states (batch, steps, width) of embedded steps `x` (batch · steps, embedding); rows
    /// end at `lengths`.
    pub fn forward(&self, x: &Tensor, steps: usize, lengths: &Arc<[usize]>, mode: &mut Mode) -> Result<Tensor> {
        let (b, t, d, heads) = (lengths.len(), steps, self.width, self.heads);
        if x.dims2()?.0 != b * t {
            return Err(Error::invalid_argument("transformer: the embeddings do not fit the batch"));
        }
        let mut h = match &self.input {
            Some(w) => x.matmul(&w.t()?)?,
            None => x.clone(),
        };
        if self.embedding_scale != 1.0 {
            h = (h * self.embedding_scale as f64)?;
        }
        h = h.reshape((b, t, d))?.broadcast_add(&positions(t, d)?)?.reshape((b * t, d))?;
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&layer.attention_norm.forward(&h)?)?;
            let attended = self_attention(&qkv, lengths, t, heads)?;
            h = layer.output.forward_into(&attended, &h, self.dropout_mask(mode))?;
            let ff = layer.ff_in.forward_gelu(&layer.ff_norm.forward(&h)?)?;
            h = layer.ff_out.forward_into(&ff, &h, self.dropout_mask(mode))?;
        }
        Ok(self.final_norm.forward(&h)?.reshape((b, t, d))?)
    }
}

/// The sum of the per-task partial sums a backward pass collected for one `width`-long gradient.
fn sum_partials<'a>(parts: impl IntoIterator<Item = &'a Vec<f32>>, width: usize) -> Vec<f32> {
    let mut total = vec![0f32; width];
    for part in parts {
        total.iter_mut().zip(part).for_each(|(a, b)| *a += b);
    }
    total
}

/// What the ops' tests share: inputs of a fixed pattern and the largest difference of two tensors.
#[cfg(test)]
mod testing {
    use candle_core::{Device, Shape, Tensor, Var};

    /// Values in [−3, 3) that repeat every `modulus` steps of `stride`: element i is
    /// ((i · stride) mod modulus) scaled into that range.
    pub fn pattern<S: Into<Shape>>(shape: S, stride: usize, modulus: usize) -> Tensor {
        let shape = shape.into();
        let values: Vec<f32> = (0..shape.elem_count()).map(|i| ((i * stride) % modulus) as f32 * 6.0 / modulus as f32 - 3.0).collect();
        Tensor::from_vec(values, shape, &Device::Cpu).unwrap()
    }

    pub fn pattern_var<S: Into<Shape>>(shape: S, stride: usize, modulus: usize) -> Var {
        Var::from_tensor(&pattern(shape, stride, modulus)).unwrap()
    }

    pub fn max_gap(a: &Tensor, b: &Tensor) -> f32 {
        (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_sines_and_cosines() {
        let p = positions(3, 4).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(p[0], [0.0, 1.0, 0.0, 1.0]);
        assert!((p[1][0] - 1f32.sin()).abs() < 1e-6 && (p[1][1] - 1f32.cos()).abs() < 1e-6);
        assert!((p[2][2] - (2.0f32 / 100.0).sin()).abs() < 1e-6);
    }
}
