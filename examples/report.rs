// SPDX-License-Identifier: MIT OR Apache-2.0
//! Writes a run's report from its outputs in a folder (default `reports/`): reads
//! `<name>.safetensors` (training history) and `<name>_test.json` (test-split results written by
//! examples/c/train_imdb.c or examples/c/train_task.c) for each model, and writes `curves.png`
//! (accuracy and loss per epoch, training and validation, every model), `confusion_<name>.png`
//! (the K×K confusion matrix: from `labels` and `confusion` in the results when present, else
//! from the two-class counts) and `summary.md`.
//! Usage: cargo run --release --example report -- [reports-dir]

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use senti::Model;
use senti::model::EpochStats;

struct Run {
    cell: String,
    history: Vec<EpochStats>,
    best_epoch: usize,
    test: serde_json::Value,
}

fn num(v: &serde_json::Value, key: &str) -> f64 {
    v.get(key).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN)
}

fn register_font() -> Result<(), String> {
    let candidates = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"];
    let path = candidates.iter().find(|p| Path::new(p).exists()).ok_or("no DejaVuSans.ttf found: install fonts-dejavu-core")?;
    let bytes: &'static [u8] = Box::leak(std::fs::read(path).map_err(|e| e.to_string())?.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).map_err(|_| "unusable font file".to_string())
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

fn curves(runs: &[&Run], path: &Path) -> DrawResult<()> {
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    let epochs = runs.iter().map(|r| r.history.len()).max().unwrap_or(1).max(2);
    let colors = [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44), RGBColor(148, 103, 189)];
    for (panel, (title, train, val)) in panels.iter().zip([
        ("accuracy", (|e: &EpochStats| Some(e.train_accuracy)) as fn(&EpochStats) -> Option<f64>, (|e: &EpochStats| e.val_accuracy) as fn(&EpochStats) -> Option<f64>),
        ("loss", |e: &EpochStats| Some(e.train_loss), |e: &EpochStats| e.val_loss),
    ]) {
        let values: Vec<f64> = runs.iter().flat_map(|r| r.history.iter().flat_map(|e| [train(e), val(e)]).flatten()).collect();
        let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let pad = ((hi - lo) * 0.1).max(0.01);
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{title} per epoch"), ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(1f64..epochs as f64, (lo - pad)..(hi + pad))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(title)
            .x_labels(epochs)
            .x_label_formatter(&|x| format!("{}", x.round() as i64))
            .label_style(("sans-serif", 14))
            .draw()?;
        for (i, run) in runs.iter().enumerate() {
            let color = colors[i % colors.len()];
            for (kind, f, dashed) in [("train", train, false), ("validation", val, true)] {
                let pts: Vec<(f64, f64)> = run.history.iter().filter_map(|e| f(e).map(|v| (e.epoch as f64, v))).collect();
                let style = color.stroke_width(if dashed { 1 } else { 3 });
                chart
                    .draw_series(LineSeries::new(pts.clone(), style))?
                    .label(format!("{} {kind}", run.cell.to_uppercase()))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            }
        }
        // Late epochs: accuracy sits high and loss spreads out, so these corners stay clear.
        let corner = if title == "accuracy" { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::MiddleRight };
        chart
            .configure_series_labels()
            .position(corner)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// The confusion matrix and its class names: `confusion`/`labels` of the results, or the
/// two-class counts of the IMDB results.
fn matrix(t: &serde_json::Value) -> (Vec<String>, Vec<Vec<f64>>) {
    if let (Some(labels), Some(rows)) = (t.get("labels").and_then(|v| v.as_array()), t.get("confusion").and_then(|v| v.as_array())) {
        let names = labels.iter().map(|l| l.as_str().unwrap_or("?").to_string()).collect();
        let cells = rows.iter().map(|r| r.as_array().map_or(Vec::new(), |r| r.iter().map(|v| v.as_f64().unwrap_or(0.0)).collect())).collect();
        return (names, cells);
    }
    let names = vec!["negative".to_string(), "positive".to_string()];
    (names, vec![vec![num(t, "true_negative"), num(t, "false_positive")], vec![num(t, "false_negative"), num(t, "true_positive")]])
}

fn confusion(run: &Run, path: &Path) -> DrawResult<()> {
    let (names, cells) = matrix(&run.test);
    let k = names.len();
    let cell = if k <= 2 { 200 } else { (720 / k as u32).max(24) };
    let label_width = if k <= 2 { 120 } else { 190 };
    let side = cell * k as u32;
    let root = BitMapBackend::new(path, (side + label_width + 20, side + 110)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!("{} on the test split ({:.2}%)", run.cell.to_uppercase(), 100.0 * num(&run.test, "accuracy"));
    let root = root.titled(&title, ("sans-serif", 20))?;
    let (left, right) = root.split_horizontally(label_width);
    let (top, grid) = right.split_vertically(50);
    top.draw(&Text::new("predicted →", (0, 2), ("sans-serif", 14)))?;
    let small = if k <= 2 { 15 } else { 12 };
    for (j, name) in names.iter().enumerate() {
        let text = if k <= 2 { format!("predicted {name}") } else { j.to_string() };
        top.draw(&Text::new(text, (j as i32 * cell as i32 + 4, 26), ("sans-serif", small)))?;
    }
    for (i, name) in names.iter().enumerate() {
        let text = if k <= 2 { format!("actual {name}") } else { format!("{i} {name}") };
        left.draw(&Text::new(text, (4, 50 + i as i32 * cell as i32 + cell as i32 / 2 - 7), ("sans-serif", small)))?;
    }
    for (i, row) in cells.iter().enumerate() {
        let total: f64 = row.iter().sum();
        for (j, &v) in row.iter().enumerate() {
            // Shade by the share of the actual class's examples the cell holds.
            let share = if total > 0.0 { v / total } else { 0.0 };
            let base = if i == j { RGBColor(44, 160, 44) } else { RGBColor(214, 39, 40) };
            let (x, y) = (j as i32 * cell as i32, i as i32 * cell as i32);
            grid.draw(&Rectangle::new([(x, y), (x + cell as i32 - 1, y + cell as i32 - 1)], base.mix(0.08 + 0.9 * share.min(1.0)).filled()))?;
            if v > 0.0 || k <= 2 {
                let font = if k <= 2 { 28 } else { (cell as i32 / 3).clamp(9, 16) };
                let left = if k <= 2 { cell as i32 / 2 - 36 } else { 3 };
                grid.draw(&Text::new(format!("{v:.0}"), (x + left, y + cell as i32 / 2 - font / 2), ("sans-serif", font)))?;
            }
        }
    }
    root.present()?;
    Ok(())
}

fn summary(runs: &[Run], dir: &Path) -> String {
    let mut md = String::from(
        "| model | test accuracy | test loss | the recurrent network alone | the wide path alone | training time | epochs (best) | tokens/s (training) | model file |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let percent = |v: Option<f64>| v.map_or("-".to_string(), |a| format!("{:.2}%", 100.0 * a));
    for r in runs {
        let tokens: u64 = r.history.iter().map(|e| e.tokens).sum();
        let seconds: f64 = r.history.iter().map(|e| e.seconds).sum();
        md += &format!(
            "| {} | {:.2}% | {:.4} | {} | {} | {:.0} s | {} ({}) | {} | {} |\n",
            r.cell.to_uppercase(),
            100.0 * num(&r.test, "accuracy"),
            num(&r.test, "loss"),
            percent(r.test.get("recurrent_accuracy").and_then(|v| v.as_f64())),
            percent(r.test.get("wide_accuracy").and_then(|v| v.as_f64())),
            num(&r.test, "train_seconds"),
            r.history.len(),
            r.best_epoch,
            // The fast recipe runs no epochs: no tokens per second to show.
            if r.history.is_empty() { "-".to_string() } else { format!("{:.0}", tokens as f64 / seconds.max(1e-9)) },
            dir.join(format!("{}.safetensors", r.cell)).display()
        );
    }
    md
}

fn main() -> DrawResult<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "reports".into()));
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix("_test.json").map(str::to_string))
        .collect();
    // The IMDB main job's order first (LSTM, then GRU), then the rest by name.
    names.sort_by_key(|n| (["lstm", "gru"].iter().position(|c| c == n).unwrap_or(2), n.clone()));
    let mut runs = Vec::new();
    for name in names {
        let test: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}_test.json")))?)?;
        let model = Model::load(dir.join(format!("{name}.safetensors")))?;
        let record = model.record();
        runs.push(Run { cell: name, history: record.history.clone(), best_epoch: record.best_epoch, test });
    }
    if runs.is_empty() {
        return Err(format!("no <cell>_test.json in {}", dir.display()).into());
    }
    register_font()?;
    // The fast recipe (the wide path alone) trains no epochs: it has no curve to draw.
    let trained: Vec<&Run> = runs.iter().filter(|r| !r.history.is_empty()).collect();
    let chart = if trained.is_empty() {
        String::new()
    } else {
        curves(&trained, &dir.join("curves.png"))?;
        "![accuracy and loss per epoch](curves.png)\n".to_string()
    };
    for run in &runs {
        confusion(run, &dir.join(format!("confusion_{}.png", run.cell)))?;
    }
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_default();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let md = format!(
        "# libsenti\n\nTrained on the training split (less the validation slice), tested once on the test split. {threads} cores ({machine}).\n\n{}\n{chart}\n{}\n",
        summary(&runs, &dir),
        runs.iter().map(|r| format!("![confusion matrix {0}](confusion_{0}.png)", r.cell)).collect::<Vec<_>>().join(" ")
    );
    std::fs::write(dir.join("summary.md"), &md)?;
    print!("{md}");
    eprintln!("wrote {0}/curves.png, {0}/confusion_*.png, {0}/summary.md", dir.display());
    Ok(())
}
