// SPDX-License-Identifier: MIT OR Apache-2.0
//! One folder per class, the layout scikit-learn's `load_files` and Keras'
//! `text_dataset_from_directory` read: `ROOT/<label>/*.txt`, or, for a source with splits,
//! `ROOT/train/<label>/*.txt` and `ROOT/test/<label>/*.txt`. The folder's name is the label;
//! each `.txt` file is one example. Other files and hidden folders are not read.

use std::path::{Path, PathBuf};

use super::{Example, Origin, Split, labels, read_utf8};
use crate::error::{Error, Result};

/// Files sorted by the numeric id before the underscore, so the order is the same everywhere.
fn review_files(dir: &Path) -> Result<Vec<PathBuf>> {
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

/// Whether `root` holds a `train` folder (and so train and test splits).
pub fn has_splits(root: &Path) -> bool {
    root.join(Split::Train.folder()).is_dir()
}

fn class_folders(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = std::fs::read_dir(root).map_err(|e| Error::io(root, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(root, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            return Err(Error::data(format!("{}: a class folder's name must be UTF-8", path.display())));
        };
        if !path.is_dir() || name.starts_with('.') {
            continue;
        }
        labels::check_name(&name).map_err(|e| Error::data(format!("{}: {e}", path.display())))?;
        out.push((name, path));
    }
    out.sort();
    Ok(out)
}

pub fn load(path: &Path, split: Option<Split>) -> Result<Vec<Example>> {
    let root = match split {
        Some(split) => path.join(split.folder()),
        None => path.to_path_buf(),
    };
    if !root.is_dir() {
        return Err(Error::data(format!("{}: missing folder; expected ROOT/<label>/*.txt or ROOT/train|test/<label>/*.txt", root.display())));
    }
    let classes = class_folders(&root)?;
    if classes.is_empty() {
        return Err(Error::data(format!("{}: holds no class folders; expected ROOT/<label>/*.txt", root.display())));
    }
    let mut out = Vec::new();
    for (label, dir) in classes {
        out.extend(read_class(&dir, &label)?);
    }
    Ok(out)
}

/// Every `.txt` file of one class folder, in file order (numeric ids first), as examples of
/// `label`. An empty folder or an empty file is an error: nothing is skipped.
pub(super) fn read_class(dir: &Path, label: &str) -> Result<Vec<Example>> {
    let files = review_files(dir)?;
    if files.is_empty() {
        return Err(Error::data(format!("{}: the class folder holds no .txt files", dir.display())));
    }
    files
        .into_iter()
        .map(|file| {
            let text = read_utf8(&file)?;
            if text.trim().is_empty() {
                return Err(Error::data(format!("{}: empty text file", file.display())));
            }
            Ok(Example { text, label: label.to_string(), origin: Origin::File(file.into()) })
        })
        .collect()
}
