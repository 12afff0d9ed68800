// SPDX-License-Identifier: MIT OR Apache-2.0
//! A short training run on a slice of IMDB must clearly learn, and the model must survive a
//! save/load round trip with identical predictions.

use senti::model::Part;
use senti::{Control, Format, SentimentModel, Split, TrainParams, data};

fn imdb() -> std::path::PathBuf {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/imdb/reviews.json");
    assert!(p.exists(), "run examples/fetch-imdb.sh first ({} is missing)", p.display());
    p
}

fn small(cell: &str, pooling: &str, bidirectional: bool) -> TrainParams {
    let json = format!(
        r#"{{"data_path": {:?}, "train_limit": 4000, "epochs": 4, "validation_fraction": 0.2, "max_len": 150, "vocab_size": 8000,
            "embedding_dim": 64, "hidden_size": 64, "cell": "{cell}", "pooling": "{pooling}",
            "bidirectional": {bidirectional}, "seed": 7, "threads": 2}}"#,
        imdb()
    );
    TrainParams::from_json(&json).unwrap()
}

fn held_out_accuracy(model: &SentimentModel) -> f64 {
    let test = data::load(&imdb(), Format::ImdbJson, Some(Split::Test)).unwrap();
    // 1,000 test reviews, both classes.
    let slice: Vec<_> = test.iter().step_by(25).cloned().collect();
    model.evaluate(&slice).unwrap().accuracy
}

#[test]
fn lstm_learns_and_round_trips() {
    let start = std::time::Instant::now();
    let mut last = None;
    let model = senti::train(&small("lstm", "max_mean", false), &mut |p| {
        last = Some(*p);
        Control::Continue
    })
    .unwrap();
    eprintln!("trained in {:.1}s: {:?}", start.elapsed().as_secs_f64(), model.record().history);
    assert!(last.unwrap().val_accuracy > 0.6);
    let acc = held_out_accuracy(&model);
    eprintln!("held-out accuracy {acc:.4}");
    assert!(acc > 0.70, "accuracy {acc} is not well above chance");

    let dir = std::env::temp_dir().join(format!("senti-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    model.save(&path).unwrap();
    let loaded = SentimentModel::load(&path).unwrap();
    let texts = ["A wonderful, moving film.", "Dull and far too long. I want my money back.", ""];
    assert_eq!(model.predict_batch(&texts).unwrap(), loaded.predict_batch(&texts).unwrap());
    assert_eq!(loaded.record(), model.record());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gru_bidirectional_learns() {
    let model = senti::train(&small("gru", "last", true), &mut |_| Control::Continue).unwrap();
    let acc = held_out_accuracy(&model);
    eprintln!("gru held-out accuracy {acc:.4} {:?}", model.record().history);
    assert!(acc > 0.70, "accuracy {acc} is not well above chance");
}

#[test]
fn attention_pooling_learns_and_round_trips() {
    let model = senti::train(&small("gru", "attention", true), &mut |_| Control::Continue).unwrap();
    let acc = held_out_accuracy(&model);
    eprintln!("attention held-out accuracy {acc:.4} {:?}", model.record().history);
    assert!(acc > 0.70, "accuracy {acc} is not well above chance");
    let loaded = senti::model_file::from_bytes(&senti::model_file::to_bytes(&model).unwrap()).unwrap();
    let texts = ["A wonderful, moving film.", "Dull and far too long. I want my money back.", ""];
    assert_eq!(model.predict_batch(&texts).unwrap(), loaded.predict_batch(&texts).unwrap());
}

#[test]
fn a_transformer_learns_round_trips_and_is_explained() {
    // Narrow and short, so that the five epochs a transformer needs on this slice take seconds.
    let mut params = small("transformer", "mean", false);
    (params.heads, params.ff_size, params.wide_ngrams, params.max_len, params.embedding_dim, params.hidden_size) = (2, 64, 0, 100, 32, 32);
    (params.epochs, params.learning_rate) = (5, 0.004);
    let model = senti::train(&params, &mut |_| Control::Continue).unwrap();
    let acc = held_out_accuracy(&model);
    eprintln!("transformer held-out accuracy {acc:.4} {:?}", model.record().history);
    assert!(acc > 0.70, "accuracy {acc} is not well above chance");
    let loaded = senti::model_file::from_bytes(&senti::model_file::to_bytes(&model).unwrap()).unwrap();
    let texts = ["A wonderful, moving film.", "Dull and far too long. I want my money back.", ""];
    let (a, b) = (model.predict_batch(&texts).unwrap(), loaded.predict_batch(&texts).unwrap());
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5), "{a:?} vs {b:?}");
    // Integrated gradients run through the encoder too: the contributions add up.
    let e = loaded.explain("A wonderful, moving film. The plot is dull.", None, 16).unwrap();
    let sum: f32 = e.tokens.iter().map(|t| t.contribution).sum();
    assert!((e.reference + sum + e.unexplained - e.logit).abs() < 1e-3 && e.unexplained.abs() < 0.05 * sum.abs() + 1e-3, "{e:?}");
}

#[test]
fn same_seed_and_thread_count_give_the_same_weights() {
    let json = |seed: u64| {
        format!(
            r#"{{"data_path": {:?}, "train_limit": 400, "epochs": 1, "max_len": 60, "vocab_size": 2000,
                "embedding_dim": 16, "hidden_size": 16, "bidirectional": true, "seed": {seed}, "threads": 2}}"#,
            imdb()
        )
    };
    let run = |seed| senti::train(&TrainParams::from_json(&json(seed)).unwrap(), &mut |_| Control::Continue).unwrap();
    let texts: Vec<String> = data::load(&imdb(), Format::ImdbJson, Some(Split::Test)).unwrap().into_iter().step_by(500).map(|e| e.text).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (a, b, c) = (run(5), run(5), run(6));
    let pa = a.predict_batch(&texts).unwrap();
    assert_eq!(pa, b.predict_batch(&texts).unwrap());
    assert_ne!(pa, c.predict_batch(&texts).unwrap());
}

