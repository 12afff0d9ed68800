// SPDX-License-Identifier: MIT OR Apache-2.0
//! The model file: one `.safetensors` file. Tensors hold the weights (f32, names as in
//! `nn::Classifier`); the header's metadata holds, as JSON strings:
//! `senti.format` ("senti-model"), `senti.format_version`, `senti.library_version`,
//! `senti.model_config`, `senti.text_config`, `senti.vocab` (the id-ordered word list) and
//! `senti.training` (parameters, per-epoch history, best epoch, wall time), `senti.labels` (the
//! class names in index order; format 2), and for a model with a wide n-gram path
//! `senti.wide_config` (n-gram length, slots, mix), whose weights are the tensors `wide.weight`
//! (one per slot for two classes, slots × classes beyond) and `wide.bias` (one per row), and
//! `senti.checksum` (format 3; see `integrity`).
//!
//! Format versions: 1 (libsenti 0.1.0: two classes, no `senti.labels`; read as `negative`,
//! `positive`), 2 (K classes, `senti.labels`), 3 (a checksum over the whole file, verified
//! before anything else is read) and 4 (3, plus attention pooling: `"pooling": "attention"` and
//! the tensors `pool.attention.{w,b,v}`; and the transformer encoder: `"cell": "transformer"`,
//! `"transformer": {"heads", "ff_size"}` and the tensors `enc.*`), 5 (4, plus a transformer's
//! `embedding_scale`) and 6 (5, plus models without a network: no `senti.model_config` and no
//! network tensors, only the wide path's). This library writes the oldest version that holds
//! the model, so that older libraries still read what they can, and reads all six.
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
use crate::nn::{CellKind, Classifier, MAX_PARAMS, NetworkConfig, Pooling, Weights};
use crate::text::{Encoder, TextConfig, Vocab};
use crate::wide::{MAX_BUCKETS, Wide, WideConfig};

mod integrity;
pub use integrity::seal;

const FORMAT: &str = "senti-model";
/// The version this library writes for a model that needs nothing newer.
const FORMAT_VERSION: &str = "3";
/// The version a model with attention pooling or an unscaled transformer encoder needs.
const ATTENTION_FORMAT_VERSION: &str = "4";
/// The version a transformer encoder with scaled embeddings (`embedding_scale`) needs.
const SCALED_TRANSFORMER_FORMAT_VERSION: &str = "5";
/// The version a model without a network (the wide path alone, `layers` 0) needs.
const NO_NETWORK_FORMAT_VERSION: &str = "6";
/// Every version this library reads, oldest first.
const READABLE_VERSIONS: [&str; 6] = ["1", "2", "3", "4", "5", "6"];
/// The versions whose files carry no checksum.
const UNSEALED_VERSIONS: [&str; 2] = ["1", "2"];
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
    meta.insert("senti.format_version".to_string(), version_for(model.network_config()).to_string());
    meta.insert("senti.library_version".to_string(), crate::VERSION.to_string());
    if let Some(config) = model.network_config() {
        meta.insert("senti.model_config".to_string(), to_json(config)?);
    }
    meta.insert("senti.labels".to_string(), to_json(model.labels())?);
    meta.insert("senti.text_config".to_string(), to_json(model.text_config())?);
    meta.insert("senti.vocab".to_string(), to_json(model.encoder.vocab.words())?);
    meta.insert("senti.training".to_string(), to_json(model.record())?);
    meta.insert(integrity::KEY.to_string(), integrity::PLACEHOLDER.to_string());
    let mut buffers = Vec::new();
    for (name, t) in model.classifier.iter().flat_map(Classifier::named_tensors) {
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
    let mut bytes =
        safetensors::tensor::serialize(views, Some(meta)).map_err(|e| Error::new(ErrorKind::Internal, format!("serializing the model: {e}")))?;
    seal(&mut bytes)?;
    Ok(bytes)
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
    let model = build(parsed).map_err(|e| e.context(path.display()));
    // The file's bytes and the copies building made are freed now; the library's allocator would
    // keep them for reuse (a third of a serving process's memory), but a load is not repeated
    // like a training step or a batch, so they go back to the system.
    crate::runtime::release_cached_memory();
    model
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

/// The oldest format version that holds a network of this configuration, or no network.
fn version_for(config: Option<&NetworkConfig>) -> &'static str {
    let Some(config) = config else { return NO_NETWORK_FORMAT_VERSION };
    if needs_format_5(config) {
        SCALED_TRANSFORMER_FORMAT_VERSION
    } else if needs_format_4(config) {
        ATTENTION_FORMAT_VERSION
    } else {
        FORMAT_VERSION
    }
}

