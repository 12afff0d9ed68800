//! Training: data loading and splitting, vocabulary, length-bucketed shuffled batches, binary
//! cross-entropy on logits, Adam/AdamW with global-norm clipping and a decaying learning rate,
//! validation after every epoch on a slice held out from the training split.

use std::time::Instant;

use candle_core::{Device, Tensor, Var};

use crate::config::{LrSchedule, Optimizer, TrainParams};
use crate::data::{self, Example, Split};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{EpochStats, PartScores, SentimentModel, TrainingRecord, evaluation, logits_encoded};
use crate::wide::{self, Wide, WideTraining};
use crate::nn::{Batch, Classifier, Mode, Weights, word2vec};
use crate::optim::{Adam, global_norm};
use crate::rng::Rng;
use crate::text::{Encoder, Tokenizer, Vocab};

/// What a progress report is about. New phases may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// After each training batch: `loss`/`accuracy` are the epoch's running means.
    Batch,
    /// After each epoch's validation: `val_loss`/`val_accuracy` are set (NaN without validation).
    Epoch,
    /// While the embedding's word vectors are learned, before the first epoch: `epoch`/`epochs`
    /// count their passes, `batch`/`batches` the chunks of reviews; the figures are NaN.
    Pretrain,
}

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub phase: Phase,
    pub epoch: usize,
    pub epochs: usize,
    pub batch: usize,
    pub batches: usize,
    pub loss: f64,
    pub accuracy: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// Reviews per bucket: a bucket is sorted by length and cut into batches, so batches hold
/// reviews of similar length while the data stays well shuffled.
const BUCKET_BATCHES: usize = 50;

