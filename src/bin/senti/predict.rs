// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti predict`: labels each line of stdin or of the files given, one output line per input
//! line: `label<TAB>probability`, with `-k N` the N most likely labels as tab-separated pairs.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use senti::Model;

use crate::exit::{DATA, Failure, Outcome, stdout_error};

/// Lines per forward pass.
const CHUNK: usize = 256;

/// Predict the labels of texts, one per line.
///
/// Reads stdin when no file is given (or for `-`). Each input line gives one output line, empty
/// lines included (a text without words gets the model's answer for an unknown word).
#[derive(clap::Args)]
pub struct Args {
    /// The model file.
    model: PathBuf,
    /// Files of texts, one per line; `-` or none: stdin.
    files: Vec<PathBuf>,
    /// Print the K most likely labels of each text, most likely first (at most the model's labels).
    #[arg(short = 'k', long = "top", value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    k: u64,
    /// One JSON array per line: `[{"label": ..., "probability": ...}, ...]`.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    precision: crate::precision::PrecisionArg,
}

struct Printer<W: Write> {
    out: W,
    k: usize,
    json: bool,
}

impl<W: Write> Printer<W> {
    fn texts(&mut self, model: &Model, texts: &[String]) -> Outcome {
        if texts.is_empty() {
            return Ok(());
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let scores = model.scores_batch(&refs)?;
        let names = model.labels().names();
        for row in scores.chunks_exact(names.len()) {
            let mut order: Vec<usize> = (0..row.len()).collect();
            // Stable: ties keep the lower index first, as the library's top label does.
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
            order.truncate(self.k);
            let line = if self.json {
                let picks: Vec<serde_json::Value> = order.iter().map(|&i| serde_json::json!({"label": names[i], "probability": row[i]})).collect();
                serde_json::Value::Array(picks).to_string()
            } else {
                order.iter().map(|&i| format!("{}\t{:.6}", names[i], row[i])).collect::<Vec<_>>().join("\t")
            };
            writeln!(self.out, "{line}").map_err(stdout_error)?;
        }
        Ok(())
    }

    /// Every line of `input`, in chunks; `name` is for messages.
    fn input(&mut self, model: &Model, name: &str, input: impl Read) -> Outcome {
        let mut reader = BufReader::new(input);
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut line = Vec::new();
        for number in 1.. {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(|e| Failure::io(name, e))?;
            if n == 0 {
                break;
            }
            if line.ends_with(b"\n") {
                line.pop();
                if line.ends_with(b"\r") {
                    line.pop();
                }
            }
            let text = String::from_utf8(std::mem::take(&mut line)).map_err(|_| Failure::new(DATA, format!("{name}: line {number}: not valid UTF-8")))?;
            chunk.push(text);
            if chunk.len() == CHUNK {
                self.texts(model, &chunk)?;
                chunk.clear();
            }
        }
        self.texts(model, &chunk)?;
        self.out.flush().map_err(stdout_error)
    }
}

pub fn run(args: Args) -> Outcome {
    let model = Model::load(&args.model)?;
    args.precision.apply(&model)?;
    let k = (args.k as usize).min(model.labels().len());
    let mut printer = Printer { out: BufWriter::new(std::io::stdout().lock()), k, json: args.json };
    if args.files.is_empty() {
        return printer.input(&model, "stdin", std::io::stdin().lock());
    }
    // Every file opens before the first line is printed: a missing one fails with no output.
    let mut inputs = Vec::new();
    for path in &args.files {
        let file = if path.as_os_str() == "-" { None } else { Some(std::fs::File::open(path).map_err(|e| Failure::io(path.display(), e))?) };
        inputs.push((path.display().to_string(), file));
    }
    for (name, file) in inputs {
        match file {
            None => printer.input(&model, "stdin", std::io::stdin().lock())?,
            Some(file) => printer.input(&model, &name, file)?,
        }
    }
    Ok(())
}
