// SPDX-License-Identifier: MIT OR Apache-2.0
//! What the fuzz targets share: the tiny model they start from and the checks every model that
//! loads must pass.

use senti::{ErrorKind, Model};

/// A real model (LSTM, vocabulary 60, embedding and state width 4), written by
/// `cargo test --release --test fuzz_seeds -- --ignored` and also a seed of `model_from_bytes`.
pub static TINY_MODEL: &[u8] = include_bytes!("../corpus/model_from_bytes/tiny.safetensors");

/// Loads `bytes`; a refusal must be a model-file error, an acceptance a model that works.
pub fn load_and_check(bytes: &[u8], text: &str) {
    match senti::model_file::from_bytes(bytes) {
        Ok(model) => check_loaded(&model, text),
        Err(e) => assert_eq!(e.kind(), ErrorKind::ModelFile, "refused with the wrong kind of error: {e}"),
    }
}

/// A model that loads scores every class (probabilities that sum to 1), saves, loads again and
/// then answers the same.
pub fn check_loaded(model: &Model, text: &str) {
    let p = model.scores(text).unwrap_or_else(|e| panic!("a loaded model fails to predict: {e}"));
    assert_eq!(p.len(), model.labels().len());
    assert!(p.iter().all(|v| (0.0..=1.0).contains(v)) && (p.iter().sum::<f32>() - 1.0).abs() < 1e-4, "scores {p:?}");
    let bytes = senti::model_file::to_bytes(model).unwrap_or_else(|e| panic!("a loaded model fails to serialize: {e}"));
    let back = senti::model_file::from_bytes(&bytes).unwrap_or_else(|e| panic!("a saved model fails to load again: {e}"));
    let q = back.scores(text).unwrap();
    assert_eq!(p.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), q.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "the reloaded model answers {q:?}, the loaded one {p:?}");
}

/// What the targets that call the C ABI share.
pub mod capi {
    use std::ffi::{CStr, c_char};
    use std::ptr;
    use std::sync::OnceLock;

    use senti::ffi::*;

    /// Asserts that a failed call returned `expected` (any failure for `None`, never
    /// `SENTI_ERR_INTERNAL`: that is a bug), with an error object carrying the same code and a
    /// message; frees the error.
    pub fn check_error(status: senti_status, err: *mut senti_error, expected: Option<senti_status>) {
        assert_ne!(status, senti_status::SENTI_OK, "expected a failure");
        assert_ne!(status, senti_status::SENTI_ERR_INTERNAL, "an internal error: {}", message(err));
        if let Some(expected) = expected {
            assert_eq!(status, expected, "{}", message(err));
        }
        assert!(!err.is_null(), "no error object for {status:?}");
        assert_eq!(senti_error_code(err), status);
        assert!(!message(err).is_empty(), "an empty message for {status:?}");
        senti_error_free(err);
    }

    /// Asserts that a call succeeded without leaving an error object.
    pub fn check_ok(status: senti_status, err: *mut senti_error) {
        assert_eq!(status, senti_status::SENTI_OK, "{}", message(err));
        assert!(err.is_null(), "an error object on success");
    }

    /// The error's message ("" for no error).
    pub fn message(err: *const senti_error) -> String {
        if err.is_null() {
            return String::new();
        }
        let msg = senti_error_message(err);
        assert!(!msg.is_null(), "a live error without a message");
        // SAFETY: a live error's message is a NUL-terminated string it owns.
        unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned()
    }

    /// The text's pointer, or NULL for an empty one (NULL with length 0 is the empty text).
    pub fn text_ptr(text: &[u8]) -> *const c_char {
        if text.is_empty() { ptr::null() } else { text.as_ptr().cast() }
    }

    /// The tiny model, loaded once with `senti_load`.
    pub fn tiny_model() -> *const senti_model {
        // An address: raw pointers are not `Sync`.
        static MODEL: OnceLock<usize> = OnceLock::new();
        *MODEL.get_or_init(|| {
            let path = std::env::temp_dir().join(format!("senti-fuzz-{}.safetensors", std::process::id()));
            std::fs::write(&path, super::TINY_MODEL).unwrap();
            let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            let mut model = ptr::null_mut();
            // SAFETY: a NUL-terminated path and a valid out-pointer.
            let status = unsafe { senti_load(c_path.as_ptr(), &mut model, ptr::null_mut()) };
            let _ = std::fs::remove_file(&path);
            assert_eq!(status, senti_status::SENTI_OK, "the tiny model does not load");
            model as usize
        }) as *const senti_model
    }
}
