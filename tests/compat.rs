// SPDX-License-Identifier: MIT OR Apache-2.0
//! Model files are a promise: every format version that has shipped keeps loading and keeps
//! giving the answers it gave when it was written. `tests/golden/v<N>/` holds small models
//! written by the library release that introduced format version N, and each model's
//! probabilities on `tests/golden/texts.txt` as that release computed them.
//!
//! Format 3 added a checksum, so a v3 file also proves that a file written by an older build of
//! the same format still verifies.
//!
//! The tolerance is 1e-4 in probability: kernels may change the order of floating-point
//! additions between releases, never the model.

use std::path::{Path, PathBuf};

use senti::Model;

const TOLERANCE: f32 = 1e-4;

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn texts() -> Vec<String> {
    std::fs::read_to_string(golden().join("texts.txt")).unwrap().lines().map(str::to_string).collect()
}

/// What was recorded beside a golden model (`<model>.predictions.json`): every class's scores
/// per text (format 2 on), or for format 1 the probability of `positive` per text.
enum Recorded {
    Positive(Vec<f32>),
    Scores(Vec<Vec<f32>>),
}

fn recorded(model: &Path) -> Recorded {
    let path = model.with_extension("predictions.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f32> { v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect() };
    match json.get("scores") {
        Some(rows) => Recorded::Scores(rows.as_array().unwrap().iter().map(floats).collect()),
        None => Recorded::Positive(floats(&json["positive"])),
    }
}

fn close(got: &[f32], want: &[f32]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= TOLERANCE)
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
    // Format 5 changed only the transformer: one file.
    for (version, least) in [("v1", 2), ("v2", 2), ("v3", 2), ("v4", 2), ("v5", 1), ("v6", 1)] {
        assert!(models.iter().filter(|m| m.parent().unwrap().ends_with(version)).count() >= least, "expected golden models of format {version} under tests/golden, found {models:?}");
    }
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for path in &models {
        let model = Model::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match recorded(path) {
            Recorded::Positive(want) => {
                assert_eq!(model.labels().names(), ["negative", "positive"], "{}", path.display());
                assert_eq!(want.len(), refs.len(), "{}", path.display());
                let got = model.predict_batch(&refs).unwrap();
                assert!(close(&got, &want), "{}: {got:?} now, {want:?} when written", path.display());
                // One at a time gives the same answers as the batch.
                for (i, t) in refs.iter().enumerate() {
                    let p = model.predict(t).unwrap();
                    assert!((p - want[i]).abs() <= TOLERANCE, "{} text {i} alone: {p}, recorded {}", path.display(), want[i]);
                }
            }
            Recorded::Scores(want) => {
                assert_eq!(want.len(), refs.len(), "{}", path.display());
                let k = model.labels().len();
                let got = model.scores_batch(&refs).unwrap();
                for (i, row) in want.iter().enumerate() {
                    assert!(close(&got[i * k..(i + 1) * k], row), "{} text {i}: {:?} now, {row:?} when written", path.display(), &got[i * k..(i + 1) * k]);
                    assert!(close(&model.scores(refs[i]).unwrap(), row), "{} text {i} alone", path.display());
                }
            }
        }
    }
}

