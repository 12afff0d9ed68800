// SPDX-License-Identifier: MIT OR Apache-2.0
//! CSV (RFC 4180): a header row naming a `text` and a `label` column (any order, other columns
//! ignored), fields optionally quoted with `"` (doubled to escape), quoted fields may span lines.

use std::path::Path;

use std::sync::Arc;

use super::{Example, Origin, labels, read_utf8};
use crate::error::{Error, Result};

/// Splits CSV content into records, each with the line number it starts on.
fn records(name: &str, content: &str) -> Result<Vec<(usize, Vec<String>)>> {
    let mut out = Vec::new();
    let mut chars = content.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        loop {
            match chars.next() {
                None => {
                    if quoted {
                        return Err(Error::data(format!("{name}: line {start_line}: a quoted field is never closed")));
                    }
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some('"') if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                }
                Some('"') if field.is_empty() => quoted = true,
                Some(c) if quoted => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
                Some(',') => fields.push(std::mem::take(&mut field)),
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                Some(c) => field.push(c),
            }
        }
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            out.push((start_line, fields));
        }
    }
    Ok(out)
}

pub fn parse(name: &str, content: &str) -> Result<Vec<Example>> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let mut rows = records(name, content)?.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err(Error::data(format!("{name}: empty file: expected a header with text and label columns")));
    };
    let column = |want: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(want));
    let (Some(text_col), Some(label_col)) = (column("text"), column("label")) else {
        return Err(Error::data(format!("{name}: line 1: the header must name a \"text\" and a \"label\" column")));
    };
    let mut out = Vec::new();
    let source: Arc<str> = Arc::from(name);
    for (line, row) in rows {
        if row.len() != header.len() {
            return Err(Error::data(format!("{name}: line {line}: {} fields, but the header has {}", row.len(), header.len())));
        }
        let label = row[label_col].trim();
        labels::check_name(label).map_err(|e| Error::data(format!("{name}: line {line}: {e}")))?;
        out.push(Example { text: row[text_col].clone(), label: label.to_string(), origin: Origin::Line { source: source.clone(), line: line as u32 } });
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
    fn reads_quoted_multiline_fields_in_any_column_order() {
        let csv = "id,label,text\r\n1,1,\"Great, \"\"really\"\"\nfun\"\n2,0,bad\n";
        let ex = parse("f", csv).unwrap();
        let got: Vec<(&str, &str, String)> = ex.iter().map(|e| (e.text.as_str(), e.label.as_str(), e.origin.to_string())).collect();
        assert_eq!(got, [("Great, \"really\"\nfun", "1", "f: line 2".to_string()), ("bad", "0", "f: line 4".to_string())]);
    }

    #[test]
    fn names_the_line_of_bad_records() {
        let err = parse("f", "text,label\na,1\n\"b\nc\",1\nd, \n").unwrap_err().to_string();
        assert!(err.contains("line 5") && err.contains("empty"), "{err}");
        assert_eq!(parse("f", "text,label\na,sports\n").unwrap()[0].label, "sports");
        assert!(parse("f", "text,label\na,1,extra\n").unwrap_err().to_string().contains("line 2"));
        assert!(parse("f", "words,label\na,1\n").unwrap_err().to_string().contains("header"));
        assert!(parse("f", "text,label\n\"open,1\n").unwrap_err().to_string().contains("never closed"));
        assert!(parse("f", "").unwrap_err().to_string().contains("empty"));
    }
}
