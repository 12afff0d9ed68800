// SPDX-License-Identifier: MIT OR Apache-2.0
//! The `senti` command-line tool, run as a program: trains a tiny three-label model on a fixture
//! written to a scratch folder, then tests it, predicts with it (stdin, files, `-k 2`, JSON),
//! describes it, and checks the help and the exit codes of bad usage, bad data and missing files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use senti::config::fields::FIELDS;

const SENTI: &str = env!("CARGO_BIN_EXE_senti");

const TOPICS: [(&str, [&str; 6]); 3] = [
    ("sports", ["goal", "match", "team", "league", "coach", "score"]),
    ("cooking", ["bake", "oven", "flour", "sauce", "recipe", "butter"]),
    ("space", ["rocket", "orbit", "planet", "probe", "launch", "moon"]),
];
const FILLER: [&str; 5] = ["the", "a", "today", "again", "of"];

/// A short text of topic `k`, varied by `i`.
fn text(k: usize, i: usize) -> String {
    let w = &TOPICS[k].1;
    format!("{} {} {} {} {} {}", FILLER[i % 5], w[i % 6], w[(i + 1) % 6], FILLER[(i + 2) % 5], w[(i * 7 + 3) % 6], FILLER[(i + 3) % 5])
}

fn jsonl(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("{{\"text\": \"{}\", \"label\": \"{}\"}}\n", text(i % 3, i), TOPICS[i % 3].0)).collect()
}

struct Fixture {
    dir: PathBuf,
    model: PathBuf,
    train_stdout: String,
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("senti-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn senti(args: &[&str]) -> Output {
    Command::new(SENTI).args(args).stdin(Stdio::null()).output().expect("runs the senti binary")
}

fn senti_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(SENTI).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}
fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn ok(o: Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// Exits with `code` and says why on stderr, prefixed `senti: ` (clap's own usage errors say `error:`).
fn fails(o: Output, code: i32, says: &str) -> String {
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(says), "stderr lacks {says:?}: {err}");
    assert!(o.stdout.is_empty(), "no output on failure: {}", stdout(&o));
    err
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Trains the model once for every test: some parameters from a JSON file, the rest as flags.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = scratch();
        std::fs::write(dir.join("train.jsonl"), jsonl(0, 240)).unwrap();
        std::fs::write(dir.join("test.jsonl"), jsonl(1000, 30)).unwrap();
        std::fs::write(dir.join("params.json"), r#"{"seed": 7, "epochs": 9, "learning_rate": 0.01, "vocab_size": 200}"#).unwrap();
        let model = dir.join("topics.safetensors");
        let out = senti(&[
            "train", "--data", p(&dir.join("train.jsonl")), "--output", p(&model), "--params", p(&dir.join("params.json")),
            // Flags override the file (epochs 9 → 3).
            "--epochs", "3", "--embedding-dim", "16", "--hidden-size", "16", "--bidirectional", "false", "--max-len", "16",
            "--batch-size", "16", "--embedding-pretrain-epochs", "0", "--threads", "2", "--cell", "gru", "--quiet",
        ]);
        assert!(stderr(&out).is_empty(), "--quiet prints nothing on stderr: {}", stderr(&out));
        let train_stdout = ok(out);
        Fixture { dir, model, train_stdout }
    })
}

#[test]
fn train_reports_validation_and_the_model_path() {
    let f = fixture();
    assert!(f.model.is_file());
    let out = &f.train_stdout;
    assert!(out.contains("labels: 3 (cooking, space, sports)"), "{out}");
    assert!(out.contains(&format!("model written to {}", f.model.display())), "{out}");
    let line = out.lines().find(|l| l.starts_with("validation: accuracy ")).unwrap_or_else(|| panic!("{out}"));
    let accuracy: f64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(accuracy >= 0.8, "{out}");
    assert!(out.contains("best epoch") && out.contains("of 3"), "three epochs, as the flag said: {out}");
}

