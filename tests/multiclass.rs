// SPDX-License-Identifier: MIT OR Apache-2.0
//! Many classes without the network: 20 Newsgroups' committed excerpt (tests/fixtures, 20 real
//! classes) and a synthetic task of 1,000 classes.

use std::path::PathBuf;

use senti::data::Origin;
use senti::{Control, DataSpec, Example, Format, Model, TrainParams, TrainingData, data};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/20newsgroups-small.jsonl")
}

fn small() -> TrainParams {
    TrainParams {
        epochs: 3,
        embedding_dim: 16,
        hidden_size: 16,
        vocab_size: 3000,
        max_len: 64,
        batch_size: 16,
        threads: 2,
        embedding_pretrain_epochs: Some(0),
        learning_rate: 0.005,
        ..TrainParams::default()
    }
}

#[test]
fn twenty_newsgroups_excerpt_learns_every_class_through_the_file_loader() {
    let params = TrainParams { data_path: fixture(), ..small() };
    let model = senti::train(&params, &mut |_| Control::Continue).unwrap();
    let labels = model.labels().names();
    assert_eq!(labels.len(), 20);
    assert_eq!((labels[0].as_str(), labels[19].as_str()), ("alt.atheism", "talk.religion.misc"));
    // Scored on the excerpt it was trained on (less its validation slice), the wide path has
    // learned every class's words: far above the 5% of guessing.
    let examples = data::load(&fixture(), Format::Jsonl, None).unwrap();
    let report = model.evaluate(&examples).unwrap();
    assert_eq!(report.confusion.len(), 20);
    assert_eq!(report.confusion.iter().flatten().sum::<u64>(), 300);
    assert!(report.accuracy > 0.6 && report.macro_f1 > 0.5, "accuracy {} macro-F1 {}", report.accuracy, report.macro_f1);
    let scores = model.scores(&examples[0].text).unwrap();
    assert!((scores.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    // The data specification loads the same file with a class-balanced limit.
    let spec = DataSpec::from_json(&format!("{{\"path\": {:?}, \"limit\": 40}}", fixture())).unwrap();
    let sample = spec.load().unwrap();
    assert_eq!(sample.len(), 40);
    assert!(model.evaluate(&sample).unwrap().per_class.iter().all(|c| c.support == 2));
    // Saved and loaded, the labels and the scores stay.
    let path = std::env::temp_dir().join(format!("senti-20ng-{}.safetensors", std::process::id()));
    model.save(&path).unwrap();
    let back = Model::load(&path).unwrap();
    assert_eq!(back.labels(), model.labels());
    assert_eq!(back.scores(&examples[7].text).unwrap(), model.scores(&examples[7].text).unwrap());
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_thousand_classes_train_score_and_report() {
    // Class k's texts hold its own two words; 3 texts per class.
    let mut train = Vec::new();
    for k in 0..1000 {
        for r in 0..3 {
            let text = format!("word{k}a and word{k}b {}", ["here", "again", "now"][r]);
            train.push(Example { text, label: format!("class-{k:04}"), origin: Origin::Memory { index: train.len() as u32 } });
        }
    }
    let params = TrainParams { epochs: 1, vocab_size: 2100, max_len: 8, embedding_dim: 8, hidden_size: 8, wide_epochs: 20, wide_learning_rate: 0.3, ..small() };
    let model = senti::train_on(&params, TrainingData { train: train.clone(), validation: None, labels: None }, &mut |_| Control::Continue).unwrap();
    assert_eq!(model.labels().len(), 1000);
    let s = model.scores("word123a and word123b").unwrap();
    assert_eq!(s.len(), 1000);
    assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-3);
    let (top, _) = model.top_label("word123a and word123b").unwrap();
    assert_eq!(model.labels().name(top), Some("class-0123"));
    let report = model.evaluate(&train).unwrap();
    assert_eq!(report.confusion.len(), 1000);
    assert!(report.accuracy > 0.9, "accuracy {}", report.accuracy);
    // A label the model does not know is an error naming the example.
    let unknown = [Example { text: "x".into(), label: "class-9999".into(), origin: Origin::Memory { index: 4 } }];
    assert!(model.evaluate(&unknown).unwrap_err().to_string().contains("example 4: label \"class-9999\""));
}
