// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti info`: what a model file holds: labels, architecture, vocabulary, the file's format
//! version, the training parameters and the run's history.

use std::path::PathBuf;

use senti::Model;
use senti::config::fields::{FIELDS, FieldValue};

use std::fmt::Write as _;

use crate::exit::{Outcome, print};

/// Describe a model file.
#[derive(clap::Args)]
pub struct Args {
    /// The model file.
    model: PathBuf,
    /// Print JSON: what `senti_model_info` gives, with the file's format version.
    #[arg(long)]
    json: bool,
}

fn shown(value: &FieldValue) -> String {
    match value {
        FieldValue::Int(v) => v.to_string(),
        // An f32 field's value reads as the f32 it is (0.1, not 0.10000000149011612).
        FieldValue::Float(v) if (*v as f32) as f64 == *v => format!("{}", *v as f32),
        FieldValue::Float(v) => format!("{v}"),
        FieldValue::Bool(v) => v.to_string(),
        FieldValue::Str(s) => s.to_string(),
        FieldValue::Absent => "absent (automatic)".to_string(),
    }
}

/// A serde enum's name (`lstm`, `max_mean`).
fn name_of(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

pub fn run(args: Args) -> Outcome {
    let model = Model::load(&args.model)?;
    let versions = senti::model_file::file_versions(&args.model)?;
    let net = model.network_config();
    let text = model.text_config();
    let record = model.record();
    if args.json {
        let info = serde_json::json!({
            "format_version": versions.format_version,
            "written_by": versions.library_version,
            "library_version": senti::VERSION,
            "simd_level": senti::simd_level(),
            "gemm_level": senti::gemm_level(),
            "model_config": net,
            "labels": model.labels(),
            "text_config": text,
            "vocab_len": model.vocab_len(),
            "wide_config": model.wide().map(|w| &w.config),
            "training": record,
        });
        return print(&format!("{info}\n"));
    }
    let classes = model.labels().len();
    let mut out = String::new();
    let _ = writeln!(out, "file          {}", args.model.display());
    let _ = writeln!(
        out,
        "format        senti-model version {}{}",
        versions.format_version,
        versions.library_version.map_or(String::new(), |v| format!(", written by libsenti {v}"))
    );
    let _ = writeln!(out, "labels        {classes}: {}", model.labels().names().join(", "));
    let _ = writeln!(out, "kernels       {} (matrix multiplies: gemm at {}; chosen for this CPU by libsenti {})", senti::simd_level(), senti::gemm_level(), senti::VERSION);
    match net {
        Some(net) => describe_network(&mut out, net, &model, classes),
        None => {
            let _ = writeln!(out, "architecture  none: the wide path alone (trained with layers 0)");
            let wide = model.wide().map_or(0, |w| w.weights.len() + w.bias.len());
            let _ = writeln!(out, "weights       {wide} in the wide path");
        }
    }
    let _ = writeln!(out, "vocabulary    {} words (vocab_size {}), max_len {}, {}", model.vocab_len(), text.vocab_size, text.max_len, name_of(&text.truncation));
    match model.wide() {
        Some(w) => {
            let _ = writeln!(out, "wide path     n-grams up to {}, {} slots, mix {:?}", w.config.ngrams, w.config.buckets, w.config.mix);
        }
        None => {
            let _ = writeln!(out, "wide path     none");
        }
    }
    let _ = writeln!(
        out,
        "training      {} examples, {} for validation, {:.1} s; {}",
        record.train_examples,
        record.validation_examples,
        record.seconds,
        if record.history.is_empty() { "no epochs (the wide path alone)".to_string() } else { format!("best epoch {} of {}", record.best_epoch, record.history.len()) }
    );
    for e in &record.history {
        let validation = match (e.val_loss, e.val_accuracy) {
            (Some(l), Some(a)) => format!(", validation loss {l:.4} accuracy {a:.4}"),
            _ => String::new(),
        };
        let _ = writeln!(out, "  epoch {}: loss {:.4} accuracy {:.4}{validation} ({:.1} s)", e.epoch, e.train_loss, e.train_accuracy, e.seconds);
    }
    if let Some(p) = record.validation_parts {
        match p.recurrent {
            Some(recurrent) => {
                let _ = writeln!(out, "  validation accuracy: recurrent {recurrent:.4}, wide {:.4}, mixed {:.4}", p.wide, p.combined);
            }
            None => {
                let _ = writeln!(out, "  validation accuracy: {:.4} (the wide path alone)", p.wide);
            }
        }
    }
    let _ = writeln!(out, "training parameters");
    let width = FIELDS.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for field in FIELDS {
        let value = record.params.get(field.name).map(|v| shown(&v)).unwrap_or_else(|e| e.to_string());
        let _ = writeln!(out, "  {:<width$}  {value}", field.name);
    }
    print(&out)
}

/// The architecture and weight lines of a model with a network.
fn describe_network(out: &mut String, net: &senti::nn::NetworkConfig, model: &Model, classes: usize) {
    let layers = format!("{} layer{}", net.layers, if net.layers == 1 { "" } else { "s" });
    let shape = match net.transformer {
        Some(t) => format!("{layers}, {} heads, width {}, feed-forward {}, embedding {}", t.heads, net.hidden_size, t.ff_size, net.embedding_dim),
        None => format!(
            "{layers}, {}, embedding {}, hidden {} per direction",
            if net.bidirectional { "bidirectional" } else { "one direction" },
            net.embedding_dim,
            net.hidden_size
        ),
    };
    let _ = writeln!(out, "architecture  {}, {shape}, pooling {}", name_of(&net.cell), name_of(&net.pooling));
    let _ = writeln!(out, "              dropout {}, embedding dropout {}", net.dropout, net.embedding_dropout);
    let _ = writeln!(out, "weights       {} in the network (embedding, {}, head){}", net.parameter_count(model.vocab_len(), classes), if net.transformer.is_some() { "encoder" } else { "recurrent layers" }, model.wide().map_or(String::new(), |w| format!(", {} in the wide path", w.weights.len() + w.bias.len())));
}
