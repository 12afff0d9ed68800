// SPDX-License-Identifier: MIT OR Apache-2.0
//! The tokenizer, documented in the README and the header:
//! 1. the text is lowercased (Unicode-aware);
//! 2. the HTML line breaks IMDB reviews carry (`<br />`, `<br/>`, `<br>`) become spaces;
//! 3. a word is a run of letters and digits, which may hold an apostrophe between two of them
//!    ("don't", "it's"); every other visible character (punctuation, symbols) is a token of its own;
//!    whitespace and control characters (NUL included) separate tokens and are dropped.

use std::ops::Range;

#[derive(Debug, Clone, Copy, Default)]
pub struct Tokenizer;

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// The byte range of every token of normalised `text`, in order.
fn scan(text: &str, mut emit: impl FnMut(Range<usize>)) {
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
            emit(start..end);
        } else if !c.is_whitespace() && !c.is_control() {
            emit(start..start + c.len_utf8());
        }
    }
}

/// `str::replace(pattern, " ")` over `text`, carrying each byte's source range along; the space
/// comes from the whole replaced pattern.
fn replace_with_space(text: &str, origin: &[Range<usize>], pattern: &str) -> (String, Vec<Range<usize>>) {
    let mut out = String::with_capacity(text.len());
    let mut out_origin = Vec::with_capacity(origin.len());
    let mut last = 0;
    for (at, _) in text.match_indices(pattern) {
        out.push_str(&text[last..at]);
        out_origin.extend_from_slice(&origin[last..at]);
        out.push(' ');
        out_origin.push(origin[at].start..origin[at + pattern.len() - 1].end);
        last = at + pattern.len();
    }
    out.push_str(&text[last..]);
    out_origin.extend_from_slice(&origin[last..]);
    (out, out_origin)
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
        scan(&text, |span| emit(&text[span]));
    }

    /// Calls `emit` with each token and its byte range in `text` as the caller gave it (before
    /// lowercasing, which can change a character's length, and before line breaks become
    /// spaces). The tokens are exactly `for_each_token`'s. Ranges are in order and do not
    /// overlap, except in a character whose lowercase the tokenizer splits: İ lowercases to i
    /// and a combining dot, two tokens whose ranges both hold the İ. Keeps one source range per byte of the normalised text: meant
    /// for explaining one text, not for streaming huge ones.
    pub fn for_each_token_span(&self, text: &str, mut emit: impl FnMut(&str, Range<usize>)) {
        let mut normal = String::with_capacity(text.len());
        // For every byte of `normal`, the range of the source character it came from.
        let mut origin: Vec<Range<usize>> = Vec::with_capacity(text.len());
        for (at, c) in text.char_indices() {
            let source = at..at + c.len_utf8();
            for lower in c.to_lowercase() {
                normal.push(lower);
                origin.resize(normal.len(), source.clone());
            }
        }
        if normal.contains("<br") {
            for pattern in ["<br />", "<br/>", "<br>"] {
                (normal, origin) = replace_with_space(&normal, &origin, pattern);
            }
        }
        scan(&normal, |span| emit(&normal[span.clone()], origin[span.start].start..origin[span.end - 1].end));
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

    /// Every token with the source text of its span.
    fn spans(s: &str) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        Tokenizer::new().for_each_token_span(s, |t, span| out.push((t.to_string(), &s[span])));
        out
    }

    #[test]
    fn spans_point_into_the_original_text() {
        let text = "Great<BR />MOVIE, İstanbul's <br/>don't";
        let got = spans(text);
        // İ lowercases to i and a combining dot, which the tokenizer splits: both share its range.
        let want = [("great", "Great"), ("movie", "MOVIE"), (",", ","), ("i", "İ"), ("\u{307}", "İ"), ("stanbul's", "stanbul's"), ("don't", "don't")];
        assert_eq!(got.iter().map(|(t, s)| (t.as_str(), *s)).collect::<Vec<_>>(), want);
    }

    #[test]
    fn spans_give_the_same_tokens_as_the_plain_tokenizer() {
        // Awkward inputs: patterns made by earlier replacements, characters whose lowercase is
        // longer, marks, control characters, apostrophes at the ends.
        let samples = [
            "<br<br />/>x", "<b<br/>r>y", "ẞİK<br>ǅ'a'", "a\u{0}b\u{301}c", "'tis rock'n'roll'", "<br />", "", "x<br>",
            "ΣΑΣ  9/10!!", "\u{2019}s it\u{2019}s",
        ];
        for text in samples {
            let tokens: Vec<String> = spans(text).into_iter().map(|(t, _)| t).collect();
            assert_eq!(tokens, toks(text), "{text:?}");
        }
        let mut seed = 1u64;
        let alphabet: Vec<char> = "aZ İß'<br/> \u{0}\u{2019}.!9".chars().collect();
        for _ in 0..2000 {
            let text: String = (0..24)
                .map(|_| {
                    seed = crate::rng::mix64(seed);
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let mut last = 0..0;
            let mut tokens = Vec::new();
            Tokenizer::new().for_each_token_span(&text, |t, span| {
                // In order; tokens overlap only in a character that lowercases apart.
                let ordered = span.start >= last.end || (span.start >= last.start && span.end >= last.end && span.len() <= 4);
                assert!(ordered && span.start < span.end && text.is_char_boundary(span.end), "{text:?} {span:?} after {last:?}");
                last = span.clone();
                tokens.push(t.to_string());
            });
            assert_eq!(tokens, toks(&text), "{text:?}");
        }
    }

    #[test]
    fn unicode_words_digits_and_control_characters() {
        assert_eq!(toks("Ça VA\u{0}10/10\t\n"), ["ça", "va", "10", "/", "10"]);
        assert!(toks("").is_empty());
        assert!(toks(" \u{0}\u{0} ").is_empty());
    }
}
