// SPDX-License-Identifier: MIT OR Apache-2.0
//! What explanations are worth and what they cost, on a trained model.
//!
//! `cargo bench --bench explain [-- MODEL]`, MODEL defaulting to the main job's
//! `reports/lstm.safetensors` (the default recipe's BiLSTM with its wide path). Prints:
//! - faithfulness on 1,000 IMDB test reviews (every 25th, both classes): the mean drop of the
//!   predicted class's score after deleting the top 10% of each review's tokens by
//!   contribution, beside deleting a random 10%;
//! - the cost: median time to explain a review of 190–210 tokens (the default 8 steps, and 16, 4, 2),
//!   beside predicting it, one call at a time on the same reviews;
//! - how much of the logit the contributions leave unexplained;
//! - the machine and the SIMD level the kernels chose.

use std::time::Instant;

use senti::{Format, Split, data};

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".to_string())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median milliseconds of `f` over `texts`, after one warm-up pass.
fn median_ms(texts: &[&str], mut f: impl FnMut(&str)) -> f64 {
    texts.iter().take(5).for_each(|t| f(t));
    median(
        texts
            .iter()
            .map(|t| {
                let start = Instant::now();
                f(t);
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn main() {
    let path = std::env::args().skip(1).find(|a| !a.starts_with("--")).unwrap_or_else(|| "reports/lstm.safetensors".to_string());
    let model = senti::Model::load(&path).unwrap_or_else(|e| panic!("{path}: {e} (run the main job first, or pass a model file)"));
    let test = data::load(std::path::Path::new("data/imdb/reviews.json"), Format::ImdbJson, Some(Split::Test)).expect("examples/fetch-imdb.sh first");
    println!("machine: {}, {} CPUs, kernels: {}", cpu_model(), std::thread::available_parallelism().map_or(0, |n| n.get()), senti::simd_level());
    let net = model.network_config().expect("the explanation bench measures a model with a network (integrated gradients)");
    println!(
        "model: {path} ({:?}, {} layer(s), {}, hidden {}, max_len {}, wide path: {})",
        net.cell,
        net.layers,
        if net.bidirectional { "bidirectional" } else { "one direction" },
        net.hidden_size,
        model.text_config().max_len,
        model.wide().is_some()
    );

    let faith: Vec<&str> = test.iter().step_by(25).map(|e| e.text.as_str()).collect();
    let start = Instant::now();
    let steps: usize = std::env::var("SENTI_EXPLAIN_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let scores = model.deletion_test(&faith, 0.1, steps, 2026).unwrap();
    println!(
        "faithfulness, {} test reviews, {} steps, delete 10% of tokens: score drop {:.4} (top by contribution) vs {:.4} (random); mean score before {:.4} ({:.0} s)",
        scores.texts,
        if steps == 0 { senti::nn::DEFAULT_EXPLAIN_STEPS } else { steps },
        scores.top,
        scores.random,
        scores.score,
        start.elapsed().as_secs_f64()
    );

    let tokenizer = senti::text::Tokenizer::new();
    let sized: Vec<&str> = test.iter().map(|e| e.text.as_str()).filter(|t| (190..=210).contains(&tokenizer.tokenize(t).len())).take(60).collect();
    let threads = model.prediction_threads();
    let predict = median_ms(&sized, |t| drop(model.scores(t).unwrap()));
    println!("cost, {} reviews of 190-210 tokens, one call at a time, {threads} thread(s):", sized.len());
    println!("  predict            {predict:.3} ms median");
    for steps in [16, 8, 4, 2] {
        let mut unexplained = Vec::new();
        let explain = median_ms(&sized, |t| {
            let e = model.explain(t, None, steps).unwrap();
            unexplained.push(((e.unexplained) / (e.logit - e.reference)).abs() as f64);
        });
        println!(
            "  explain, {steps:>2} steps  {explain:.3} ms median = {:.1}x predicting; unexplained {:.2}% of the logit moved (median)",
            explain / predict,
            100.0 * median(unexplained)
        );
    }
}
