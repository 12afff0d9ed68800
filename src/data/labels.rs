// SPDX-License-Identifier: MIT OR Apache-2.0
//! The classes a model tells apart: their names, in a fixed order that the model file stores.
//! A class's index is its position; scores come in this order and `senti_predict` of a
//! two-class model is the probability of the second class.
//!
//! Labels inferred from training data are ordered by number when every one is a number
//! (`1` … `5` stars), else by their bytes (`negative` < `neutral` < `positive`). The IMDB sources
//! give `negative` and `positive`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Example;
use crate::error::{Error, Result};

/// Most classes a model may have.
pub(crate) const MAX_CLASSES: usize = 10_000;
/// Longest class name, in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 256;

/// The names of the two IMDB classes, in index order.
pub(crate) const BINARY: [&str; 2] = ["negative", "positive"];

/// Checks one class name: not empty, not over `MAX_NAME_BYTES`, no control characters.
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err("a label must not be empty".to_string());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!("a label is at most {MAX_NAME_BYTES} bytes, this one is {}", name.len()));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("label {name:?} holds a control character"));
    }
    Ok(())
}

fn number(name: &str) -> Option<u64> {
    if name.bytes().all(|b| b.is_ascii_digit()) { name.parse().ok() } else { None }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Labels {
    names: Vec<String>,
}

impl Labels {
    /// Labels in the given order: at least two, distinct, each a valid name.
    pub fn new(names: Vec<String>) -> Result<Self> {
        if names.len() < 2 {
            return Err(Error::data(format!("a classifier needs at least two classes; got {}: {names:?}", names.len())));
        }
        if names.len() > MAX_CLASSES {
            return Err(Error::data(format!("at most {MAX_CLASSES} classes are supported; got {}", names.len())));
        }
        let mut seen = BTreeSet::new();
        for name in &names {
            check_name(name).map_err(Error::data)?;
            if !seen.insert(name.as_str()) {
                return Err(Error::data(format!("label {name:?} is listed twice")));
            }
        }
        Ok(Self { names })
    }

    /// `negative`, `positive`: the IMDB task, and the labels of format-1 model files.
    pub fn binary() -> Self {
        Self { names: BINARY.iter().map(|s| s.to_string()).collect() }
    }

    /// The distinct labels of `examples`, ordered as the module explains. One class is an error.
    pub fn infer(examples: &[Example]) -> Result<Self> {
        let distinct: BTreeSet<&str> = examples.iter().map(|e| e.label.as_str()).collect();
        let mut names: Vec<String> = distinct.into_iter().map(str::to_string).collect();
        if names.iter().all(|n| number(n).is_some()) {
            names.sort_by_key(|n| number(n));
        }
        if names.len() == 1 {
            return Err(Error::data(format!("the training data has only one class ({:?}); a classifier needs at least two", names[0])));
        }
        Self::new(names)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn name(&self, index: usize) -> Option<&str> {
        self.names.get(index).map(String::as_str)
    }

    /// The index of a class name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The class of a label: its name, or else, when no class is named by a number, the class
    /// whose index the number is (so `0`/`1` files evaluate a `negative`/`positive` model). A
    /// model of numbered classes (`1` … `5` stars) takes numbers as names only, so a `0` there
    /// is an unknown label, not the first class.
    pub fn resolve(&self, label: &str) -> Option<usize> {
        Resolver::new(self).resolve(label)
    }

    /// The class index of every example; an unknown label is a data error naming where it is.
    pub fn indices(&self, examples: &[Example]) -> Result<Vec<u32>> {
        // One lookup table for the whole set: with many classes a scan per example would cost
        // classes × examples comparisons.
        let resolver = Resolver::new(self);
        examples
            .iter()
            .map(|e| {
                resolver.resolve(&e.label).map(|i| i as u32).ok_or_else(|| {
                    Error::data(format!("{}: label {:?} is not one of the model's labels ({})", e.origin, e.label, self.describe()))
                })
            })
            .collect()
    }

    /// The names for a message, shortened when there are many.
    pub fn describe(&self) -> String {
        let shown: Vec<String> = self.names.iter().take(10).map(|n| format!("{n:?}")).collect();
        if self.names.len() > 10 { format!("{}, … {} in all", shown.join(", "), self.names.len()) } else { shown.join(", ") }
    }
}

/// `Labels::resolve`'s rule, with the names indexed once.
struct Resolver<'a> {
    index: std::collections::HashMap<&'a str, usize>,
    /// Whether some class is named by a number (then numbers are names only).
    numbered: bool,
    len: usize,
}

impl<'a> Resolver<'a> {
    fn new(labels: &'a Labels) -> Self {
        let index = labels.names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        Self { index, numbered: labels.names.iter().any(|n| number(n).is_some()), len: labels.len() }
    }

    fn resolve(&self, label: &str) -> Option<usize> {
        self.index.get(label).copied().or_else(|| number(label).map(|n| n as usize).filter(|&n| !self.numbered && n < self.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Origin;

    fn ex(label: &str) -> Example {
        Example { text: "t".into(), label: label.into(), origin: Origin::Memory { index: 0 } }
    }

    #[test]
    fn infers_numeric_and_named_orders() {
        let stars = Labels::infer(&["10", "2", "1", "2"].map(ex)).unwrap();
        assert_eq!(stars.names(), ["1", "2", "10"]);
        let words = Labels::infer(&["positive", "neutral", "negative"].map(ex)).unwrap();
        assert_eq!(words.names(), ["negative", "neutral", "positive"]);
        assert!(Labels::infer(&["a", "a"].map(ex)).unwrap_err().to_string().contains("only one class"));
    }

    #[test]
    fn resolves_names_then_indices_and_names_unknown_labels() {
        let l = Labels::binary();
        assert_eq!((l.resolve("positive"), l.resolve("1"), l.resolve("0"), l.resolve("2")), (Some(1), Some(1), Some(0), None));
        let stars = Labels::new(vec!["1".into(), "2".into(), "3".into()]).unwrap();
        assert_eq!(stars.resolve("1"), Some(0), "a number that is a name means the name");
        assert_eq!(stars.resolve("0"), None, "numbered classes take numbers as names only");
        let err = l.indices(&[ex("neutral")]).unwrap_err().to_string();
        assert!(err.contains("example 0") && err.contains("\"neutral\"") && err.contains("\"positive\""), "{err}");
        assert!(Labels::new(vec!["a".into(), "a".into()]).is_err());
        assert!(Labels::new(vec!["a".into()]).is_err());
        assert!(Labels::new(vec!["a".into(), "b\n".into()]).is_err());
    }
}
