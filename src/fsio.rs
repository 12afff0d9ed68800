// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bounded reads of whole files, for data files and model files alike.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, ErrorKind, Result};

/// Reads `path` whole. Only regular files (or links to them) are read: a device such as
/// /dev/zero reports length 0 and never ends, a FIFO can block the open until a writer comes.
/// A file larger than `max` bytes, or one that grows past it while it is read, is a
/// `ResourceLimit` error naming `what` ("data files", "model files").
pub(crate) fn read_regular_file(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::new(ErrorKind::Io, format!("{}: is a directory, not a file", path.display())));
    }
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::Io, format!("{}: not a regular file", path.display())));
    }
    if meta.len() > max {
        return Err(Error::new(ErrorKind::ResourceLimit, format!("{}: {} bytes; {what} are limited to {max} bytes", path.display(), meta.len())));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::new(ErrorKind::ResourceLimit, format!("{}: grew past {max} bytes while being read; {what} are limited to that", path.display())));
    }
    Ok(bytes)
}
