// SPDX-License-Identifier: MIT OR Apache-2.0
//! The library's one error type. It carries a kind (which the C boundary maps to a stable
//! status code) and a message written for the person reading a log.

use std::fmt;

mod kind;

pub use kind::ErrorKind;

#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data, message)
    }
    pub fn model_file(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ModelFile, message)
    }
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    pub fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, format!("{}: {err}", path.display()))
    }
    /// Prefixes the message with where the problem was found.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<candle_core::Error> for Error {
    fn from(err: candle_core::Error) -> Self {
        Self::new(ErrorKind::Internal, format!("tensor operation failed: {err}"))
    }
}

/// `Ok` when `ok`, else a configuration error with the message `msg` builds.
pub(crate) fn check(ok: bool, msg: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::config(msg())) }
}

/// Checks that `v` is finite and in [0, max).
pub(crate) fn check_fraction(name: &str, v: f32, max: f32) -> Result<()> {
    check(v.is_finite() && (0.0..max).contains(&v), || format!("{name} must be in [0, {max}), got {v}"))
}

/// Serde also fills a struct from a JSON array, field by field in declaration order: `[]` would
/// be every default (training the default model on the default data) and `["x.jsonl"]` a data
/// path. Parameters are JSON objects only.
pub(crate) fn require_object(json: &str, what: &str) -> Result<()> {
    check(!json.trim_start().starts_with('['), || format!("{what}: expected a JSON object, got an array"))
}