#[test]
fn train_logs_plain_epoch_lines_when_stderr_is_not_a_terminal() {
    let f = fixture();
    let model = f.dir.join("logged.safetensors");
    let out = senti(&[
        "train", "--data", p(&f.dir.join("train.jsonl")), "-o", p(&model), "--epochs", "2", "--embedding-dim", "8", "--hidden-size", "8",
        "--max-len", "16", "--batch-size", "32", "--embedding-pretrain-epochs", "0", "--wide-ngrams", "0", "--threads", "1",
    ]);
    let err = stderr(&out);
    ok(out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one line per epoch and no bar: {err:?}");
    for (i, line) in lines.iter().enumerate() {
        assert!(line.starts_with(&format!("epoch {}/2: loss ", i + 1)) && line.contains(", validation loss "), "{line}");
    }
    assert!(!err.contains('\r') && !err.contains('\x1b'), "no terminal control codes: {err:?}");
    let info = ok(senti(&["info", p(&model)]));
    assert!(info.contains("wide path     none"), "--wide-ngrams 0: {info}");
}

#[test]
fn test_prints_the_figures_and_every_class() {
    let f = fixture();
    let out = ok(senti(&["test", p(&f.model), "--data", p(&f.dir.join("test.jsonl"))]));
    assert!(out.contains("examples  30\n"), "{out}");
    let figure = |name: &str| -> f64 {
        let line = out.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name}: {out}"));
        line.split_whitespace().last().unwrap().parse().unwrap()
    };
    assert!(figure("accuracy") >= 0.8, "{out}");
    assert!(figure("macro-F1") >= 0.75, "{out}");
    assert!((0.0..0.5).contains(&figure("loss")), "{out}");
    assert!(out.contains("precision  recall  f1      support"), "{out}");
    for (label, _) in TOPICS {
        let row = out.lines().find(|l| l.starts_with(label) && l.split_whitespace().count() == 5).unwrap_or_else(|| panic!("no row {label}: {out}"));
        assert_eq!(row.split_whitespace().last(), Some("10"), "support of {label}: {row}");
    }

    let json = ok(senti(&["test", p(&f.model), "--data", p(&f.dir.join("test.jsonl")), "--json"]));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["count"], 30);
    assert_eq!(report["labels"], serde_json::json!(["cooking", "space", "sports"]));
    let supports: Vec<u64> = report["per_class"].as_array().unwrap().iter().map(|c| c["support"].as_u64().unwrap()).collect();
    assert_eq!(supports, [10, 10, 10]);
    let confusion: u64 = report["confusion"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap()).map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(confusion, 30);
    assert!((report["accuracy"].as_f64().unwrap() - figure("accuracy")).abs() < 1e-4);

    // At half size the loss moves a little and nothing else about the report changes shape.
    for precision in ["f16", "i16"] {
        let half = ok(senti(&["test", p(&f.model), "--data", p(&f.dir.join("test.jsonl")), "--json", "--precision", precision]));
        let half: serde_json::Value = serde_json::from_str(&half).unwrap();
        assert_eq!(half["count"], 30);
        assert!((half["loss"].as_f64().unwrap() - report["loss"].as_f64().unwrap()).abs() < 1e-2, "{precision}: {half} against {report}");
    }
    fails(senti(&["test", p(&f.model), "--data", p(&f.dir.join("test.jsonl")), "--precision", "bf16"]), 2, "bf16");
}

/// `label<TAB>probability` pairs of one output line.
fn pairs(line: &str) -> Vec<(String, f64)> {
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(fields.len() % 2, 0, "{line:?}");
    fields.chunks(2).map(|c| (c[0].to_string(), c[1].parse().unwrap())).collect()
}

