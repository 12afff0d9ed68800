//! The original `aclImdb/` folder: `{train,test}/{pos,neg}/<id>_<rating>.txt`, one review per
//! file. The folder itself or its parent may be given. The `unsup` reviews are not labeled and
//! are not read.

use std::path::{Path, PathBuf};

use super::{Example, Origin, Split, labels::BINARY, read_utf8};
use crate::error::{Error, Result};

/// Whether `path` is an aclImdb folder (or its parent): `train/pos` and `train/neg` inside.
pub fn looks_like(path: &Path) -> bool {
    let root = root(path);
    root.join("train/pos").is_dir() && root.join("train/neg").is_dir()
}

fn root(path: &Path) -> PathBuf {
    let nested = path.join("aclImdb");
    if !path.join("train").is_dir() && nested.is_dir() { nested } else { path.to_path_buf() }
}

/// Files sorted by the numeric id before the underscore, so the order is the same everywhere.
pub(super) fn review_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "txt") {
            files.push(path);
        }
    }
    let key = |p: &PathBuf| {
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        (stem.split('_').next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(u64::MAX), stem.to_string())
    };
    files.sort_by_cached_key(key);
    Ok(files)
}

pub fn load(path: &Path, split: Split) -> Result<Vec<Example>> {
    let root = root(path);
    let split_dir = root.join(split.folder());
    let mut out = Vec::new();
    for (label, sub) in [(BINARY[0], "neg"), (BINARY[1], "pos")] {
        let dir = split_dir.join(sub);
        if !dir.is_dir() {
            return Err(Error::data(format!("{}: missing folder; expected an aclImdb layout (train|test)/(pos|neg)/*.txt", dir.display())));
        }
        let files = review_files(&dir)?;
        if files.is_empty() {
            return Err(Error::data(format!("{}: holds no .txt reviews", dir.display())));
        }
        for file in files {
            let text = read_utf8(&file)?;
            if text.trim().is_empty() {
                return Err(Error::data(format!("{}: empty review file", file.display())));
            }
            out.push(Example { text, label: label.to_string(), origin: Origin::File(file.into()) });
        }
    }
    Ok(out)
}
