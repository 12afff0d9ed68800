// SPDX-License-Identifier: MIT OR Apache-2.0
//! The first step of training: the examples sampled, split into fit and validation sets,
//! labelled with class indices, the vocabulary built on the fit set, and every text encoded
//! once (token ids for the network, n-gram hashes for the wide path).

use crate::config::TrainParams;
use crate::data::{self, Example, Labels, Split, sample};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::text::{Encoder, Vocab};

/// Labeled examples to train on.
pub struct TrainingData {
    pub train: Vec<Example>,
    /// A separate validation set; `None` holds `validation_fraction` of `train` out instead.
    pub validation: Option<Vec<Example>>,
    /// The classes in their order; `None` infers them from `train` (see `Labels::infer`).
    pub labels: Option<Labels>,
}

impl TrainingData {
    /// The training split of the source `params` names (all of a JSONL or CSV file).
    pub fn load(params: &TrainParams) -> Result<Self> {
        let format = params.data_format.resolve(&params.data_path)?;
        let split = format.has_splits(&params.data_path).then_some(Split::Train);
        Ok(Self { train: data::load(&params.data_path, format, split)?, validation: None, labels: None })
    }
}

/// Encoded texts with their class indices.
#[derive(Default)]
pub struct EncodedSet {
    pub ids: Vec<Vec<u32>>,
    pub labels: Vec<u32>,
    /// Each text's distinct n-gram hashes (empty without a wide path).
    pub hashes: Vec<Vec<u64>>,
}

pub struct Prepared {
    pub encoder: Encoder,
    pub labels: Labels,
    pub fit: EncodedSet,
    pub val: EncodedSet,
    /// The whole of each fit text's token ids, for word vectors (empty when none are learned).
    pub pretrain_corpus: Vec<Vec<u32>>,
}

pub fn prepare(params: &TrainParams, data: TrainingData, rng: &mut Rng) -> Result<Prepared> {
    let TrainingData { train: mut examples, validation, labels } = data;
    if examples.is_empty() {
        return Err(Error::data("no training examples"));
    }
    let labels = match labels {
        Some(labels) => labels,
        None => Labels::infer(&examples)?,
    };
    if let Some(limit) = params.train_limit {
        examples = sample::balanced(examples, limit, rng);
    } else {
        rng.shuffle(&mut examples);
    }
    let (fit, val) = match validation {
        Some(val) => (examples, val),
        None => sample::stratified_split(examples, params.validation_fraction),
    };
    let fit_labels = labels.indices(&fit)?;
    let val_labels = labels.indices(&val)?;
    let mut present = vec![false; labels.len()];
    fit_labels.iter().for_each(|&k| present[k as usize] = true);
    if present.iter().filter(|&&p| p).count() < 2 {
        return Err(Error::data(format!(
            "the training examples hold only one class ({}); a classifier needs at least two",
            labels.name(fit_labels[0] as usize).unwrap_or("?")
        )));
    }

    let text = params.text_config();
    let vocab = Vocab::build(&crate::text::Tokenizer::new(), fit.iter().map(|e| e.text.as_str()), params.vocab_size)?;
    let encoder = Encoder::new(vocab, &text);
    let encode = |set: &[Example], labels: Vec<u32>| -> EncodedSet {
        let mut hashes = Vec::new();
        let ids = set
            .iter()
            .map(|e| {
                if params.wide_ngrams == 0 {
                    return encoder.encode(&e.text);
                }
                let (ids, h) = crate::wide::encode_with_hashes(&encoder, &e.text, params.wide_ngrams);
                hashes.push(h);
                ids
            })
            .collect();
        EncodedSet { ids, labels, hashes }
    };
    let fit_set = encode(&fit, fit_labels);
    // Word vectors learn from the whole of each training text, not only the part the
    // classifier reads.
    let pretrain_corpus =
        if params.embedding_pretrain_epochs != Some(0) { fit.iter().map(|e| encoder.encode_whole(&e.text)).collect() } else { Vec::new() };
    let val_set = encode(&val, val_labels);
    Ok(Prepared { encoder, labels, fit: fit_set, val: val_set, pretrain_corpus })
}