#[test]
fn predict_reads_stdin_and_files() {
    let f = fixture();
    let texts = ["the goal of the team and the league", "bake the flour in the oven", "", "the rocket reached orbit around the moon"];
    let out = ok(senti_stdin(&["predict", p(&f.model)], &(texts.join("\n") + "\n")));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "one line per input line, the empty one included: {out}");
    for (line, want) in lines.iter().zip([Some("sports"), Some("cooking"), None, Some("space")]) {
        let got = pairs(line);
        assert_eq!(got.len(), 1, "{line}");
        assert!(got[0].1 > 1.0 / 3.0 && got[0].1 <= 1.0, "{line}");
        if let Some(want) = want {
            assert_eq!(got[0].0, want, "{line}");
        }
    }

    let file = f.dir.join("texts.txt");
    std::fs::write(&file, "a launch of a probe to the planet\r\nthe coach and the score\n").unwrap();
    let out = ok(senti(&["predict", p(&f.model), p(&file), "-k", "2"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for (line, want) in lines.iter().zip(["space", "sports"]) {
        let got = pairs(line);
        assert_eq!(got.len(), 2, "{line}");
        assert_eq!(got[0].0, want, "{line}");
        assert_ne!(got[0].0, got[1].0);
        assert!(got[0].1 >= got[1].1 && got[0].1 + got[1].1 <= 1.0 + 1e-5, "{line}");
    }

    // At half size the same labels, with probabilities within 1e-2; another value is refused.
    for precision in ["f16", "i16"] {
        let half = ok(senti(&["predict", p(&f.model), p(&file), "-k", "2", "--precision", precision]));
        for (line, half_line) in out.lines().zip(half.lines()) {
            let (full, half) = (pairs(line), pairs(half_line));
            assert_eq!(full.iter().map(|x| &x.0).collect::<Vec<_>>(), half.iter().map(|x| &x.0).collect::<Vec<_>>(), "{precision}: {line} / {half_line}");
            assert!(full.iter().zip(&half).all(|(a, b)| (a.1 - b.1).abs() < 1e-2), "{precision}: {line} / {half_line}");
        }
    }
    fails(senti(&["predict", p(&f.model), p(&file), "--precision", "f64"]), 2, "f64");

    // -k beyond the labels gives all of them; their probabilities sum to 1.
    let out = ok(senti(&["predict", p(&f.model), p(&file), "-k", "9", "--json"]));
    for line in out.lines() {
        let picks: serde_json::Value = serde_json::from_str(line).unwrap();
        let picks = picks.as_array().unwrap();
        assert_eq!(picks.len(), 3);
        let sum: f64 = picks.iter().map(|x| x["probability"].as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{line}");
    }
}

#[test]
fn info_describes_the_model_and_its_parameters() {
    let f = fixture();
    let out = ok(senti(&["info", p(&f.model)]));
    assert!(out.contains("format        senti-model version 3, written by libsenti "), "{out}");
    assert!(out.contains("labels        3: cooking, space, sports"), "{out}");
    assert!(out.contains(&format!("kernels       {} (matrix multiplies: gemm at {};", senti::simd_level(), senti::gemm_level())), "{out}");
    assert!(out.contains("architecture  gru, 1 layer, one direction, embedding 16, hidden 16"), "{out}");
    assert!(out.contains("wide path     n-grams up to 2"), "{out}");
    let param = |name: &str| -> String {
        let line = out.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_else(|| panic!("no {name}: {out}"));
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    // From the JSON file, from a flag over the file, and a default.
    assert_eq!(param("seed"), "7");
    assert_eq!(param("vocab_size"), "200");
    assert_eq!(param("epochs"), "3");
    assert_eq!(param("cell"), "gru");
    assert_eq!(param("pooling"), "max_mean");
    for field in FIELDS {
        param(field.name);
    }
    let json: serde_json::Value = serde_json::from_str(&ok(senti(&["info", p(&f.model), "--json"]))).unwrap();
    assert_eq!(json["format_version"], "3");
    assert_eq!(json["labels"], serde_json::json!(["cooking", "space", "sports"]));
    assert_eq!(json["training"]["params"]["hidden_size"], 16);
    assert_eq!(json["simd_level"], senti::simd_level());
}

#[test]
fn info_describes_a_transformer_by_its_own_shape_and_times_each_epoch() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/v4/transformer-wide.safetensors");
    let out = ok(senti(&["info", p(&golden)]));
    assert!(out.contains("architecture  transformer, 1 layer, 2 heads, width 16, feed-forward 32, embedding 16, pooling mean"), "{out}");
    assert!(out.contains("(embedding, encoder, head)") && !out.contains("per direction"), "{out}");
    assert!(out.contains("  epoch 4: loss ") && out.lines().filter(|l| l.starts_with("  epoch ")).all(|l| l.ends_with(" s)")), "{out}");
}

/// The fast recipe (no network): `info` says so, `explain` calls its answer exact, and
/// `test --part recurrent` is a usage error (exit 2).
#[test]
fn the_wide_path_alone_is_described_explained_and_has_no_recurrent_part() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/v6/wide-alone.safetensors");
    let out = ok(senti(&["info", p(&golden)]));
    assert!(out.contains("format        senti-model version 6"), "{out}");
    assert!(out.contains("architecture  none: the wide path alone") && out.contains("no epochs (the wide path alone)"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&ok(senti(&["info", p(&golden), "--json"]))).unwrap();
    assert!(json["model_config"].is_null() && json["format_version"] == "6", "{json}");
    let out = ok(senti_stdin(&["explain", p(&golden)], "A wonderful, moving film."));
    assert!(out.contains("method       wide_path (exact)") && !out.contains("past max_len"), "{out}");
    let data = scratch().join("wide-alone-test.jsonl");
    std::fs::write(&data, "{\"text\": \"a wonderful film\", \"label\": \"positive\"}\n{\"text\": \"a dull mess\", \"label\": \"negative\"}\n").unwrap();
    fails(senti(&["test", p(&golden), "--data", p(&data), "--part", "recurrent"]), 2, "no network");
}

/// `SENTI_MAX_SIMD` caps the kernels' instruction set (`info` says which ran), and every level this
/// CPU has predicts what the widest one does, within 1e-5 in probability, for a recurrent, an
/// attention-pooled and a transformer model.
#[test]
fn every_simd_level_predicts_what_the_widest_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let texts = root.join("tests/golden/texts.txt");
    let at = |level: &str, args: &[&str]| ok(Command::new(SENTI).args(args).env("SENTI_MAX_SIMD", level).stdin(Stdio::null()).output().unwrap());
    // Each label's probability, text by text.
    let scores = |out: &str| -> Vec<Vec<(String, f64)>> {
        out.lines()
            .map(|line| {
                let picks: serde_json::Value = serde_json::from_str(line).unwrap();
                let mut row: Vec<(String, f64)> = picks.as_array().unwrap().iter().map(|x| (x["label"].as_str().unwrap().to_string(), x["probability"].as_f64().unwrap())).collect();
                row.sort_by(|a, b| a.0.cmp(&b.0));
                row
            })
            .collect()
    };
    let widest = senti::simd_level();
    let names = ["baseline", "avx2", "avx512"];
    let levels = &names[..=names.iter().position(|&n| n == widest).unwrap()];
    // At f16 too: a level without the fused half product keeps the half-rounded weights as f32,
    // which must answer the same.
    // At i16 the integer sums are exact at every level.
    let cases = [("v3/lstm-bi-wide", "f32"), ("v4/gru-pure-attention", "f32"), ("v5/transformer-wide", "f32"), ("v3/lstm-bi-wide", "f16"), ("v4/gru-pure-attention", "f16"), ("v3/lstm-bi-wide", "i16"), ("v4/gru-pure-attention", "i16")];
    for (model, precision) in cases {
        let path = root.join(format!("tests/golden/{model}.safetensors"));
        let predict = |level: &str| scores(&at(level, &["predict", p(&path), p(&texts), "--json", "-k", "99", "--precision", precision]));
        let reference = predict(widest);
        assert!(!reference.is_empty());
        let model = format!("{model} at {precision}");
        for &level in levels {
            assert!(at(level, &["info", p(&path)]).contains(&format!("kernels       {level} ")), "{model} at {level}");
            let scores = predict(level);
            assert_eq!(scores.len(), reference.len(), "{model} at {level}: one row per text");
            for (got, want) in scores.iter().zip(&reference) {
                assert_eq!(got.len(), want.len(), "{model} at {level}: every label");
                for ((label, g), (_, w)) in got.iter().zip(want) {
                    assert!((g - w).abs() < 1e-5, "{model} at {level}: {label} {g} against {w} at {widest}");
                }
            }
        }
    }
    // A value that names no level leaves the kernels as the CPU chose.
    assert!(at("sse9", &["info", p(&root.join("tests/golden/v3/lstm-bi-wide.safetensors"))]).contains(&format!("kernels       {widest} ")));
}

#[test]
fn explain_lists_the_strongest_tokens_and_writes_json_and_html() {
    let f = fixture();
    let text = "The ROCKET reached orbit again";
    let plain = ok(senti(&["explain", p(&f.model), text]));
    assert!(plain.starts_with("class        space (score "), "{plain}");
    assert!(plain.contains("integrated_gradients, 8 steps") && plain.contains("towards space:"), "{plain}");
    let page = f.dir.join("explain.html");
    let json: serde_json::Value = serde_json::from_str(&ok(senti(&["explain", p(&f.model), "--json", "--steps", "4", "--html", p(&page), "--", text]))).unwrap();
    assert_eq!((json["label"].as_str(), json["steps"].as_u64()), (Some("space"), Some(4)));
    let tokens = json["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 5);
    assert_eq!((tokens[1]["token"].as_str(), tokens[1]["start"].as_u64(), tokens[1]["end"].as_u64()), (Some("rocket"), Some(4), Some(10)));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("class=\"t\"").count(), 5);
    assert!(html.contains(">ROCKET</span>"));
    // The text from stdin, another class by name; an unknown class is bad usage.
    let other = ok(senti_stdin(&["explain", p(&f.model), "--class", "cooking", "--json"], text));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&other).unwrap()["label"], "cooking");
    fails(senti(&["explain", p(&f.model), "--class", "weather", "x"]), 2, "--class \"weather\": the model's labels are cooking, space, sports");
    fails(senti(&["explain", p(&f.model), "--steps", "300", "x"]), 2, "300 is not in 0..=256");
}

