// SPDX-License-Identifier: MIT OR Apache-2.0
use crate::config::TrainParams;
use crate::data::{Example, Origin};
use crate::model::Model;
use crate::train::{Control, TrainingData, train_on};

const GOOD: [&str; 4] = ["great", "wonderful", "superb", "moving"];
const BAD: [&str; 4] = ["awful", "dull", "boring", "terrible"];
const FILLER: [&str; 6] = ["the", "film", "was", "plot", "and", "acting"];

fn sentence(i: usize, cue: &str) -> String {
    format!("{} {} {} {cue} {} {}", FILLER[i % 6], FILLER[(i + 1) % 6], FILLER[(i + 2) % 6], FILLER[(i + 3) % 6], FILLER[(i + 4) % 6])
}

/// A two-class model that has learnt which cue words carry the label.
fn two_class(wide_ngrams: usize) -> Model {
    two_class_pooled(wide_ngrams, crate::nn::Pooling::MaxMean)
}

fn two_class_pooled(wide_ngrams: usize, pooling: crate::nn::Pooling) -> Model {
    let mut train = Vec::new();
    for i in 0..240 {
        let (cue, label) = if i % 2 == 0 { (GOOD[i / 2 % 4], "positive") } else { (BAD[i / 2 % 4], "negative") };
        train.push(Example { text: sentence(i / 2, cue), label: label.into(), origin: Origin::Memory { index: i as u32 } });
    }
    let params = TrainParams {
        epochs: 6,
        embedding_dim: 8,
        hidden_size: 8,
        batch_size: 16,
        threads: 1,
        vocab_size: 100,
        max_len: 12,
        embedding_pretrain_epochs: Some(0),
        learning_rate: 0.01,
        bidirectional: true,
        wide_ngrams,
        pooling,
        ..Default::default()
    };
    train_on(&params, TrainingData { train, validation: None, labels: None }, &mut |_| Control::Continue).unwrap()
}

fn check_sums(e: &super::Explanation) {
    let sum: f32 = e.tokens.iter().map(|t| t.contribution).sum();
    assert!((e.reference + sum + e.unexplained - e.logit).abs() < 1e-4, "{e:?}");
    for t in &e.tokens {
        assert!((t.network + t.wide - t.contribution).abs() < 1e-6);
    }
}

#[test]
fn cue_words_carry_the_score_and_the_sums_hold() {
    for wide in [0, 2] {
        let model = two_class(wide);
        let text = "The film was SUPERB and the plot";
        let e = model.explain(text, None, 0).unwrap();
        assert_eq!((e.class, e.label.as_str(), e.steps, e.method), (1, "positive", 8, "integrated_gradients"));
        // The logit is the model's: its sigmoid is the score.
        assert!((crate::math::sigmoid(e.logit as f64) as f32 - e.score).abs() < 1e-4, "{e:?}");
        assert!((model.scores(text).unwrap()[1] - e.score).abs() < 1e-6);
        check_sums(&e);
        assert!(e.unexplained.abs() < 0.05 * (e.logit - e.reference).abs() + 1e-3, "{e:?}");
        // Spans point into the text as given; tokens are the model's.
        let words: Vec<(&str, &str)> = e.tokens.iter().map(|t| (t.token.as_str(), &text[t.start..t.end])).collect();
        assert_eq!(words[3], ("superb", "SUPERB"));
        assert_eq!(words.len(), 7);
        let top = e.tokens.iter().max_by(|a, b| a.contribution.total_cmp(&b.contribution)).unwrap();
        assert_eq!(top.token, "superb", "wide {wide}: {e:?}");
        if wide == 0 {
            assert!(e.tokens.iter().all(|t| t.wide == 0.0));
        } else {
            assert!(e.tokens.iter().any(|t| t.wide != 0.0));
        }
        // The other class's explanation is the same one, negated.
        let other = model.explain(text, Some(0), 0).unwrap();
        assert_eq!(other.label, "negative");
        assert!((other.logit + e.logit).abs() < 1e-5 && (other.score + e.score - 1.0).abs() < 1e-5);
        for (a, b) in other.tokens.iter().zip(&e.tokens) {
            assert!((a.contribution + b.contribution).abs() < 1e-5);
        }
        let bad = model.explain("the acting was dull", None, 0).unwrap();
        assert_eq!(bad.label, "negative");
        let top = bad.tokens.iter().max_by(|a, b| a.contribution.total_cmp(&b.contribution)).unwrap();
        assert_eq!(top.token, "dull", "{bad:?}");
    }
}

