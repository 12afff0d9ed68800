// SPDX-License-Identifier: MIT OR Apache-2.0
//! JSON Lines: one `{"text": ..., "label": ...}` object per line; the label is a string or a
//! non-negative integer. Blank lines are allowed;
//! extra fields (an id, a source) are ignored.

use std::path::Path;

use std::sync::Arc;

use super::{Example, Origin, label_of_json, read_utf8};
use crate::error::{Error, Result};

#[derive(serde::Deserialize)]
struct Line {
    text: String,
    label: serde_json::Value,
}

pub fn parse(name: &str, content: &str) -> Result<Vec<Example>> {
    let mut out = Vec::new();
    let source: Arc<str> = Arc::from(name);
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |msg: String| Error::data(format!("{name}: line {}: {msg}", i + 1));
        let parsed: Line = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
        let label = label_of_json(&parsed.label).map_err(at)?;
        out.push(Example { text: parsed.text, label, origin: Origin::Line { source: source.clone(), line: i as u32 + 1 } });
    }
    Ok(out)
}

pub fn load(path: &Path) -> Result<Vec<Example>> {
    parse(&path.display().to_string(), &read_utf8(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_and_names_the_bad_one() {
        let ok = parse("f", "{\"text\":\"nice\",\"label\":1,\"id\":7}\n\n{\"text\":\"meh\",\"label\":0}\n").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!((ok[1].text.as_str(), ok[1].label.as_str(), ok[1].origin.to_string()), ("meh", "0", "f: line 3".to_string()));
        let named = parse("f", "{\"text\":\"b\",\"label\":\"sports\"}").unwrap();
        assert_eq!(named[0].label, "sports");
        for bad in ["-1", "1.5", "true", "null", "\"\"", "[1]"] {
            let err = parse("f", &format!("{{\"text\":\"a\",\"label\":1}}\n{{\"text\":\"b\",\"label\":{bad}}}")).unwrap_err().to_string();
            assert!(err.contains("line 2") && err.contains("label"), "{bad}: {err}");
        }
        assert!(parse("f", "{\"text\":\"a\",\"label\":1}\nnot json").unwrap_err().to_string().contains("line 2"));
        assert!(parse("f", "{\"label\":1}").unwrap_err().to_string().contains("text"));
    }
}
