// SPDX-License-Identifier: MIT OR Apache-2.0
//! The training parameters, written once. Each field's name, Rust type, range (or allowed
//! values), default and meaning live in the `train_fields!` table below, and everything else is
//! derived from it:
//! - `TrainParams` (src/config.rs): the struct, its doc comments and its `Default`;
//! - the per-field range checks of `TrainParams::validate` and of the typed setters
//!   (`TrainParams::set`, `senti_params_set_*`), in src/config/setters.rs;
//! - the TRAINING PARAMETERS block of include/senti.h and the README's "Training parameters"
//!   table, written by build.rs with `header_block` and `readme_table` below.
//!
//! This file is also compiled into build.rs (`#[path]`), so it uses nothing but `std`: the Rust
//! types in the table are tokens here, resolved only where the library expands the table.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A parameter's value: what the typed setters take, and a table default.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Wide enough for C's `int64_t` and for every stored value (`seed` is a `u64`).
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(Cow<'static, str>),
    /// No value: the library decides (only for the optional fields, whose default it is).
    Absent,
}

impl FieldValue {
    /// "an integer", "a float", ...: for messages about a value of the wrong type.
    pub fn describe(&self) -> &'static str {
        match self {
            FieldValue::Int(_) => "an integer",
            FieldValue::Float(_) => "a float",
            FieldValue::Bool(_) => "a bool",
            FieldValue::Str(_) => "a string",
            FieldValue::Absent => "no value",
        }
    }
}

/// The type of a field as C and JSON see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    Bool,
    Str,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Int => "integer",
            Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::Str => "string",
        }
    }
    pub fn article(self) -> &'static str {
        match self {
            Kind::Int => "an integer",
            Kind::Float => "a float",
            Kind::Bool => "a bool",
            Kind::Str => "a string",
        }
    }
}

/// The values a field accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// An integer in `min..=max`; `max == u64::MAX` means no upper bound.
    Int { min: u64, max: u64 },
    /// 0, which means `zero`, or an integer in `min..=max`.
    ZeroOr { zero: &'static str, min: u64, max: u64 },
    /// A finite float from `min` to `max` (infinite: no upper bound), each end open or closed.
    Float { min: f64, min_open: bool, max: f64, max_open: bool },
    Bool,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// Any string (a path).
    Path,
}

/// One training parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub range: Range,
    /// `FieldValue::Absent` for the optional fields.
    pub default: FieldValue,
    /// One or two sentences; the header, the README and the struct's doc comments show them.
    pub doc: &'static str,
}

// Here, beside the table, because build.rs reads this file on its own.
/// The most threads one call may be given: training's `threads` and a model's prediction
/// threads alike. Far above any core count, low enough that a typo (or a negative number cast to
/// unsigned) is refused instead of spawning threads.
pub const MAX_THREADS: usize = 1024;

// Short constructors that keep the table readable.
const fn ints(min: u64, max: u64) -> Range {
    Range::Int { min, max }
}
const fn at_least(min: u64) -> Range {
    Range::Int { min, max: u64::MAX }
}
const fn zero_or(zero: &'static str, min: u64, max: u64) -> Range {
    Range::ZeroOr { zero, min, max }
}
/// [min, max)
const fn half_open(min: f64, max: f64) -> Range {
    Range::Float { min, min_open: false, max, max_open: true }
}
/// [min, max]
const fn closed(min: f64, max: f64) -> Range {
    Range::Float { min, min_open: false, max, max_open: false }
}
/// (min, max]
const fn open_closed(min: f64, max: f64) -> Range {
    Range::Float { min, min_open: true, max, max_open: false }
}
/// [min, ∞)
const fn floats_from(min: f64) -> Range {
    Range::Float { min, min_open: false, max: f64::INFINITY, max_open: true }
}
const fn one_of(values: &'static [&'static str]) -> Range {
    Range::OneOf(values)
}
const fn text(s: &'static str) -> FieldValue {
    FieldValue::Str(Cow::Borrowed(s))
}
use FieldValue::{Absent, Bool, Float, Int};

