//! Model files are a promise: every format version that has shipped keeps loading and keeps
//! giving the answers it gave when it was written. `tests/golden/v<N>/` holds small models
//! written by the library release that introduced format version N, and each model's
//! probabilities on `tests/golden/texts.txt` as that release computed them.
//!
//! The tolerance is 1e-4 in probability: kernels may change the order of floating-point
//! additions between releases, never the model.

use std::path::{Path, PathBuf};

use senti::SentimentModel;

const TOLERANCE: f32 = 1e-4;

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn texts() -> Vec<String> {
    std::fs::read_to_string(golden().join("texts.txt")).unwrap().lines().map(str::to_string).collect()
}

/// The probabilities recorded beside a golden model (`<model>.predictions.json`).
fn recorded(model: &Path) -> Vec<f32> {
    let path = model.with_extension("predictions.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["positive"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect()
}

fn golden_models() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for version in std::fs::read_dir(golden()).unwrap() {
        let dir = version.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "safetensors") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_golden_model_loads_and_predicts_as_recorded() {
    let models = golden_models();
    assert!(models.len() >= 2, "expected the golden models under tests/golden, found {models:?}");
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for path in &models {
        let model = SentimentModel::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let want = recorded(path);
        assert_eq!(want.len(), refs.len(), "{}", path.display());
        let got = model.predict_batch(&refs).unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= TOLERANCE, "{} text {i}: {g} now, {w} when written", path.display());
        }
        // One at a time gives the same answers as the batch.
        for (i, t) in refs.iter().enumerate() {
            let p = model.predict(t).unwrap();
            assert!((p - want[i]).abs() <= TOLERANCE, "{} text {i} alone: {p}, recorded {}", path.display(), want[i]);
        }
    }
}

/// Writes the golden models of the current format version. Run by hand, once, by the release
/// that introduces a format version (it trains on a slice of IMDB: run examples/fetch-imdb.sh
/// first): `SENTI_GOLDEN_VERSION=<N> cargo test --release --test compat -- --ignored`.
#[test]
#[ignore = "writes golden files into the tree; run by hand when a format version is introduced"]
fn write_golden_models() {
    let version = std::env::var("SENTI_GOLDEN_VERSION").expect("set SENTI_GOLDEN_VERSION to the format version being written");
    let dir = golden().join(format!("v{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/imdb/reviews.json");
    let common = r#""train_limit": 3000, "epochs": 4, "learning_rate": 0.004, "validation_fraction": 0.2, "vocab_size": 1500,
        "embedding_dim": 16, "hidden_size": 16, "max_len": 120, "batch_size": 32, "threads": 1, "seed": 11"#;
    let recipes = [
        ("lstm-bi-wide", r#""cell": "lstm", "bidirectional": true, "pooling": "max_mean", "wide_ngrams": 2, "wide_buckets": 4096"#),
        ("gru-mean-pure", r#""cell": "gru", "bidirectional": false, "pooling": "mean", "truncation": "keep_start", "wide_ngrams": 0"#),
    ];
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for (name, recipe) in recipes {
        let json = format!("{{\"data_path\": {data:?}, {common}, {recipe}}}");
        let params = senti::TrainParams::from_json(&json).unwrap();
        let model = senti::train(&params, &mut |_| senti::Control::Continue).unwrap();
        let path = dir.join(format!("{name}.safetensors"));
        model.save(&path).unwrap();
        let back = SentimentModel::load(&path).unwrap();
        let probs = back.predict_batch(&refs).unwrap();
        let record = serde_json::json!({
            "library_version": senti::VERSION,
            "texts": "tests/golden/texts.txt",
            "positive": probs,
        });
        std::fs::write(path.with_extension("predictions.json"), serde_json::to_string_pretty(&record).unwrap() + "\n").unwrap();
        eprintln!("{}: {} bytes", path.display(), std::fs::metadata(&path).unwrap().len());
    }
}