/// Writes the golden models of the current format version. Run by hand, once, by the release
/// that introduces a format version (it trains on a slice of IMDB, so run examples/fetch-imdb.sh
/// first, and on the committed 20 Newsgroups excerpt):
/// `SENTI_GOLDEN_VERSION=<N> cargo test --release --test compat -- --ignored`.
/// Format 1's files (libsenti 0.1.0) hold `positive`; later ones every class's `scores`. Format 4
/// exists for attention pooling and the transformer encoder, so its files are the same recipes
/// pooled by attention, and a transformer; format 5 for the transformer's scaled embeddings, so its
/// file is the transformer alone; format 6 for models without a network, so its file is the wide
/// path alone.
#[test]
#[ignore = "writes golden files into the tree; run by hand when a format version is introduced"]
fn write_golden_models() {
    let version = std::env::var("SENTI_GOLDEN_VERSION").expect("set SENTI_GOLDEN_VERSION to the format version being written");
    let dir = golden().join(format!("v{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let imdb = root.join("data/imdb/reviews.json");
    let newsgroups = root.join("tests/fixtures/20newsgroups-small.jsonl");
    let common = r#""epochs": 4, "learning_rate": 0.004, "validation_fraction": 0.2, "vocab_size": 1500,
        "embedding_dim": 16, "hidden_size": 16, "max_len": 120, "batch_size": 32, "threads": 1, "seed": 11"#;
    let recipes = [
        ("lstm-bi-wide", &imdb, r#""train_limit": 3000, "cell": "lstm", "bidirectional": true, "pooling": "max_mean", "wide_ngrams": 2, "wide_buckets": 4096"#),
        ("gru-mean-pure", &imdb, r#""train_limit": 3000, "cell": "gru", "bidirectional": false, "pooling": "mean", "truncation": "keep_start", "wide_ngrams": 0"#),
        ("newsgroups20-gru-wide", &newsgroups, r#""cell": "gru", "bidirectional": true, "pooling": "max", "wide_ngrams": 1, "wide_buckets": 2048, "embedding_pretrain_epochs": 0"#),
    ];
    let transformer = [("transformer-wide", &imdb, r#""train_limit": 3000, "cell": "transformer", "heads": 2, "ff_size": 32, "pooling": "mean", "wide_ngrams": 2, "wide_buckets": 4096"#)];
    let wide_alone = [("wide-alone", &imdb, r#""train_limit": 3000, "layers": 0, "wide_ngrams": 2, "wide_buckets": 4096"#)];
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // Format 4 also holds transformer encoders; format 5 only changed them.
    let (base, extra): (&[_], &[_]) = match version.as_str() {
        "4" => (&recipes, &transformer),
        "5" => (&[], &transformer),
        "6" => (&[], &wide_alone),
        _ => (&recipes, &[]),
    };
    for &(name, data, recipe) in base.iter().chain(extra) {
        // Format 1 had only two-class models.
        if version == "1" && data == &newsgroups {
            continue;
        }
        let mut json: serde_json::Value = serde_json::from_str(&format!("{{\"data_path\": {data:?}, {common}, {recipe}}}")).unwrap();
        if version == "4" && !name.starts_with("transformer") {
            json["pooling"] = "attention".into();
        }
        let params = senti::TrainParams::from_json(&json.to_string()).unwrap();
        let model = senti::train(&params, &mut |_| senti::Control::Continue).unwrap();
        // Format 4's files are pooled by attention: their names say so.
        let name = if version == "4" && !name.starts_with("transformer") { name.replace("-mean", "") + "-attention" } else { name.to_string() };
        let path = dir.join(format!("{name}.safetensors"));
        model.save(&path).unwrap();
        let back = Model::load(&path).unwrap();
        assert_eq!(senti::model_file::file_versions(&path).unwrap().format_version, version, "{name} was not written as format {version}");
        let k = back.labels().len();
        let scores = back.scores_batch(&refs).unwrap();
        let rows: Vec<&[f32]> = scores.chunks_exact(k).collect();
        let record = serde_json::json!({
            "library_version": senti::VERSION,
            "texts": "tests/golden/texts.txt",
            "labels": back.labels(),
            "scores": rows,
        });
        std::fs::write(path.with_extension("predictions.json"), serde_json::to_string_pretty(&record).unwrap() + "\n").unwrap();
        eprintln!("{}: {} bytes", path.display(), std::fs::metadata(&path).unwrap().len());
    }
}

/// A golden file with its header metadata edited, sealed again so that the edit reaches the
/// checks behind the checksum.
fn with_header(file: &str, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> Vec<u8> {
    let bytes = std::fs::read(golden().join(file)).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    edit(header["__metadata__"].as_object_mut().unwrap());
    let header = serde_json::to_vec(&header).unwrap();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&bytes[8 + n..]);
    senti::model_file::seal(&mut out).unwrap();
    out
}

/// A golden file with metadata entries replaced.
fn with_metadata(file: &str, entries: &[(&str, &str)]) -> Vec<u8> {
    with_header(file, |meta| {
        for (key, value) in entries {
            meta.insert(key.to_string(), serde_json::json!(value));
        }
    })
}

#[test]
fn a_file_from_a_newer_format_names_both_versions() {
    let out = with_metadata("v3/lstm-bi-wide.safetensors", &[("senti.format_version", "7"), ("senti.library_version", "9.0.0")]);
    let err = senti::model_file::from_bytes(&out).err().expect("a format-7 file must be refused");
    assert_eq!(err.kind(), senti::ErrorKind::ModelFile);
    let msg = err.to_string();
    assert!(msg.contains("format version 7") && msg.contains("libsenti 9.0.0") && msg.contains("reads versions 1, 2, 3, 4, 5 and 6"), "{msg}");
}

/// A golden file relabelled as an older format must be refused for the feature that format lacks.
fn refused_as_older(file: &str, older: &str, feature: &str) {
    let out = with_metadata(file, &[("senti.format_version", older)]);
    let err = senti::model_file::from_bytes(&out).err().unwrap_or_else(|| panic!("{file} read as format {older}"));
    assert_eq!(err.kind(), senti::ErrorKind::ModelFile);
    assert!(err.to_string().contains(&format!("{feature} is not part of format version {older}")), "{err}");
}

/// Each format adds to the one before it: a model with a network, pooled by attention, read as
/// format 6 loads and predicts as recorded; a format-6 file without a network still needs its
/// wide path.
#[test]
fn format_6_holds_every_earlier_model_and_needs_a_part() {
    let file = "v4/lstm-bi-wide-attention.safetensors";
    let model = senti::model_file::from_bytes(&with_metadata(file, &[("senti.format_version", "6")])).expect("format 6 holds attention pooling");
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let want = recorded(&golden().join(file));
    let Recorded::Scores(want) = want else { panic!("{file} records every class's scores") };
    let got = model.scores_batch(&refs).unwrap();
    assert!(close(&got, &want.concat()), "{file} read as format 6 predicts otherwise");
    let out = with_header("v6/wide-alone.safetensors", |meta| {
        meta.remove("senti.wide_config");
    });
    let err = senti::model_file::from_bytes(&out).err().expect("a file with neither part must be refused");
    assert_eq!(err.kind(), senti::ErrorKind::ModelFile);
    assert!(err.to_string().contains("neither a network"), "{err}");
}

#[test]
fn a_model_without_a_network_is_not_a_format_5_file() {
    refused_as_older("v6/wide-alone.safetensors", "5", "a model without a network (no \"senti.model_config\")");
}

#[test]
fn a_scaled_transformer_is_not_a_format_4_file() {
    refused_as_older("v5/transformer-wide.safetensors", "4", "a transformer's embedding_scale");
}

/// A real model (150 KB, a bidirectional LSTM with a wide path): one byte changed at every 53rd
/// position, and at every position of the 8-byte length prefix and the first and last 512 bytes,
/// must be refused. (src/model_file/tests.rs changes every byte of a small file in ten ways.)
#[test]
fn a_changed_byte_in_a_golden_file_is_refused() {
    let bytes = std::fs::read(golden().join("v3/lstm-bi-wide.safetensors")).unwrap();
    senti::model_file::from_bytes(&bytes).unwrap();
    let positions: Vec<usize> = (0..bytes.len()).filter(|&i| i % 53 == 0 || i < 512 || i + 512 >= bytes.len()).collect();
    for (n, &at) in positions.iter().enumerate() {
        let mut damaged = bytes.clone();
        damaged[at] ^= [0x01, 0x80, 0xff, 0x20][n % 4];
        let err = senti::model_file::from_bytes(&damaged).err().unwrap_or_else(|| panic!("byte {at} changed, the file was accepted"));
        assert_eq!(err.kind(), senti::ErrorKind::ModelFile, "byte {at}: {err}");
    }
    eprintln!("refused {} of {} files with one byte changed (of {} bytes)", positions.len(), positions.len(), bytes.len());
}