#[test]
fn the_wide_path_mixes_in_and_leaves_the_recurrent_network_untouched() {
    let json = |wide: usize| {
        format!(
            r#"{{"data_path": {:?}, "train_limit": 4000, "epochs": 3, "validation_fraction": 0.2, "max_len": 150, "vocab_size": 8000,
                "embedding_dim": 64, "hidden_size": 64, "seed": 11, "threads": 2, "wide_ngrams": {wide}}}"#,
            imdb()
        )
    };
    let train = |wide| senti::train(&TrainParams::from_json(&json(wide)).unwrap(), &mut |_| Control::Continue).unwrap();
    let (pure, wide) = (train(0), train(2));
    assert!(pure.wide().is_none() && pure.record().validation_parts.is_none());
    let parts = wide.record().validation_parts.expect("a wide model records its parts' validation accuracy");
    eprintln!("validation: {parts:?}, mix {:?}", wide.wide().unwrap().config.mix);

    let test = data::load(&imdb(), Format::ImdbJson, Some(Split::Test)).unwrap();
    let slice: Vec<_> = test.iter().step_by(25).cloned().collect();
    let texts: Vec<&str> = slice.iter().map(|e| e.text.as_str()).collect();
    // The recurrent network inside the wide model is the pure model of the same seed.
    assert_eq!(wide.part_logits(&texts, Part::Recurrent).unwrap(), pure.part_logits(&texts, Part::Model).unwrap());
    let acc = |part| wide.evaluate_part(&slice, part).unwrap().accuracy;
    let (rnn, ngrams, both) = (acc(Part::Recurrent), acc(Part::Wide), acc(Part::Model));
    eprintln!("held out: recurrent {rnn:.4}, wide {ngrams:.4}, model {both:.4}");
    assert!(ngrams > 0.75, "the wide path alone reaches only {ngrams}");
    assert!(rnn > 0.7, "the recurrent network alone reaches only {rnn}");
    assert!(both >= rnn.max(ngrams) - 0.015, "the mix ({both}) is worse than its better part ({rnn}, {ngrams})");
    assert_eq!(pure.evaluate_part(&slice, Part::Wide).unwrap_err().kind(), senti::ErrorKind::Config);

    let dir = std::env::temp_dir().join(format!("senti-wide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.safetensors");
    wide.save(&path).unwrap();
    let loaded = SentimentModel::load(&path).unwrap();
    assert_eq!(loaded.predict_batch(&texts).unwrap(), wide.predict_batch(&texts).unwrap());
    assert_eq!(loaded.record(), wide.record());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Word vectors learned from the training reviews' text put words of like meaning together:
/// what makes them a better start for the embedding than random vectors. Trained in shards.
#[test]
fn word_vectors_put_like_words_together() {
    use senti::text::{Encoder, Tokenizer, Truncation, Vocab};
    let reviews = data::load(&imdb(), Format::ImdbJson, Some(Split::Train)).unwrap();
    let tokenizer = Tokenizer::new();
    let vocab = Vocab::build(&tokenizer, reviews.iter().map(|e| e.text.as_str()), 20_000).unwrap();
    let encoder = Encoder { tokenizer, vocab, max_len: 400, truncation: Truncation::KeepEnd };
    let corpus: Vec<Vec<u32>> = reviews.iter().map(|e| encoder.encode_whole(&e.text)).collect();
    let dim = 64;
    let mut reports = 0;
    // Two shards on two threads, as the defaults train on a 2-core machine.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let v = senti::nn::word2vec::train_vectors(&corpus, encoder.vocab.len(), dim, 1, 2, &pool, &mut senti::rng::Rng::new(3), &mut |_, _, _| {
        reports += 1;
        true
    })
    .unwrap();
    assert_eq!(reports, 25);
    // Measured around the mean vector: skip-gram vectors share a large common component.
    let rows = encoder.vocab.len();
    let mean: Vec<f32> = (0..dim).map(|j| (2..rows).map(|r| v[r * dim + j]).sum::<f32>() / (rows - 2) as f32).collect();
    let row = |w: &str| {
        let id = encoder.vocab.id(w) as usize;
        let r: Vec<f32> = v[id * dim..(id + 1) * dim].iter().zip(&mean).map(|(x, m)| x - m).collect();
        let n = r.iter().map(|x| x * x).sum::<f32>().sqrt();
        r.iter().map(|x| x / n).collect::<Vec<f32>>()
    };
    let sim = |a: &str, b: &str| row(a).iter().zip(row(b)).map(|(x, y)| x * y).sum::<f32>();
    for (word, like, unlike) in [("excellent", "superb", "awful"), ("awful", "terrible", "excellent"), ("boring", "dull", "funny")] {
        let (near, far) = (sim(word, like), sim(word, unlike));
        eprintln!("{word}: {like} {near:.3}, {unlike} {far:.3}");
        assert!(near > far + 0.1, "{word} is no closer to {like} ({near}) than to {unlike} ({far})");
    }
}