/// The table. Calls `$callback! { name: RustType { range: ..., default: ..., doc: "..." } ... }`
/// with every field in the order of the struct (and of its JSON). The `range` and `default`
/// expressions are evaluated only in this file (by `field_table!`); a callback elsewhere uses
/// the name, the type and the doc, and reaches the rest through `by_name::<field>`.
///
/// Ranges that mirror a limit elsewhere (`MAX_DIM`, `MAX_VOCAB`, `MAX_LAYERS`, `MAX_LEN`,
/// `MAX_BATCH` in src/config.rs, `wide::MAX_BUCKETS`) are checked against it at compile time
/// (src/config/setters.rs).
macro_rules! train_fields {
    ($callback:ident) => {
        $callback! {
            data_path: PathBuf {
                range: Range::Path,
                default: text("data/imdb/reviews.json"),
                doc: "Training data: a file or folder in one of the `data_format` formats (see Data sources).",
            }
            data_format: Format {
                range: one_of(&["auto", "imdb-json", "aclimdb", "jsonl", "csv", "folders"]),
                default: text("auto"),
                doc: "How `data_path` is read; `auto` chooses from the path: an aclImdb folder is `aclimdb`, \
                      any other folder `folders` (one folder of `.txt` files per class), `.json` is `imdb-json`, \
                      `.jsonl` is `jsonl`, `.csv` is `csv`.",
            }
            train_limit: Option<usize> {
                range: at_least(1),
                default: Absent,
                doc: "Train on a seeded, class-balanced sample of this many training examples; absent or null: all of them.",
            }
            validation_fraction: f32 {
                range: half_open(0.0, 0.9),
                default: Float(0.1),
                doc: "Share of the training examples held out for validation (a stratified slice: about this share of every class).",
            }
            cell: CellKind {
                range: one_of(&["lstm", "gru", "transformer"]),
                default: text("lstm"),
                doc: "The recurrent cell, or `transformer`: an encoder of self-attention layers (pre-norm, sinusoidal positions, \
                      padding masked) in place of the recurrent layers, `hidden_size` wide.",
            }
            embedding_dim: usize {
                range: ints(1, 4096),
                default: Int(128),
                doc: "Embedding width.",
            }
            hidden_size: usize {
                range: ints(1, 4096),
                default: Int(128),
                doc: "Recurrent state width per direction; for a transformer, the model width.",
            }
            layers: usize {
                range: ints(0, 8),
                default: Int(1),
                doc: "Stacked recurrent (or transformer) layers. 0: no network; the model is its wide path \
                      alone (needs wide_ngrams above 0), which trains in seconds and predicts a review in \
                      tens of microseconds (the fast recipe).",
            }
            bidirectional: bool {
                range: Range::Bool,
                default: Bool(true),
                doc: "Add a backward direction to every recurrent layer (a transformer ignores it: its attention sees both sides).",
            }
            heads: usize {
                range: ints(1, 64),
                default: Int(4),
                doc: "Attention heads per transformer layer; they must divide `hidden_size`. Transformer only.",
            }
            ff_size: usize {
                range: ints(1, 16384),
                default: Int(256),
                doc: "Width of each transformer layer's feed-forward block. Transformer only.",
            }
            pooling: Pooling {
                range: one_of(&["last", "max", "mean", "max_mean", "attention"]),
                default: text("max_mean"),
                doc: "How the states over time become one vector: the state after the last real token, \
                      their elementwise maximum or mean, maximum and mean concatenated, or their sum \
                      weighted by additive attention (weights learnt; explanations report them).",
            }
            dropout: f32 {
                range: half_open(0.0, 1.0),
                default: Float(0.3),
                doc: "Dropout on the pooled features and between layers.",
            }
            embedding_dropout: f32 {
                range: half_open(0.0, 1.0),
                default: Float(0.1),
                doc: "Share of a batch's distinct words whose embedding is dropped whole (every occurrence alike).",
            }
            embedding_pretrain_epochs: Option<usize> {
                range: ints(0, 100),
                default: Absent,
                doc: "Passes of skip-gram word vectors over the training texts that start the embedding \
                      (see Models); 0 starts it at random. Absent or null: 5 when the training texts hold at \
                      least 2 million tokens, else 0.",
            }
            vocab_size: usize {
                range: ints(3, 2_000_000),
                default: Int(30_000),
                doc: "Vocabulary entries, padding and unknown included.",
            }
            max_len: usize {
                range: ints(1, 100_000),
                default: Int(800),
                doc: "Tokens kept per text.",
            }
            truncation: Truncation {
                range: one_of(&["keep_end", "keep_start"]),
                default: text("keep_end"),
                doc: "Which tokens of a longer text are kept: the last `max_len` (reviews tend to conclude) or the first.",
            }
            epochs: usize {
                range: ints(1, 10_000),
                default: Int(3),
                doc: "Passes over the training examples.",
            }
            batch_size: usize {
                range: ints(1, 65_536),
                default: Int(64),
                doc: "Reviews per step.",
            }
            optimizer: Optimizer {
                range: one_of(&["adam", "adamw"]),
                default: text("adam"),
                doc: "Adam, or AdamW with decoupled weight decay (`weight_decay`).",
            }
            learning_rate: f64 {
                range: open_closed(0.0, 10.0),
                default: Float(0.002),
                doc: "Initial learning rate.",
            }
            lr_schedule: LrSchedule {
                range: one_of(&["constant", "linear", "cosine"]),
                default: text("cosine"),
                doc: "Learning-rate schedule over the whole run; `linear` and `cosine` decay to 10% of the initial rate.",
            }
            weight_decay: f64 {
                range: closed(0.0, 1.0),
                default: Float(0.0),
                doc: "Decoupled weight decay; above 0 it needs `optimizer` `adamw`.",
            }
            clip_norm: f64 {
                range: floats_from(0.0),
                default: Float(1.0),
                doc: "Global gradient-norm clip; 0 disables clipping.",
            }
            restore_best: bool {
                range: Range::Bool,
                default: Bool(true),
                doc: "Keep the weights of the epoch with the best validation accuracy.",
            }
            seed: u64 {
                range: at_least(0),
                default: Int(42),
                doc: "Seed for sampling, initialisation, shuffling and dropout.",
            }
            threads: usize {
                range: ints(0, MAX_THREADS as u64),
                default: Int(0),
                doc: "Worker threads; 0 means one per available core.",
            }
            wide_ngrams: usize {
                range: zero_or("no wide path", 1, 3),
                default: Int(2),
                doc: "Longest word n-gram of the wide path beside the recurrent network; 0 trains a pure recurrent model.",
            }
            wide_buckets: usize {
                range: zero_or("automatic", 1024, 1 << 26),
                default: Int(0),
                doc: "Hash slots of the wide path; 0 means twice the distinct n-grams of the training texts, at most 2^21 (and at most 2^24 weights \
                      in all: slots × labels beyond two labels).",
            }
            wide_epochs: usize {
                range: ints(1, 1000),
                default: Int(3),
                doc: "Passes of the wide path's logistic regression.",
            }
            wide_learning_rate: f64 {
                range: open_closed(0.0, 10.0),
                default: Float(0.03),
                doc: "The wide path's AdaGrad learning rate.",
            }
            wide_l2: f64 {
                range: closed(0.0, 1.0),
                default: Float(1e-6),
                doc: "The wide path's L2 penalty.",
            }
        }
    };
}
pub(crate) use train_fields;

