// SPDX-License-Identifier: MIT OR Apache-2.0
//! Text preprocessing: tokenizer, vocabulary and the encoding of a review into token ids.

mod config;
mod encoding;
mod tokenizer;
mod vocab;

pub use config::TextConfig;
pub(crate) use config::{MAX_LEN, MAX_VOCAB};
pub use encoding::{Encoder, Truncation};
pub use tokenizer::Tokenizer;
pub use vocab::Vocab;
pub(crate) use vocab::{PAD_ID, UNK_ID};