#[test]
fn help_works_everywhere_and_lists_every_training_parameter() {
    for sub in [&[][..], &["train"], &["test"], &["predict"], &["explain"], &["info"]] {
        let mut args = sub.to_vec();
        args.push("--help");
        let out = ok(senti(&args));
        assert!(out.contains("Usage: senti"), "{args:?}: {out}");
    }
    assert!(ok(senti(&["--help"])).contains("Exit codes:"));
    let help = ok(senti(&["train", "--help"]));
    for field in FIELDS {
        let flag = match field.name {
            "data_path" => "--data".to_string(),
            "data_format" => "--format".to_string(),
            name => format!("--{}", name.replace('_', "-")),
        };
        assert!(help.contains(&format!("{flag} <")) || help.contains(&format!("{flag} [<")), "train --help lacks {flag}");
    }
    assert!(help.contains("Recurrent state width per direction; for a transformer, the model width. [default: 128; values 1 to 4096]"), "{help}");
    assert!(help.contains("[possible values: lstm, gru, transformer]"), "{help}");
    assert!(ok(senti(&["--version"])).starts_with(&format!("senti {}", senti::VERSION)));
}

#[test]
fn exit_codes_tell_usage_data_and_io_apart() {
    let f = fixture();
    let dir = &f.dir;
    let train_data = dir.join("train.jsonl");
    let out = dir.join("never.safetensors");
    // 2: usage, from clap and from the parameter table's ranges.
    fails(senti(&["train"]), 2, "--data");
    fails(senti(&["frobnicate"]), 2, "unrecognized subcommand");
    fails(senti(&["predict"]), 2, "MODEL");
    fails(senti(&["train", "--data", p(&train_data), "-o", p(&out), "--epochs", "0"]), 2, "epochs must be between 1 and 10000, got 0");
    fails(senti(&["train", "--data", p(&train_data), "-o", p(&out), "--epoch", "2"]), 2, "--epochs");
    fails(senti(&["train", "--data", p(&train_data), "-o", p(&out), "--cell", "rnn"]), 2, "possible values: lstm, gru");
    std::fs::write(dir.join("bad-params.json"), r#"{"hidden_size": 0}"#).unwrap();
    fails(senti(&["train", "--params", p(&dir.join("bad-params.json")), "-o", p(&out)]), 2, "bad-params.json: hidden_size must be between 1 and 4096, got 0");

    // 3: bad data and bad model files.
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, format!("{}{{\"text\": \"no label here\"}}\n", jsonl(0, 5))).unwrap();
    let err = fails(senti(&["train", "--data", p(&bad), "-o", p(&out), "--quiet"]), 3, "senti: ");
    assert!(err.contains("line 6"), "names the line: {err}");
    let unknown = dir.join("unknown.jsonl");
    std::fs::write(&unknown, "{\"text\": \"the moon\", \"label\": \"weather\"}\n").unwrap();
    fails(senti(&["test", p(&f.model), "--data", p(&unknown)]), 3, "\"weather\" is not one of the model's labels");
    fails(senti(&["info", p(&train_data)]), 3, "senti: ");
    let latin1 = dir.join("latin1.txt");
    std::fs::write(&latin1, b"caf\xe9\n").unwrap();
    fails(senti(&["predict", p(&f.model), p(&latin1)]), 3, "latin1.txt: line 1: not valid UTF-8");

    // 4: missing files and unwritable output.
    let missing = dir.join("missing");
    fails(senti(&["info", p(&missing)]), 4, "senti: ");
    fails(senti(&["predict", p(&f.model), p(&missing)]), 4, "senti: ");
    fails(senti(&["train", "--data", p(&missing.with_extension("jsonl")), "-o", p(&out), "--quiet"]), 4, "senti: ");
    fails(senti(&["train", "--data", p(&train_data), "-o", p(&missing.join("m.safetensors"))]), 4, "does not exist");
    assert!(!out.exists());
}