/// A seeded, class-balanced sample of at most `limit` examples.
pub(crate) fn balanced_sample(examples: Vec<Example>, limit: usize, rng: &mut Rng) -> Vec<Example> {
    if limit >= examples.len() {
        return examples;
    }
    let (mut pos, mut neg): (Vec<Example>, Vec<Example>) = examples.into_iter().partition(|e| e.label == 1);
    rng.shuffle(&mut pos);
    rng.shuffle(&mut neg);
    let take_pos = (limit.div_ceil(2)).min(pos.len()).max(limit.saturating_sub(neg.len()));
    let mut out: Vec<Example> = pos.into_iter().take(take_pos).chain(neg.into_iter().take(limit - take_pos)).collect();
    rng.shuffle(&mut out);
    out
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

/// Loads the training split named by `params` (all of a JSONL/CSV file).
pub fn load_training_data(params: &TrainParams) -> Result<Vec<Example>> {
    let format = params.data_format.resolve(&params.data_path)?;
    let split = format.has_splits().then_some(Split::Train);
    data::load(&params.data_path, format, split)
}

pub fn train(params: &TrainParams, progress: &mut dyn FnMut(&Progress) -> Control) -> Result<SentimentModel> {
    params.validate()?;
    crate::runtime::init();
    let started = Instant::now();
    let mut rng = Rng::new(params.seed);
    let mut examples = load_training_data(params)?;
    if let Some(limit) = params.train_limit {
        examples = balanced_sample(examples, limit, &mut rng);
    } else {
        rng.shuffle(&mut examples);
    }
    let n_val = if params.validation_fraction > 0.0 && examples.len() >= 2 {
        ((examples.len() as f64 * params.validation_fraction as f64).round() as usize).clamp(1, examples.len() - 1)
    } else {
        0
    };
    let fit = examples.split_off(n_val);
    let val = examples;

    let tokenizer = Tokenizer::new();
    let vocab = Vocab::build(&tokenizer, fit.iter().map(|e| e.text.as_str()), params.vocab_size)?;
    let text = params.text_config();
    let encoder = Encoder { tokenizer, vocab, max_len: text.max_len, truncation: text.truncation };
    // One tokenizing pass per review gives its ids and, for the wide path, its n-gram hashes.
    let encode = |set: &[Example]| -> (Vec<Vec<u32>>, Vec<u8>, Vec<Vec<u64>>) {
        let mut hashes = Vec::new();
        let ids = set
            .iter()
            .map(|e| {
                if params.wide_ngrams == 0 {
                    return encoder.encode(&e.text);
                }
                let (ids, h) = wide::encode_with_hashes(&encoder, &e.text, params.wide_ngrams);
                hashes.push(h);
                ids
            })
            .collect();
        (ids, set.iter().map(|e| e.label).collect(), hashes)
    };
    let (fit_x, fit_y, fit_h) = encode(&fit);
    // Word vectors learn from the whole of each training review, not only the part the
    // classifier reads.
    let pretrain_corpus: Vec<Vec<u32>> =
        if params.embedding_pretrain_epochs != Some(0) { fit.iter().map(|e| encoder.encode_whole(&e.text)).collect() } else { Vec::new() };
    let pretrain_passes = params.embedding_pretrain_epochs.unwrap_or_else(|| word2vec::auto_passes(&pretrain_corpus));
    let (val_x, val_y, val_h) = encode(&val);
    drop(fit);
    drop(val);
    // The wide path first: it takes seconds and has its own random stream, so the recurrent
    // network of a model with a wide path is the pure model the same seed trains without one.
    let wide = if params.wide_ngrams > 0 { Some(fit_wide(params, fit_h, &fit_y, &val_h)?) } else { None };

    let model_config = params.model_config();
    let mut vars: Vec<(String, Var)> = Vec::new();
    let classifier = Classifier::new(&model_config, encoder.vocab.len(), Weights::Init { rng: &mut rng, vars: &mut vars })?;
    if pretrain_passes > 0 {
        let (vocab, dim) = (encoder.vocab.len(), params.embedding_dim);
        let mut report = |epoch, batch, batches| {
            let nan = f64::NAN;
            let p = Progress { phase: Phase::Pretrain, epoch, epochs: pretrain_passes, batch, batches, loss: nan, accuracy: nan, val_loss: nan, val_accuracy: nan };
            progress(&p) == Control::Continue
        };
        let Some(mut vectors) = word2vec::train_vectors(&pretrain_corpus, vocab, dim, pretrain_passes, &mut rng.fork(), &mut report) else {
            return Err(Error::new(ErrorKind::Cancelled, "training cancelled by the progress callback while learning word vectors"));
        };
        word2vec::scale_to_std(&mut vectors, word2vec::START_STD);
        let (_, embedding) = vars
            .iter()
            .find(|(name, _)| name == "embedding.weight")
            .ok_or_else(|| Error::new(ErrorKind::Internal, "the classifier has no embedding to start from word vectors"))?;
        embedding.set(&Tensor::from_vec(vectors, (vocab, dim), &Device::Cpu)?)?;
    }
    drop(pretrain_corpus);
    let var_list: Vec<Var> = vars.iter().map(|(_, v)| v.clone()).collect();
    let weight_decay = match params.optimizer {
        Optimizer::Adam if params.weight_decay > 0.0 => {
            return Err(Error::config("weight_decay needs \"optimizer\": \"adamw\""));
        }
        Optimizer::Adam => 0.0,
        Optimizer::Adamw => params.weight_decay,
    };
    let mut opt = Adam::new(var_list.clone(), params.learning_rate, weight_decay);

    let threads = params.thread_count();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("starting {threads} worker threads: {e}")))?;
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
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        for (bi, rows) in batches.iter().enumerate() {
            opt.lr = learning_rate(params, step, total_steps);
            step += 1;
            let seqs: Vec<&[u32]> = rows.iter().map(|&i| fit_x[i].as_slice()).collect();
            let labels: Vec<f32> = rows.iter().map(|&i| fit_y[i] as f32).collect();
            let (loss, logits) = pool.install(|| -> Result<(f32, Vec<f32>)> {
                let batch = Batch::new(&seqs)?;
                let z = classifier.forward(&batch, Mode::Train { rng: &mut epoch_rng }, threads)?;
                let y = Tensor::from_vec(labels.clone(), rows.len(), z.device())?;
                // Stable binary cross-entropy on logits: max(z,0) - z·y + log(1 + e^-|z|).
                let loss = (z.relu()? - (&z * &y)? + (z.abs()?.neg()?.exp()? + 1.0)?.log()?)?.mean_all()?;
                let grads = loss.backward()?;
                let g: Vec<Option<Tensor>> = var_list.iter().map(|v| grads.get(v).cloned()).collect();
                let norm = global_norm(&g)?;
                let loss_value = loss.to_scalar::<f32>()?;
                if !loss_value.is_finite() || !norm.is_finite() {
                    return Ok((f32::NAN, Vec::new()));
                }
                let scale = if params.clip_norm > 0.0 && norm > params.clip_norm as f32 { params.clip_norm as f32 / norm } else { 1.0 };
                opt.step(&g, scale)?;
                Ok((loss_value, z.to_vec1::<f32>()?))
            })?;
            if !loss.is_finite() {
                return Err(Error::new(
                    ErrorKind::Diverged,
                    format!("training diverged: the loss became non-finite at epoch {epoch}, batch {}; lower learning_rate or set clip_norm", bi + 1),
                ));
            }
            loss_sum += loss as f64 * rows.len() as f64;
            seen += rows.len();
            correct += logits.iter().zip(rows).filter(|&(&z, &i)| (z > 0.0) == (fit_y[i] == 1)).count();
            let p = Progress {
                phase: Phase::Batch,
                epoch,
                epochs: params.epochs,
                batch: bi + 1,
                batches: batches.len(),
                loss: loss_sum / seen as f64,
                accuracy: correct as f64 / seen as f64,
                val_loss: f64::NAN,
                val_accuracy: f64::NAN,
            };
            if progress(&p) == Control::Stop {
                return Err(Error::new(ErrorKind::Cancelled, format!("training cancelled by the progress callback at epoch {epoch}, batch {}", bi + 1)));
            }
        }
        let val_eval = if val_x.is_empty() {
            None
        } else {
            let logits = pool.install(|| logits_encoded(&classifier, &val_x, threads))?;
            Some(evaluation(&logits, &val_y))
        };
        let stats = EpochStats {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            val_loss: val_eval.map(|e| e.loss),
            val_accuracy: val_eval.map(|e| e.accuracy),
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
            return Err(Error::new(ErrorKind::Cancelled, format!("training cancelled by the progress callback after epoch {epoch}")));
        }
    }
    let mut best_epoch = params.epochs;
    if let Some((_, epoch, snapshot)) = best {
        best_epoch = epoch;
        for (var, t) in var_list.iter().zip(&snapshot) {
            var.set(t)?;
        }
    }
    // The trained model owns plain tensors, detached from the optimiser's variables.
    let weights: std::collections::HashMap<String, Tensor> =
        vars.iter().map(|(name, v)| Ok((name.clone(), v.as_tensor().detach().copy()?))).collect::<candle_core::Result<_>>()?;
    let classifier = Classifier::new(&model_config, encoder.vocab.len(), Weights::Load(&weights))?;
    let (wide, validation_parts) = match wide {
        None => (None, None),
        Some((mut wide, val_wide)) => {
            let mut parts = None;
            if !val_x.is_empty() {
                let val_recurrent = pool.install(|| logits_encoded(&classifier, &val_x, threads))?;
                wide.config.mix = crate::wide::fit_mix(&val_recurrent, &val_wide, &val_y);
                let combined: Vec<f32> = val_recurrent.iter().zip(&val_wide).map(|(&r, &w)| wide.combine(r, w)).collect();
                parts = Some(PartScores {
                    recurrent: evaluation(&val_recurrent, &val_y).accuracy,
                    wide: evaluation(&val_wide, &val_y).accuracy,
                    combined: evaluation(&combined, &val_y).accuracy,
                });
            } else {
                // Nothing to fit the mix on: the two logits add.
                wide.config.mix = [1.0, 1.0, 0.0];
            }
            (Some(wide), parts)
        }
    };
    let record = TrainingRecord {
        params: params.clone(),
        history,
        best_epoch,
        train_examples: fit_x.len(),
        validation_examples: val_x.len(),
        seconds: started.elapsed().as_secs_f64(),
        validation_parts,
    };
    Ok(SentimentModel { text, encoder, classifier, wide, record })
}

