// SPDX-License-Identifier: MIT OR Apache-2.0
//! libsenti's benchmark: training speed, how cost grows with length and batch size, prediction
//! latency and throughput, and the peak memory of a process serving a model; compared side by side
//! with TensorFlow/Keras and PyTorch when `reports/peers.json` (from `benches/run-peers.sh`) exists.
//!
//!   cargo bench --bench bench -- [--quick] [--out reports/bench.json] [--data data/imdb/reviews.json]
//!                                [--peers reports/peers.json] [--cpus 2]
//!
//! Writes the JSON report (`--out`) and a markdown copy of the tables next to it (`.md`).
//! `benches/README.md` says what is measured and how to read the ratios.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use senti::text::Tokenizer;
use senti::{Control, Example, Format, Phase, Precision, SentimentModel, Split, TrainParams};

/// Training threads, and the CPUs the whole process (and the memory probe) is pinned to.
const THREADS: usize = 2;
const BATCH: usize = 256;
/// Test reviews `i * PROBE_STRIDE` (i < 2,000) are what the memory probe predicts (both classes).
const PROBE_STRIDE: usize = 12;
const PROBE_TEXTS: usize = 2000;
/// Single-review latency uses the test reviews with this many tokens (about 200).
const LATENCY_TOKENS: std::ops::RangeInclusive<usize> = 190..=210;

struct Args {
    quick: bool,
    out: PathBuf,
    data: PathBuf,
    peers: PathBuf,
    cpus: usize,
    probe: Option<(PathBuf, PathBuf, Precision)>,
    /// Where the main job's models are (section f).
    models: PathBuf,
    /// Only section (f): the default models, without training anything.
    default_only: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo bench --bench bench -- [--quick] [--out reports/bench.json] [--data data/imdb/reviews.json] \
         [--peers reports/peers.json] [--cpus 2] [--models reports] [--default-only]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        quick: false,
        out: PathBuf::from("reports/bench.json"),
        data: PathBuf::from("data/imdb/reviews.json"),
        peers: PathBuf::from("reports/peers.json"),
        cpus: THREADS,
        probe: None,
        models: PathBuf::from("reports"),
        default_only: false,
    };
    let mut it = std::env::args().skip(1);
    let mut probe_model = None;
    let mut probe_texts = None;
    let mut probe_precision = Precision::F32;
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--quick" => args.quick = true,
            "--out" => args.out = value().into(),
            "--data" => args.data = value().into(),
            "--peers" => args.peers = value().into(),
            "--cpus" => args.cpus = value().parse().unwrap_or_else(|_| usage()),
            "--models" => args.models = value().into(),
            "--default-only" => args.default_only = true,
            // Hidden: the child process that measures memory (see `memory_probe`).
            "--memory-probe" => probe_model = Some(PathBuf::from(value())),
            "--texts" => probe_texts = Some(PathBuf::from(value())),
            "--precision" => probe_precision = Precision::parse(&value()).unwrap_or_else(|_| usage()),
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "-h" | "--help" => usage(),
            other => {
                eprintln!("unknown argument {other:?}");
                usage()
            }
        }
    }
    if let Some(model) = probe_model {
        args.probe = Some((model, probe_texts.unwrap_or_else(|| usage()), probe_precision));
    }
    args
}

// ---------------------------------------------------------------------------------------------
// Small helpers: timing statistics, /proc, tables.

