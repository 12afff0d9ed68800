// SPDX-License-Identifier: MIT OR Apache-2.0
//! Prediction through the C ABI on arbitrary bytes: `senti_predict` on the whole input, then
//! `senti_predict_batch` on up to 8 texts split out of it at 0xFF bytes (never valid UTF-8, so
//! the pieces often are). The tiny model is loaded once with `senti_load`; every error returned
//! is checked and freed. Valid UTF-8 gets a probability in [0, 1] (the same alone and in a
//! batch), anything else `SENTI_ERR_INVALID_UTF8`, and out-parameters are written only on success.
#![no_main]

use std::ptr;

use libfuzzer_sys::fuzz_target;
use senti::ffi::*;
use senti_fuzz::capi::{check_error, check_ok, text_ptr, tiny_model};

/// Predicts one text; `None` when it is not UTF-8.
fn predict_one(model: *const senti_model, text: &[u8]) -> Option<f32> {
    let mut p = -1.0f32;
    let mut err = ptr::null_mut();
    let status = unsafe { senti_predict(model, text_ptr(text), text.len(), &mut p, &mut err) };
    if std::str::from_utf8(text).is_err() {
        check_error(status, err, Some(senti_status::SENTI_ERR_INVALID_UTF8));
        assert_eq!(p, -1.0, "written on failure");
        return None;
    }
    check_ok(status, err);
    assert!((0.0..=1.0).contains(&p), "probability {p}");
    Some(p)
}

fuzz_target!(|data: &[u8]| {
    let model = tiny_model();
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
        check_error(status, err, Some(senti_status::SENTI_ERR_INVALID_UTF8));
        assert!(probs.iter().all(|&p| p == -1.0), "written on failure");
        return;
    }
    check_ok(status, err);
    for (piece, &p) in pieces.iter().zip(&probs) {
        let alone = predict_one(model, piece).unwrap();
        assert!((p - alone).abs() <= 1e-4, "{p} in a batch, {alone} alone");
    }
});
