//! Writes the main job's report from its outputs in a folder (default `reports/`):
//! reads `<cell>.safetensors` (training history) and `<cell>_test.json` (test-split results
//! written by examples/c/train_imdb.c) for each model, and writes `curves.png` (accuracy and loss
//! per epoch, training and validation, every model), `confusion_<cell>.png` and `summary.md`.
//! Usage: cargo run --release --example report -- [reports-dir]

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use senti::SentimentModel;
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

fn curves(runs: &[Run], path: &Path) -> DrawResult<()> {
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

fn confusion(run: &Run, path: &Path) -> DrawResult<()> {
    let t = &run.test;
    let cells = [
        [num(t, "true_negative"), num(t, "false_positive")],
        [num(t, "false_negative"), num(t, "true_positive")],
    ];
    let total: f64 = cells.iter().flatten().sum();
    let root = BitMapBackend::new(path, (520, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(&format!("{} on the IMDB test split ({:.2}%)", run.cell.to_uppercase(), 100.0 * num(t, "accuracy")), ("sans-serif", 20))?;
    let (labels, grid) = root.split_horizontally(110);
    let (top, grid) = grid.split_vertically(40);
    top.draw(&Text::new("predicted negative      predicted positive", (40, 12), ("sans-serif", 15)))?;
    labels.draw(&Text::new("actual negative", (5, 120), ("sans-serif", 15)))?;
    labels.draw(&Text::new("actual positive", (5, 320), ("sans-serif", 15)))?;
    let boxes = grid.split_evenly((2, 2));
    for (i, area) in boxes.iter().enumerate() {
        let v = cells[i / 2][i % 2];
        let share = if total > 0.0 { v / total } else { 0.0 };
        let correct = i == 0 || i == 3;
        let base = if correct { RGBColor(44, 160, 44) } else { RGBColor(214, 39, 40) };
        area.fill(&base.mix(0.15 + 0.8 * (share * 2.0).min(1.0)))?;
        let (w, h) = area.dim_in_pixel();
        area.draw(&Text::new(format!("{v:.0}"), (w as i32 / 2 - 30, h as i32 / 2 - 20), ("sans-serif", 28)))?;
        area.draw(&Text::new(format!("{:.1}%", 100.0 * share), (w as i32 / 2 - 24, h as i32 / 2 + 14), ("sans-serif", 18)))?;
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
            "| {} | {:.2}% | {:.4} | {} | {} | {:.0} s | {} ({}) | {:.0} | {} |\n",
            r.cell.to_uppercase(),
            100.0 * num(&r.test, "accuracy"),
            num(&r.test, "loss"),
            percent(r.test.get("recurrent_accuracy").and_then(|v| v.as_f64())),
            percent(r.test.get("wide_accuracy").and_then(|v| v.as_f64())),
            num(&r.test, "train_seconds"),
            r.history.len(),
            r.best_epoch,
            tokens as f64 / seconds.max(1e-9),
            dir.join(format!("{}.safetensors", r.cell)).display()
        );
    }
    md
}

fn main() -> DrawResult<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "reports".into()));
    let mut runs = Vec::new();
    for cell in ["lstm", "gru"] {
        let test_path = dir.join(format!("{cell}_test.json"));
        if !test_path.exists() {
            continue;
        }
        let test: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&test_path)?)?;
        let model = SentimentModel::load(dir.join(format!("{cell}.safetensors")))?;
        let record = model.record();
        runs.push(Run { cell: cell.to_string(), history: record.history.clone(), best_epoch: record.best_epoch, test });
    }
    if runs.is_empty() {
        return Err(format!("no <cell>_test.json in {}", dir.display()).into());
    }
    register_font()?;
    curves(&runs, &dir.join("curves.png"))?;
    for run in &runs {
        confusion(run, &dir.join(format!("confusion_{}.png", run.cell)))?;
    }
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_default();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let md = format!(
        "# libsenti on IMDB\n\nStandard split: trained on the 25,000 training reviews (less the validation slice), tested once on the 25,000 test reviews. {threads} cores ({machine}).\n\n{}\n![accuracy and loss per epoch](curves.png)\n\n{}\n",
        summary(&runs, &dir),
        runs.iter().map(|r| format!("![confusion matrix {0}](confusion_{0}.png)", r.cell)).collect::<Vec<_>>().join(" ")
    );
    std::fs::write(dir.join("summary.md"), &md)?;
    print!("{md}");
    eprintln!("wrote {0}/curves.png, {0}/confusion_*.png, {0}/summary.md", dir.display());
    Ok(())
}