/// Word vectors are learned when asked for, and left out by default on too little text.
#[test]
fn word_vector_passes_follow_the_request() {
    let passes = |field: &str| {
        let json = format!(
            r#"{{"data_path": {:?}, "train_limit": 400, "epochs": 1, "max_len": 60, "vocab_size": 2000,
                "embedding_dim": 16, "hidden_size": 16, "threads": 2, "wide_ngrams": 0{field}}}"#,
            imdb()
        );
        let mut reports = Vec::new();
        senti::train(&TrainParams::from_json(&json).unwrap(), &mut |p| {
            if p.phase == senti::Phase::Pretrain {
                assert!(p.loss.is_nan() && p.batch == p.batches && p.batches == 1, "{p:?}");
                reports.push((p.epoch, p.epochs));
            }
            Control::Continue
        })
        .unwrap();
        reports
    };
    assert_eq!(passes(r#", "embedding_pretrain_epochs": 2"#), [(1, 2), (2, 2)]);
    assert_eq!(passes(r#", "embedding_pretrain_epochs": 0"#), []);
    // 360 reviews are far below the text the library needs before it learns vectors by itself.
    assert_eq!(passes(""), []);
}

/// `layers` 0: the model is its wide path alone. It trains without epochs, learns, is written as
/// format 6 and reads back with the same scores, explains exactly, and refuses what needs a
/// network.
#[test]
fn the_wide_path_alone_learns_round_trips_and_explains() {
    let mut params = small("lstm", "max_mean", false);
    params.layers = 0;
    let model = senti::train(&params, &mut |_| Control::Continue).unwrap();
    assert!(model.network_config().is_none() && model.record().history.is_empty());
    let parts = model.record().validation_parts.expect("validation scores of the wide path");
    assert!(parts.recurrent.is_none() && parts.wide > 0.8, "{parts:?}");
    let acc = held_out_accuracy(&model);
    assert!(acc > 0.8, "the wide path alone reached only {acc:.3} on held-out reviews");

    let texts = ["A wonderful film with great acting.", "Dull, boring and far too long. I hated it.", ""];
    let scores = model.scores_batch(&texts).unwrap();
    let wide = model.part_logits(&texts, Part::Wide).unwrap();
    let model_logits = model.part_logits(&texts, Part::Model).unwrap();
    assert_eq!(wide, model_logits, "a model without a network answers with its wide path's logits");
    let err = model.part_logits(&texts, Part::Recurrent).unwrap_err();
    assert_eq!(err.kind(), senti::ErrorKind::Config, "{err}");

    let path = std::env::temp_dir().join(format!("senti-wide-alone-{}.safetensors", std::process::id()));
    model.save(&path).unwrap();
    assert_eq!(senti::model_file::file_versions(&path).unwrap().format_version, "6");
    let back = SentimentModel::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(back.scores_batch(&texts).unwrap(), scores);

    let e = back.explain(texts[0], None, 0).unwrap();
    assert_eq!((e.method, e.steps, e.label.as_str()), ("wide_path", 0, "positive"));
    assert!(e.tokens.iter().all(|t| t.network == 0.0 && !t.read_by_network && t.attention.is_none()));
    assert!(e.unexplained.abs() < 1e-4, "the wide path's part is exact: {} unexplained", e.unexplained);
    let empty = back.explain("", Some(0), 0).unwrap();
    assert!(empty.tokens.is_empty() && (empty.logit - empty.reference).abs() < 1e-5, "a text without words is its reference: {empty:?}");

    params.wide_ngrams = 0;
    let err = senti::train(&params, &mut |_| Control::Continue).err().expect("layers 0 without a wide path must be refused");
    assert_eq!(err.kind(), senti::ErrorKind::Config);
    assert!(err.to_string().contains("layers 0"), "{err}");
}
