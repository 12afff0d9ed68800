// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti train`: trains a model on a data file or folder and saves it. Every training parameter
//! is a flag generated from the library's table (src/config/fields.rs: name, type, values,
//! default, doc), and every value goes through `TrainParams::set`, the setter the C API's
//! `senti_params_set_*` calls: one list of parameters, one set of checks.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::builder::{BoolishValueParser, PossibleValuesParser, TypedValueParser, ValueParser};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use indicatif::ProgressBar;
use senti::config::fields::{FIELDS, Field, FieldValue, Kind, Range};
use senti::{Control, Phase, Progress, TrainParams};

use std::fmt::Write as _;

use crate::exit::{Failure, IO, Outcome, print};
use crate::progress;

/// Train a model on labeled data and save it.
///
/// Starts from the defaults, then applies `--params FILE.json` (the JSON object `senti_train`
/// takes), then the flags. Progress goes to stderr, the result to stdout.
#[derive(clap::Args)]
pub struct Args {
    /// Where to write the model (a .safetensors file; replaced atomically).
    #[arg(short, long, value_name = "MODEL")]
    output: PathBuf,
    /// Training parameters as a JSON object (as `senti_train` takes them); flags override it.
    #[arg(long, value_name = "FILE.json")]
    params: Option<PathBuf>,
    /// No progress on stderr (bars are also hidden when stderr is not a terminal).
    #[arg(short, long)]
    quiet: bool,
}

/// The flag of a field: its name in kebab case, except the two data fields, which read as the
/// other subcommands' `--data` and `--format`.
fn flag_name(field: &Field) -> String {
    match field.name {
        "data_path" => "data".to_string(),
        "data_format" => "format".to_string(),
        name => name.replace('_', "-"),
    }
}

fn plain(s: &str) -> String {
    s.to_string()
}

/// Parses a flag's text as the field's kind; the value is then checked by the library's own
/// setter, so a value out of range is a usage error naming the field and its range.
fn parser(field: &'static Field) -> ValueParser {
    let check = move |value: FieldValue| -> Result<FieldValue, String> {
        TrainParams::default().set(field.name, value.clone()).map_err(|e| e.message().to_string())?;
        Ok(value)
    };
    match (field.range, field.kind()) {
        (Range::OneOf(values), _) => ValueParser::new(PossibleValuesParser::new(values.iter().copied()).map(|s| FieldValue::Str(Cow::Owned(s)))),
        (_, Kind::Bool) => ValueParser::new(BoolishValueParser::new().map(FieldValue::Bool)),
        (_, kind) => ValueParser::new(move |s: &str| -> Result<FieldValue, String> {
            if field.optional() && (s == "auto" || s == "null") {
                return Ok(FieldValue::Absent);
            }
            let value = match kind {
                Kind::Int => FieldValue::Int(s.parse().map_err(|_| format!("{} takes an integer", field.name))?),
                Kind::Float => FieldValue::Float(s.parse().map_err(|_| format!("{} takes a number", field.name))?),
                _ => FieldValue::Str(Cow::Owned(s.to_string())),
            };
            check(value)
        }),
    }
}

/// One flag per training parameter, in the table's order, under their own help heading.
pub fn with_parameter_flags(command: Command) -> Command {
    let flags = FIELDS.iter().map(|field| {
        let value_name = match field.kind() {
            Kind::Int => "N",
            Kind::Float => "X",
            Kind::Bool => "BOOL",
            Kind::Str if field.range == Range::Path => "PATH",
            Kind::Str => "NAME",
        };
        let values = match field.range {
            // clap lists the possible values itself.
            Range::OneOf(_) | Range::Path | Range::Bool => String::new(),
            _ => format!("; values {}", field.range_text(plain)),
        };
        let default = match field.default {
            FieldValue::Absent => "absent (automatic; `auto` makes it absent again)".to_string(),
            _ => field.default_text(plain),
        };
        let help = format!("{} [default: {default}{values}]", field.doc.replace('`', ""));
        let mut arg = Arg::new(field.name)
            .long(flag_name(field))
            .value_name(value_name)
            .help(help)
            .value_parser(parser(field))
            .action(ArgAction::Set)
            .help_heading("Training parameters (src/config/fields.rs)");
        if field.name != flag_name(field).replace('-', "_") {
            arg = arg.alias(field.name.replace('_', "-"));
        }
        if field.kind() == Kind::Bool {
            // `--bidirectional` alone means true; `--bidirectional false` turns it off.
            arg = arg.num_args(0..=1).default_missing_value("true").require_equals(false);
        }
        if field.name == "data_path" {
            arg = arg.required_unless_present("params");
        }
        arg
    });
    command.args(flags.collect::<Vec<_>>())
}

/// The defaults, then the JSON file, then the flags given on the command line.
fn parameters(args: &Args, matches: &ArgMatches) -> Result<TrainParams, Failure> {
    let mut params = match &args.params {
        None => TrainParams::default(),
        Some(path) => {
            let json = std::fs::read_to_string(path).map_err(|e| Failure::io(path.display(), e))?;
            TrainParams::from_json(&json).map_err(|e| Failure::from(e.context(path.display())))?
        }
    };
    for field in FIELDS {
        if matches.value_source(field.name) == Some(ValueSource::CommandLine)
            && let Some(value) = matches.get_one::<FieldValue>(field.name)
        {
            params.set(field.name, value.clone())?;
        }
    }
    params.validate()?;
    Ok(params)
}

