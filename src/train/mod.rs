// SPDX-License-Identifier: MIT OR Apache-2.0
//! Training: a short orchestrator over named steps. `prepare` turns the data into encoded,
//! labeled sets; `fit_wide_path` fits the n-gram path; `pretrain_embedding` learns word vectors;
//! `epochs::run` trains the recurrent network; `finish` restores the best epoch and fits the mix
//! of the two parts on the validation slice.

mod epochs;
mod prepare;

use std::time::Instant;

use candle_core::{Device, Tensor, Var};

pub use prepare::{Prepared, TrainingData};

use crate::config::{Optimizer, TrainParams};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Evaluation, Model, PartScores, TrainingRecord, logits_encoded};
use crate::nn::{Classifier, Weights, word2vec};
use crate::optim::Adam;
use crate::rng::Rng;
use crate::wide::{self, Wide, WideTraining};

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

/// The progress callback training calls; returning `Control::Stop` cancels.
pub type ProgressFn<'a> = dyn FnMut(&Progress) -> Control + 'a;

fn cancelled(when: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Cancelled, format!("training cancelled by the progress callback {when}"))
}

/// Trains on the data `params` names (`data_path`, `data_format`).
pub fn train(params: &TrainParams, progress: &mut ProgressFn) -> Result<Model> {
    params.validate()?;
    let data = TrainingData::load(params)?;
    train_on(params, data, progress)
}

/// Trains on labeled examples given by the caller: `data.validation` is the validation set, or
/// when `None`, `validation_fraction` of `data.train` is held out.
pub fn train_on(params: &TrainParams, data: TrainingData, progress: &mut ProgressFn) -> Result<Model> {
    params.validate()?;
    let model = train_validated(params, data, progress);
    crate::runtime::release_cached_memory();
    model
}

fn train_validated(params: &TrainParams, data: TrainingData, progress: &mut ProgressFn) -> Result<Model> {
    let started = Instant::now();
    let mut rng = Rng::new(params.seed);
    let threads = params.thread_count();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("starting {threads} worker threads: {e}")))?;

    let prepared = prepare::prepare(params, data, &mut rng)?;
    if params.layers == 0 {
        let wide = pool.install(|| fit_wide_path(params, &prepared))?;
        return Ok(wide_alone(params, prepared, wide, started));
    }
    params.network_config().validate(prepared.encoder.vocab.len(), prepared.labels.len())?;
    // The wide path first: it takes seconds and has its own random stream, so the recurrent
    // network of a model with a wide path is the pure model the same seed trains without one.
    let wide = if params.wide_ngrams > 0 { Some(pool.install(|| fit_wide_path(params, &prepared))?) } else { None };

    let mut vars: Vec<(String, Var)> = Vec::new();
    let (vocab, classes) = (prepared.encoder.vocab.len(), prepared.labels.len());
    let classifier = Classifier::new(&params.network_config(), vocab, classes, Weights::Init { rng: &mut rng, vars: &mut vars })?;
    pretrain_embedding(params, &prepared, &vars, &pool, &mut rng, progress)?;
    let var_list: Vec<Var> = vars.iter().map(|(_, v)| v.clone()).collect();
    let weight_decay = match params.optimizer {
        Optimizer::Adam if params.weight_decay > 0.0 => return Err(Error::config("weight_decay needs \"optimizer\": \"adamw\"")),
        Optimizer::Adam => 0.0,
        Optimizer::Adamw => params.weight_decay,
    };
    let mut optimizer = Adam::new(var_list.clone(), params.learning_rate, weight_decay);
    let run = epochs::run(params, &prepared, &classifier, &var_list, &mut optimizer, &pool, &mut rng, progress)?;
    finish(params, prepared, vars, wide, run, &pool, started)
}