macro_rules! field_table {
    ($($name:ident : $ty:ty { range: $range:expr, default: $default:expr, doc: $doc:expr $(,)? })*) => {
        /// Every field by name, as a constant: `by_name::epochs`.
        #[allow(non_upper_case_globals)]
        pub mod by_name {
            use super::*;
            $(pub const $name: Field = Field { name: stringify!($name), range: $range, default: $default, doc: $doc };)*
        }
        /// Every field, in the order of the struct.
        pub const FIELDS: &[Field] = &[$(by_name::$name),*];
    };
}
train_fields!(field_table);

impl Field {
    pub fn kind(&self) -> Kind {
        match self.range {
            Range::Int { .. } | Range::ZeroOr { .. } => Kind::Int,
            Range::Float { .. } => Kind::Float,
            Range::Bool => Kind::Bool,
            Range::OneOf(_) | Range::Path => Kind::Str,
        }
    }

    /// Whether the field may be absent (its default is then "absent": the library decides).
    pub fn optional(&self) -> bool {
        self.default == FieldValue::Absent
    }

    /// The accepted values, for the docs: "1 to 4096", "[0, 0.9)", "`lstm`, `gru`".
    pub fn range_text(&self, code: fn(&str) -> String) -> String {
        match self.range {
            Range::Int { min, max: u64::MAX } => format!("≥ {min}"),
            Range::Int { min, max } => format!("{} to {}", number(min), number(max)),
            Range::ZeroOr { zero, min, max } => format!("0 ({zero}) or {} to {}", number(min), number(max)),
            Range::Float { max, .. } if max.is_infinite() => format!("≥ {}", float_bound(&self.range, true)),
            Range::Float { min_open, max_open, .. } => format!(
                "{}{}, {}{}",
                if min_open { "(" } else { "[" },
                float_bound(&self.range, true),
                float_bound(&self.range, false),
                if max_open { ")" } else { "]" }
            ),
            Range::Bool => "true or false".to_string(),
            Range::OneOf(values) => values.iter().map(|v| code(v)).collect::<Vec<_>>().join(", "),
            Range::Path => "any path".to_string(),
        }
    }

