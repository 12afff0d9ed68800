// SPDX-License-Identifier: MIT OR Apache-2.0
//! A labeled data source named by JSON, as `senti_evaluate` takes it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Example, Format, Split, sample};
use crate::error::{Error, Result, check, require_object};
use crate::rng::Rng;

/// Labeled data to evaluate on: a path, its format, the split of a source that has splits and
/// an optional sample size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    pub path: PathBuf,
    #[serde(default)]
    pub format: Format,
    /// For sources with splits; defaults to the test split. Must be absent for JSONL and CSV
    /// files and for a folder of class folders without splits.
    #[serde(default)]
    pub split: Option<Split>,
    /// Evaluate on at most this many examples (a fixed, class-balanced sample).
    #[serde(default)]
    pub limit: Option<usize>,
}

impl DataSpec {
    pub fn from_json(json: &str) -> Result<Self> {
        require_object(json, "data specification")?;
        let spec: Self = serde_json::from_str(json).map_err(|e| Error::config(format!("data specification: {e}")))?;
        spec.validate()?;
        Ok(spec)
    }

    pub fn validate(&self) -> Result<()> {
        check(self.limit != Some(0), || "limit must be at least 1".to_string())
    }

    pub fn load(&self) -> Result<Vec<Example>> {
        let format = self.format.resolve(&self.path)?;
        let split = if format.has_splits(&self.path) { Some(self.split.unwrap_or(Split::Test)) } else { self.split };
        let examples = super::load(&self.path, format, split)?;
        Ok(match self.limit {
            Some(limit) => sample::balanced(examples, limit, &mut Rng::new(0)),
            None => examples,
        })
    }
}
