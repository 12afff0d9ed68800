// SPDX-License-Identifier: MIT OR Apache-2.0
//! The data loaders on bytes in memory (`data::parse`). The first byte picks the format (its
//! value modulo 3: IMDB JSON, JSONL, CSV); the rest is the file. A refusal must be a data error;
//! what is accepted must have valid labels (IMDB JSON: negative/positive) and come back
//! unchanged (texts and labels) when written out in the same format and parsed again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use senti::{ErrorKind, Example, Format, data};

fn write(format: Format, examples: &[Example]) -> String {
    match format {
        Format::ImdbJson => {
            let entries: Vec<_> = examples.iter().map(|e| serde_json::json!({ "t": e.text, "s": (e.label == "positive") as u8 })).collect();
            serde_json::to_string(&entries).unwrap()
        }
        Format::Jsonl => examples.iter().map(|e| serde_json::json!({ "text": e.text, "label": e.label }).to_string() + "\n").collect(),
        Format::Csv => {
            let mut out = String::from("label,text\r\n");
            for e in examples {
                out += &format!("\"{}\",\"{}\"\r\n", e.label.replace('"', "\"\""), e.text.replace('"', "\"\""));
            }
            out
        }
        _ => unreachable!(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, content)) = data.split_first() else { return };
    let format = [Format::ImdbJson, Format::Jsonl, Format::Csv][usize::from(selector % 3)];
    match data::parse(format, "fuzz-input", content) {
        Ok(examples) => {
            assert!(examples.iter().all(|e| senti::data::labels::check_name(&e.label).is_ok()));
            if format == Format::ImdbJson {
                assert!(examples.iter().all(|e| e.label == "negative" || e.label == "positive"));
            }
            let again = write(format, &examples);
            let back = data::parse(format, "rewritten", again.as_bytes()).unwrap_or_else(|e| panic!("rewritten data is refused: {e}"));
            let pairs = |v: &[Example]| v.iter().map(|e| (e.text.clone(), e.label.clone())).collect::<Vec<_>>();
            assert_eq!(pairs(&back), pairs(&examples), "the examples change when written out and parsed again");
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Data, "{e}");
            assert!(e.message().contains("fuzz-input"), "the error does not name the file: {e}");
        }
    }
});
