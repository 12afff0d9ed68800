// SPDX-License-Identifier: MIT OR Apache-2.0
//! The tokenizer, documented in the README and the header:
//! 1. the text is lowercased (Unicode-aware);
//! 2. the HTML line breaks IMDB reviews carry (`<br />`, `<br/>`, `<br>`) become spaces;
//! 3. a word is a run of letters and digits, which may hold an apostrophe between two of them
//!    ("don't", "it's"); every other visible character (punctuation, symbols) is a token of its own;
//!    whitespace and control characters (NUL included) separate tokens and are dropped.

#[derive(Debug, Clone, Copy, Default)]
pub struct Tokenizer;

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

impl Tokenizer {
    pub fn new() -> Self {
        Tokenizer
    }

    fn normalize(text: &str) -> String {
        let lower: String = text.chars().flat_map(char::to_lowercase).collect();
        if lower.contains("<br") {
            lower.replace("<br />", " ").replace("<br/>", " ").replace("<br>", " ")
        } else {
            lower
        }
    }

    /// Calls `emit` with each token in order. Works in one pass over the normalised text with
    /// no per-character storage, so memory stays near the text's own size even for huge inputs.
    pub fn for_each_token(&self, text: &str, mut emit: impl FnMut(&str)) {
        let text = Self::normalize(text);
        let mut chars = text.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            if c.is_alphanumeric() {
                let mut end = start + c.len_utf8();
                while let Some(&(p, d)) = chars.peek() {
                    if d.is_alphanumeric() {
                        end = p + d.len_utf8();
                        chars.next();
                        continue;
                    }
                    // An apostrophe joins only when a letter or digit follows it.
                    let mut ahead = chars.clone();
                    ahead.next();
                    match ahead.peek() {
                        Some(&(q, e)) if is_apostrophe(d) && e.is_alphanumeric() => {
                            end = q + e.len_utf8();
                            chars.next();
                            chars.next();
                        }
                        _ => break,
                    }
                }
                emit(&text[start..end]);
            } else if !c.is_whitespace() && !c.is_control() {
                emit(&text[start..start + c.len_utf8()]);
            }
        }
    }

    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_token(text, |t| out.push(t.to_string()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        Tokenizer::new().tokenize(s)
    }

    #[test]
    fn lowercases_and_splits_punctuation() {
        assert_eq!(toks("Great movie, LOVED it!"), ["great", "movie", ",", "loved", "it", "!"]);
    }

    #[test]
    fn removes_html_breaks() {
        assert_eq!(toks("Bad.<br /><br />Really<BR/>bad<br>ok"), ["bad", ".", "really", "bad", "ok"]);
    }

    #[test]
    fn keeps_inner_apostrophes_only() {
        assert_eq!(toks("don't 'quoted' it\u{2019}s"), ["don't", "'", "quoted", "'", "it\u{2019}s"]);
    }

    #[test]
    fn unicode_words_digits_and_control_characters() {
        assert_eq!(toks("Ça VA\u{0}10/10\t\n"), ["ça", "va", "10", "/", "10"]);
        assert!(toks("").is_empty());
        assert!(toks(" \u{0}\u{0} ").is_empty());
    }
}
