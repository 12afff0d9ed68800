// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti test`: evaluates a model on labeled data: accuracy, loss, macro-F1, a per-class table
//! and the confusion matrix, or the library's report JSON with `--json`.

use std::path::PathBuf;

use senti::config::fields::{Range, by_name};
use senti::model::Part;
use senti::{DataSpec, Evaluation, Format, Model, Split};

use crate::exit::{Failure, Outcome, USAGE, print};
use crate::progress;

/// Texts per forward pass between two steps of the progress bar.
const CHUNK: usize = 512;

/// The formats the parameter table lists for `data_format`.
fn formats() -> Vec<&'static str> {
    match by_name::data_format.range {
        Range::OneOf(values) => values.to_vec(),
        _ => Vec::new(),
    }
}

/// Evaluate a model on labeled data.
#[derive(clap::Args)]
pub struct Args {
    /// The model file.
    model: PathBuf,
    /// Labeled data: a file or folder in any of the training formats.
    #[arg(long, value_name = "PATH")]
    data: PathBuf,
    /// How the data is read.
    #[arg(long, value_name = "NAME", default_value = "auto", value_parser = clap::builder::PossibleValuesParser::new(formats()))]
    format: String,
    /// For sources with splits (IMDB, folders with train/ and test/): the split to evaluate on.
    #[arg(long, value_parser = ["train", "test"], default_value = None)]
    split: Option<String>,
    /// Evaluate on a fixed, class-balanced sample of this many examples.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Score one part of a model with a wide path: the recurrent network or the wide path alone.
    #[arg(long, default_value = "model", value_parser = ["model", "recurrent", "wide"])]
    part: String,
    /// Print the report as JSON (accuracy, loss, macro_f1, per_class, confusion).
    #[arg(long)]
    json: bool,
    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    precision: crate::precision::PrecisionArg,
}

fn named<T: serde::de::DeserializeOwned>(what: &str, name: &str) -> Result<T, Failure> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).map_err(|e| Failure::new(USAGE, format!("{what} {name:?}: {e}")))
}

/// Scores the examples chunk by chunk, so that a long evaluation shows its progress; the figures
/// are those of `Model::evaluate_part`.
fn evaluate(model: &Model, spec: &DataSpec, part: Part, quiet: bool) -> Result<Evaluation, Failure> {
    let examples = spec.load()?;
    if examples.is_empty() {
        return Err(Failure::new(crate::exit::DATA, format!("{}: no examples to evaluate", spec.path.display())));
    }
    let labels = model.labels().indices(&examples)?;
    let bar = progress::bar(progress::bars(quiet), examples.len() as u64, "evaluating".to_string());
    let mut logits = Vec::new();
    for chunk in examples.chunks(CHUNK) {
        let texts: Vec<&str> = chunk.iter().map(|e| e.text.as_str()).collect();
        logits.extend(model.part_logits(&texts, part)?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(Evaluation::from_logits(&logits, &labels, model.labels()))
}

pub fn run(args: Args) -> Outcome {
    let model = Model::load(&args.model)?;
    args.precision.apply(&model)?;
    let spec = DataSpec {
        path: args.data.clone(),
        format: named::<Format>("format", &args.format)?,
        split: args.split.as_deref().map(|s| named::<Split>("split", s)).transpose()?,
        limit: args.limit.map(|n| n as usize),
    };
    let part = named::<Part>("part", &args.part)?;
    let report = evaluate(&model, &spec, part, args.quiet)?;
    if args.json {
        return print(&format!("{}\n", report.to_json()));
    }
    print(&text_report(&report))
}

fn text_report(r: &Evaluation) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "examples  {}", r.count);
    let _ = writeln!(out, "accuracy  {:.4}", r.accuracy);
    let _ = writeln!(out, "loss      {:.4}", r.loss);
    let _ = writeln!(out, "macro-F1  {:.4}", r.macro_f1);
    let width = r.per_class.iter().map(|c| c.label.chars().count()).max().unwrap_or(0).max("label".len());
    let _ = writeln!(out, "\n{:<width$}  precision  recall  f1      support", "label");
    for c in &r.per_class {
        let _ = writeln!(out, "{:<width$}  {:<9.4}  {:<6.4}  {:<6.4}  {}", c.label, c.precision, c.recall, c.f1, c.support);
    }
    let _ = writeln!(out, "\nconfusion (rows: actual, columns: predicted, in label order)");
    for (c, row) in r.per_class.iter().zip(&r.confusion) {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:>6}")).collect();
        let _ = writeln!(out, "{:<width$}  {}", c.label, cells.join(""));
    }
    out
}
