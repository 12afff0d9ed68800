// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti`: train, test and use libsenti text classifiers from the command line, in the manner of
//! fastText's tool (`senti train`, `senti test`, `senti predict`, `senti info`), and explains
//! predictions (`senti explain`). It uses the
//! library's Rust API; the training flags are generated from the table of training parameters
//! (src/config/fields.rs), so each parameter has one flag and one set of docs.

mod exit;
mod explain;
mod info;
mod precision;
mod predict;
mod progress;
mod test;
mod train;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  anything else (training diverged, a resource limit, an internal error)
  2  bad usage: unknown options, training parameters out of range
  3  bad data or input: unreadable data, unknown labels, a bad model file, text that is not UTF-8
  4  I/O: a missing or unreadable file, an output that cannot be written";

#[derive(Parser)]
#[command(name = "senti", version, about = "Train, test and use LSTM/GRU text classifiers (libsenti)", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Train(train::Args),
    Test(test::Args),
    Predict(predict::Args),
    Explain(explain::Args),
    Info(info::Args),
}

fn main() -> ExitCode {
    // The training flags come from the parameter table at run time, beside the derived ones.
    let command = Cli::command().mut_subcommand("train", train::with_parameter_flags);
    let matches = command.get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let outcome = match cli.command {
        Command::Train(args) => {
            let train_matches = matches.subcommand_matches("train").expect("the train subcommand");
            train::run(args, train_matches)
        }
        Command::Test(args) => test::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Info(args) => info::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("senti: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
