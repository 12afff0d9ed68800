// SPDX-License-Identifier: MIT OR Apache-2.0
//! Structured damage to a REAL model file. The tiny LSTM model (embedded) is taken apart into its
//! header JSON and its data, the fuzzer's edits are applied — metadata values replaced, spliced
//! from the other seed model or removed, configuration fields set to odd values (huge sizes,
//! negative numbers, strings), the vocabulary cut, grown or edited, tensor shapes, dtypes,
//! offsets and names changed (optionally with the data resized to match, so the file still
//! passes the safetensors checks and reaches senti's own), weights set to NaN — then the file is
//! reassembled and raw edits (overwrite, insert, truncate, length prefix) applied to its bytes.
//! The result must be refused with a model-file error or load into a model that works.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// The second seed (a two-layer bidirectional GRU): a source of foreign but well-formed parts.
static OTHER_MODEL: &[u8] = include_bytes!("../corpus/model_from_bytes/tiny-gru-bi.safetensors");
/// Data resized by an edit stays below this, so one input cannot make the harness itself slow.
const MAX_DATA: usize = 1 << 20;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Key {
    Format,
    FormatVersion,
    LibraryVersion,
    ModelConfig,
    TextConfig,
    Vocab,
    Training,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Format => "senti.format",
            Key::FormatVersion => "senti.format_version",
            Key::LibraryVersion => "senti.library_version",
            Key::ModelConfig => "senti.model_config",
            Key::TextConfig => "senti.text_config",
            Key::Vocab => "senti.vocab",
            Key::Training => "senti.training",
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Field {
    Cell,
    EmbeddingDim,
    HiddenSize,
    Layers,
    Bidirectional,
    Pooling,
    Dropout,
    EmbeddingDropout,
    VocabSize,
    MaxLen,
    Truncation,
    Params,
    History,
    BestEpoch,
    Seconds,
    Other(String),
}

impl Field {
    fn name(&self) -> &str {
        match self {
            Field::Cell => "cell",
            Field::EmbeddingDim => "embedding_dim",
            Field::HiddenSize => "hidden_size",
            Field::Layers => "layers",
            Field::Bidirectional => "bidirectional",
            Field::Pooling => "pooling",
            Field::Dropout => "dropout",
            Field::EmbeddingDropout => "embedding_dropout",
            Field::VocabSize => "vocab_size",
            Field::MaxLen => "max_len",
            Field::Truncation => "truncation",
            Field::Params => "params",
            Field::History => "history",
            Field::BestEpoch => "best_epoch",
            Field::Seconds => "seconds",
            Field::Other(s) => s,
        }
    }
}

/// A JSON value for a field: the interesting numbers are easy to reach.
#[derive(Arbitrary, Debug)]
enum Scalar {
    Null,
    Bool(bool),
    Small(u8),
    U64(u64),
    I64(i64),
    F64(f64),
    /// 10^k, as an integer while it fits and as a float beyond.
    Pow10(u8),
    Str(String),
    Word(Word),
    EmptyArray,
    EmptyObject,
}

#[derive(Arbitrary, Debug)]
enum Word {
    Lstm,
    Gru,
    Last,
    Max,
    Mean,
    MaxMean,
    KeepEnd,
    KeepStart,
}

impl Scalar {
    fn value(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::from(*b),
            Scalar::Small(n) => Value::from(*n),
            Scalar::U64(n) => Value::from(*n),
            Scalar::I64(n) => Value::from(*n),
            Scalar::F64(f) => Value::from(*f),
            Scalar::Pow10(k) => match 10u64.checked_pow(u32::from(*k % 40)) {
                Some(n) => Value::from(n),
                None => Value::from(10f64.powi(i32::from(*k % 40))),
            },
            Scalar::Str(s) => Value::from(s.as_str()),
            Scalar::Word(w) => Value::from(match w {
                Word::Lstm => "lstm",
                Word::Gru => "gru",
                Word::Last => "last",
                Word::Max => "max",
                Word::Mean => "mean",
                Word::MaxMean => "max_mean",
                Word::KeepEnd => "keep_end",
                Word::KeepStart => "keep_start",
            }),
            Scalar::EmptyArray => Value::Array(Vec::new()),
            Scalar::EmptyObject => Value::Object(Map::new()),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Dtype {
    F32,
    F16,
    Bf16,
    F64,
    I64,
    I32,
    U8,
    Bool,
    F8E4m3,
    Other(String),
}

impl Dtype {
    fn name(&self) -> &str {
        match self {
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::Bf16 => "BF16",
            Dtype::F64 => "F64",
            Dtype::I64 => "I64",
            Dtype::I32 => "I32",
            Dtype::U8 => "U8",
            Dtype::Bool => "BOOL",
            Dtype::F8E4m3 => "F8_E4M3",
            Dtype::Other(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Edit {
    /// Another string for a metadata value.
    SetMeta { key: Key, value: String },
    /// The other model's value for a metadata key.
    SpliceMeta(Key),
    /// One key's value under another key.
    MoveMeta { from: Key, to: Key },
    RemoveMeta(Key),
    /// One field of a JSON object in the metadata (configurations, training record).
    SetField { key: Key, field: Field, value: Scalar },
    /// One field of the training parameters inside the training record.
    SetParam { field: Field, value: Scalar },
    RemoveField { key: Key, field: Field },
    VocabTruncate(u8),
    VocabSet { index: u8, word: String },
    VocabPush(String),
    /// Appends this many distinct words.
    VocabGrow(u16),
    /// A new shape; with `resize` the tensor's data is cut or extended to match it.
    SetShape { tensor: u8, shape: Vec<u64>, resize: bool },
    /// One dimension multiplied (or, with 0, emptied); with `resize` as above.
    ScaleDim { tensor: u8, dim: u8, factor: u8, resize: bool },
    SetDtype { tensor: u8, dtype: Dtype },
    SetOffsets { tensor: u8, start: u64, end: u64 },
    Rename { tensor: u8, name: String },
    Remove { tensor: u8 },
    Duplicate { tensor: u8, name: String },
    SetWeight { tensor: u8, index: u16, value: f32 },
    /// The other model's whole header on this model's data.
    SpliceHeader,
    /// Another header altogether.
    ReplaceHeader(String),
    RemoveMetadata,
}

#[derive(Arbitrary, Debug)]
enum Raw {
    Overwrite { offset: u16, bytes: Vec<u8> },
    Insert { offset: u16, bytes: Vec<u8> },
    Truncate(u16),
    SetLengthPrefix(u64),
}

#[derive(Arbitrary, Debug)]
struct Input {
    edits: Vec<Edit>,
    raw: Vec<Raw>,
    text: String,
}

#[derive(Clone)]
struct Parts {
    header: Map<String, Value>,
    data: Vec<u8>,
    /// Replaces the serialized header when set.
    raw_header: Option<String>,
}

fn split(bytes: &[u8]) -> Parts {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice::<Value>(&bytes[8..8 + n]).unwrap();
    let Value::Object(header) = header else { unreachable!("a safetensors header is an object") };
    Parts { header, data: bytes[8 + n..].to_vec(), raw_header: None }
}

impl Parts {
    fn meta(&mut self) -> Option<&mut Map<String, Value>> {
        self.header.get_mut("__metadata__")?.as_object_mut()
    }

    fn meta_json(&mut self, key: Key) -> Option<Value> {
        serde_json::from_str(self.meta()?.get(key.name())?.as_str()?).ok()
    }

    fn set_meta_json(&mut self, key: Key, value: &Value) {
        if let Some(meta) = self.meta() {
            meta.insert(key.name().to_string(), Value::from(value.to_string()));
        }
    }

    fn edit_meta_json(&mut self, key: Key, f: impl FnOnce(&mut Value)) {
        if let Some(mut v) = self.meta_json(key) {
            f(&mut v);
            self.set_meta_json(key, &v);
        }
    }

    fn tensor(&self, i: u8) -> Option<String> {
        let mut names: Vec<&String> = self.header.keys().filter(|k| *k != "__metadata__").collect();
        names.sort();
        (!names.is_empty()).then(|| names[usize::from(i) % names.len()].clone())
    }

    fn info(&mut self, i: u8) -> Option<&mut Map<String, Value>> {
        let name = self.tensor(i)?;
        self.header.get_mut(&name)?.as_object_mut()
    }

    fn offsets(&mut self, i: u8) -> Option<(usize, usize)> {
        let o = self.info(i)?.get("data_offsets")?.as_array()?.clone();
        let (s, e) = (o.first()?.as_u64()? as usize, o.get(1)?.as_u64()? as usize);
        (s <= e && e <= self.data.len()).then_some((s, e))
    }

    /// Cuts or extends (repeating its bytes) tensor `i`'s data to `len` bytes and moves the
    /// tensors stored after it, so that the file's layout stays consistent.
    fn resize(&mut self, i: u8, len: usize) {
        let Some((s, e)) = self.offsets(i) else { return };
        if self.data.len() - (e - s) + len > MAX_DATA {
            return;
        }
        let old = self.data[s..e].to_vec();
        let new: Vec<u8> = if old.is_empty() { vec![0; len] } else { old.iter().copied().cycle().take(len).collect() };
        self.data.splice(s..e, new);
        let Some(me) = self.tensor(i) else { return };
        for (name, info) in self.header.iter_mut() {
            let Some(o) = info.get_mut("data_offsets").and_then(Value::as_array_mut) else { continue };
            let (Some(a), Some(b)) = (o.first().and_then(Value::as_u64), o.get(1).and_then(Value::as_u64)) else { continue };
            if *name == me {
                *o = vec![Value::from(s), Value::from(s + len)];
            } else if a as usize >= e {
                // A mutated header can hold offsets near 2^64: saturate rather than overflow
                // (the file is invalid then anyway, and the library must refuse it).
                let shift = |x: u64| Value::from((x as usize).saturating_sub(e).saturating_add(s).saturating_add(len));
                *o = vec![shift(a), shift(b)];
            }
        }
    }

    fn set_shape(&mut self, i: u8, shape: &[u64], resize: bool) {
        let Some(info) = self.info(i) else { return };
        info.insert("shape".into(), Value::from(shape.to_vec()));
        if resize {
            if let Some(bytes) = shape.iter().try_fold(4u64, |acc, &d| acc.checked_mul(d)) {
                if bytes <= MAX_DATA as u64 {
                    self.resize(i, bytes as usize);
                }
            }
        }
    }

    fn apply(&mut self, edit: &Edit, other: &mut Parts) {
        match edit {
            Edit::SetMeta { key, value } => {
                if let Some(m) = self.meta() {
                    m.insert(key.name().into(), Value::from(value.as_str()));
                }
            }
            Edit::SpliceMeta(key) => {
                let v = other.meta().and_then(|m| m.get(key.name()).cloned());
                if let (Some(v), Some(m)) = (v, self.meta()) {
                    m.insert(key.name().into(), v);
                }
            }
            Edit::MoveMeta { from, to } => {
                if let Some(m) = self.meta() {
                    if let Some(v) = m.get(from.name()).cloned() {
                        m.insert(to.name().into(), v);
                    }
                }
            }
            Edit::RemoveMeta(key) => {
                if let Some(m) = self.meta() {
                    m.remove(key.name());
                }
            }
            Edit::SetField { key, field, value } => self.edit_meta_json(*key, |v| {
                if let Some(o) = v.as_object_mut() {
                    o.insert(field.name().into(), value.value());
                }
            }),
            Edit::SetParam { field, value } => self.edit_meta_json(Key::Training, |v| {
                if let Some(o) = v.get_mut("params").and_then(Value::as_object_mut) {
                    o.insert(field.name().into(), value.value());
                }
            }),
            Edit::RemoveField { key, field } => self.edit_meta_json(*key, |v| {
                if let Some(o) = v.as_object_mut() {
                    o.remove(field.name());
                }
            }),
            Edit::VocabTruncate(n) => self.edit_meta_json(Key::Vocab, |v| {
                if let Some(a) = v.as_array_mut() {
                    a.truncate(usize::from(*n));
                }
            }),
            Edit::VocabSet { index, word } => self.edit_meta_json(Key::Vocab, |v| {
                if let Some(a) = v.as_array_mut() {
                    if !a.is_empty() {
                        let i = usize::from(*index) % a.len();
                        a[i] = Value::from(word.as_str());
                    }
                }
            }),
            Edit::VocabPush(word) => self.edit_meta_json(Key::Vocab, |v| {
                if let Some(a) = v.as_array_mut() {
                    a.push(Value::from(word.as_str()));
                }
            }),
            Edit::VocabGrow(n) => self.edit_meta_json(Key::Vocab, |v| {
                if let Some(a) = v.as_array_mut() {
                    a.extend((0..*n).map(|i| Value::from(format!("w{i}"))));
                }
            }),
            Edit::SetShape { tensor, shape, resize } => self.set_shape(*tensor, shape, *resize),
            Edit::ScaleDim { tensor, dim, factor, resize } => {
                let Some(info) = self.info(*tensor) else { return };
                let Some(mut shape) = info.get("shape").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_u64).collect::<Vec<_>>())
                else {
                    return;
                };
                if shape.is_empty() {
                    return;
                }
                let d = usize::from(*dim) % shape.len();
                shape[d] = shape[d].saturating_mul(u64::from(*factor));
                self.set_shape(*tensor, &shape, *resize);
            }
            Edit::SetDtype { tensor, dtype } => {
                if let Some(info) = self.info(*tensor) {
                    info.insert("dtype".into(), Value::from(dtype.name()));
                }
            }
            Edit::SetOffsets { tensor, start, end } => {
                if let Some(info) = self.info(*tensor) {
                    info.insert("data_offsets".into(), Value::from(vec![*start, *end]));
                }
            }
            Edit::Rename { tensor, name } => {
                if let Some(old) = self.tensor(*tensor) {
                    let v = self.header.remove(&old).unwrap();
                    self.header.insert(name.clone(), v);
                }
            }
            Edit::Remove { tensor } => {
                if let Some(old) = self.tensor(*tensor) {
                    self.header.remove(&old);
                }
            }
            Edit::Duplicate { tensor, name } => {
                if let Some(old) = self.tensor(*tensor) {
                    let v = self.header[&old].clone();
                    self.header.insert(name.clone(), v);
                }
            }
            Edit::SetWeight { tensor, index, value } => {
                if let Some((s, e)) = self.offsets(*tensor) {
                    let at = s + 4 * usize::from(*index);
                    if at + 4 <= e {
                        self.data[at..at + 4].copy_from_slice(&value.to_le_bytes());
                    }
                }
            }
            Edit::SpliceHeader => self.header = other.header.clone(),
            Edit::ReplaceHeader(s) => self.raw_header = Some(s.clone()),
            Edit::RemoveMetadata => {
                self.header.remove("__metadata__");
            }
        }
    }

    fn assemble(&self) -> Vec<u8> {
        let header = match &self.raw_header {
            Some(s) => s.clone().into_bytes(),
            None => serde_json::to_vec(&self.header).unwrap(),
        };
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.data);
        out
    }
}

fn apply_raw(bytes: &mut Vec<u8>, raw: &Raw) {
    let at = |offset: u16, len: usize| usize::from(offset) % (len + 1);
    match raw {
        Raw::Overwrite { offset, bytes: b } => {
            let s = at(*offset, bytes.len());
            let n = b.len().min(bytes.len() - s);
            bytes[s..s + n].copy_from_slice(&b[..n]);
        }
        Raw::Insert { offset, bytes: b } => {
            let s = at(*offset, bytes.len());
            bytes.splice(s..s, b.iter().copied());
        }
        Raw::Truncate(n) => {
            let n = at(*n, bytes.len());
            bytes.truncate(n);
        }
        Raw::SetLengthPrefix(n) => {
            if bytes.len() >= 8 {
                bytes[..8].copy_from_slice(&n.to_le_bytes());
            }
        }
    }
}

/// Both models taken apart once; every input edits copies.
static BASE: OnceLock<(Parts, Parts)> = OnceLock::new();

fuzz_target!(|input: Input| {
    let (parts, other) = BASE.get_or_init(|| (split(senti_fuzz::TINY_MODEL), split(OTHER_MODEL)));
    let (mut parts, mut other) = (parts.clone(), other.clone());
    for edit in &input.edits {
        parts.apply(edit, &mut other);
    }
    let mut bytes = parts.assemble();
    for raw in &input.raw {
        apply_raw(&mut bytes, raw);
    }
    senti_fuzz::load_and_check(&bytes, &input.text);
});
