// SPDX-License-Identifier: MIT OR Apache-2.0
//! The checksum that turns a damaged model file into an error (format 3 on).
//!
//! The metadata entry `senti.checksum` holds `crc32c:` and eight hex digits: the CRC-32C of the
//! whole file as written with those eight digits as `0`s. The whole file, byte for byte: the
//! length prefix, the header with every metadata entry and tensor entry, every tensor's data.
//! So no part needs a canonical form to be checked (JSON whitespace, key order), and one changed
//! byte anywhere is found, always: a CRC detects every error burst of up to 32 bits.
//!
//! The digits have a fixed length, so they are written into the serialised file in place, and
//! checking reads the file once without copying it.

use crate::error::{Error, Result};

/// The metadata key.
pub(super) const KEY: &str = "senti.checksum";
/// The digits as the checksum is computed: read as zeros. One literal for both uses below.
macro_rules! zero_digits {
    () => {
        "00000000"
    };
}
/// The value written before the file's checksum is known; the same length as the final one.
pub(super) const PLACEHOLDER: &str = concat!("crc32c:", zero_digits!());
/// The entry as serde_json writes it into the header, up to the digits.
const ENTRY: &[u8] = b"\"senti.checksum\":\"crc32c:";
const ZEROS: &[u8] = zero_digits!().as_bytes();
const DIGITS: usize = ZEROS.len();

/// The offset of the checksum's digits in `bytes`: the entry must appear exactly once in the
/// header, in the form this library writes, with eight lowercase hex digits.
fn digits_at(bytes: &[u8]) -> Result<usize> {
    let malformed = || Error::model_file(format!("metadata {KEY:?} is missing or not of the form \"crc32c:<8 hex digits>\""));
    let header_len = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap())).ok_or_else(malformed)?;
    let header = usize::try_from(header_len).ok().and_then(|n| bytes.get(8..8usize.checked_add(n)?)).ok_or_else(malformed)?;
    let mut found = header.windows(ENTRY.len()).enumerate().filter(|(_, w)| *w == ENTRY).map(|(i, _)| 8 + i + ENTRY.len());
    let at = found.next().ok_or_else(malformed)?;
    if found.next().is_some() {
        return Err(Error::model_file(format!("metadata {KEY:?} appears more than once")));
    }
    let digits = bytes.get(at..at + DIGITS).ok_or_else(malformed)?;
    if !digits.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)) || bytes.get(at + DIGITS) != Some(&b'"') {
        return Err(malformed());
    }
    Ok(at)
}

/// The CRC-32C of `bytes` with the digits at `at` read as zeros.
fn checksum(bytes: &[u8], at: usize) -> u32 {
    let crc = crc32c::crc32c(&bytes[..at]);
    let crc = crc32c::crc32c_append(crc, ZEROS);
    crc32c::crc32c_append(crc, &bytes[at + DIGITS..])
}

/// Writes the checksum of `bytes` into its `senti.checksum` entry (which holds any digits,
/// usually `PLACEHOLDER`'s).
pub fn seal(bytes: &mut [u8]) -> Result<()> {
    let at = digits_at(bytes)?;
    let crc = checksum(bytes, at);
    bytes[at..at + DIGITS].copy_from_slice(format!("{crc:08x}").as_bytes());
    Ok(())
}

/// `SENTI_ERR_MODEL_FILE` unless the checksum recorded in `bytes` is the checksum of `bytes`.
pub(super) fn verify(bytes: &[u8]) -> Result<()> {
    let at = digits_at(bytes)?;
    let stored = std::str::from_utf8(&bytes[at..at + DIGITS]).ok().and_then(|s| u32::from_str_radix(s, 16).ok());
    let computed = checksum(bytes, at);
    match stored {
        Some(stored) if stored == computed => Ok(()),
        _ => Err(Error::model_file(format!(
            "the file is damaged: it records checksum crc32c:{}, its contents give crc32c:{computed:08x}",
            String::from_utf8_lossy(&bytes[at..at + DIGITS])
        ))),
    }
}
