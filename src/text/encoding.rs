// SPDX-License-Identifier: MIT OR Apache-2.0
//! Turns a review into the token ids the model reads. Reviews longer than `max_len` tokens are
//! truncated; shorter ones are *not* padded here: batches carry each review's length and the
//! recurrent layers stop at it (see `nn::recurrent`), so padding never reaches the state.

use serde::{Deserialize, Serialize};

use super::{TextConfig, Tokenizer, UNK_ID, Vocab};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Truncation {
    /// Keep the last `max_len` tokens (Keras' `truncating="pre"`): reviews tend to conclude.
    KeepEnd,
    /// Keep the first `max_len` tokens.
    KeepStart,
}

#[derive(Debug, Clone)]
pub struct Encoder {
    pub tokenizer: Tokenizer,
    pub vocab: Vocab,
    pub max_len: usize,
    pub truncation: Truncation,
}

impl Encoder {
    /// The encoder of a model whose text settings are `config` and vocabulary `vocab`.
    pub fn new(vocab: Vocab, config: &TextConfig) -> Self {
        Self { tokenizer: Tokenizer::new(), vocab, max_len: config.max_len, truncation: config.truncation }
    }

    /// Token ids of `text`, at most `max_len` of them. A text without any token encodes as a
    /// single unknown word, so every review has a state to classify.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.encode_observing(text, |_| {})
    }

    /// Ids of every token of `text`, however many: the untruncated text, for learning word
    /// vectors from.
    pub fn encode_whole(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        self.tokenizer.for_each_token(text, |t| ids.push(self.vocab.id(t)));
        ids
    }

    /// `encode`, also handing every token of the whole text (truncated or not) to `each`, so
    /// that another reader of the tokens (the wide path) needs no second tokenizing pass.
    pub fn encode_observing(&self, text: &str, mut each: impl FnMut(&str)) -> Vec<u32> {
        // Never hold more than max_len ids: a huge text costs time, not memory.
        let mut ids = std::collections::VecDeque::with_capacity(self.max_len.min(4096));
        self.tokenizer.for_each_token(text, |t| {
            each(t);
            match self.truncation {
                Truncation::KeepStart if ids.len() >= self.max_len => {}
                Truncation::KeepStart => ids.push_back(self.vocab.id(t)),
                Truncation::KeepEnd => {
                    if ids.len() == self.max_len {
                        ids.pop_front();
                    }
                    ids.push_back(self.vocab.id(t));
                }
            }
        });
        if ids.is_empty() {
            ids.push_back(UNK_ID);
        }
        ids.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoder(max_len: usize, truncation: Truncation) -> Encoder {
        let tokenizer = Tokenizer::new();
        let vocab = Vocab::build(&tokenizer, ["a b c d e"], 10).unwrap();
        Encoder { tokenizer, vocab, max_len, truncation }
    }

    #[test]
    fn truncates_at_the_chosen_end() {
        assert_eq!(encoder(2, Truncation::KeepEnd).encode("a b c"), [3, 4]);
        assert_eq!(encoder(2, Truncation::KeepStart).encode("a b c"), [2, 3]);
        assert_eq!(encoder(9, Truncation::KeepEnd).encode("a zzz"), [2, UNK_ID]);
    }

    #[test]
    fn huge_texts_keep_the_chosen_end() {
        let text = format!("{} d e", "a b c ".repeat(200_000));
        assert_eq!(encoder(4, Truncation::KeepEnd).encode(&text), [3, 4, 5, 6]);
        assert_eq!(encoder(4, Truncation::KeepStart).encode(&text), [2, 3, 4, 2]);
    }

    #[test]
    fn empty_text_is_one_unknown_word() {
        assert_eq!(encoder(5, Truncation::KeepEnd).encode(""), [UNK_ID]);
        assert_eq!(encoder(5, Truncation::KeepEnd).encode(" \t"), [UNK_ID]);
    }
}
