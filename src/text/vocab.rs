// SPDX-License-Identifier: MIT OR Apache-2.0
//! The vocabulary: id 0 is padding, id 1 stands for every word not in the vocabulary, and the
//! remaining ids go to the most frequent training words (ties broken alphabetically, so the same
//! data always gives the same vocabulary).

use std::collections::HashMap;

use super::Tokenizer;
use crate::error::{Error, Result};

pub(crate) const PAD_ID: u32 = 0;
pub(crate) const UNK_ID: u32 = 1;
const PAD: &str = "<pad>";
const UNK: &str = "<unk>";

#[derive(Debug, Clone, PartialEq)]
pub struct Vocab {
    words: Vec<String>,
    index: HashMap<String, u32>,
}

impl Vocab {
    /// Builds a vocabulary of at most `size` entries (padding and unknown included) from `texts`.
    pub fn build<'a>(tokenizer: &Tokenizer, texts: impl IntoIterator<Item = &'a str>, size: usize) -> Result<Self> {
        if size < 3 {
            return Err(Error::config(format!("vocab_size must be at least 3 (padding, unknown and one word), got {size}")));
        }
        let mut counts: HashMap<String, u64> = HashMap::new();
        for text in texts {
            tokenizer.for_each_token(text, |tok| {
                if let Some(c) = counts.get_mut(tok) {
                    *c += 1;
                } else {
                    counts.insert(tok.to_string(), 1);
                }
            });
        }
        let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(size - 2);
        let words = [PAD.to_string(), UNK.to_string()].into_iter().chain(ranked.into_iter().map(|(w, _)| w)).collect();
        Self::from_words(words)
    }

    /// Rebuilds a vocabulary from its id-ordered word list (as stored in a model file).
    pub fn from_words(words: Vec<String>) -> Result<Self> {
        if words.len() < 2 || words[0] != PAD || words[1] != UNK {
            return Err(Error::model_file("vocabulary must start with \"<pad>\" and \"<unk>\""));
        }
        let mut index = HashMap::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            if index.insert(w.clone(), i as u32).is_some() {
                return Err(Error::model_file(format!("vocabulary lists {w:?} twice")));
            }
        }
        Ok(Self { words, index })
    }

    pub fn id(&self, token: &str) -> u32 {
        self.index.get(token).copied().unwrap_or(UNK_ID)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_frequent_words_first_with_reserved_ids() {
        let texts = ["b a a c", "a b d"];
        let v = Vocab::build(&Tokenizer::new(), texts, 4).unwrap();
        assert_eq!(v.words(), ["<pad>", "<unk>", "a", "b"]);
        assert_eq!(v.id("a"), 2);
        assert_eq!(v.id("c"), UNK_ID);
        assert_eq!(v.id("never"), UNK_ID);
    }

    #[test]
    fn ties_are_alphabetical_and_size_is_a_cap() {
        let v = Vocab::build(&Tokenizer::new(), ["z y x"], 100).unwrap();
        assert_eq!(v.words(), ["<pad>", "<unk>", "x", "y", "z"]);
        assert!(Vocab::build(&Tokenizer::new(), ["a"], 2).is_err());
    }

    #[test]
    fn round_trips_through_word_list_and_rejects_bad_lists() {
        let v = Vocab::build(&Tokenizer::new(), ["one two two"], 10).unwrap();
        assert_eq!(Vocab::from_words(v.words().to_vec()).unwrap(), v);
        assert!(Vocab::from_words(vec!["a".into(), "b".into()]).is_err());
        assert!(Vocab::from_words(vec![PAD.into(), UNK.into(), "x".into(), "x".into()]).is_err());
    }
}
