// SPDX-License-Identifier: MIT OR Apache-2.0
//! An explanation as a self-contained HTML page: the text as given, each token shaded by its
//! contribution (green towards the explained class, red against it, stronger for larger
//! contributions), its figure in a tooltip. No scripts, no external resources.

use std::fmt::Write;

use super::Explanation;

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The text between two tokens: IMDB's `<br />` line breaks (which the tokenizer reads as
/// spaces) become real ones, everything else is shown as written.
fn gap(text: &str, out: &mut String) {
    let lower = text.to_ascii_lowercase();
    let mut at = 0;
    while at < text.len() {
        match ["<br />", "<br/>", "<br>"].iter().find(|p| lower[at..].starts_with(*p)) {
            Some(p) => {
                out.push_str("<br>");
                at += p.len();
            }
            None => {
                let c = text[at..].chars().next().unwrap_or(' ');
                escape(&text[at..at + c.len_utf8()], out);
                at += c.len_utf8();
            }
        }
    }
}

impl Explanation {
    /// The page for the explanation of `text` (the text it was computed from: the byte ranges
    /// point into it). `title` heads the page.
    pub fn to_html(&self, text: &str, title: &str) -> String {
        let strongest = self.tokens.iter().map(|t| t.contribution.abs()).fold(0f32, f32::max).max(1e-6);
        let mut body = String::new();
        let mut last = 0;
        for t in &self.tokens {
            if t.start < last || t.end > text.len() || !text.is_char_boundary(t.start) || !text.is_char_boundary(t.end) {
                continue; // not this explanation's text; nothing sensible to shade
            }
            gap(&text[last..t.start], &mut body);
            let strength = (t.contribution.abs() / strongest).clamp(0.0, 1.0);
            let (r, g, b) = if t.contribution >= 0.0 { (34, 160, 80) } else { (214, 48, 49) };
            let _ = write!(body, "<span class=\"t\" style=\"background: rgba({r}, {g}, {b}, {:.3})\" title=\"{:+.4}\">", 0.85 * strength, t.contribution);
            escape(&text[t.start..t.end], &mut body);
            body.push_str("</span>");
            last = t.end;
        }
        gap(&text[last.min(text.len())..], &mut body);

        let mut page = String::new();
        page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
        escape(title, &mut page);
        page.push_str(
            "</title><style>\
             body{font:17px/1.7 Georgia,serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}\
             h1{font:600 19px system-ui,sans-serif;margin:0 0 .3em}\
             .meta{font:14px system-ui,sans-serif;color:#555;margin-bottom:1.2em}\
             .t{border-radius:3px;padding:0 1px}\
             .key span{display:inline-block;padding:0 .5em;margin-right:.6em;border-radius:3px}\
             .text{border-top:1px solid #ddd;padding-top:1em}\
             </style></head><body>\n<h1>",
        );
        escape(title, &mut page);
        page.push_str("</h1>\n<div class=\"meta\">");
        let _ = write!(page, "explained class <b>");
        escape(&self.label, &mut page);
        let _ = write!(
            page,
            "</b>, score {:.3}; logit {:+.3} = {:+.3} with no words + {:+.3} from the {} tokens (unexplained {:+.4}); {}<br>\
             <span class=\"key\"><span style=\"background:rgba(34,160,80,.6)\">towards the class</span>\
             <span style=\"background:rgba(214,48,49,.6)\">against it</span></span>",
            self.score,
            self.logit,
            self.reference,
            self.logit - self.reference - self.unexplained,
            self.tokens.len(),
            self.unexplained,
            // A model without a network is explained exactly, in no steps.
            if self.steps > 0 { format!("{}, {} steps", self.method, self.steps) } else { format!("{} (exact)", self.method) },
        );
        page.push_str("</div>\n<div class=\"text\">");
        page.push_str(&body);
        page.push_str("</div>\n</body></html>\n");
        page
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Explanation, TokenContribution};

    fn token(token: &str, start: usize, end: usize, contribution: f32) -> TokenContribution {
        TokenContribution { token: token.into(), start, end, contribution, network: contribution, wide: 0.0, read_by_network: true, attention: None }
    }

    #[test]
    fn shades_every_token_and_escapes_the_rest() {
        let text = "Great<br />film & <b>bad</b>";
        let e = Explanation {
            class: 1,
            label: "pos<itive>".into(),
            score: 0.9,
            logit: 2.2,
            reference: 0.1,
            unexplained: 0.0,
            method: "integrated_gradients",
            steps: 16,
            tokens: vec![token("great", 0, 5, 1.5), token("film", 11, 15, 0.5), token("&", 16, 17, 0.0), token("bad", 21, 24, -0.6)],
        };
        let page = e.to_html(text, "A <review>");
        assert!(page.contains("<title>A &lt;review&gt;</title>"));
        assert!(page.contains("pos&lt;itive&gt;"));
        assert_eq!(page.matches("class=\"t\"").count(), 4);
        assert!(page.contains("rgba(34, 160, 80, 0.850)\" title=\"+1.5000\">Great</span><br>"));
        assert!(page.contains("title=\"-0.6000\">bad</span>&lt;/b&gt;"));
        assert!(page.contains(">&amp;</span> &lt;b&gt;"));
        assert!(!page.contains("<script"));
    }
}
