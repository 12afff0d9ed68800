// SPDX-License-Identifier: MIT OR Apache-2.0
//! How text becomes token ids: stored in a model file (`senti.text_config`).

use serde::{Deserialize, Serialize};

use super::Truncation;
use crate::error::{Result, check};

pub(crate) const MAX_VOCAB: usize = 2_000_000;
pub(crate) const MAX_LEN: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextConfig {
    /// Entries in the vocabulary, padding and unknown included.
    pub vocab_size: usize,
    pub max_len: usize,
    pub truncation: Truncation,
}

impl TextConfig {
    pub fn validate(&self) -> Result<()> {
        check((3..=MAX_VOCAB).contains(&self.vocab_size), || format!("vocab_size must be between 3 and {MAX_VOCAB}, got {}", self.vocab_size))?;
        check((1..=MAX_LEN).contains(&self.max_len), || format!("max_len must be between 1 and {MAX_LEN}, got {}", self.max_len))
    }
}
