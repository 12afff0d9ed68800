// SPDX-License-Identifier: MIT OR Apache-2.0
//! The model file: one `.safetensors` file. Tensors hold the weights (f32, names as in
//! `nn::Classifier`); the header's metadata holds, as JSON strings:
//! `senti.format` ("senti-model"), `senti.format_version`, `senti.library_version`,
//! `senti.model_config`, `senti.text_config`, `senti.vocab` (the id-ordered word list) and
//! `senti.training` (parameters, per-epoch history, best epoch, wall time), `senti.labels` (the
//! class names in index order; format 2), and for a model with a wide n-gram path
//! `senti.wide_config` (n-gram length, slots, mix), whose weights are the tensors `wide.weight`
//! (one per slot for two classes, slots × classes beyond) and `wide.bias` (one per row).
//!
//! Format versions: 1 (libsenti 0.1.0: two classes, no `senti.labels`; read as `negative`,
//! `positive`) and 2 (K classes, `senti.labels`). This library writes 2 and reads both.
//!
//! Saving writes a temporary file beside the target, syncs it and renames it over the target,
//! so an interrupted save leaves the previous file intact.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::{Device, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::data::Labels;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Model, TrainingRecord};
use crate::nn::{Classifier, MAX_PARAMS, NetworkConfig, Weights};
use crate::text::{Encoder, TextConfig, Vocab};
use crate::wide::{MAX_BUCKETS, Wide, WideConfig};

const FORMAT: &str = "senti-model";
/// The version this library writes.
const FORMAT_VERSION: &str = "2";
/// Every version this library reads.
const READABLE_VERSIONS: [&str; 2] = ["1", "2"];
/// Largest file `load` reads: the largest permitted model and wide path plus room for the header.
const MAX_FILE_BYTES: u64 = (MAX_PARAMS as u64 + MAX_BUCKETS as u64) * 4 + (256 << 20);
const WIDE_WEIGHT: &str = "wide.weight";
const WIDE_BIAS: &str = "wide.bias";

fn tensor_bytes(t: &Tensor) -> Result<Vec<u8>> {
    let values = t.flatten_all()?.to_vec1::<f32>()?;
    Ok(values.iter().flat_map(|v| v.to_le_bytes()).collect())
}

