// SPDX-License-Identifier: MIT OR Apache-2.0
//! Explanations of a model trained on a slice of IMDB are faithful: deleting the tokens they
//! credit most lowers the predicted class's score far more than deleting as many at random.
//! The full measurement (1,000 test reviews, the default model) is `cargo bench --bench explain`.

use senti::{Control, Format, Split, TrainParams, data};

fn imdb() -> std::path::PathBuf {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/imdb/reviews.json");
    assert!(p.exists(), "run examples/fetch-imdb.sh first ({} is missing)", p.display());
    p
}

/// Deletes a tenth of each of 120 test reviews (both classes, at most 300 words) by
/// contribution and at random.
fn deletion_scores(wide_ngrams: usize) -> senti::explain::DeletionScores {
    let json = format!(
        r#"{{"data_path": {:?}, "train_limit": 4000, "epochs": 3, "max_len": 150, "vocab_size": 8000,
            "embedding_dim": 48, "hidden_size": 48, "cell": "gru", "seed": 3, "threads": 2, "wide_ngrams": {wide_ngrams}}}"#,
        imdb()
    );
    let model = senti::train(&TrainParams::from_json(&json).unwrap(), &mut |_| Control::Continue).unwrap();
    let test = data::load(&imdb(), Format::ImdbJson, Some(Split::Test)).unwrap();
    let texts: Vec<&str> = test.iter().step_by(97).map(|e| e.text.as_str()).filter(|t| t.split_whitespace().count() <= 300).take(120).collect();
    let scores = model.deletion_test(&texts, 0.1, 8, 11).unwrap();
    eprintln!("wide_ngrams {wide_ngrams}, mix {:?}: {scores:?}", model.wide().map(|w| w.config.mix));
    // A model that has learnt: confident on most reviews.
    assert!(scores.score > 0.7, "{scores:?}");
    assert!(scores.texts >= 100, "{scores:?}");
    scores
}

// Deleting a tenth of a review at random barely moves its score; deleting the tenth the
// explanation credits most must move it clearly, and several times more.

#[test]
fn the_networks_contributions_are_faithful() {
    // No wide path: every contribution comes from integrated gradients.
    let scores = deletion_scores(0);
    assert!(scores.top > 0.1 && scores.top > 3.0 * scores.random.max(0.01), "{scores:?}");
}

#[test]
fn the_whole_models_contributions_are_faithful() {
    let scores = deletion_scores(2);
    assert!(scores.top > 0.1 && scores.top > 3.0 * scores.random.max(0.01), "{scores:?}");
}
