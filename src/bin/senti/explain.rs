// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti explain`: why a model gave one text its score. Prints the explained class, its score
//! and the tokens that moved it most; `--json` prints the whole explanation, `--html` writes a
//! page with every word shaded by its contribution.

use std::io::{Read, Write};
use std::path::PathBuf;

use senti::Model;

use crate::exit::{DATA, Failure, Outcome, USAGE, stdout_error};

/// Explain one prediction: each token's contribution to a class's score.
///
/// The text is the arguments after the model joined by spaces, or else all of stdin (`-` reads
/// stdin too). Contributions are to the class's logit: positive pushes towards the class. The
/// network's part comes from integrated gradients over the token embeddings, the wide n-gram
/// path's is exact; together they add up to the logit minus the logit with no words, up to the
/// "unexplained" figure printed.
#[derive(clap::Args)]
pub struct Args {
    /// The model file.
    model: PathBuf,
    /// The text (or `-`: read stdin); none: read stdin.
    text: Vec<String>,
    /// The class to explain, by label; default the predicted one.
    #[arg(long, value_name = "LABEL")]
    class: Option<String>,
    /// Integration steps (1-256; 0: the library's default, 8).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=256))]
    steps: u32,
    /// How many of the strongest tokens to list each way.
    #[arg(long, value_name = "N", default_value_t = 8)]
    top: usize,
    /// Print the whole explanation as JSON (byte ranges, each part's contribution).
    #[arg(long)]
    json: bool,
    /// Also write an HTML page with the text's words shaded by contribution.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

fn read_text(args: &Args) -> Result<String, Failure> {
    if !args.text.is_empty() && args.text != ["-"] {
        return Ok(args.text.join(" "));
    }
    let mut bytes = Vec::new();
    std::io::stdin().lock().read_to_end(&mut bytes).map_err(|e| Failure::io("stdin", e))?;
    String::from_utf8(bytes).map_err(|_| Failure::new(DATA, "stdin: not valid UTF-8"))
}

pub fn run(args: Args) -> Outcome {
    let model = Model::load(&args.model)?;
    let text = read_text(&args)?;
    let class = match &args.class {
        None => None,
        Some(name) => Some(model.labels().index_of(name).ok_or_else(|| {
            Failure::new(USAGE, format!("--class {name:?}: the model's labels are {}", model.labels().names().join(", ")))
        })?),
    };
    let explanation = model.explain(&text, class, args.steps as usize)?;
    if let Some(path) = &args.html {
        let title = format!("Why {}? ({})", explanation.label, args.model.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
        std::fs::write(path, explanation.to_html(&text, &title)).map_err(|e| Failure::io(path.display(), e))?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        return writeln!(out, "{}", explanation.to_json()).map_err(stdout_error);
    }
    let e = &explanation;
    let mut lines = vec![
        format!("class        {} (score {:.4})", e.label, e.score),
        format!("logit        {:+.4} = {:+.4} with no words {:+.4} from {} tokens {:+.4} unexplained", e.logit, e.reference, e.logit - e.reference - e.unexplained, e.tokens.len(), e.unexplained),
        if e.steps > 0 { format!("method       {}, {} steps", e.method, e.steps) } else { format!("method       {} (exact)", e.method) },
    ];
    let order = e.strongest_first();
    let show = |i: &usize| {
        let t = &e.tokens[*i];
        format!("  {:+.4}  {:<20} bytes {}..{}{}", t.contribution, t.token, t.start, t.end, if t.read_by_network || e.steps == 0 { "" } else { "  (past max_len: wide path only)" })
    };
    let towards: Vec<String> = order.iter().take(args.top).filter(|&&i| e.tokens[i].contribution > 0.0).map(show).collect();
    let against: Vec<String> = order.iter().rev().take(args.top).filter(|&&i| e.tokens[i].contribution < 0.0).map(show).collect();
    lines.push(format!("towards {}:", e.label));
    lines.extend(towards);
    lines.push(format!("against {}:", e.label));
    lines.extend(against);
    for line in lines {
        writeln!(out, "{line}").map_err(stdout_error)?;
    }
    Ok(())
}
