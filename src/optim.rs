//! Adam/AdamW as one fused loop per parameter. Candle-nn's AdamW runs a dozen tensor operations
//! (each allocating) per parameter per step, which dominates for a large embedding table.

use candle_core::{Tensor, Var};

use crate::error::Result;

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

impl Adam {
    pub fn new(vars: Vec<Var>, lr: f64, weight_decay: f64) -> Self {
        let m = vars.iter().map(|v| vec![0.0; v.elem_count()]).collect::<Vec<_>>();
        let v = m.clone();
        Self { vars, m, v, step: 0, lr, weight_decay }
    }

    /// Applies one update from `grads` (one per var, in the same order), each scaled by `scale`
    /// (the gradient-clipping factor).
    pub fn step(&mut self, grads: &[Option<Tensor>], scale: f32) -> Result<()> {
        self.step += 1;
        let bc1 = (1.0 - BETA1.powi(self.step)) as f32;
        let bc2 = (1.0 - BETA2.powi(self.step)) as f32;
        let (b1, b2, eps) = (BETA1 as f32, BETA2 as f32, EPS as f32);
        let lr = self.lr as f32;
        let decay = 1.0 - (self.lr * self.weight_decay) as f32;
        for (i, var) in self.vars.iter().enumerate() {
            let Some(g) = &grads[i] else { continue };
            let g = g.flatten_all()?.to_vec1::<f32>()?;
            let mut theta = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            let (m, v) = (&mut self.m[i], &mut self.v[i]);
            for j in 0..theta.len() {
                let gj = g[j] * scale;
                m[j] = b1 * m[j] + (1.0 - b1) * gj;
                v[j] = b2 * v[j] + (1.0 - b2) * gj * gj;
                let update = (m[j] / bc1) / ((v[j] / bc2).sqrt() + eps);
                theta[j] = theta[j] * decay - lr * update;
            }
            var.set(&Tensor::from_vec(theta, var.shape(), var.device())?)?;
        }
        Ok(())
    }
}