pub fn to_bytes(model: &Model) -> Result<Vec<u8>> {
    let mut meta = HashMap::new();
    meta.insert("senti.format".to_string(), FORMAT.to_string());
    meta.insert("senti.format_version".to_string(), FORMAT_VERSION.to_string());
    meta.insert("senti.library_version".to_string(), crate::VERSION.to_string());
    meta.insert("senti.model_config".to_string(), to_json(model.network_config())?);
    meta.insert("senti.labels".to_string(), to_json(model.labels())?);
    meta.insert("senti.text_config".to_string(), to_json(model.text_config())?);
    meta.insert("senti.vocab".to_string(), to_json(model.encoder.vocab.words())?);
    meta.insert("senti.training".to_string(), to_json(model.record())?);
    let mut buffers = Vec::new();
    for (name, t) in model.classifier.named_tensors() {
        buffers.push((name.clone(), t.dims().to_vec(), tensor_bytes(t)?));
    }
    if let Some(wide) = &model.wide {
        meta.insert("senti.wide_config".to_string(), to_json(&wide.config)?);
        let le = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let shape = if wide.rows() == 1 { vec![wide.config.buckets] } else { vec![wide.config.buckets, wide.rows()] };
        buffers.push((WIDE_WEIGHT.to_string(), shape, le(&wide.weights)));
        buffers.push((WIDE_BIAS.to_string(), vec![wide.rows()], le(&wide.bias)));
    }
    let views = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes).map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
            Ok((name.as_str(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::tensor::serialize(views, Some(meta)).map_err(|e| Error::new(ErrorKind::Internal, format!("serializing the model: {e}")))
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename, fsync of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path.file_name().ok_or_else(|| Error::invalid_argument(format!("{}: not a file path", path.display())))?;
    // Unique per call, not only per process: threads saving to one path at once must not
    // truncate, write and rename each other's temporary file. create_new (O_EXCL) never
    // reuses a file left by a killed process whose id came round again.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut attempt = 0;
    let (tmp, mut f) = loop {
        let tmp = dir.join(format!(".{}.tmp-{}-{}", file_name.to_string_lossy(), std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(Error::io(path, e)),
        }
    };
    let result = (|| {
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

pub fn save(model: &Model, path: &Path) -> Result<()> {
    write_atomic(path, &to_bytes(model)?)
}

pub fn load(path: &Path) -> Result<Model> {
    let bytes = crate::fsio::read_regular_file(path, MAX_FILE_BYTES, "model files").map_err(|e| match e.kind() {
        ErrorKind::ResourceLimit => Error::model_file(format!("{}: larger than any senti model ({})", path.display(), e.message())),
        _ => e,
    })?;
    // The file's bytes go before the model is built: building adds the inference tables.
    let parsed = parse(&bytes).map_err(|e| e.context(path.display()))?;
    drop(bytes);
    build(parsed).map_err(|e| e.context(path.display()))
}

/// What a model file says about its own format: the format version and the library version
/// that wrote it (absent in files that do not record it). Reads only the header, without checking
/// the rest of the file: `load` does that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVersions {
    pub format_version: String,
    pub library_version: Option<String>,
}

/// The versions a model file's header records; `SENTI_ERR_MODEL_FILE` for a file that is not a
/// senti model.
pub fn file_versions(path: &Path) -> Result<FileVersions> {
    let bytes = crate::fsio::read_regular_file(path, MAX_FILE_BYTES, "model files")?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| Error::model_file(format!("{}: not a valid safetensors file: {e}", path.display())))?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get("senti.format").map(String::as_str) != Some(FORMAT) {
        return Err(Error::model_file(format!("{}: not a senti model: metadata \"senti.format\" is missing or different", path.display())));
    }
    Ok(FileVersions {
        format_version: meta.get("senti.format_version").cloned().unwrap_or_else(|| "?".to_string()),
        library_version: meta.get("senti.library_version").cloned(),
    })
}

fn meta_json<T: serde::de::DeserializeOwned>(meta: &HashMap<String, String>, key: &str) -> Result<T> {
    let raw = meta.get(key).ok_or_else(|| Error::model_file(format!("metadata has no {key:?}")))?;
    serde_json::from_str(raw).map_err(|e| Error::model_file(format!("metadata {key:?}: {e}")))
}

/// The vocabulary list, refused as soon as it holds more than `max` words: a file that lists
/// millions of words under a small (or valid) `vocab_size` never gets them all built.
fn meta_vocab(meta: &HashMap<String, String>, max: usize) -> Result<Vec<String>> {
    use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};

    struct AtMost(usize);

    impl<'de> DeserializeSeed<'de> for AtMost {
        type Value = Vec<String>;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for AtMost {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a list of at most {} words", self.0)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
            let mut words = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.0).min(1 << 16));
            while let Some(word) = seq.next_element::<String>()? {
                if words.len() == self.0 {
                    return Err(de::Error::custom(format!("the vocabulary has more words than vocab_size {}", self.0)));
                }
                words.push(word);
            }
            Ok(words)
        }
    }

    let raw = meta.get("senti.vocab").ok_or_else(|| Error::model_file("metadata has no \"senti.vocab\""))?;
    let mut de = serde_json::Deserializer::from_str(raw);
    AtMost(max)
        .deserialize(&mut de)
        .and_then(|words| de.end().map(|()| words))
        .map_err(|e| Error::model_file(format!("metadata \"senti.vocab\": {e}")))
}

pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
    build(parse(bytes)?)
}

/// A model file's checked contents, not yet a model.
struct Parsed {
    model_config: NetworkConfig,
    labels: Labels,
    text: TextConfig,
    vocab: Vocab,
    record: TrainingRecord,
    wide_config: Option<WideConfig>,
    tensors: HashMap<String, Tensor>,
}