/// Fits the wide path on the training set's n-gram hashes; returns it with its logits on the
/// validation set (for the mix, fitted once the recurrent network is trained).
fn fit_wide_path(params: &TrainParams, data: &Prepared) -> Result<(Wide, Vec<f32>)> {
    let classes = data.labels.len();
    let rows = crate::nn::head_outputs(classes);
    let buckets = if params.wide_buckets > 0 { params.wide_buckets } else { wide::auto_buckets(&data.fit.hashes, rows) };
    if buckets.saturating_mul(rows) > wide::MAX_BUCKETS {
        return Err(Error::config(format!(
            "wide_buckets {buckets} × {rows} classes is more than {} wide weights; lower wide_buckets or set it to 0",
            wide::MAX_BUCKETS
        )));
    }
    let slots: Vec<Vec<u32>> = data.fit.hashes.iter().map(|h| wide::slots_of(h, buckets)).collect();
    let training = WideTraining { ngrams: params.wide_ngrams, buckets, epochs: params.wide_epochs, l2: params.wide_l2, learning_rate: params.wide_learning_rate };
    let wide = wide::fit(&training, &slots, &data.fit.labels, classes, &mut Rng::new(params.seed ^ 0x5749_4445))?;
    let val_logits = data.val.hashes.iter().flat_map(|h| wide.logits_of_hashes(h)).collect();
    Ok((wide, val_logits))
}

/// The model of `layers` 0: the wide path alone, its mix giving the (absent) network no weight.
/// No epochs run; the record holds the validation accuracy of the wide path.
fn wide_alone(params: &TrainParams, data: Prepared, (mut wide, val_wide): (Wide, Vec<f32>), started: Instant) -> Model {
    wide.config.mix = [0.0, 1.0, 0.0];
    let validation_parts = (!data.val.ids.is_empty()).then(|| {
        let accuracy = Evaluation::from_logits(&val_wide, &data.val.labels, &data.labels).accuracy;
        PartScores { recurrent: None, wide: accuracy, combined: accuracy }
    });
    let record = TrainingRecord {
        params: params.clone(),
        history: Vec::new(),
        best_epoch: 0,
        train_examples: data.fit.ids.len(),
        validation_examples: data.val.ids.len(),
        seconds: started.elapsed().as_secs_f64(),
        validation_parts,
    };
    let Prepared { encoder, labels, .. } = data;
    Model { text: params.text_config(), encoder, classifier: None, wide: Some(wide), labels, record, prediction_threads: Default::default() }
}

/// Starts the embedding from skip-gram word vectors learned from the training text, when the
/// parameters (or the size of the text) ask for it.
fn pretrain_embedding(params: &TrainParams, data: &Prepared, vars: &[(String, Var)], pool: &rayon::ThreadPool, rng: &mut Rng, progress: &mut ProgressFn) -> Result<()> {
    let passes = params.embedding_pretrain_epochs.unwrap_or_else(|| word2vec::auto_passes(&data.pretrain_corpus));
    if passes == 0 {
        return Ok(());
    }
    let (vocab, dim) = (data.encoder.vocab.len(), params.embedding_dim);
    let mut report = |epoch, batch, batches| {
        let nan = f64::NAN;
        let p = Progress { phase: Phase::Pretrain, epoch, epochs: passes, batch, batches, loss: nan, accuracy: nan, val_loss: nan, val_accuracy: nan };
        progress(&p) == Control::Continue
    };
    let shards = params.thread_count().min(word2vec::MAX_SHARDS);
    let Some(mut vectors) = word2vec::train_vectors(&data.pretrain_corpus, vocab, dim, passes, shards, pool, &mut rng.fork(), &mut report) else {
        return Err(cancelled("while learning word vectors"));
    };
    word2vec::scale_to_std(&mut vectors, word2vec::START_STD);
    let (_, embedding) = vars
        .iter()
        .find(|(name, _)| name == "embedding.weight")
        .ok_or_else(|| Error::new(ErrorKind::Internal, "the classifier has no embedding to start from word vectors"))?;
    embedding.set(&Tensor::from_vec(vectors, (vocab, dim), &Device::Cpu)?)?;
    Ok(())
}

