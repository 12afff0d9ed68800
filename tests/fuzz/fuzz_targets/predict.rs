// SPDX-License-Identifier: MIT OR Apache-2.0
//! Prediction through the C ABI on arbitrary bytes: `senti_predict` on the whole input, then
//! `senti_predict_batch` on up to 8 texts split out of it at 0xFF bytes (never valid UTF-8, so
//! the pieces often are). The tiny model is loaded once with `senti_load`; every error returned
//! is checked and freed. Valid UTF-8 gets a probability in [0, 1] (the same alone and in a
//! batch), anything else `SENTI_ERR_INVALID_UTF8`, and out-parameters are written only on success.
#![no_main]

use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use senti::ffi::*;

/// The model handle, as an address (raw pointers are not `Sync`).
static MODEL: OnceLock<usize> = OnceLock::new();

fn model() -> *const senti_model {
    *MODEL.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("senti-fuzz-predict-{}.safetensors", std::process::id()));
        std::fs::write(&path, senti_fuzz::TINY_MODEL).unwrap();
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        let mut model = ptr::null_mut();
        let status = unsafe { senti_load(c_path.as_ptr(), &mut model, ptr::null_mut()) };
        let _ = std::fs::remove_file(&path);
        assert_eq!(status, senti_status::SENTI_OK, "the tiny model does not load");
        model as usize
    }) as *const senti_model
}

/// Checks a failed call's error object and frees it.
fn check_error(status: senti_status, err: *mut senti_error, expected: senti_status) {
    assert_eq!(status, expected);
    assert!(!err.is_null(), "no error object for {status:?}");
    assert_eq!(senti_error_code(err), status);
    let msg = senti_error_message(err);
    assert!(!msg.is_null());
    assert!(!unsafe { std::ffi::CStr::from_ptr(msg) }.to_bytes().is_empty());
    senti_error_free(err);
}

/// The text's pointer, or NULL for an empty one (NULL with length 0 is the empty text).
fn text_ptr(text: &[u8]) -> *const std::ffi::c_char {
    if text.is_empty() { ptr::null() } else { text.as_ptr().cast() }
}

/// Predicts one text; `None` when it is not UTF-8.
fn predict_one(model: *const senti_model, text: &[u8]) -> Option<f32> {
    let mut p = -1.0f32;
    let mut err = ptr::null_mut();
    let status = unsafe { senti_predict(model, text_ptr(text), text.len(), &mut p, &mut err) };
    if std::str::from_utf8(text).is_err() {
        check_error(status, err, senti_status::SENTI_ERR_INVALID_UTF8);
        assert_eq!(p, -1.0, "written on failure");
        return None;
    }
    assert_eq!(status, senti_status::SENTI_OK, "{}", if err.is_null() { String::new() } else {
        unsafe { std::ffi::CStr::from_ptr(senti_error_message(err)) }.to_string_lossy().into_owned()
    });
    assert!(err.is_null(), "an error object on success");
    assert!((0.0..=1.0).contains(&p), "probability {p}");
    Some(p)
}

fuzz_target!(|data: &[u8]| {
    let model = model();
    let whole = predict_one(model, data);

    // The same text NUL-terminated gives the same answer when it holds no NUL of its own.
    if let Some(p) = whole {
        if !data.contains(&0) {
            let mut z = data.to_vec();
            z.push(0);
            let mut q = -1.0f32;
            let status = unsafe { senti_predict(model, z.as_ptr().cast(), usize::MAX, &mut q, ptr::null_mut()) };
            assert_eq!(status, senti_status::SENTI_OK);
            assert_eq!(p.to_bits(), q.to_bits());
        }
    }

    let pieces: Vec<&[u8]> = data.split(|&b| b == 0xFF).take(8).collect();
    let ptrs: Vec<*const std::ffi::c_char> = pieces.iter().map(|t| text_ptr(t)).collect();
    let lens: Vec<usize> = pieces.iter().map(|t| t.len()).collect();
    let mut probs = vec![-1.0f32; pieces.len()];
    let mut err = ptr::null_mut();
    let status = unsafe { senti_predict_batch(model, ptrs.as_ptr(), lens.as_ptr(), pieces.len(), probs.as_mut_ptr(), &mut err) };
    if pieces.iter().any(|t| std::str::from_utf8(t).is_err()) {
        check_error(status, err, senti_status::SENTI_ERR_INVALID_UTF8);
        assert!(probs.iter().all(|&p| p == -1.0), "written on failure");
        return;
    }
    assert_eq!(status, senti_status::SENTI_OK);
    assert!(err.is_null());
    for (piece, &p) in pieces.iter().zip(&probs) {
        let alone = predict_one(model, piece).unwrap();
        assert!((p - alone).abs() <= 1e-4, "{p} in a batch, {alone} alone");
    }
});