fn parse(bytes: &[u8]) -> Result<Parsed> {
    let bad = |e: safetensors::SafeTensorError| Error::model_file(format!("not a valid safetensors file: {e}"));
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(bad)?;
    let meta = header.metadata().clone().ok_or_else(|| Error::model_file("not a senti model: the file has no metadata"))?;
    if meta.get("senti.format").map(String::as_str) != Some(FORMAT) {
        return Err(Error::model_file("not a senti model: metadata \"senti.format\" is missing or different"));
    }
    let version = meta.get("senti.format_version").map(String::as_str).unwrap_or("?");
    if !READABLE_VERSIONS.contains(&version) {
        let written_by = meta.get("senti.library_version").map_or(String::new(), |v| format!(", written by libsenti {v}"));
        return Err(Error::model_file(format!(
            "model format version {version}{written_by} is not supported: libsenti {} reads versions {}",
            crate::VERSION,
            READABLE_VERSIONS.join(" and ")
        )));
    }
    let labels = match (version, meta.get("senti.labels")) {
        ("1", None) => Labels::binary(),
        ("1", Some(_)) => return Err(Error::model_file("metadata \"senti.labels\" is not part of format version 1")),
        (_, None) => return Err(Error::model_file("metadata has no \"senti.labels\"")),
        (_, Some(_)) => {
            let names: Vec<String> = meta_json(&meta, "senti.labels")?;
            Labels::new(names).map_err(|e| Error::model_file(format!("metadata \"senti.labels\": {}", e.message())))?
        }
    };
    let model_config: NetworkConfig = meta_json(&meta, "senti.model_config")?;
    let text: TextConfig = meta_json(&meta, "senti.text_config")?;
    text.validate().map_err(|e| Error::model_file(e.message().to_string()))?;
    let words = meta_vocab(&meta, text.vocab_size)?;
    let record: TrainingRecord = meta_json(&meta, "senti.training")?;
    model_config.validate(words.len(), labels.len()).map_err(|e| Error::model_file(e.message().to_string()))?;
    let vocab = Vocab::from_words(words)?;

    let tensors = SafeTensors::deserialize(bytes).map_err(bad)?;
    let mut map = HashMap::new();
    for (name, view) in tensors.iter() {
        if view.dtype() != Dtype::F32 {
            return Err(Error::model_file(format!("tensor {name:?} is {:?}, expected F32", view.dtype())));
        }
        // Candle multiplies the dimensions out (strides) without checking for overflow, and an
        // empty tensor passes the safetensors size check whatever its other dimensions. Every
        // weight is a vector or a matrix, whose dimensions' product safetensors has checked.
        if view.shape().len() > 2 {
            return Err(Error::model_file(format!("tensor {name:?} has {} dimensions; model weights have 1 or 2", view.shape().len())));
        }
        let values: Vec<f32> = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Error::model_file(format!("tensor {name:?} holds NaN or infinite values")));
        }
        map.insert(name.to_string(), Tensor::from_vec(values, view.shape(), &Device::Cpu)?);
    }
    let wide_config = match meta.get("senti.wide_config") {
        None => None,
        Some(_) => {
            let config: WideConfig = meta_json(&meta, "senti.wide_config")?;
            config.validate().map_err(|e| Error::model_file(format!("metadata \"senti.wide_config\": {}", e.message())))?;
            Some(config)
        }
    };
    Ok(Parsed { model_config, labels, text, vocab, record, wide_config, tensors: map })
}

fn build(parsed: Parsed) -> Result<Model> {
    let Parsed { model_config, labels, text, vocab, record, wide_config, tensors: mut map } = parsed;
    let rows = crate::nn::head_outputs(labels.len());
    let wide = match wide_config {
        None => None,
        Some(config) => {
            if config.buckets.saturating_mul(rows) > MAX_BUCKETS {
                return Err(Error::model_file(format!("the wide path's {} slots × {rows} classes exceed {MAX_BUCKETS} weights", config.buckets)));
            }
            let mut take = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
                let t = map.remove(name).ok_or_else(|| Error::model_file(format!("the wide path's tensor {name:?} is missing")))?;
                if t.dims() != shape {
                    return Err(Error::model_file(format!("tensor {name:?} has shape {:?}, expected {shape:?}", t.dims())));
                }
                Ok(t.flatten_all()?.to_vec1::<f32>()?)
            };
            let weight_shape = if rows == 1 { vec![config.buckets] } else { vec![config.buckets, rows] };
            let weights = take(WIDE_WEIGHT, &weight_shape)?;
            let bias = take(WIDE_BIAS, &[rows])?;
            Some(Wide { config, weights, bias })
        }
    };
    let classifier = Classifier::new(&model_config, vocab.len(), labels.len(), Weights::Load(&map))?;
    if map.len() != classifier.named_tensors().len() {
        return Err(Error::model_file(format!("the file holds {} tensors, the configuration needs {}", map.len(), classifier.named_tensors().len())));
    }
    let encoder = Encoder::new(vocab, &text);
    Ok(Model { text, encoder, classifier, wide, labels, record, prediction_threads: Default::default() })
}

