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

#[test]
fn deleting_the_top_tokens_hurts_more_than_deleting_random_ones() {
    let json = format!(
        r#"{{"data_path": {:?}, "train_limit": 3000, "epochs": 2, "max_len": 200, "vocab_size": 10000,
            "embedding_dim": 32, "hidden_size": 32, "cell": "gru", "seed": 3, "threads": 2}}"#,
        imdb()
    );
    let model = senti::train(&TrainParams::from_json(&json).unwrap(), &mut |_| Control::Continue).unwrap();
    let test = data::load(&imdb(), Format::ImdbJson, Some(Split::Test)).unwrap();
    // 120 test reviews, both classes, of at most 300 words.
    let texts: Vec<&str> = test.iter().step_by(97).map(|e| e.text.as_str()).filter(|t| t.split_whitespace().count() <= 300).take(120).collect();
    let scores = model.deletion_test(&texts, 0.1, 8, 11).unwrap();
    eprintln!("{scores:?}");
    assert!(scores.texts >= 100, "{scores:?}");
    // Deleting a tenth of a review at random barely moves its score; deleting the tenth the
    // explanation credits most must move it clearly, and several times more.
    assert!(scores.top > 0.1, "{scores:?}");
    assert!(scores.top > 3.0 * scores.random.max(0.01), "{scores:?}");
}