    /// The default, for the docs: `3`, `0.002`, `"lstm"`, absent.
    pub fn default_text(&self, code: fn(&str) -> String) -> String {
        match &self.default {
            FieldValue::Int(v) => code(&v.to_string()),
            FieldValue::Float(v) => code(&format!("{v:?}")),
            FieldValue::Bool(v) => code(&v.to_string()),
            FieldValue::Str(s) => code(&format!("\"{s}\"")),
            FieldValue::Absent => "absent".to_string(),
        }
    }
}

/// Powers of two from 2^20 up read better as such.
fn number(v: u64) -> String {
    if v >= 1 << 20 && v.is_power_of_two() { format!("2^{}", v.trailing_zeros()) } else { v.to_string() }
}

fn float_bound(range: &Range, lower: bool) -> String {
    match *range {
        Range::Float { min, max, .. } => format!("{}", if lower { min } else { max }),
        _ => String::new(),
    }
}

/// The README's region for the table, between these markers (build.rs rewrites only that).
pub const README_BEGIN: &str = "<!-- params:begin -->";
pub const README_END: &str = "<!-- params:end -->";

/// The README's "Training parameters" table (Markdown), without the markers.
pub fn readme_table(fields: &[Field]) -> String {
    let code = |s: &str| format!("`{s}`");
    let mut out = String::new();
    out.push_str("<!-- generated by build.rs from src/config/fields.rs: edit the table there -->\n");
    out.push_str("| field | type | values | default | meaning |\n|---|---|---|---|---|\n");
    for f in fields {
        let _ = writeln!(
            out,
            "| `{}` | {}{} | {} | {} | {} |",
            f.name,
            f.kind().name(),
            if f.optional() { " or null" } else { "" },
            f.range_text(code),
            f.default_text(code),
            f.doc.replace('|', "\\|")
        );
    }
    out
}

/// Replaces the region between the markers of `readme` with `table`; None without markers.
pub fn splice_readme(readme: &str, table: &str) -> Option<String> {
    let start = readme.find(README_BEGIN)? + README_BEGIN.len();
    let end = start + readme[start..].find(README_END)?;
    Some(format!("{}\n{}{}", &readme[..start], table, &readme[end..]))
}

/// The region of `readme` between the markers, as `splice_readme` writes it.
pub fn readme_region(readme: &str) -> Option<&str> {
    let start = readme.find(README_BEGIN)? + README_BEGIN.len();
    let end = start + readme[start..].find(README_END)?;
    readme[start..end].strip_prefix('\n')
}

/// The TRAINING PARAMETERS comment block of include/senti.h.
pub fn header_block(fields: &[Field]) -> String {
    let plain = |s: &str| s.to_string();
    let quoted = |s: &str| format!("\"{s}\"");
    let mut out = String::new();
    for line in [
        "/*",
        " * TRAINING PARAMETERS",
        " *   The fields of a senti_params object (senti_params_set_int, _float, _bool, _string) and",
        " *   of the JSON object of senti_train and senti_params_from_json, with their type, values",
        " *   and default. \"or null\" fields are optional: absent (their default; senti_params_reset",
        " *   or JSON null) lets the library decide. A float field also takes an integer. Generated",
        " *   from src/config/fields.rs by build.rs.",
        " *",
    ] {
        out.push_str(line);
        out.push('\n');
    }
    for f in fields {
        let values = match f.range {
            Range::OneOf(_) => format!("one of {}", f.range_text(quoted)),
            _ => f.range_text(plain),
        };
        let optional = if f.optional() { " or null" } else { "" };
        let head = format!("{}: {}{optional}, {values}; default {}", f.name, f.kind().name(), f.default_text(plain));
        for (i, line) in wrap(&head, 92).iter().enumerate() {
            let _ = writeln!(out, " *   {}{line}", if i == 0 { "" } else { "  " });
        }
        for line in wrap(&f.doc.replace('`', ""), 84) {
            let _ = writeln!(out, " *       {line}");
        }
    }
    out.push_str(" */\n");
    assert!(!out[2..out.len() - 3].contains("*/"), "a field's doc closes the header's comment");
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}