#[cfg(test)]
mod tests {
    //! Damaged and hostile files: each must be refused with a model-file error, and refused
    //! before anything of the size it declares is allocated.

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    use serde_json::{Map, Value};

    use super::*;
    use crate::config::TrainParams;
    use crate::text::Tokenizer;
    use crate::rng::Rng;

    /// Passes every request to the system allocator; on a thread that asks, notes the largest
    /// single allocation, so a test can tell what a refusal cost.
    struct Watch;

    thread_local! {
        static LARGEST: Cell<Option<usize>> = const { Cell::new(None) };
    }

    fn note(size: usize) {
        let _ = LARGEST.try_with(|l| {
            if let Some(n) = l.get() {
                l.set(Some(n.max(size)));
            }
        });
    }

    unsafe impl GlobalAlloc for Watch {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            note(layout.size());
            unsafe { System.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            note(layout.size());
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            note(new_size);
            unsafe { System.realloc(ptr, layout, new_size) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static WATCH: Watch = Watch;

    /// Runs `from_bytes`, returning its refusal's message and the largest single allocation it
    /// made (on this thread).
    fn refused(bytes: &[u8]) -> (String, usize) {
        LARGEST.with(|l| l.set(Some(0)));
        let result = from_bytes(bytes);
        let largest = LARGEST.with(|l| l.replace(None)).unwrap();
        let err = result.err().expect("the file was accepted");
        assert_eq!(err.kind(), ErrorKind::ModelFile, "{err}");
        (err.to_string(), largest)
    }

    /// A small untrained model's file: vocabulary 8, embedding 3, state 2, a wide path of 1024
    /// slots.
    fn tiny() -> Vec<u8> {
        let params = TrainParams { vocab_size: 8, embedding_dim: 3, hidden_size: 2, max_len: 10, ..TrainParams::default() };
        let tokenizer = Tokenizer::new();
        let vocab = Vocab::build(&tokenizer, ["good bad film plot fine dull"], params.vocab_size).unwrap();
        let (mut rng, mut vars) = (Rng::new(1), Vec::new());
        let classifier = Classifier::new(&params.network_config(), vocab.len(), 2, Weights::Init { rng: &mut rng, vars: &mut vars }).unwrap();
        let record = TrainingRecord {
            params: params.clone(),
            history: Vec::new(),
            best_epoch: 1,
            train_examples: 6,
            validation_examples: 0,
            seconds: 0.0,
            validation_parts: None,
        };
        let encoder = Encoder::new(vocab, &params.text_config());
        let wide = Wide { config: WideConfig { ngrams: 2, buckets: 1024, mix: [1.0, 0.5, 0.0] }, weights: vec![0.01; 1024], bias: vec![0.1] };
        to_bytes(&Model { text: params.text_config(), encoder, classifier, wide: Some(wide), labels: Labels::binary(), record, prediction_threads: Default::default() }).unwrap()
    }

    /// The tiny model's file with its header (JSON) edited and its data replaced by `data` when
    /// given; the length prefix follows the header.
    fn edited(f: impl FnOnce(&mut Map<String, Value>), data: Option<Vec<u8>>) -> Vec<u8> {
        let bytes = tiny();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let Value::Object(mut header) = serde_json::from_slice(&bytes[8..8 + n]).unwrap() else { panic!("header is not an object") };
        f(&mut header);
        let header = serde_json::to_vec(&header).unwrap();
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&header);
        out.extend_from_slice(data.as_deref().unwrap_or(&bytes[8 + n..]));
        out
    }

    fn set_meta(header: &mut Map<String, Value>, key: &str, value: String) {
        header["__metadata__"].as_object_mut().unwrap().insert(key.into(), Value::String(value));
    }

    /// Sets one field of a JSON object stored in the metadata.
    fn set_meta_field(key: &'static str, field: &'static str, value: Value) -> impl FnOnce(&mut Map<String, Value>) {
        move |h| {
            let mut obj: Value = serde_json::from_str(h["__metadata__"][key].as_str().unwrap()).unwrap();
            obj[field] = value;
            set_meta(h, key, obj.to_string());
        }
    }

    fn set_tensor(name: &'static str, field: &'static str, value: Value) -> impl FnOnce(&mut Map<String, Value>) {
        move |h| {
            h[name][field] = value;
        }
    }

    #[test]
    fn the_tiny_model_loads() {
        let model = from_bytes(&tiny()).unwrap();
        assert_eq!(model.vocab_len(), 8);
        assert!((0.0..=1.0).contains(&model.predict("a good film").unwrap()));
    }

    #[test]
    fn huge_tensor_shapes_are_refused() {
        let data_len = tiny().len();
        for (what, bytes) in [
            ("a shape of 64 TB over the tiny data", edited(set_tensor("embedding.weight", "shape", serde_json::json!([4_000_000_000u64, 4096])), None)),
            (
                "a shape of 64 TB with offsets to match",
                edited(
                    |h| {
                        h["embedding.weight"]["shape"] = serde_json::json!([4_000_000_000u64, 4096]);
                        h["embedding.weight"]["data_offsets"] = serde_json::json!([0, 4_000_000_000u64 * 4096 * 4]);
                    },
                    None,
                ),
            ),
            ("a shape whose size overflows", edited(set_tensor("head.bias", "shape", serde_json::json!([1u64 << 40, 1u64 << 40, 1u64 << 40])), None)),
            ("offsets past the end", edited(set_tensor("head.bias", "data_offsets", serde_json::json!([0, u64::MAX])), None)),
        ] {
            let (msg, largest) = refused(&bytes);
            assert!(msg.contains("safetensors"), "{what}: {msg}");
            assert!(largest <= 4 * data_len, "{what}: allocated {largest} bytes");
        }
    }

    #[test]
    fn empty_tensors_with_huge_dimensions_are_refused() {
        // No data at all, so the safetensors checks pass; the dimensions alone overflow.
        let bytes = edited(
            |h| {
                let meta = h.remove("__metadata__").unwrap();
                h.clear();
                h.insert("__metadata__".into(), meta);
                h.insert("embedding.weight".into(), serde_json::json!({"dtype": "F32", "shape": [0, 1u64 << 40, 1u64 << 40], "data_offsets": [0, 0]}));
            },
            Some(Vec::new()),
        );
        let (msg, largest) = refused(&bytes);
        // Refused for its rank, before Candle multiplies the dimensions out (which overflowed:
        // a panic where overflow checks are on).
        assert!(msg.contains("embedding.weight") && msg.contains("dimensions"), "{msg}");
        assert!(largest < 1 << 20, "allocated {largest} bytes");
    }

    #[test]
    fn huge_sizes_in_the_metadata_are_refused() {
        for (key, field, value, expect) in [
            ("senti.text_config", "vocab_size", serde_json::json!(1_000_000_000_000u64), "vocab_size"),
            ("senti.text_config", "vocab_size", serde_json::json!(u64::MAX), "vocab_size"),
            ("senti.text_config", "max_len", serde_json::json!(1_000_000_000_000u64), "max_len"),
            ("senti.text_config", "vocab_size", serde_json::json!(-1), "senti.text_config"),
            ("senti.text_config", "vocab_size", serde_json::json!(1e300), "senti.text_config"),
            ("senti.model_config", "embedding_dim", serde_json::json!(1_000_000_000_000u64), "embedding_dim"),
            ("senti.model_config", "hidden_size", serde_json::json!(4_000_000_000u64), "hidden_size"),
            ("senti.model_config", "layers", serde_json::json!(1u64 << 40), "layers"),
        ] {
            let (msg, largest) = refused(&edited(set_meta_field(key, field, value), None));
            assert!(msg.contains(expect), "{field}: {msg}");
            assert!(largest < 1 << 20, "{field}: allocated {largest} bytes");
        }
        // Within the limits one by one, but over the parameter limit together: the
        // configuration is refused before the (absent) weights are looked at.
        let bytes = edited(
            |h| {
                set_meta_field("senti.model_config", "hidden_size", serde_json::json!(4096))(h);
                set_meta_field("senti.model_config", "layers", serde_json::json!(8))(h);
                set_meta_field("senti.model_config", "bidirectional", serde_json::json!(true))(h);
            },
            None,
        );
        let (msg, largest) = refused(&bytes);
        assert!(msg.contains("parameters"), "{msg}");
        assert!(largest < 1 << 20, "allocated {largest} bytes");
    }

    #[test]
    fn a_vocabulary_longer_than_declared_is_refused_before_it_is_built() {
        // Ten million words: 40 MB of JSON, a few hundred MB as a list of strings.
        let mut words = String::with_capacity(40_000_000);
        words.push_str("[\"<pad>\",\"<unk>\"");
        for _ in 0..10_000_000 {
            words.push_str(",\"a\"");
        }
        words.push(']');
        for vocab_size in [8u64, 2_000_000, 10_000_000] {
            let bytes = edited(
                |h| {
                    set_meta_field("senti.text_config", "vocab_size", serde_json::json!(vocab_size))(h);
                    set_meta(h, "senti.vocab", words.clone());
                },
                None,
            );
            let (msg, largest) = refused(&bytes);
            assert!(msg.contains("vocab"), "{msg}");
            // Parsing the header copies it (into a buffer that grows by doubling); nothing
            // larger is built from it. Building the list took 400 MB.
            assert!(largest < 2 * bytes.len(), "vocab_size {vocab_size}: allocated {largest} bytes for a file of {}", bytes.len());
        }
    }

    #[test]
    fn damaged_weights_and_wrong_shapes_are_refused() {
        let nan = edited(|_| {}, Some({
            let bytes = tiny();
            let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
            let mut data = bytes[8 + n..].to_vec();
            data[..4].copy_from_slice(&f32::NAN.to_le_bytes());
            data
        }));
        assert!(refused(&nan).0.contains("NaN"));
        let shape = edited(set_tensor("head.bias", "shape", serde_json::json!([1, 1])), None);
        assert!(refused(&shape).0.contains("head.bias"));
        let dtype = edited(set_tensor("head.bias", "dtype", serde_json::json!("I32")), None);
        assert!(refused(&dtype).0.contains("head.bias"));
        let bytes = tiny();
        assert!(refused(&bytes[..bytes.len() - 1]).0.contains("safetensors"));
        assert!(refused(b"").0.contains("safetensors"));
    }

    #[test]
    fn the_wide_path_round_trips_and_damage_to_it_is_refused() {
        let model = from_bytes(&tiny()).unwrap();
        let wide = model.wide().expect("the tiny model has a wide path");
        assert_eq!((wide.config.buckets, wide.config.mix, wide.bias.clone()), (1024, [1.0, 0.5, 0.0], vec![0.1]));
        let again = from_bytes(&to_bytes(&model).unwrap()).unwrap();
        let wide2 = again.wide().unwrap();
        assert!(wide2.config == wide.config && wide2.weights == wide.weights && wide2.bias == wide.bias, "the wide path changed in a save/load round trip");
        let bad_buckets = edited(set_meta_field("senti.wide_config", "buckets", serde_json::json!(2048)), None);
        assert!(refused(&bad_buckets).0.contains("wide.weight"), "{}", refused(&bad_buckets).0);
        let huge = edited(set_meta_field("senti.wide_config", "buckets", serde_json::json!(1u64 << 40)), None);
        assert!(refused(&huge).0.contains("wide_buckets"), "{}", refused(&huge).0);
        let ngrams = edited(set_meta_field("senti.wide_config", "ngrams", serde_json::json!(9)), None);
        assert!(refused(&ngrams).0.contains("wide_ngrams"), "{}", refused(&ngrams).0);
        let mix = edited(set_meta_field("senti.wide_config", "mix", serde_json::json!([1.0, 1.0])), None);
        assert!(refused(&mix).0.contains("wide_config"), "{}", refused(&mix).0);
        let no_config = edited(|h| {
            h["__metadata__"].as_object_mut().unwrap().remove("senti.wide_config");
        }, None);
        assert!(refused(&no_config).0.contains("tensors"), "{}", refused(&no_config).0);
        let renamed = edited(|h| {
            let t = h.remove("wide.bias").unwrap();
            h.insert("wide.offset".into(), t);
        }, None);
        assert!(refused(&renamed).0.contains("wide.bias"), "{}", refused(&renamed).0);
    }
}
