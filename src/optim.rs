// SPDX-License-Identifier: MIT OR Apache-2.0
//! Adam/AdamW as one fused loop per parameter, updating each weight in place. Candle-nn's AdamW
//! runs a dozen tensor operations (each allocating) per parameter per step, and even one copy of
//! the weights out and back per step cost a tenth of an LSTM epoch: the embedding table is most
//! of the model and every one of its values moves at every step.

use std::sync::Mutex;

use candle_core::{CpuStorage, InplaceOp2, Layout, Storage, Tensor, Var, bail};
use rayon::prelude::*;

use crate::error::Result;
use crate::nn::f32_slice;

pub struct Adam {
    vars: Vec<Var>,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    step: i32,
    pub lr: f64,
    weight_decay: f64,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-7;

/// Values per parallel task: large enough that splitting costs nothing measurable, small enough
/// that both threads get work from the mid-sized matrices too.
const CHUNK: usize = 1 << 15;

/// The scalars of one step.
#[derive(Clone, Copy)]
struct Coefficients {
    lr: f32,
    decay: f32,
    scale: f32,
    bc1: f32,
    bc2: f32,
}

impl Coefficients {
    /// The update of one weight: element by element, so chunks may run in any order on any
    /// thread and the result stays the same.
    #[inline(always)]
    fn apply(self, theta: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        let (b1, b2, eps) = (BETA1 as f32, BETA2 as f32, EPS as f32);
        for (((t, &g), m), v) in theta.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let gj = g * self.scale;
            *m = b1 * *m + (1.0 - b1) * gj;
            *v = b2 * *v + (1.0 - b2) * gj * gj;
            let update = (*m / self.bc1) / ((*v / self.bc2).sqrt() + eps);
            *t = *t * self.decay - self.lr * update;
        }
    }
}

/// One parameter's update as an in-place op on the weight, with the gradient as the second
/// operand.
struct Update<'a> {
    c: Coefficients,
    moments: Mutex<(&'a mut [f32], &'a mut [f32])>,
}

impl InplaceOp2 for Update<'_> {
    fn name(&self) -> &'static str {
        "senti-adam"
    }

    fn cpu_fwd(&self, s1: &mut CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<()> {
        let g = f32_slice(s2, l2, "adam: gradients")?;
        let CpuStorage::F32(theta) = s1 else { bail!("adam: weights must be f32") };
        let Some((t0, t1)) = l1.contiguous_offsets() else { bail!("adam: weights must be contiguous") };
        let theta = &mut theta[t0..t1];
        let mut moments = self.moments.lock().unwrap_or_else(|e| e.into_inner());
        let (m, v) = &mut *moments;
        if theta.len() != g.len() || m.len() != g.len() || v.len() != g.len() {
            bail!("adam: {} weights, {} gradients, {} moments", theta.len(), g.len(), m.len());
        }
        let c = self.c;
        theta
            .par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|(((t, g), m), v)| c.apply(t, g, m, v));
        Ok(())
    }
}

impl Adam {
    pub fn new(vars: Vec<Var>, lr: f64, weight_decay: f64) -> Self {
        let m = vars.iter().map(|v| vec![0.0; v.elem_count()]).collect::<Vec<_>>();
        let v = m.clone();
        Self { vars, m, v, step: 0, lr, weight_decay }
    }

    /// Applies one update from `grads` (one per var, in the same order), each scaled by `scale`
    /// (the gradient-clipping factor). Runs on the calling thread's rayon pool.
    pub fn step(&mut self, grads: &[Option<Tensor>], scale: f32) -> Result<()> {
        self.step += 1;
        let c = Coefficients {
            lr: self.lr as f32,
            decay: 1.0 - (self.lr * self.weight_decay) as f32,
            scale,
            bc1: (1.0 - BETA1.powi(self.step)) as f32,
            bc2: (1.0 - BETA2.powi(self.step)) as f32,
        };
        for (i, var) in self.vars.iter().enumerate() {
            let Some(g) = &grads[i] else { continue };
            let g = g.contiguous()?;
            let update = Update { c, moments: Mutex::new((&mut self.m[i], &mut self.v[i])) };
            var.as_tensor().inplace_op2(&g, &update)?;
        }
        Ok(())
    }
}

/// The Euclidean norm of all gradients together, read from their storage without temporaries.
pub fn global_norm(grads: &[Option<Tensor>]) -> Result<f32> {
    let mut sum = 0f64;
    for g in grads.iter().flatten() {
        let g = g.contiguous()?;
        let (storage, layout) = g.storage_and_layout();
        let Storage::Cpu(cpu) = &*storage else { return Err(candle_core::Error::Msg("gradient norm: gradients must be on the CPU".into()).into()) };
        let values = f32_slice(cpu, layout, "gradient norm: gradients")?;
        // Per-chunk sums in f64, added in chunk order: the same result on any thread count.
        let parts: Vec<f64> = values.par_chunks(CHUNK).map(|c| c.iter().map(|&x| x as f64 * x as f64).sum::<f64>()).collect();
        sum += parts.iter().sum::<f64>();
    }
    Ok(sum.sqrt() as f32)
}
