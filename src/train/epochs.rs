// SPDX-License-Identifier: MIT OR Apache-2.0
//! The epochs of training the recurrent network: shuffled length-bucketed batches, the loss
//! (binary cross-entropy on one logit for two classes, softmax cross-entropy beyond), Adam with
//! global-norm clipping and a decaying learning rate, validation after every epoch, and the
//! weights of the best validation epoch kept.

use std::time::Instant;

use candle_core::{Tensor, Var};

use super::prepare::Prepared;
use super::{Control, Phase, Progress, ProgressFn, cancelled};
use crate::config::{LrSchedule, TrainParams};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{EpochStats, Evaluation, logits_encoded};
use crate::nn::{Batch, Classifier, Mode};
use crate::optim::{Adam, global_norm};
use crate::rng::Rng;

/// Reviews per bucket: a bucket is sorted by length and cut into batches, so batches hold
/// reviews of similar length while the data stays well shuffled.
const BUCKET_BATCHES: usize = 50;

pub struct Run {
    pub history: Vec<EpochStats>,
    /// The epoch whose weights the variables hold (1-based).
    pub best_epoch: usize,
}

/// Shuffled batches of similar-length reviews.
fn bucketed_batches(lengths: &[usize], batch_size: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..lengths.len()).collect();
    rng.shuffle(&mut idx);
    let mut batches = Vec::new();
    for bucket in idx.chunks_mut(batch_size * BUCKET_BATCHES) {
        bucket.sort_by_key(|&i| lengths[i]);
        batches.extend(bucket.chunks(batch_size).map(<[usize]>::to_vec));
    }
    rng.shuffle(&mut batches);
    batches
}

fn learning_rate(params: &TrainParams, step: usize, total: usize) -> f64 {
    let progress = step as f64 / total.max(1) as f64;
    let floor = 0.1;
    let factor = match params.lr_schedule {
        LrSchedule::Constant => 1.0,
        LrSchedule::Linear => 1.0 - (1.0 - floor) * progress,
        LrSchedule::Cosine => floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
    };
    params.learning_rate * factor
}

/// The mean loss of a batch's logits `z` (batch × outputs) against class indices.
fn batch_loss(z: &Tensor, labels: &[u32], classes: usize) -> Result<Tensor> {
    let rows = labels.len();
    if classes <= 2 {
        let z = z.squeeze(1)?;
        let y = Tensor::from_vec(labels.iter().map(|&l| l as f32).collect::<Vec<_>>(), rows, z.device())?;
        // Stable binary cross-entropy on logits: max(z,0) - z·y + log(1 + e^-|z|).
        return Ok((z.relu()? - (&z * &y)? + (z.abs()?.neg()?.exp()? + 1.0)?.log()?)?.mean_all()?);
    }
    let mut one_hot = vec![0f32; rows * classes];
    for (i, &l) in labels.iter().enumerate() {
        one_hot[i * classes + l as usize] = 1.0;
    }
    let one_hot = Tensor::from_vec(one_hot, (rows, classes), z.device())?;
    let log_p = candle_nn::ops::log_softmax(z, 1)?;
    Ok((log_p * one_hot)?.sum(1)?.neg()?.mean_all()?)
}