/// Fits the wide path on the training reviews' n-gram hashes; returns it with its logits on the
/// validation reviews (for the mix, fitted once the recurrent network is trained).
fn fit_wide(params: &TrainParams, fit_h: Vec<Vec<u64>>, fit_y: &[u8], val_h: &[Vec<u64>]) -> Result<(Wide, Vec<f32>)> {
    let buckets = if params.wide_buckets > 0 { params.wide_buckets } else { wide::auto_buckets(&fit_h) };
    let fit_s: Vec<Vec<u32>> = fit_h.into_iter().map(|h| wide::slots_of(&h, buckets)).collect();
    let training = WideTraining {
        ngrams: params.wide_ngrams,
        buckets,
        epochs: params.wide_epochs,
        l2: params.wide_l2,
        learning_rate: params.wide_learning_rate,
    };
    let wide = wide::fit(&training, &fit_s, fit_y, &mut Rng::new(params.seed ^ 0x5749_4445))?;
    let val_logits = val_h.iter().map(|h| wide.logit_of_hashes(h)).collect();
    Ok((wide, val_logits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_sample_takes_both_classes() {
        let ex: Vec<Example> = (0..100).map(|i| Example { text: i.to_string(), label: (i < 30) as u8 }).collect();
        let s = balanced_sample(ex, 20, &mut Rng::new(1));
        assert_eq!(s.len(), 20);
        assert_eq!(s.iter().filter(|e| e.label == 1).count(), 10);
    }

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
    fn non_finite_loss_stops_training_with_a_divergence_error() {
        let dir = std::env::temp_dir().join(format!("senti-diverge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.join("tiny.jsonl");
        let lines: String = (0..40).map(|i| format!("{{\"text\": \"review {i} {}\", \"label\": {}}}\n", if i % 2 == 0 { "good" } else { "bad" }, i % 2)).collect();
        std::fs::write(&data, lines).unwrap();
        let params = TrainParams {
            data_path: data,
            epochs: 1,
            embedding_dim: 8,
            hidden_size: 8,
            batch_size: 8,
            threads: 1,
            ..Default::default()
        };
        crate::nn::test_hooks::POISON.with(|p| p.set(true));
        let result = train(&params, &mut |_| Control::Continue);
        crate::nn::test_hooks::POISON.with(|p| p.set(false));
        let err = result.err().expect("training from a NaN weight must fail");
        assert_eq!(err.kind(), ErrorKind::Diverged);
        assert!(err.to_string().contains("diverged") && err.to_string().contains("batch 1"), "{err}");
        // Without the fault the same run succeeds.
        assert!(train(&params, &mut |_| Control::Continue).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn schedule_decays_to_a_tenth() {
        let p = TrainParams { learning_rate: 1.0, lr_schedule: LrSchedule::Cosine, ..Default::default() };
        assert!((learning_rate(&p, 0, 100) - 1.0).abs() < 1e-9);
        assert!((learning_rate(&p, 100, 100) - 0.1).abs() < 1e-9);
    }
}