fn needs_format_4(config: &NetworkConfig) -> bool {
    config.pooling == Pooling::Attention || config.cell == CellKind::Transformer
}

fn needs_format_5(config: &NetworkConfig) -> bool {
    config.transformer.is_some_and(|t| !crate::nn::TransformerShape::is_unscaled(&t.embedding_scale))
}

fn readable_versions() -> String {
    match READABLE_VERSIONS.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
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
    /// None: the model is its wide path alone.
    model_config: Option<NetworkConfig>,
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
        let written_by = meta.get("senti.library_version").map_or(String::new(), |v| format!(", written by libsenti {v},"));
        return Err(Error::model_file(format!(
            "model format version {version}{written_by} is not supported: libsenti {} reads versions {}",
            crate::VERSION,
            readable_versions()
        )));
    }
    // Before anything else is read: what follows trusts the bytes to be the ones written.
    if UNSEALED_VERSIONS.contains(&version) {
        if meta.contains_key(integrity::KEY) {
            return Err(Error::model_file(format!("metadata {:?} is not part of format version {version}", integrity::KEY)));
        }
    } else {
        integrity::verify(bytes)?;
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
    let model_config: Option<NetworkConfig> = match meta.get("senti.model_config") {
        Some(_) => Some(meta_json(&meta, "senti.model_config")?),
        None => None,
    };
    let text: TextConfig = meta_json(&meta, "senti.text_config")?;
    text.validate().map_err(|e| Error::model_file(e.message().to_string()))?;
    let words = meta_vocab(&meta, text.vocab_size)?;
    let record: TrainingRecord = meta_json(&meta, "senti.training")?;
    if let Some(config) = &model_config {
        config.validate(words.len(), labels.len()).map_err(|e| Error::model_file(e.message().to_string()))?;
    }
    // Each newer format adds to the one before it: a format-5 file may pool by attention.
    let newest_feature = match &model_config {
        None => Some(("a model without a network (no \"senti.model_config\")", &[NO_NETWORK_FORMAT_VERSION][..])),
        Some(config) if needs_format_5(config) => Some(("a transformer's embedding_scale", &[SCALED_TRANSFORMER_FORMAT_VERSION, NO_NETWORK_FORMAT_VERSION][..])),
        Some(config) if needs_format_4(config) => {
            let what = if config.cell == CellKind::Transformer { "a transformer encoder" } else { "attention pooling" };
            Some((what, &[ATTENTION_FORMAT_VERSION, SCALED_TRANSFORMER_FORMAT_VERSION, NO_NETWORK_FORMAT_VERSION][..]))
        }
        Some(_) => None,
    };
    if let Some((what, versions)) = newest_feature
        && !versions.contains(&version)
    {
        return Err(Error::model_file(format!("{what} is not part of format version {version}")));
    }
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
    if model_config.is_none() && wide.is_none() {
        return Err(Error::model_file("the file has neither a network (\"senti.model_config\") nor a wide path (\"senti.wide_config\")"));
    }
    let classifier = model_config.map(|config| Classifier::new(&config, vocab.len(), labels.len(), Weights::Load(&map))).transpose()?;
    let needed = classifier.as_ref().map_or(0, |c| c.named_tensors().len());
    if map.len() != needed {
        return Err(Error::model_file(format!("the file holds {} tensors, the configuration needs {needed}", map.len())));
    }
    let encoder = Encoder::new(vocab, &text);
    Ok(Model { text, encoder, classifier, wide, labels, record, prediction_threads: Default::default() })
}

#[cfg(test)]
mod tests;