/// How many rows of `logits` (`outputs` per row) pick their class.
fn correct(logits: &[f32], labels: &[u32], classes: usize) -> usize {
    let width = crate::nn::head_outputs(classes);
    logits
        .chunks_exact(width)
        .zip(labels)
        .filter(|&(z, &y)| if classes <= 2 { (z[0] > 0.0) == (y == 1) } else { crate::math::argmax(z) == y as usize })
        .count()
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    params: &TrainParams,
    data: &Prepared,
    classifier: &Classifier,
    var_list: &[Var],
    opt: &mut Adam,
    pool: &rayon::ThreadPool,
    rng: &mut Rng,
    progress: &mut ProgressFn,
) -> Result<Run> {
    let threads = params.thread_count();
    let classes = data.labels.len();
    let (fit_x, fit_y) = (&data.fit.ids, &data.fit.labels);
    let lengths: Vec<usize> = fit_x.iter().map(Vec::len).collect();
    let batches_per_epoch = fit_x.len().div_ceil(params.batch_size);
    let total_steps = batches_per_epoch * params.epochs;
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, Vec<Tensor>)> = None;
    let mut step = 0;
    for epoch in 1..=params.epochs {
        let epoch_start = Instant::now();
        let mut epoch_rng = rng.fork();
        let batches = bucketed_batches(&lengths, params.batch_size, &mut epoch_rng);
        let (mut loss_sum, mut hits, mut seen) = (0.0f64, 0usize, 0usize);
        for (bi, rows) in batches.iter().enumerate() {
            opt.lr = learning_rate(params, step, total_steps);
            step += 1;
            let seqs: Vec<&[u32]> = rows.iter().map(|&i| fit_x[i].as_slice()).collect();
            let labels: Vec<u32> = rows.iter().map(|&i| fit_y[i]).collect();
            let (loss, logits) = pool.install(|| -> Result<(f32, Vec<f32>)> {
                let batch = Batch::new(&seqs)?;
                let z = classifier.forward(&batch, Mode::Train { rng: &mut epoch_rng }, threads)?;
                let loss = batch_loss(&z, &labels, classes)?;
                let grads = loss.backward()?;
                let g: Vec<Option<Tensor>> = var_list.iter().map(|v| grads.get(v).cloned()).collect();
                let norm = global_norm(&g)?;
                let loss_value = loss.to_scalar::<f32>()?;
                if !loss_value.is_finite() || !norm.is_finite() {
                    return Ok((f32::NAN, Vec::new()));
                }
                let scale = if params.clip_norm > 0.0 && norm > params.clip_norm as f32 { params.clip_norm as f32 / norm } else { 1.0 };
                opt.step(&g, scale)?;
                Ok((loss_value, z.flatten_all()?.to_vec1::<f32>()?))
            })?;
            if !loss.is_finite() {
                return Err(Error::new(
                    ErrorKind::Diverged,
                    format!("training diverged: the loss became non-finite at epoch {epoch}, batch {}; lower learning_rate or set clip_norm", bi + 1),
                ));
            }
            loss_sum += loss as f64 * rows.len() as f64;
            seen += rows.len();
            hits += correct(&logits, &labels, classes);
            let p = Progress {
                phase: Phase::Batch,
                epoch,
                epochs: params.epochs,
                batch: bi + 1,
                batches: batches.len(),
                loss: loss_sum / seen as f64,
                accuracy: hits as f64 / seen as f64,
                val_loss: f64::NAN,
                val_accuracy: f64::NAN,
            };
            if progress(&p) == Control::Stop {
                return Err(cancelled(format_args!("at epoch {epoch}, batch {}", bi + 1)));
            }
        }
        let val_eval = if data.val.ids.is_empty() {
            None
        } else {
            let logits = pool.install(|| logits_encoded(classifier, &data.val.ids, threads))?;
            Some(Evaluation::from_logits(&logits, &data.val.labels, &data.labels))
        };
        let stats = EpochStats {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: hits as f64 / seen.max(1) as f64,
            val_loss: val_eval.as_ref().map(|e| e.loss),
            val_accuracy: val_eval.as_ref().map(|e| e.accuracy),
            seconds: epoch_start.elapsed().as_secs_f64(),
            tokens: lengths.iter().sum::<usize>() as u64,
        };
        let score = stats.val_accuracy.unwrap_or(epoch as f64);
        if params.restore_best && best.as_ref().is_none_or(|b| score > b.0) {
            let snapshot = var_list.iter().map(|v| v.as_tensor().copy()).collect::<candle_core::Result<Vec<_>>>()?;
            best = Some((score, epoch, snapshot));
        }
        let p = Progress {
            phase: Phase::Epoch,
            epoch,
            epochs: params.epochs,
            batch: batches.len(),
            batches: batches.len(),
            loss: stats.train_loss,
            accuracy: stats.train_accuracy,
            val_loss: stats.val_loss.unwrap_or(f64::NAN),
            val_accuracy: stats.val_accuracy.unwrap_or(f64::NAN),
        };
        history.push(stats);
        if progress(&p) == Control::Stop {
            return Err(cancelled(format_args!("after epoch {epoch}")));
        }
    }
    let mut best_epoch = params.epochs;
    if let Some((_, epoch, snapshot)) = best {
        best_epoch = epoch;
        for (var, t) in var_list.iter().zip(&snapshot) {
            var.set(t)?;
        }
    }
    Ok(Run { history, best_epoch })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_example_once_with_similar_lengths() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 7919) % 500 + 1).collect();
        let batches = bucketed_batches(&lengths, 10, &mut Rng::new(2));
        let mut all: Vec<usize> = batches.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        let spread: usize = batches.iter().map(|b| b.iter().map(|&i| lengths[i]).max().unwrap() - b.iter().map(|&i| lengths[i]).min().unwrap()).sum();
        assert!(spread / batches.len() < 50, "batches mix lengths: mean spread {}", spread / batches.len());
    }

    #[test]
    fn schedule_decays_to_a_tenth() {
        let p = TrainParams { learning_rate: 1.0, lr_schedule: LrSchedule::Cosine, ..Default::default() };
        assert!((learning_rate(&p, 0, 100) - 1.0).abs() < 1e-9);
        assert!((learning_rate(&p, 100, 100) - 0.1).abs() < 1e-9);
    }

    #[test]
    fn softmax_loss_of_two_equal_logits_is_log_of_the_class_count() {
        let z = Tensor::from_vec(vec![0.0f32; 6], (2, 3), &candle_core::Device::Cpu).unwrap();
        let l = batch_loss(&z, &[0, 2], 3).unwrap().to_scalar::<f32>().unwrap();
        assert!((l - 3f32.ln()).abs() < 1e-6);
    }
}
