//! The model file: one `.safetensors` file. Tensors hold the weights (f32, names as in
//! `nn::Classifier`); the header's metadata holds, as JSON strings:
//! `senti.format` ("senti-model"), `senti.format_version`, `senti.library_version`,
//! `senti.model_config`, `senti.text_config`, `senti.vocab` (the id-ordered word list) and
//! `senti.training` (parameters, per-epoch history, best epoch, wall time).
//!
//! Saving writes a temporary file beside the target, syncs it and renames it over the target,
//! so an interrupted save leaves the previous file intact.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::{DType, Device, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::config::{MAX_PARAMS, ModelConfig, TextConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{SentimentModel, TrainingRecord};
use crate::nn::{Classifier, Weights};
use crate::text::{Encoder, Tokenizer, Vocab};

const FORMAT: &str = "senti-model";
const FORMAT_VERSION: &str = "1";
/// Largest file `load` reads: the largest permitted model plus room for the header.
const MAX_FILE_BYTES: u64 = (MAX_PARAMS as u64) * 4 + (256 << 20);

fn tensor_bytes(t: &Tensor) -> Result<Vec<u8>> {
    let values = t.flatten_all()?.to_vec1::<f32>()?;
    Ok(values.iter().flat_map(|v| v.to_le_bytes()).collect())
}

pub fn to_bytes(model: &SentimentModel) -> Result<Vec<u8>> {
    let mut meta = HashMap::new();
    meta.insert("senti.format".to_string(), FORMAT.to_string());
    meta.insert("senti.format_version".to_string(), FORMAT_VERSION.to_string());
    meta.insert("senti.library_version".to_string(), crate::VERSION.to_string());
    meta.insert("senti.model_config".to_string(), to_json(model.model_config())?);
    meta.insert("senti.text_config".to_string(), to_json(model.text_config())?);
    meta.insert("senti.vocab".to_string(), to_json(model.encoder.vocab.words())?);
    meta.insert("senti.training".to_string(), to_json(model.record())?);
    let mut buffers = Vec::new();
    for (name, t) in model.classifier.named_tensors() {
        buffers.push((name.clone(), t.dims().to_vec(), tensor_bytes(t)?));
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

pub fn save(model: &SentimentModel, path: &Path) -> Result<()> {
    write_atomic(path, &to_bytes(model)?)
}

pub fn load(path: &Path) -> Result<SentimentModel> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::new(ErrorKind::Io, format!("{}: is a directory, not a model file", path.display())));
    }
    // A device reports length 0 and may never end (/dev/zero); a FIFO blocks the open until a
    // writer comes. Only regular files (or links to them) are model files.
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::Io, format!("{}: not a regular file, so not a model file", path.display())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::model_file(format!("{}: {} bytes is larger than any senti model", path.display(), meta.len())));
    }
    // Bounded even if the file grows (or is swapped) after the check above.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::model_file(format!("{}: larger than any senti model", path.display())));
    }
    from_bytes(&bytes).map_err(|e| e.context(path.display()))
}

fn meta_json<T: serde::de::DeserializeOwned>(meta: &HashMap<String, String>, key: &str) -> Result<T> {
    let raw = meta.get(key).ok_or_else(|| Error::model_file(format!("metadata has no {key:?}")))?;
    serde_json::from_str(raw).map_err(|e| Error::model_file(format!("metadata {key:?}: {e}")))
}

pub fn from_bytes(bytes: &[u8]) -> Result<SentimentModel> {
    let bad = |e: safetensors::SafeTensorError| Error::model_file(format!("not a valid safetensors file: {e}"));
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(bad)?;
    let meta = header.metadata().clone().ok_or_else(|| Error::model_file("not a senti model: the file has no metadata"))?;
    if meta.get("senti.format").map(String::as_str) != Some(FORMAT) {
        return Err(Error::model_file("not a senti model: metadata \"senti.format\" is missing or different"));
    }
    let version = meta.get("senti.format_version").map(String::as_str).unwrap_or("?");
    if version != FORMAT_VERSION {
        return Err(Error::model_file(format!("model format version {version} is not supported (this library reads {FORMAT_VERSION})")));
    }
    let model_config: ModelConfig = meta_json(&meta, "senti.model_config")?;
    let text: TextConfig = meta_json(&meta, "senti.text_config")?;
    let words: Vec<String> = meta_json(&meta, "senti.vocab")?;
    let record: TrainingRecord = meta_json(&meta, "senti.training")?;
    text.validate().map_err(|e| Error::model_file(e.message().to_string()))?;
    if words.len() > text.vocab_size {
        return Err(Error::model_file(format!("vocabulary has {} words, more than vocab_size {}", words.len(), text.vocab_size)));
    }
    model_config.validate(words.len()).map_err(|e| Error::model_file(e.message().to_string()))?;
    let vocab = Vocab::from_words(words)?;

    let tensors = SafeTensors::deserialize(bytes).map_err(bad)?;
    let mut map = HashMap::new();
    for (name, view) in tensors.iter() {
        if view.dtype() != Dtype::F32 {
            return Err(Error::model_file(format!("tensor {name:?} is {:?}, expected F32", view.dtype())));
        }
        let values: Vec<f32> = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Error::model_file(format!("tensor {name:?} holds NaN or infinite values")));
        }
        map.insert(name.to_string(), Tensor::from_vec(values, view.shape(), &Device::Cpu)?.to_dtype(DType::F32)?);
    }
    let classifier = Classifier::new(&model_config, vocab.len(), Weights::Load(&map))?;
    if map.len() != classifier.named_tensors().len() {
        return Err(Error::model_file(format!("the file holds {} tensors, the configuration needs {}", map.len(), classifier.named_tensors().len())));
    }
    let encoder = Encoder { tokenizer: Tokenizer::new(), vocab, max_len: text.max_len, truncation: text.truncation };
    Ok(SentimentModel { text, encoder, classifier, record })
}