/// Fails before hours of training if the model could not be written where asked.
fn check_output(path: &Path) -> Outcome {
    if path.is_dir() {
        return Err(Failure::new(IO, format!("{}: is a directory; --output names the model file", path.display())));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Failure::new(IO, format!("{}: cannot write the model: folder {} does not exist", path.display(), folder.display())));
    }
    Ok(())
}

/// Turns the library's progress reports into bars (on a terminal) or one line per epoch.
struct Reporter {
    bars: bool,
    quiet: bool,
    preparing: ProgressBar,
    bar: Option<(Phase, usize, ProgressBar)>,
    epoch_started: Instant,
}

impl Reporter {
    fn new(quiet: bool) -> Self {
        let bars = progress::bars(quiet);
        let preparing = progress::spinner(bars, "reading the data, building the vocabulary, fitting the wide path");
        Self { bars, quiet, preparing, bar: None, epoch_started: Instant::now() }
    }

    /// A line that stays: the epoch's figures, on a terminal and in logs alike.
    fn line(&mut self, text: String) {
        if let Some((_, _, bar)) = self.bar.take() {
            bar.finish_and_clear();
        }
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    fn report(&mut self, p: &Progress) -> Control {
        self.preparing.finish_and_clear();
        match p.phase {
            Phase::Epoch => {
                let validation = if p.val_accuracy.is_nan() {
                    String::new()
                } else {
                    format!(", validation loss {:.4} accuracy {:.4}", p.val_loss, p.val_accuracy)
                };
                let seconds = self.epoch_started.elapsed().as_secs_f64();
                self.line(format!("epoch {}/{}: loss {:.4} accuracy {:.4}{validation} ({seconds:.1} s)", p.epoch, p.epochs, p.loss, p.accuracy));
                self.epoch_started = Instant::now();
            }
            phase => {
                let current = matches!(&self.bar, Some((ph, epoch, _)) if *ph == phase && *epoch == p.epoch);
                if !current {
                    if let Some((_, _, bar)) = self.bar.take() {
                        bar.finish_and_clear();
                    }
                    let prefix = match phase {
                        Phase::Pretrain => format!("word vectors {}/{}", p.epoch, p.epochs),
                        _ => format!("epoch {}/{}", p.epoch, p.epochs),
                    };
                    self.bar = Some((phase, p.epoch, progress::bar(self.bars, p.batches as u64, prefix)));
                }
                if let Some((_, _, bar)) = &self.bar {
                    bar.set_position(p.batch as u64);
                    if phase == Phase::Batch {
                        bar.set_message(format!("loss {:.4} acc {:.4}", p.loss, p.accuracy));
                    }
                }
            }
        }
        Control::Continue
    }

    fn done(&mut self) {
        self.preparing.finish_and_clear();
        if let Some((_, _, bar)) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

pub fn run(args: Args, matches: &ArgMatches) -> Outcome {
    let params = parameters(&args, matches)?;
    check_output(&args.output)?;
    let mut reporter = Reporter::new(args.quiet);
    let trained = senti::train(&params, &mut |p| reporter.report(p));
    reporter.done();
    let model = trained?;
    model.save(&args.output)?;

    let record = model.record();
    let mut out = String::new();
    let labels = model.labels().names().join(", ");
    let _ = writeln!(out, "labels: {} ({labels})", model.labels().len());
    let _ = writeln!(out, "trained on {} examples in {:.1} s", record.train_examples, record.seconds);
    let best = record.history.get(record.best_epoch.saturating_sub(1));
    match (record.validation_examples, best) {
        (n, _) if record.history.is_empty() => {
            let accuracy = record.validation_parts.map_or(f64::NAN, |p| p.wide);
            let _ = writeln!(out, "validation: accuracy {accuracy:.4} on {n} examples (the wide path alone: layers 0, no network, no epochs)");
        }
        (0, _) | (_, None) => {
            let _ = writeln!(out, "validation: none (validation_fraction 0); the model holds the last epoch");
        }
        (n, Some(epoch)) => {
            let accuracy = record.validation_parts.map_or(epoch.val_accuracy.unwrap_or(f64::NAN), |p| p.combined);
            let _ = writeln!(out, "validation: accuracy {accuracy:.4} on {n} examples");
            let _ = writeln!(
                out,
                "  recurrent network, best epoch {} of {}: loss {:.4}, accuracy {:.4}",
                record.best_epoch,
                record.history.len(),
                epoch.val_loss.unwrap_or(f64::NAN),
                epoch.val_accuracy.unwrap_or(f64::NAN)
            );
            if let Some(parts) = record.validation_parts {
                let _ = writeln!(out, "  wide path alone: accuracy {:.4}; the two mixed: {:.4}", parts.wide, parts.combined);
            }
        }
    }
    let _ = writeln!(out, "model written to {}", args.output.display());
    print(&out)
}