/// Keeps the best epoch's weights (already restored by `epochs::run`), rebuilds the network for
/// inference, fits the mix of the two parts on the validation set and records the run.
fn finish(
    params: &TrainParams,
    data: Prepared,
    vars: Vec<(String, Var)>,
    wide: Option<(Wide, Vec<f32>)>,
    run: epochs::Run,
    pool: &rayon::ThreadPool,
    started: Instant,
) -> Result<Model> {
    let threads = params.thread_count();
    let classes = data.labels.len();
    // The trained model owns plain tensors, detached from the optimiser's variables.
    let weights: std::collections::HashMap<String, Tensor> =
        vars.iter().map(|(name, v)| Ok((name.clone(), v.as_tensor().detach().copy()?))).collect::<candle_core::Result<_>>()?;
    drop(vars);
    let classifier = Classifier::new(&params.network_config(), data.encoder.vocab.len(), classes, Weights::Load(&weights))?;
    let (wide, validation_parts) = match wide {
        None => (None, None),
        Some((mut wide, val_wide)) => {
            let mut parts = None;
            if !data.val.ids.is_empty() {
                let val_recurrent = pool.install(|| logits_encoded(&classifier, &data.val.ids, threads))?;
                wide.config.mix = wide::fit_mix(&val_recurrent, &val_wide, &data.val.labels, classes);
                let mut combined = val_recurrent.clone();
                wide.combine(&mut combined, &val_wide);
                let accuracy = |logits: &[f32]| Evaluation::from_logits(logits, &data.val.labels, &data.labels).accuracy;
                parts = Some(PartScores { recurrent: Some(accuracy(&val_recurrent)), wide: accuracy(&val_wide), combined: accuracy(&combined) });
            } else {
                // Nothing to fit the mix on: the two logits add.
                wide.config.mix = [1.0, 1.0, 0.0];
            }
            (Some(wide), parts)
        }
    };
    let record = TrainingRecord {
        params: params.clone(),
        history: run.history,
        best_epoch: run.best_epoch,
        train_examples: data.fit.ids.len(),
        validation_examples: data.val.ids.len(),
        seconds: started.elapsed().as_secs_f64(),
        validation_parts,
    };
    let Prepared { encoder, labels, .. } = data;
    let text = params.text_config();
    Ok(Model { text, encoder, classifier: Some(classifier), wide, labels, record, prediction_threads: Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_loss_stops_training_with_a_divergence_error() {
        let dir = std::env::temp_dir().join(format!("senti-diverge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.join("tiny.jsonl");
        let lines: String = (0..40).map(|i| format!("{{\"text\": \"review {i} {}\", \"label\": {}}}\n", if i % 2 == 0 { "good" } else { "bad" }, i % 2)).collect();
        std::fs::write(&data, lines).unwrap();
        let params = TrainParams { data_path: data, epochs: 1, embedding_dim: 8, hidden_size: 8, batch_size: 8, threads: 1, ..Default::default() };
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
    fn three_classes_train_and_score() {
        let model = three_topic_model();
        assert_eq!(model.labels().names(), ["business", "politics", "sports"]);
        let s = model.scores("the goal of the team").unwrap();
        assert_eq!(s.len(), 3);
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(model.top_label("the goal of the team and the league").unwrap().0, 2, "{s:?}");
        assert_eq!(model.top_label("the market and the shares of the bank").unwrap().0, 0);
        assert!(model.predict("x").unwrap_err().to_string().contains("3 labels"));
    }
}

/// A small model of three topics (sports, business, politics), each told by its own words: for
/// the tests of anything that needs K > 2 trained classes.
#[cfg(test)]
pub(crate) fn three_topic_model() -> Model {
    let words = [["goal", "match", "team", "league"], ["stocks", "market", "shares", "bank"], ["vote", "election", "party", "minister"]];
    let names = ["sports", "business", "politics"];
    let mut train = Vec::new();
    for i in 0..150 {
        let k = i % 3;
        let w = &words[k];
        let text = format!("the {} and the {} of the {} {}", w[i % 4], w[(i + 1) % 4], w[(i + 2) % 4], ["today", "again", "now"][i % 3]);
        train.push(crate::data::Example { text, label: names[k].to_string(), origin: crate::data::Origin::Memory { index: i as u32 } });
    }
    let params = TrainParams { epochs: 4, embedding_dim: 8, hidden_size: 8, batch_size: 16, threads: 1, vocab_size: 100, max_len: 20, embedding_pretrain_epochs: Some(0), learning_rate: 0.01, ..Default::default() };
    train_on(&params, TrainingData { train, validation: None, labels: None }, &mut |_| Control::Continue).unwrap()
}
