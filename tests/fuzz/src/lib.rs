// SPDX-License-Identifier: MIT OR Apache-2.0
//! What the fuzz targets share: the tiny model they start from and the checks every model that
//! loads must pass.

use senti::{ErrorKind, Model};

/// A real model (LSTM, vocabulary 60, embedding and state width 4), written by
/// `cargo test --release --test fuzz_seeds -- --ignored` and also a seed of `model_from_bytes`.
pub static TINY_MODEL: &[u8] = include_bytes!("../corpus/model_from_bytes/tiny.safetensors");

/// Loads `bytes`; a refusal must be a model-file error, an acceptance a model that works.
pub fn load_and_check(bytes: &[u8], text: &str) {
    match senti::model_file::from_bytes(bytes) {
        Ok(model) => check_loaded(&model, text),
        Err(e) => assert_eq!(e.kind(), ErrorKind::ModelFile, "refused with the wrong kind of error: {e}"),
    }
}

/// A model that loads scores every class (probabilities that sum to 1), saves, loads again and
/// then answers the same.
pub fn check_loaded(model: &Model, text: &str) {
    let p = model.scores(text).unwrap_or_else(|e| panic!("a loaded model fails to predict: {e}"));
    assert_eq!(p.len(), model.labels().len());
    assert!(p.iter().all(|v| (0.0..=1.0).contains(v)) && (p.iter().sum::<f32>() - 1.0).abs() < 1e-4, "scores {p:?}");
    let bytes = senti::model_file::to_bytes(model).unwrap_or_else(|e| panic!("a loaded model fails to serialize: {e}"));
    let back = senti::model_file::from_bytes(&bytes).unwrap_or_else(|e| panic!("a saved model fails to load again: {e}"));
    let q = back.scores(text).unwrap();
    assert_eq!(p.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), q.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "the reloaded model answers {q:?}, the loaded one {p:?}");
}
