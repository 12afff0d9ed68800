// SPDX-License-Identifier: MIT OR Apache-2.0
//! The original `aclImdb/` folder: `{train,test}/{pos,neg}/<id>_<rating>.txt`, one review per
//! file. The folder itself or its parent may be given. The `unsup` reviews are not labeled and
//! are not read.

use std::path::{Path, PathBuf};

use super::{Example, Split, labels::BINARY};
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

pub fn load(path: &Path, split: Split) -> Result<Vec<Example>> {
    let root = root(path);
    let split_dir = root.join(split.folder());
    let mut out = Vec::new();
    for (label, sub) in [(BINARY[0], "neg"), (BINARY[1], "pos")] {
        let dir = split_dir.join(sub);
        if !dir.is_dir() {
            return Err(Error::data(format!("{}: missing folder; expected an aclImdb layout (train|test)/(pos|neg)/*.txt", dir.display())));
        }
        out.extend(super::folders::read_class(&dir, label)?);
    }
    Ok(out)
}
