// SPDX-License-Identifier: MIT OR Apache-2.0
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
    to_bytes(&Model { text: params.text_config(), encoder, classifier: Some(classifier), wide: Some(wide), labels: Labels::binary(), record, prediction_threads: Default::default() }).unwrap()
}

/// The tiny model's file with its header (JSON) edited and its data replaced by `data` when
/// given; the length prefix follows the header, and the checksum is recomputed (when the edit
/// left its entry), so the edit reaches the checks behind it.
fn edited(f: impl FnOnce(&mut Map<String, Value>), data: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = edited_unsealed(f, data);
    let _ = seal(&mut out);
    out
}

fn edited_unsealed(f: impl FnOnce(&mut Map<String, Value>), data: Option<Vec<u8>>) -> Vec<u8> {
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

#[test]
fn every_changed_byte_is_refused() {
    let bytes = tiny();
    from_bytes(&bytes).expect("the tiny model loads");
    let mut rng = Rng::new(7);
    let mut changed = 0;
    for at in 0..bytes.len() {
        // Every bit alone, all eight at once, and one random other value.
        let random = (rng.next_u64() % 255 + 1) as u8;
        for xor in (0..8).map(|bit| 1u8 << bit).chain([0xff, random]) {
            let mut damaged = bytes.clone();
            damaged[at] ^= xor;
            let err = from_bytes(&damaged).err().unwrap_or_else(|| panic!("byte {at} of {} ^ {xor:#04x} was accepted", bytes.len()));
            assert_eq!(err.kind(), ErrorKind::ModelFile, "byte {at} ^ {xor:#04x}: {err}");
            changed += 1;
        }
    }
    eprintln!("refused {changed} of {changed} files with one byte changed (of {} bytes)", bytes.len());
}

#[test]
fn the_checksum_names_what_it_found() {
    let mut bytes = tiny();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let msg = refused(&bytes).0;
    assert!(msg.contains("damaged") && msg.contains("crc32c:"), "{msg}");
    let removed = edited_unsealed(|h| drop(h["__metadata__"].as_object_mut().unwrap().remove(integrity::KEY)), None);
    assert!(refused(&removed).0.contains("senti.checksum"), "{}", refused(&removed).0);
    let not_hex = edited_unsealed(|h| set_meta(h, integrity::KEY, "crc32c:0000000g".into()), None);
    assert!(refused(&not_hex).0.contains("8 hex digits"), "{}", refused(&not_hex).0);
    // Attention pooling needs format 4.
    let older = edited(
        |h| {
            let mut config: Value = serde_json::from_str(h["__metadata__"]["senti.model_config"].as_str().unwrap()).unwrap();
            config["pooling"] = "attention".into();
            set_meta(h, "senti.model_config", config.to_string());
        },
        None,
    );
    assert!(refused(&older).0.contains("attention pooling is not part of format version 3"), "{}", refused(&older).0);
    // An older format has no checksum: a file that claims one is damaged, not old.
    for version in ["1", "2"] {
        let older = edited(|h| set_meta(h, "senti.format_version", version.into()), None);
        let msg = refused(&older).0;
        assert!(msg.contains(&format!("\"senti.checksum\" is not part of format version {version}")), "{msg}");
    }
}
