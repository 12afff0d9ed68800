// SPDX-License-Identifier: MIT OR Apache-2.0
//! Exit codes and the one way a subcommand fails: a message for stderr and a code.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | anything else (training diverged or was cancelled, a resource limit, an internal error) |
//! | 2 | bad usage: clap's own errors, and training parameters or options the library refuses |
//! | 3 | bad data or input: unreadable data, invalid or unknown labels, a bad model file, text that is not UTF-8 |
//! | 4 | I/O: a missing or unreadable file, an output that cannot be written |

use std::fmt;

use senti::ErrorKind;

pub const OTHER: u8 = 1;
pub const USAGE: u8 = 2;
pub const DATA: u8 = 3;
pub const IO: u8 = 4;

/// The exit code of a library error. Every kind is named, so a new kind in the library's status
/// table does not compile here until it has a code.
pub fn code_of(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Config => USAGE,
        ErrorKind::Data | ErrorKind::ModelFile | ErrorKind::InvalidUtf8 | ErrorKind::InvalidArgument => DATA,
        ErrorKind::Io => IO,
        ErrorKind::Cancelled | ErrorKind::Diverged | ErrorKind::ResourceLimit | ErrorKind::Internal => OTHER,
    }
}

/// Why a subcommand stopped: printed as `senti: {message}` and exited with `code`.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// An operating-system error on `path` (reading input, writing output).
    pub fn io(path: impl fmt::Display, err: std::io::Error) -> Self {
        Self::new(IO, format!("{path}: {err}"))
    }
}

impl From<senti::Error> for Failure {
    fn from(err: senti::Error) -> Self {
        Self::new(code_of(err.kind()), err.message())
    }
}

pub type Outcome = Result<(), Failure>;

/// Writing to stdout: a closed pipe (`senti predict ... | head`) ends the program quietly, any
/// other error is an I/O failure.
pub fn stdout_error(err: std::io::Error) -> Failure {
    if err.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    Failure::io("stdout", err)
}

/// Writes `text` to stdout, by the rules of `stdout_error`.
pub fn print(text: &str) -> Outcome {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(stdout_error)
}
