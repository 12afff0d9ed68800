//! JSON Lines: one `{"text": ..., "label": 0|1}` object per line. Blank lines are allowed;
//! extra fields (an id, a source) are ignored.

use std::path::Path;

use super::{Example, parse_label, read_utf8};
use crate::error::{Error, Result};

#[derive(serde::Deserialize)]
struct Line {
    text: String,
    label: serde_json::Value,
}

pub fn parse(name: &str, content: &str) -> Result<Vec<Example>> {
    let mut out = Vec::new();
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |msg: String| Error::data(format!("{name}: line {}: {msg}", i + 1));
        let parsed: Line = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
        let label = parse_label(&parsed.label).ok_or_else(|| at(format!("label must be 0 or 1, got {}", parsed.label)))?;
        out.push(Example { text: parsed.text, label });
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
        assert_eq!(ok[1], Example { text: "meh".into(), label: 0 });
        let err = parse("f", "{\"text\":\"a\",\"label\":1}\n{\"text\":\"b\",\"label\":\"yes\"}").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("0 or 1"), "{err}");
        assert!(parse("f", "{\"text\":\"a\",\"label\":1}\nnot json").unwrap_err().to_string().contains("line 2"));
        assert!(parse("f", "{\"label\":1}").unwrap_err().to_string().contains("text"));
    }
}