#[test]
fn attention_weights_come_with_the_tokens_the_network_read() {
    let model = two_class_pooled(0, crate::nn::Pooling::Attention);
    // Survives a save and load as format 4 (format 3 cannot hold attention pooling).
    let bytes = crate::model_file::to_bytes(&model).unwrap();
    let loaded = crate::model_file::from_bytes(&bytes).unwrap();
    let text = "great great the film was dull and the plot was the acting and film superb";
    let (e, again) = (model.explain(text, None, 0).unwrap(), loaded.explain(text, None, 0).unwrap());
    check_sums(&e);
    assert_eq!(e.tokens.len(), 15);
    let weights: Vec<Option<f32>> = e.tokens.iter().map(|t| t.attention).collect();
    // max_len 12 keeps the last 12: the first 3 tokens are not read and have no weight.
    assert!(weights[..3].iter().all(Option::is_none), "{weights:?}");
    let read: Vec<f32> = weights[3..].iter().map(|w| w.expect("a weight per token read")).collect();
    assert!((read.iter().sum::<f32>() - 1.0).abs() < 1e-5 && read.iter().all(|&w| w > 0.0), "{read:?}");
    for (a, b) in e.tokens.iter().zip(&again.tokens) {
        assert!((a.contribution - b.contribution).abs() < 1e-4 && a.attention.zip(b.attention).is_none_or(|(x, y)| (x - y).abs() < 1e-5));
    }
    assert!(e.to_json().contains("\"attention\":"));
    assert!(!two_class(0).explain(text, None, 0).unwrap().to_json().contains("attention"));
}

#[test]
fn tokens_past_max_len_are_credited_by_the_wide_path_only() {
    let model = two_class(2);
    // max_len 12 and the default keeps the end: the first 4 of 16 tokens are not read.
    let text = "great great great great the film was dull and the plot was the acting and film";
    let e = model.explain(text, None, 4).unwrap();
    check_sums(&e);
    assert_eq!(e.tokens.len(), 16);
    for (i, t) in e.tokens.iter().enumerate() {
        assert_eq!(t.read_by_network, i >= 4, "{i}");
        if i < 4 {
            assert_eq!(t.network, 0.0);
            assert!(t.wide != 0.0);
        }
    }
}

#[test]
fn deleting_tokens_keeps_the_rest_of_the_text() {
    let model = two_class(2);
    let text = "Superb,dull film.";
    let e = model.explain(text, None, 4).unwrap();
    let tokens: Vec<&str> = e.tokens.iter().map(|t| t.token.as_str()).collect();
    assert_eq!(tokens, ["superb", ",", "dull", "film", "."]);
    assert_eq!(e.text_without(text, &[2, 0]), " ,  film.");
    assert_eq!(e.text_without(text, &[1]), "Superb dull film.");
    assert_eq!(e.text_without(text, &[]), text);
    let order = e.strongest_first();
    assert_eq!(order.len(), 5);
    assert!(order.windows(2).all(|w| e.tokens[w[0]].contribution >= e.tokens[w[1]].contribution));
}

#[test]
fn empty_texts_bad_classes_and_steps() {
    let model = two_class(2);
    let e = model.explain("", None, 0).unwrap();
    assert!(e.tokens.is_empty());
    check_sums(&e);
    assert!(model.explain("x", Some(2), 0).unwrap_err().to_string().contains("2 labels"));
    assert!(model.explain("x", None, 10_000).unwrap_err().to_string().contains("between 0"));
    let json: serde_json::Value = serde_json::from_str(&model.explain("Great film", None, 8).unwrap().to_json()).unwrap();
    assert_eq!(json["tokens"][0]["token"], "great");
    assert_eq!(json["steps"], 8);
}

#[test]
fn three_classes_explain_the_chosen_class() {
    let model = crate::train::three_topic_model();
    let text = "the market and the league";
    let scores = model.scores(text).unwrap();
    for class in 0..3 {
        let e = model.explain(text, Some(class), 0).unwrap();
        assert_eq!(e.label, model.labels().name(class).unwrap());
        assert_eq!(e.score, scores[class]);
        check_sums(&e);
    }
    // Each class credits its own word most.
    let top = |class| {
        let e = model.explain(text, Some(class), 0).unwrap();
        e.tokens.iter().max_by(|a, b| a.contribution.total_cmp(&b.contribution)).unwrap().token.clone()
    };
    assert_eq!(top(0), "market"); // business
    assert_eq!(top(2), "league"); // sports
}
