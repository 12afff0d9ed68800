// SPDX-License-Identifier: MIT OR Apache-2.0
//! Regenerates the tiny model files the fuzzers start from (tests/fuzz/corpus/...). Ignored: the
//! committed files are the seeds, and a regeneration changes their bytes (the training record
//! holds the wall time). Run with
//! `cargo test --release --test fuzz_seeds -- --ignored`.

use std::path::{Path, PathBuf};

use senti::{Control, SentimentModel, TrainParams};

const WORDS_POS: [&str; 12] = ["good", "great", "wonderful", "fine", "moving", "brilliant", "superb", "fun", "lovely", "charming", "clever", "warm"];
const WORDS_NEG: [&str; 12] = ["bad", "awful", "dull", "boring", "weak", "poor", "silly", "slow", "flat", "tired", "messy", "cold"];
const FILLER: [&str; 30] = [
    "the", "film", "movie", "plot", "acting", "was", "is", "really", "very", "and", "story", "cast", "a", "it", "ending", "music",
    "script", "director", "scenes", "hero", "quite", "too", "not", "so", "this", "that", "of", "in", "with", "but",
];

/// 40 labeled lines over a vocabulary of about 60 words (punctuation included).
fn jsonl() -> String {
    let mut out = String::new();
    for i in 0..40 {
        let (label, words) = if i % 2 == 0 { (1, &WORDS_POS) } else { (0, &WORDS_NEG) };
        let text = format!(
            "{} {} {} {} {}, {} {}{}",
            FILLER[i % FILLER.len()],
            FILLER[(i * 7 + 13) % FILLER.len()],
            FILLER[(i * 3 + 1) % FILLER.len()],
            words[i % words.len()],
            FILLER[(i * 5 + 2) % FILLER.len()],
            words[(i * 7 + 3) % words.len()],
            FILLER[(i * 11 + 4) % FILLER.len()],
            ["!", ".", "?", "..."][i % 4]
        );
        out.push_str(&serde_json::json!({ "text": text, "label": label }).to_string());
        out.push('\n');
    }
    out
}

fn train(data: &Path, hidden: usize, extra: &str) -> SentimentModel {
    let json = format!(
        r#"{{"data_path": {:?}, "data_format": "jsonl", "vocab_size": 60, "embedding_dim": 4, "hidden_size": {hidden},
            "max_len": 16, "epochs": 1, "batch_size": 8, "validation_fraction": 0.2, "threads": 1, "seed": 3{extra}}}"#,
        data
    );
    let params = TrainParams::from_json(&json).unwrap();
    senti::train(&params, &mut |_| Control::Continue).unwrap()
}

#[test]
#[ignore = "writes the fuzz seeds into the tree; run by hand"]
fn regenerate_fuzz_seed_models() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("senti-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("tiny.jsonl");
    std::fs::write(&data, jsonl()).unwrap();

    // The model the mutation and prediction fuzzers embed, and a seed of the loading fuzzer; it
    // has a wide n-gram path (the default), the GRU below has none.
    let lstm = train(&data, 4, r#", "wide_buckets": 1024"#);
    assert!(lstm.wide().is_some());
    assert!(lstm.vocab_len() >= 50, "vocabulary of {} words", lstm.vocab_len());
    let tiny = root.join("tests/fuzz/corpus/model_from_bytes/tiny.safetensors");
    std::fs::create_dir_all(tiny.parent().unwrap()).unwrap();
    lstm.save(&tiny).unwrap();
    // The other cell, two bidirectional layers and another pooling: more of the format.
    let gru = train(&data, 3, r#", "cell": "gru", "layers": 2, "bidirectional": true, "pooling": "last", "wide_ngrams": 0"#);
    gru.save(root.join("tests/fuzz/corpus/model_from_bytes/tiny-gru-bi.safetensors")).unwrap();

    for p in [&tiny, &root.join("tests/fuzz/corpus/model_from_bytes/tiny-gru-bi.safetensors")] {
        let back = SentimentModel::load(p).unwrap();
        let len = std::fs::metadata(p).unwrap().len();
        assert!(len < 16 << 10, "{} is {len} bytes", p.display());
        eprintln!("{}: {len} bytes, vocabulary {}", p.display(), back.vocab_len());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