fn percentile(sorted: &[f64], p: f64) -> f64 {
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

/// Milliseconds each call of `call` takes, one call per input, sorted.
fn time_calls<I>(inputs: impl IntoIterator<Item = I>, mut call: impl FnMut(I)) -> Vec<f64> {
    sorted(
        inputs
            .into_iter()
            .map(|input| {
                let s = Instant::now();
                call(input);
                s.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

/// Milliseconds per `m.predict` call, sorted: `calls` calls cycling over `texts`, after 100
/// warm-up calls.
fn single_latencies(m: &SentimentModel, texts: &[&str], calls: usize) -> Vec<f64> {
    for text in texts.iter().cycle().take(100) {
        m.predict(text).unwrap();
    }
    time_calls(texts.iter().cycle().take(calls), |text| {
        std::hint::black_box(m.predict(std::hint::black_box(text)).unwrap());
    })
}

/// Reviews per second predicting `texts` in batches of `BATCH`, after one warm-up batch.
fn batch_rate(m: &SentimentModel, texts: &[&str]) -> f64 {
    m.predict_batch(&texts[..BATCH.min(texts.len())]).unwrap();
    let s = Instant::now();
    for chunk in texts.chunks(BATCH) {
        std::hint::black_box(m.predict_batch(chunk).unwrap());
    }
    texts.len() as f64 / s.elapsed().as_secs_f64()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_string())))
        .unwrap_or_else(|| "unknown".into())
}

/// Restricts the process to `n` of the CPUs it may run on, so that libsenti (whose prediction uses
/// one thread per available core) and the peers (pinned the same way) get the same hardware.
fn pin_cpus(n: usize) -> usize {
    // SAFETY: cpu_set_t is plain data; the calls only read and write the set passed.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return std::thread::available_parallelism().map_or(1, |n| n.get());
        }
        let allowed: Vec<usize> = (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect();
        if allowed.len() > n {
            let mut pinned: libc::cpu_set_t = std::mem::zeroed();
            for &c in &allowed[..n] {
                libc::CPU_SET(c, &mut pinned);
            }
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &pinned);
        }
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

struct Table {
    title: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
}

impl Table {
    fn new(title: impl Into<String>, head: &[&str]) -> Self {
        Table { title: title.into(), head: head.iter().map(|s| s.to_string()).collect(), rows: Vec::new(), notes: Vec::new() }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn note(&mut self, n: impl Into<String>) {
        self.notes.push(n.into());
    }

    /// A markdown table with padded columns, readable as plain text too.
    fn render(&self) -> String {
        let width = |i: usize| self.rows.iter().map(|r| r.get(i).map_or(0, |c| c.chars().count())).chain([self.head[i].chars().count()]).max().unwrap();
        let widths: Vec<usize> = (0..self.head.len()).map(width).collect();
        let line = |cells: &[String]| {
            let parts: Vec<String> = widths.iter().enumerate().map(|(i, &w)| format!("{:<w$}", cells.get(i).map_or("", |s| s.as_str()))).collect();
            format!("| {} |\n", parts.join(" | "))
        };
        let mut s = format!("### {}\n\n", self.title);
        s += &line(&self.head);
        s += &format!("|{}|\n", widths.iter().map(|&w| "-".repeat(w + 2)).collect::<Vec<_>>().join("|"));
        for r in &self.rows {
            s += &line(r);
        }
        if !self.notes.is_empty() {
            s += "\n";
            for n in &self.notes {
                s += &format!("- {n}\n");
            }
        }
        s
    }
}

struct Report {
    tables: Vec<Table>,
    results: Vec<Value>,
}

impl Report {
    fn show(&mut self, t: Table) {
        println!("\n{}", t.render());
        self.tables.push(t);
    }

    /// One figure in the flat format shared with `reports/peers.json`.
    fn metric(&mut self, metric: &str, cell: Option<&str>, max_len: Option<usize>, value: f64, units: &str, extra: Value) {
        let mut m = json!({"framework": "senti", "version": senti::VERSION, "metric": metric, "value": value, "units": units});
        if let Some(c) = cell {
            m["cell"] = json!(c);
        }
        if let Some(l) = max_len {
            m["max_len"] = json!(l);
        }
        if let Value::Object(extra) = extra {
            m.as_object_mut().unwrap().extend(extra);
        }
        self.results.push(m);
    }
}

fn f1(x: f64) -> String {
    format!("{x:.1}")
}
fn f2(x: f64) -> String {
    format!("{x:.2}")
}
fn f3(x: f64) -> String {
    format!("{x:.3}")
}
fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Training.

struct Trained {
    model: SentimentModel,
    /// The whole `senti::train` call: data loading, vocabulary, encoding, initialisation, the epoch.
    call_s: f64,
    /// From the first Batch callback to the Epoch callback: every batch but the first.
    after_first_s: f64,
    batches: usize,
    train_accuracy: f64,
}

impl Trained {
    /// The epoch's time, estimated from batches 2..N scaled to N batches (the first batch has no
    /// callback before it, and the time before it is setup).
    fn epoch_s(&self) -> f64 {
        if self.batches > 1 { self.after_first_s * self.batches as f64 / (self.batches - 1) as f64 } else { self.after_first_s }
    }
}

fn train_params(data: &Path, cell: &str, max_len: usize, limit: Option<usize>) -> String {
    let mut p = json!({
        "data_path": data, "data_format": "imdb-json", "validation_fraction": 0.0, "cell": cell,
        "embedding_dim": 128, "hidden_size": 128, "batch_size": 64, "layers": 1, "bidirectional": false,
        "pooling": "last", "vocab_size": 20000, "max_len": max_len, "truncation": "keep_end",
        "threads": THREADS, "seed": 1, "epochs": 1,
        // The peers' model: no wide n-gram path, a random embedding.
        "wide_ngrams": 0, "embedding_pretrain_epochs": 0,
    });
    if let Some(l) = limit {
        p["train_limit"] = json!(l);
    }
    p.to_string()
}

fn train_once(json: &str) -> Trained {
    let params = TrainParams::from_json(json).unwrap_or_else(|e| panic!("training parameters {json}: {e}"));
    let mut first_batch: Option<Instant> = None;
    let mut epoch_end: Option<Instant> = None;
    let mut batches = 0;
    let mut accuracy = f64::NAN;
    let start = Instant::now();
    let model = senti::train(&params, &mut |p| {
        let now = Instant::now();
        match p.phase {
            Phase::Batch if first_batch.is_none() => first_batch = Some(now),
            Phase::Batch => {}
            Phase::Epoch => {
                epoch_end = Some(now);
                batches = p.batches;
                accuracy = p.accuracy;
            }
            _ => {}
        }
        Control::Continue
    })
    .unwrap_or_else(|e| panic!("training {json}: {e}"));
    let call_s = start.elapsed().as_secs_f64();
    let after_first_s = epoch_end.unwrap().duration_since(first_batch.unwrap()).as_secs_f64();
    Trained { model, call_s, after_first_s, batches, train_accuracy: accuracy }
}

/// The reviews `senti::train` uses for `train_limit` (seeded, class-balanced), used here only to
/// count the real tokens of that slice.
fn balanced_sample(examples: &[Example], limit: usize, seed: u64) -> Vec<Example> {
    senti::data::sample::balanced(examples.to_vec(), limit, &mut senti::rng::Rng::new(seed))
}

/// Tokens the model actually reads at `max_len` (an empty review reads one unknown word).
fn real_tokens(lengths: &[usize], max_len: usize) -> usize {
    lengths.iter().map(|&n| n.clamp(1, max_len)).sum()
}

// ---------------------------------------------------------------------------------------------
// The memory probe: a fresh process that loads a model and predicts, then reports its peak RSS.

fn memory_probe(model: &Path, texts: &Path, precision: Precision) {
    let texts: Vec<String> = serde_json::from_slice(&std::fs::read(texts).expect("reading the probe texts")).expect("probe texts");
    let baseline = status_kb("VmHWM");
    let m = SentimentModel::load(model).unwrap_or_else(|e| panic!("{}: {e}", model.display()));
    m.set_prediction_precision(precision).unwrap();
    let half = texts.len() / 2;
    let mut sum = 0f32;
    for t in &texts[..half] {
        sum += m.predict(t).unwrap();
    }
    for chunk in texts[half..].chunks(BATCH) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        sum += m.predict_batch(&refs).unwrap().iter().sum::<f32>();
    }
    println!("baseline_VmHWM_kB {baseline}");
    println!("VmHWM_kB {}", status_kb("VmHWM"));
    println!("VmRSS_kB {}", status_kb("VmRSS"));
    println!("predictions {} mean {:.4}", texts.len(), sum / texts.len() as f32);
}

/// A figure of [`run_probe`]'s report (a `_kB` one) in MB; NaN when the probe did not print it.
fn probe_mb(probe: &BTreeMap<String, f64>, key: &str) -> f64 {
    probe.get(key).copied().unwrap_or(f64::NAN) / 1024.0
}

fn run_probe(model: &Path, texts: &Path, precision: Precision) -> BTreeMap<String, f64> {
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new(exe)
        .arg("--memory-probe")
        .arg(model)
        .arg("--texts")
        .arg(texts)
        .args(["--precision", precision.name()])
        .output()
        .expect("starting the memory probe");
    if !out.status.success() {
        panic!("memory probe failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The model users get by default.

/// The main job's models, by file name: the default recipe's two cells and the fast recipe.
const DEFAULT_MODELS: [&str; 3] = ["lstm", "gru", "wide"];

/// Test reviews of this many words (split at whitespace) are what the default model is timed on.
const DEFAULT_MODEL_WORDS: std::ops::RangeInclusive<usize> = 150..=250;

/// (f) The main job's models (`examples/run-imdb.sh` writes `lstm.safetensors`,
/// `gru.safetensors` and `wide.safetensors` under `reports/`), loaded as a user loads them: the
/// default recipe, bidirectional over 800 tokens with its wide path, and the fast recipe (the
/// wide path alone), not the peers' small model.
fn default_models(report: &mut Report, test_set: &[Example], dir: &Path, work: &Path, quick: bool, cpus: usize) {
    let texts: Vec<&str> = test_set.iter().map(|e| e.text.as_str()).filter(|t| DEFAULT_MODEL_WORDS.contains(&t.split_whitespace().count())).collect();
    let single_calls = if quick { 300 } else { 2000 };
    let batch_reviews = if quick { 2048 } else { 10_240 };
    let mut t = Table::new(
        format!("The default model: the main job's files in {}, loaded, on {}..{}-word test reviews", dir.display(), DEFAULT_MODEL_WORDS.start(), DEFAULT_MODEL_WORDS.end()),
        &["cell", "precision", "single p50 ms", "single p99 ms", "batch-256 reviews/s", "peak RSS MB", "recurrent weights read at p50", "test accuracy", "main job's accuracy", "training s"],
    );
    let probe_path = work.join("default-probe-texts.json");
    std::fs::write(&probe_path, serde_json::to_vec(&texts.iter().take(PROBE_TEXTS).collect::<Vec<_>>()).unwrap()).unwrap();
    // Accuracy at each precision in this run: the whole test split (every 10th review with --quick).
    let accuracy_set: Vec<Example> = test_set.iter().step_by(if quick { 10 } else { 1 }).cloned().collect();
    let tok = Tokenizer::new();
    for cell in DEFAULT_MODELS {
        let path = dir.join(format!("{cell}.safetensors"));
        let Ok(m) = SentimentModel::load(&path) else {
            t.note(format!("{}: missing or unreadable; examples/run-imdb.sh writes it", path.display()));
            continue;
        };
        // Half precision changes only a recurrent network.
        let precisions: &[Precision] = match m.network_config() {
            Some(net) if net.cell.recurrent().is_some() => &Precision::all(),
            _ => &[Precision::F32],
        };
        for &precision in precisions {
            m.set_prediction_precision(precision).unwrap();
            let label = format!("{cell}/{}", precision.name());
            let times = single_latencies(&m, &texts, single_calls);
            let batch: Vec<&str> = texts.iter().cycle().take(batch_reviews).copied().collect();
            let rate = batch_rate(&m, &batch);
            let accuracy_now = m.evaluate(&accuracy_set).unwrap().accuracy;
            let probe = run_probe(&path, &probe_path, precision);
            let peak_mb = probe_mb(&probe, "VmHWM_kB");
            // What bounds one review: every step of every direction reads the whole recurrent matrix.
            let max_len = m.text_config().max_len;
            let mean_steps = texts.iter().map(|t| tok.tokenize(t).len().min(max_len) as f64).sum::<f64>() / texts.len().max(1) as f64;
            // A model without a network (the wide path alone) reads none.
            let (matrix_bytes, read) = match m.network_config() {
                Some(net) => {
                    let gates = net.cell.recurrent().map_or(0, |c| c.gates()) * net.hidden_size;
                    // Without F16C kernels (baseline) an f16 model holds its rounded weights as f32.
                    let bytes = if precision == Precision::F16 && senti::simd_level() == "baseline" { 4 } else { precision.weight_bytes() };
                    let matrix_bytes = (gates * net.hidden_size * bytes) as f64;
                    (matrix_bytes, mean_steps * net.directions() as f64 * net.layers as f64 * matrix_bytes)
                }
                None => (0.0, 0.0),
            };
            let (p50, p99) = (percentile(&times, 50.0), percentile(&times, 99.0));
            let gbps = read / (p50 * 1e-3) / 1e9;
            // The main job's own record of this model: its test accuracy and training time.
            let test: Value = std::fs::read(dir.join(format!("{cell}_test.json"))).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
            let (accuracy, train_s) = (test["accuracy"].as_f64(), test["train_seconds"].as_f64());
            t.row(vec![
                cell.into(),
                precision.name().into(),
                f3(p50),
                f3(p99),
                thousands(rate),
                f1(peak_mb),
                match m.network_config() {
                    None => "- (no network)".into(),
                    Some(net) if net.cell.recurrent().is_none() => "- (not recurrent)".into(),
                    Some(_) => format!("{:.1} MB, {gbps:.0} GB/s", read / 1e6),
                },
                format!("{:.2}%", 100.0 * accuracy_now),
                accuracy.map_or("-".into(), |a| format!("{:.2}%", 100.0 * a)),
                train_s.map_or("-".into(), f1),
            ]);
            if precision == Precision::F32 {
                if let Some(a) = accuracy {
                    report.metric("default_test_accuracy", Some(cell), Some(max_len), a, "fraction", json!({"from": dir.join(format!("{cell}_test.json"))}));
                }
                if let Some(s) = train_s {
                    report.metric("default_train_seconds", Some(cell), Some(max_len), s, "s", json!({"from": dir.join(format!("{cell}_test.json"))}));
                }
            }
            // The f32 rows keep the metric names of earlier runs; the others are named by cell/<precision>.
            let who = if precision == Precision::F32 { cell.to_string() } else { label };
            let extra = json!({"model": path, "precision": precision.name(), "calls": single_calls, "distinct_reviews": texts.len(), "mean_steps": mean_steps});
            report.metric("default_single_latency_p50", Some(&who), Some(max_len), p50, "ms", extra.clone());
            report.metric("default_single_latency_p99", Some(&who), Some(max_len), p99, "ms", extra.clone());
            report.metric("default_batch_throughput", Some(&who), Some(max_len), rate, "reviews/s", json!({"batch": BATCH, "reviews": batch.len()}));
            report.metric("default_peak_memory", Some(&who), Some(max_len), peak_mb, "MB", json!({"rss_end_mb": probe_mb(&probe, "VmRSS_kB")}));
            report.metric("default_recurrent_read_rate", Some(&who), Some(max_len), gbps, "GB/s", json!({"bytes_per_review": read, "matrix_bytes": matrix_bytes}));
            report.metric("default_test_accuracy_this_run", Some(&who), Some(max_len), accuracy_now, "fraction", json!({"reviews": accuracy_set.len()}));
        }
    }
    t.note(format!(
        "single: {single_calls} calls cycling over the {} test reviews of {}..{} words, after 100 warm-up calls, on {cpus} CPUs; batch: those reviews in batches of {BATCH}",
        thousands(texts.len() as f64),
        DEFAULT_MODEL_WORDS.start(),
        DEFAULT_MODEL_WORDS.end()
    ));
    t.note(format!("test accuracy: this run's, at that precision, on {} test reviews; main job's accuracy and training s: the main job's own record (<cell>_test.json), from the machine and run that trained it", thousands(accuracy_set.len() as f64)));
    t.note("precision: senti_set_prediction_precision; f16 stores the per-word input table and the recurrent matrices as half floats, i16 the table as bytes and the recurrent matrices as 16-bit integers, each with a scale per row (the default model keeps a per-word table only at f16 and i16)");
    t.note("recurrent weights read: every step of every direction reads its whole recurrent matrix (4 bytes a weight at f32, 2 at f16 and i16); at batch 1 that, not arithmetic, bounds a review, so compare the rate with the cache bandwidth of the CPU");
    t.note(format!("peak RSS: a fresh process loads the file and predicts {} of these reviews one by one, then in batches", thousands(texts.len().min(PROBE_TEXTS) as f64 / 2.0)));
    report.show(t);
}

// ---------------------------------------------------------------------------------------------
// Comparison with the peers.

#[derive(Clone, Copy, PartialEq)]
enum Better {
    Lower,
    Higher,
}

/// The peers running the same recurrent model, as peers.json names them and as the tables do.
/// ONNX Runtime runs PyTorch's trained models, so it has no training figures.
const PEERS: [(&str, &str); 3] = [("tensorflow", "TF/Keras"), ("pytorch", "PyTorch"), ("onnxruntime", "ONNX Runtime")];

fn find<'a>(results: &'a [Value], framework: &str, metric: &str, cell: &str, max_len: Option<usize>) -> Option<&'a Value> {
    results.iter().find(|r| {
        r["framework"] == framework
            && r["metric"] == metric
            && r["cell"] == cell
            && max_len.is_none_or(|l| r["max_len"].as_u64() == Some(l as u64))
    })
}

/// "N.NNx faster" (or slower / smaller / larger): how ours compares with a peer's figure.
fn verdict(ours: f64, peer: f64, better: Better, memory: bool) -> (f64, String) {
    let advantage = match better {
        Better::Lower => peer / ours,
        Better::Higher => ours / peer,
    };
    let (good, bad) = if memory { ("smaller", "larger") } else { ("faster", "slower") };
    let text = if advantage >= 1.0 { format!("{advantage:.2}x {good}") } else { format!("{:.2}x {bad}", 1.0 / advantage) };
    (advantage, text)
}

fn compare(report: &mut Report, peers_path: &Path, quick: bool, report_load_start: &str) -> Option<Value> {
    let text = std::fs::read_to_string(peers_path).ok()?;
    let peers: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            println!("\n{}: not valid JSON ({e}); no comparison", peers_path.display());
            return None;
        }
    };
    let peer_results = peers["results"].as_array().cloned().unwrap_or_default();
    let ours = report.results.clone();
    let present: Vec<(&str, &str)> = PEERS.into_iter().filter(|(fw, _)| peer_results.iter().any(|r| r["framework"] == *fw)).collect();
    let mut head: Vec<String> = ["metric", "cell", "max_len"].map(String::from).to_vec();
    head.extend(present.iter().map(|(_, name)| name.to_string()));
    head.push("libsenti".into());
    head.extend(present.iter().map(|(_, name)| format!("vs {name}")));
    head.push("best peer".into());
    let mut t = Table::new(format!("libsenti vs peers ({})", peers_path.display()), &head.iter().map(String::as_str).collect::<Vec<_>>());
    let versions: Vec<String> = present
        .iter()
        .filter_map(|(fw, name)| {
            let v = peer_results.iter().find(|r| r["framework"] == *fw)?;
            Some(format!("{name} {}", v["version"].as_str().unwrap_or("?")))
        })
        .collect();
    t.note(format!("peers: {}; their run finished {}", versions.join(", "), peers["generated"].as_str().unwrap_or("?")));
    if peers["quick"].as_bool() != Some(quick) {
        t.note(format!(
            "WARNING: peers.json is from a {} run and this is a {} run; epoch times are compared through padded tokens/s",
            if peers["quick"].as_bool() == Some(true) { "--quick" } else { "full" },
            if quick { "--quick" } else { "full" }
        ));
    }
    let mut rows_json = Vec::new();
    let mut cells: Vec<(String, Option<usize>)> = Vec::new();
    for r in &ours {
        if r["metric"] == "epoch_seconds" {
            cells.push((r["cell"].as_str().unwrap().to_string(), r["max_len"].as_u64().map(|l| l as usize)));
        }
    }
    // (label, our metric, the peers' metric it is set beside, cell, max_len, which way is
    // better, a memory figure). The peers predict at f32 only; our i16 rows stand beside that.
    type Spec = (&'static str, &'static str, &'static str, String, Option<usize>, Better, bool);
    let mut specs: Vec<Spec> = Vec::new();
    for (cell, len) in &cells {
        specs.push(("epoch time (s)", "epoch_seconds", "epoch_seconds", cell.clone(), *len, Better::Lower, false));
    }
    for cell in ["lstm", "gru"] {
        if find(&ours, "senti", "single_latency_p50", cell, None).is_some() {
            specs.push(("single latency p50 (ms)", "single_latency_p50", "single_latency_p50", cell.into(), None, Better::Lower, false));
            specs.push(("single latency p50, ours at i16 (ms)", "single_latency_p50_i16", "single_latency_p50", cell.into(), None, Better::Lower, false));
            specs.push(("batch-256 throughput (reviews/s)", "batch_throughput", "batch_throughput", cell.into(), None, Better::Higher, false));
            specs.push(("batch-256 throughput, ours at i16 (reviews/s)", "batch_throughput_i16", "batch_throughput", cell.into(), None, Better::Higher, false));
            specs.push(("peak memory (MB)", "peak_memory", "peak_memory", cell.into(), None, Better::Lower, true));
            specs.push(("peak memory, ours at i16 (MB)", "peak_memory_i16", "peak_memory", cell.into(), None, Better::Lower, true));
        }
    }
    for (label, metric, peer_metric, cell, len, better, memory) in specs {
        let Some(o) = find(&ours, "senti", metric, &cell, len) else { continue };
        let ours_v = o["value"].as_f64().unwrap();
        let mut row = vec![label.to_string(), cell.clone(), len.map_or("".into(), |l| l.to_string())];
        let mut peer_cells = Vec::new();
        let mut verdicts = Vec::new();
        let mut best: Option<(&str, f64)> = None;
        let mut row_json = json!({"metric": metric, "cell": cell, "max_len": len, "senti": ours_v});
        for &(fw, name) in &present {
            let Some(p) = find(&peer_results, fw, peer_metric, &cell, len) else {
                peer_cells.push("-".to_string());
                verdicts.push("-".to_string());
                continue;
            };
            let peer_v = p["value"].as_f64().unwrap_or(f64::NAN);
            // Different review counts (a quick run against a full one): compare work rates.
            let (adv, text) = if metric == "epoch_seconds" && p["reviews"] != o["reviews"] {
                let rate = |r: &Value, v: f64| r["reviews"].as_f64().unwrap_or(f64::NAN) / v;
                let (a, t) = verdict(rate(o, ours_v), rate(p, peer_v), Better::Higher, false);
                (a, format!("{t}*"))
            } else {
                verdict(ours_v, peer_v, better, memory)
            };
            peer_cells.push(if peer_metric == "batch_throughput" { thousands(peer_v) } else { f2(peer_v) });
            verdicts.push(text.clone());
            row_json[fw] = json!({"value": peer_v, "advantage": adv, "verdict": text});
            let is_better = |a: f64, b: f64| if better == Better::Lower { a < b } else { a > b };
            if best.is_none_or(|(_, b)| is_better(peer_v, b)) {
                best = Some((name, peer_v));
            }
        }
        row.extend(peer_cells);
        row.push(if peer_metric == "batch_throughput" { thousands(ours_v) } else { f2(ours_v) });
        row.extend(verdicts);
        row.push(best.map_or("-".into(), |(n, _)| n.to_string()));
        row_json["best_peer"] = json!(best.map(|(n, _)| n));
        t.row(row);
        rows_json.push(row_json);
    }
    t.note("advantage = peer time / our time (epoch, latency, memory) or our rate / peer rate (throughput); above 1 favours libsenti");
    t.note("peers' latency and throughput time the model call on token ids prepared in advance; ours take the text (tokenizing included)");
    t.note("peers run every padded step (pre-padding, no masking); libsenti stops each review at its length and buckets batches by length");
    if t.rows.iter().any(|r| r.iter().any(|c| c.ends_with('*'))) {
        t.note("* review counts differ between the two runs: compared as reviews per second");
    }
    t.note(format!(
        "instruction sets: libsenti's kernels {}, its gemm {}; the peers' frameworks {} (PEERS_MAX_ISA; ONNX Runtime and fastText choose by the CPU)",
        senti::simd_level(),
        senti::gemm_level(),
        peers["machine"]["max_isa"].as_str().unwrap_or("as the CPU offers")
    ));
    t.note(format!(
        "load average at the start: this run {}, the peers' run {} ({} CPUs used); others' work on the machine makes figures noisy, \
         fine-grained multi-threading (the peers' OpenMP) most of all",
        report_load_start,
        peers["machine"]["loadavg_start"].as_str().unwrap_or("?"),
        peers["cpus"]
    ));
    // Without recurrent peers (a fastText-only run) or figures of ours to set beside them, the
    // table would be empty.
    if !t.rows.is_empty() {
        report.show(t);
    }
    let fasttext = compare_fasttext(report, &peer_results);
    Some(json!({"peers_file": peers_path, "peers_generated": peers["generated"], "peers_quick": peers["quick"], "rows": rows_json, "fasttext": fasttext}))
}

/// The default models of section (f) beside fastText with bigrams from the same peers run: a
/// linear model that predicts in a fraction of a millisecond, which the speed targets measure
/// latency-bound recipes against (within 2× of its latency, and more accurate).
fn compare_fasttext(report: &mut Report, peer_results: &[Value]) -> Option<Value> {
    let ft = |metric: &str| find(peer_results, "fasttext", metric, "bigrams", None).and_then(|r| r["value"].as_f64());
    let ft_latency = ft("single_latency_p50_with_tokenizer")?;
    let version = peer_results.iter().find(|r| r["framework"] == "fasttext").and_then(|r| r["version"].as_str()).unwrap_or("?");
    let (ft_accuracy, ft_train) = (ft("test_accuracy"), ft("train_seconds"));
    let mut t = Table::new(
        format!("The default models beside fastText {version} (bigrams), text in"),
        &["model", "single p50 ms", "latency / fastText's", "test accuracy", "training s", "batch-256 reviews/s"],
    );
    let pct = |a: Option<f64>| a.map_or("-".into(), |a| format!("{:.2}%", 100.0 * a));
    t.row(vec!["fastText bigrams".into(), f3(ft_latency), "1.00".into(), pct(ft_accuracy), ft_train.map_or("-".into(), f1), ft("batch_throughput_with_tokenizer").map_or("-".into(), thousands)]);
    let mut rows = Vec::new();
    let ours = report.results.clone();
    for cell in DEFAULT_MODELS {
        let value = |metric: &str| find(&ours, "senti", metric, cell, None).and_then(|r| r["value"].as_f64());
        let Some(p50) = value("default_single_latency_p50") else { continue };
        let accuracy = value("default_test_accuracy");
        t.row(vec![
            if cell == "wide" { "libsenti fast recipe (wide path alone)".to_string() } else { format!("libsenti default {cell}") },
            f3(p50),
            f2(p50 / ft_latency),
            pct(accuracy),
            value("default_train_seconds").map_or("-".into(), f1),
            value("default_batch_throughput").map_or("-".into(), thousands),
        ]);
        rows.push(json!({"cell": cell, "latency_ratio": p50 / ft_latency, "accuracy": accuracy, "fasttext_accuracy": ft_accuracy}));
    }
    t.note("fastText's latency here takes the text (libsenti's tokenizer in Python, then predict), as libsenti's does; its prepared-input figure is in peers.json");
    t.note("fastText trains on the 25,000 training reviews (2,000 with --quick), its learning rate and epochs chosen on a validation tenth (FASTTEXT_GRID in benches/peers.py); its training time is the final fit's; libsenti's figures are the main job's");
    report.show(t);
    Some(json!({"fasttext_latency_ms": ft_latency, "fasttext_accuracy": ft_accuracy, "rows": rows}))
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let args = parse_args();
    let cpus = pin_cpus(args.cpus);
    if let Some((model, texts, precision)) = &args.probe {
        memory_probe(model, texts, *precision);
        return;
    }
    if !args.data.exists() {
        eprintln!("{}: missing; run examples/fetch-imdb.sh first", args.data.display());
        std::process::exit(1);
    }
    let quick = args.quick;
    let started = Instant::now();
    let load_start = loadavg();
    let work = std::env::temp_dir().join(format!("senti-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("creating a scratch folder");
    println!(
        "libsenti {} benchmark ({}), {} CPUs pinned of this machine ({}, kernels: {}, gemm: {}), {} training threads; load average {}",
        senti::VERSION,
        if quick { "--quick" } else { "full" },
        cpus,
        cpu_model(),
        senti::simd_level(),
        senti::gemm_level(),
        THREADS,
        load_start
    );

    let test_set = senti::data::load(&args.data, Format::ImdbJson, Some(Split::Test)).expect("test split");
    let tok = Tokenizer::new();

    let mut report = Report { tables: Vec::new(), results: Vec::new() };
    if args.default_only {
        default_models(&mut report, &test_set, &args.models, &work, quick, cpus);
        let comparison = compare(&mut report, &args.peers, quick, &load_start);
        write_report(&args, &report, started, &load_start, cpus, json!({"comparison": comparison}));
        let _ = std::fs::remove_dir_all(&work);
        return;
    }
    let train_set = senti::data::load(&args.data, Format::ImdbJson, Some(Split::Train)).expect("training split");
    let train_lengths: Vec<usize> = train_set.iter().map(|e| tok.tokenize(&e.text).len()).collect();
    let cells = ["lstm", "gru"];

    // (a) Training: one epoch per cell and length.
    let train_limit = quick.then_some(2000);
    let train_reviews = train_limit.unwrap_or(train_set.len());
    let train_lens = [200, 400];
    let slice_lengths: Vec<usize> = match train_limit {
        Some(l) => balanced_sample(&train_set, l, 1).iter().map(|e| tok.tokenize(&e.text).len()).collect(),
        None => train_lengths.clone(),
    };
    let mut t = Table::new(
        format!("Training: one epoch over {} training reviews (batch 64, {THREADS} threads)", thousands(train_reviews as f64)),
        &["cell", "max_len", "train call s", "batches 2..N s", "epoch s", "padded tokens/s", "real tokens/s", "train acc"],
    );
    let mut models_200: Vec<(&str, PathBuf)> = Vec::new();
    for cell in cells {
        for &len in &train_lens {
            let r = train_once(&train_params(&args.data, cell, len, train_limit));
            let epoch = r.epoch_s();
            let padded = train_reviews as f64 * len as f64 / epoch;
            let real = real_tokens(&slice_lengths, len) as f64 / epoch;
            t.row(vec![
                cell.into(),
                len.to_string(),
                f1(r.call_s),
                f1(r.after_first_s),
                f1(epoch),
                thousands(padded),
                thousands(real),
                f3(r.train_accuracy),
            ]);
            let extra = json!({"reviews": train_reviews, "batches": r.batches});
            report.metric("epoch_seconds", Some(cell), Some(len), epoch, "s", extra.clone());
            report.metric("epoch_after_first_batch_seconds", Some(cell), Some(len), r.after_first_s, "s", extra.clone());
            report.metric("train_call_seconds", Some(cell), Some(len), r.call_s, "s", extra.clone());
            report.metric("padded_tokens_per_second", Some(cell), Some(len), padded, "tokens/s", extra.clone());
            report.metric("real_tokens_per_second", Some(cell), Some(len), real, "tokens/s", extra.clone());
            report.metric("train_accuracy", Some(cell), Some(len), r.train_accuracy, "fraction", extra);
            if len == 200 {
                let path = work.join(format!("{cell}-200.safetensors"));
                r.model.save(&path).expect("saving a model");
                models_200.push((cell, path));
            }
        }
    }
    t.note("train call: the whole senti::train call (loading, vocabulary, encoding, the epoch); batches 2..N: first Batch callback to the Epoch callback; epoch: that scaled to N batches");
    t.note("padded tokens/s = reviews × max_len / epoch s, the work the peers do; libsenti skips padding (each review stops at its length, batches are length-bucketed), which counts in its favour");
    t.note("real tokens/s counts only the tokens read (min(length, max_len) per review)");
    report.show(t);

    // (b) Cost growth with length (training) ...
    let growth_limit = if quick { 2000 } else { 5000 };
    let growth_lens: &[usize] = &[100, 200, 400, 800];
    let growth_cells: &[&str] = if quick { &["gru"] } else { &["gru", "lstm"] };
    let growth_lengths: Vec<usize> = balanced_sample(&train_set, growth_limit, 1).iter().map(|e| tok.tokenize(&e.text).len()).collect();
    let mut t = Table::new(
        format!("Cost growth: one epoch over a fixed slice of {} training reviews (train_limit)", thousands(growth_limit as f64)),
        &["cell", "max_len", "epoch s", "time ratio", "padded ratio", "real tokens", "real ratio", "µs per real token"],
    );
    let mut model_800 = None;
    let mut growth_json = Vec::new();
    for &cell in growth_cells {
        let mut base: Option<(f64, usize)> = None;
        for &len in growth_lens {
            let r = train_once(&train_params(&args.data, cell, len, Some(growth_limit)));
            let epoch = r.epoch_s();
            let real = real_tokens(&growth_lengths, len);
            let (b_time, b_real) = *base.get_or_insert((epoch, real));
            t.row(vec![
                cell.into(),
                len.to_string(),
                f2(epoch),
                f2(epoch / b_time),
                f2(len as f64 / growth_lens[0] as f64),
                thousands(real as f64),
                f2(real as f64 / b_real as f64),
                f3(epoch * 1e6 / real as f64),
            ]);
            growth_json.push(json!({"cell": cell, "max_len": len, "reviews": growth_limit, "epoch_s": epoch, "time_ratio": epoch / b_time,
                "real_tokens": real, "real_ratio": real as f64 / b_real as f64, "train_call_s": r.call_s}));
            if len == 800 && model_800.is_none() {
                let path = work.join(format!("{cell}-800.safetensors"));
                r.model.save(&path).expect("saving a model");
                model_800 = Some((cell, path));
            }
        }
    }
    t.note("time ratio: epoch time over the 100-token time; padded ratio: what a padded implementation's cost grows by");
    t.note("most IMDB reviews are shorter than 400 tokens, so libsenti's cost follows the real tokens (real ratio), not max_len");
    t.note("µs per real token stays roughly flat; it rises a little with max_len because the last steps of a long batch run few rows");
    report.show(t);

    // ... and prediction cost with length and batch size (a model trained at max_len 800, loaded).
    let (cell_800, path_800) = model_800.expect("a max_len 800 model");
    let m800 = SentimentModel::load(&path_800).expect("loading the max_len 800 model");
    let mut long_tokens: Vec<String> = Vec::new();
    for e in &test_set {
        long_tokens.extend(tok.tokenize(&e.text));
        if long_tokens.len() >= 800 {
            break;
        }
    }
    let exact = |tokens: &[String], n: usize| -> String {
        let text = tokens[tokens.len() - n..].join(" ");
        assert_eq!(tok.tokenize(&text).len(), n, "a synthetic review must re-tokenize to {n} tokens");
        text
    };
    let calls = if quick { 100 } else { 500 };
    let mut t = Table::new(
        format!("Prediction vs length: one review of exactly N tokens ({cell_800} model trained with max_len 800, {calls} calls each)"),
        &["tokens", "p50 ms", "mean ms", "ratio to 100", "µs per token"],
    );
    let mut length_json = Vec::new();
    let mut base = None;
    for n in [100, 200, 400, 800] {
        let text = exact(&long_tokens, n);
        for _ in 0..20 {
            m800.predict(&text).unwrap();
        }
        let times = time_calls(0..calls, |_| {
            std::hint::black_box(m800.predict(std::hint::black_box(&text)).unwrap());
        });
        let p50 = percentile(&times, 50.0);
        let b = *base.get_or_insert(p50);
        t.row(vec![n.to_string(), f3(p50), f3(mean(&times)), f2(p50 / b), f3(p50 * 1e3 / n as f64)]);
        length_json.push(json!({"tokens": n, "p50_ms": p50, "mean_ms": mean(&times), "ratio": p50 / b}));
    }
    t.note("the review: test reviews concatenated, the last N tokens kept (tokenizing is included in the time)");
    report.show(t);

    let batch_texts: Vec<String> = test_set
        .iter()
        .filter_map(|e| {
            let toks = tok.tokenize(&e.text);
            (toks.len() >= 200).then(|| exact(&toks, 200))
        })
        .take(256)
        .collect();
    let mut t = Table::new(
        format!("Prediction vs batch size: reviews of exactly 200 tokens ({cell_800} model, max_len 800)"),
        &["batch", "p50 ms per batch", "µs per review", "reviews/s", "ratio to batch 1"],
    );
    let mut batch_json = Vec::new();
    let mut base = None;
    for b in [1usize, 16, 64, 256] {
        let refs: Vec<&str> = batch_texts[..b].iter().map(String::as_str).collect();
        let reps = ((if quick { 512 } else { 2048 }) / b).max(5);
        for _ in 0..3 {
            m800.predict_batch(&refs).unwrap();
        }
        let times = time_calls(0..reps, |_| {
            std::hint::black_box(m800.predict_batch(std::hint::black_box(&refs)).unwrap());
        });
        let p50 = percentile(&times, 50.0);
        let bt = *base.get_or_insert(p50);
        t.row(vec![b.to_string(), f3(p50), f1(p50 * 1e3 / b as f64), thousands(b as f64 * 1e3 / p50), f2(p50 / bt)]);
        batch_json.push(json!({"batch": b, "p50_ms": p50, "us_per_review": p50 * 1e3 / b as f64, "reviews_per_s": b as f64 * 1e3 / p50}));
    }
    t.note("linear growth shows as a flat µs per review; a batch is cut into forward passes of up to 128 reviews and 12,288 padded tokens");
    report.show(t);
    drop(m800);

    // (c) Prediction with the max_len-200 models of (a), saved and loaded again.
    let latency_texts: Vec<&str> =
        test_set.iter().filter(|e| LATENCY_TOKENS.contains(&tok.tokenize(&e.text).len())).map(|e| e.text.as_str()).collect();
    let single_calls = if quick { 300 } else { 1000 };
    let throughput_n = if quick { 5120 } else { test_set.len() };
    let mut t = Table::new(
        "Prediction: models of (a) at max_len 200, saved and loaded",
        &["cell", "single p50 ms", "single p99 ms", "single mean ms", "batch-256 reviews/s", "single p50 ms at f16", "single p50 ms at i16", "batch-256 reviews/s at i16"],
    );
    for (cell, path) in &models_200 {
        let m = SentimentModel::load(path).expect("loading a saved model");
        let times = single_latencies(&m, &latency_texts, single_calls);
        let texts: Vec<&str> = test_set[..throughput_n].iter().map(|e| e.text.as_str()).collect();
        let rate = batch_rate(&m, &texts);
        let (p50, p99) = (percentile(&times, 50.0), percentile(&times, 99.0));
        let mut row = vec![cell.to_string(), f3(p50), f3(p99), f3(mean(&times)), thousands(rate)];
        // The same calls at the other precisions (senti_set_prediction_precision), right after;
        // i16's batches multiply integers too.
        for precision in [Precision::F16, Precision::I16] {
            m.set_prediction_precision(precision).unwrap();
            let p50 = percentile(&single_latencies(&m, &latency_texts, single_calls), 50.0);
            report.metric(&format!("single_latency_p50_{}", precision.name()), Some(cell), None, p50, "ms", json!({"calls": single_calls}));
            row.push(f3(p50));
        }
        let rate_i16 = batch_rate(&m, &texts);
        report.metric("batch_throughput_i16", Some(cell), None, rate_i16, "reviews/s", json!({"batch": BATCH, "reviews": throughput_n}));
        row.push(thousands(rate_i16));
        t.row(row);
        let extra = json!({"calls": single_calls, "distinct_reviews": latency_texts.len()});
        report.metric("single_latency_p50", Some(cell), None, p50, "ms", extra.clone());
        report.metric("single_latency_p99", Some(cell), None, p99, "ms", extra.clone());
        report.metric("single_latency_mean", Some(cell), None, mean(&times), "ms", extra);
        report.metric("batch_throughput", Some(cell), None, rate, "reviews/s", json!({"batch": BATCH, "reviews": throughput_n}));
    }
    t.note(format!(
        "single: {single_calls} calls cycling over the {} test reviews of {}..{} tokens, after 100 warm-up calls; text in, probability out",
        thousands(latency_texts.len() as f64),
        LATENCY_TOKENS.start(),
        LATENCY_TOKENS.end()
    ));
    t.note(format!("batch: the first {} test reviews in batches of {BATCH} (any length, truncated to 200)", thousands(throughput_n as f64)));
    t.note(format!("prediction uses one thread per available CPU: {cpus} here"));
    report.show(t);

    // (d) Peak memory of a process that loads a model and predicts.
    let probe_texts: Vec<&str> = (0..PROBE_TEXTS).map(|i| test_set[i * PROBE_STRIDE].text.as_str()).collect();
    let texts_path = work.join("probe-texts.json");
    std::fs::write(&texts_path, serde_json::to_vec(&probe_texts).unwrap()).unwrap();
    let mut t = Table::new(
        "Peak memory: a fresh process loads a max_len-200 model, predicts 1,000 reviews one by one and 1,000 in batches of 256",
        &["cell", "peak RSS MB (VmHWM)", "RSS at end MB", "before loading MB", "model file MB", "peak RSS MB at i16"],
    );
    for (cell, path) in &models_200 {
        let p = run_probe(path, &texts_path, Precision::F32);
        let mb = |k: &str| probe_mb(&p, k);
        let file_mb = std::fs::metadata(path).map_or(f64::NAN, |m| m.len() as f64 / (1 << 20) as f64);
        // At i16 the per-word input table is stored as bytes: a quarter of f32's.
        let i16_mb = probe_mb(&run_probe(path, &texts_path, Precision::I16), "VmHWM_kB");
        t.row(vec![cell.to_string(), f1(mb("VmHWM_kB")), f1(mb("VmRSS_kB")), f1(mb("baseline_VmHWM_kB")), f1(file_mb), f1(i16_mb)]);
        report.metric("peak_memory", Some(cell), None, mb("VmHWM_kB"), "MB", json!({"rss_end_mb": mb("VmRSS_kB"), "before_model_mb": mb("baseline_VmHWM_kB")}));
        report.metric("peak_memory_i16", Some(cell), None, i16_mb, "MB", json!({}));
    }
    t.note(format!("the probe is this binary run again with --memory-probe; MB = 2^20 bytes; test reviews 0, {PROBE_STRIDE}, {}, … ", 2 * PROBE_STRIDE));
    if let Some((_, path)) = models_200.first() {
        let vocab = SentimentModel::load(path).map_or(0, |m| m.vocab_len());
        if vocab < 20_000 {
            t.note(format!("the vocabulary of these models has {vocab} entries (fewer reviews than a full run), so the embedding is smaller"));
        }
    }
    report.show(t);

    // (f) The default model, from the main job's files (shown before the comparison, which
    // reads its figures).
    default_models(&mut report, &test_set, &args.models, &work, quick, cpus);

    // (e) Side by side with the peers.
    let comparison = compare(&mut report, &args.peers, quick, &load_start);
    if comparison.is_none() {
        println!("\n(no {}: run benches/run-peers.sh for the TensorFlow and PyTorch figures)", args.peers.display());
    }

    let sections = json!({
        "train_reviews": train_reviews,
        "growth": growth_json,
        "predict_length": length_json,
        "predict_batch": batch_json,
        "comparison": comparison,
    });
    write_report(&args, &report, started, &load_start, cpus, sections);
    let _ = std::fs::remove_dir_all(&work);
}

/// Writes the JSON report (the machine, every metric, and `sections`' fields) and its markdown
/// copy.
fn write_report(args: &Args, report: &Report, started: Instant, load_start: &str, cpus: usize, sections: Value) {
    let quick = args.quick;
    let elapsed = started.elapsed().as_secs_f64();
    let mut out = json!({
        "library": "senti",
        "version": senti::VERSION,
        "quick": quick,
        "generated_unix": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "seconds": elapsed,
        "machine": {"cpu": cpu_model(), "simd_level": senti::simd_level(), "gemm_level": senti::gemm_level(), "cpus_used": cpus, "threads": THREADS, "loadavg_start": load_start, "loadavg_end": loadavg()},
        "data": args.data,
        "results": report.results,
    });
    if let (Some(out), Value::Object(sections)) = (out.as_object_mut(), sections) {
        out.extend(sections);
    }
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).expect("creating the report folder");
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&out).unwrap() + "\n").expect("writing the JSON report");
    let md_path = args.out.with_extension("md");
    let mut md = format!(
        "# libsenti benchmark\n\nlibsenti {}, {} run, {} CPUs ({}, kernels: {}, gemm: {}), load average {} at the start and {} at the end, {:.0} s.\n\n",
        senti::VERSION,
        if quick { "--quick" } else { "full" },
        cpus,
        cpu_model(),
        senti::simd_level(),
        senti::gemm_level(),
        load_start,
        loadavg(),
        elapsed
    );
    for t in &report.tables {
        md += &t.render();
        md += "\n";
    }
    std::fs::write(&md_path, md).expect("writing the markdown report");
    println!("\nwrote {} and {} in {:.0} s", args.out.display(), md_path.display(), elapsed);
}
