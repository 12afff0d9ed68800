// SPDX-License-Identifier: MIT OR Apache-2.0
//! The label and score calls of the C ABI on the tiny model (loaded once): `senti_label_count`,
//! `senti_label_name` (any index, any capacity), `senti_set_prediction_threads` (any count),
//! `senti_set_prediction_precision` (any bytes, usually "f32", "f16" or "i16"),
//! `senti_predict_scores` (any capacity), `senti_predict_label`, `senti_predict_scores_batch`
//! and `senti_evaluate_texts` (any labels) on up to 8 arbitrary texts.
//!
//! What must hold: the capacity protocol (too small is `SENTI_ERR_BUFFER_TOO_SMALL` and writes
//! nothing), scores in [0, 1] that sum to 1, the label call agreeing with the scores (ties to the
//! lower index), a batch agreeing with the texts alone, scores that do not depend on the thread
//! count (bit for bit, as documented) at either precision, an evaluation that counts what the
//! label call predicts, and every refusal an error object of the documented kind.
#![no_main]

use std::ffi::c_char;
use std::ptr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use senti::ffi::*;
use senti_fuzz::capi::{check_error, check_ok, text_ptr, tiny_model};

#[derive(Arbitrary, Debug)]
struct Input {
    label_index: u8,
    label_capacity: u8,
    threads: u16,
    other_threads: u8,
    precision: Precision,
    score_capacity: u8,
    texts: Vec<Vec<u8>>,
    labels: Vec<u8>,
}

/// Mostly the two valid names, so that both precisions get the inputs' time.
#[derive(Arbitrary, Debug)]
enum Precision {
    F32,
    F16,
    I16,
    Other(Vec<u8>),
}

const NO_SCORE: f32 = -7.0;

fn label_count(model: *const senti_model) -> usize {
    let mut k = 0;
    let mut err = ptr::null_mut();
    check_ok(unsafe { senti_label_count(model, &mut k, &mut err) }, err);
    k
}

fn check_label_name(model: *const senti_model, k: usize, index: usize, capacity: usize) {
    let mut buf = vec![0xAAu8; capacity];
    let buf_ptr = if capacity == 0 { ptr::null_mut() } else { buf.as_mut_ptr().cast::<c_char>() };
    let mut len = usize::MAX;
    let mut err = ptr::null_mut();
    let status = unsafe { senti_label_name(model, index, buf_ptr, capacity, &mut len, &mut err) };
    if index >= k {
        return check_error(status, err, Some(senti_status::SENTI_ERR_INVALID_ARGUMENT));
    }
    assert!(len > 0 && len < 1 << 16, "length {len}");
    if capacity <= len {
        check_error(status, err, Some(senti_status::SENTI_ERR_BUFFER_TOO_SMALL));
        assert!(buf.iter().all(|&b| b == 0xAA), "a buffer too small was written");
    } else {
        check_ok(status, err);
        assert_eq!(buf[len], 0, "no NUL");
        std::str::from_utf8(&buf[..len]).expect("a label name is UTF-8");
    }
}

/// Scores of one text by `senti_predict_scores` with room for `capacity` floats; `None` when
/// refused (not UTF-8, or too little room).
fn scores(model: *const senti_model, k: usize, text: &[u8], capacity: usize) -> Option<Vec<f32>> {
    let mut out = vec![NO_SCORE; capacity.max(1)];
    let mut err = ptr::null_mut();
    let status = unsafe { senti_predict_scores(model, text_ptr(text), text.len(), out.as_mut_ptr(), capacity, &mut err) };
    let (valid, room) = (std::str::from_utf8(text).is_ok(), capacity >= k);
    if !valid && !room {
        // Either refusal is right: the arguments are checked before the text.
        assert!(matches!(status, senti_status::SENTI_ERR_INVALID_UTF8 | senti_status::SENTI_ERR_BUFFER_TOO_SMALL), "{status:?}");
        check_error(status, err, None);
    } else if !valid {
        check_error(status, err, Some(senti_status::SENTI_ERR_INVALID_UTF8));
    } else if !room {
        check_error(status, err, Some(senti_status::SENTI_ERR_BUFFER_TOO_SMALL));
    } else {
        check_ok(status, err);
        let p = &out[..k];
        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)) && (p.iter().sum::<f32>() - 1.0).abs() < 1e-4, "scores {p:?}");
        assert!(out[k..].iter().all(|&v| v == NO_SCORE), "written past the label count");
        return Some(p.to_vec());
    }
    assert!(out.iter().all(|&v| v == NO_SCORE), "scores written on failure");
    None
}

fn set_threads(model: *const senti_model, threads: usize) {
    let mut err = ptr::null_mut();
    let status = unsafe { senti_set_prediction_threads(model, threads, &mut err) };
    if threads > 1024 {
        check_error(status, err, Some(senti_status::SENTI_ERR_INVALID_ARGUMENT));
    } else {
        check_ok(status, err);
    }
}

fn set_precision(model: *const senti_model, precision: &Precision) {
    let name: &[u8] = match precision {
        Precision::F32 => b"f32",
        Precision::F16 => b"f16",
        Precision::I16 => b"i16",
        Precision::Other(bytes) => bytes,
    };
    // Up to the first NUL, as C sees the string.
    let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
    let c_name: Vec<u8> = name.iter().copied().chain([0]).collect();
    let mut err = ptr::null_mut();
    let status = unsafe { senti_set_prediction_precision(model, c_name.as_ptr().cast(), &mut err) };
    match name {
        b"f32" | b"f16" | b"i16" => check_ok(status, err),
        _ if std::str::from_utf8(name).is_err() => check_error(status, err, Some(senti_status::SENTI_ERR_INVALID_UTF8)),
        _ => check_error(status, err, Some(senti_status::SENTI_ERR_INVALID_ARGUMENT)),
    }
}

fn batch_scores(model: *const senti_model, k: usize, texts: &[&[u8]]) -> Result<Vec<f32>, senti_status> {
    let ptrs: Vec<*const c_char> = texts.iter().map(|t| text_ptr(t)).collect();
    let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
    let mut out = vec![NO_SCORE; texts.len() * k];
    let mut err = ptr::null_mut();
    let status = unsafe { senti_predict_scores_batch(model, ptrs.as_ptr(), lens.as_ptr(), texts.len(), out.as_mut_ptr(), out.len(), &mut err) };
    if status == senti_status::SENTI_OK {
        check_ok(status, err);
        Ok(out)
    } else {
        check_error(status, err, None);
        assert!(out.iter().all(|&v| v == NO_SCORE), "scores written on failure");
        Err(status)
    }
}

fuzz_target!(|input: Input| {
    let model = tiny_model();
    let k = label_count(model);
    assert!(k >= 2);
    check_label_name(model, k, usize::from(input.label_index % 4), usize::from(input.label_capacity % 16));
    set_threads(model, usize::from(input.threads));
    set_precision(model, &input.precision);

    let texts: Vec<&[u8]> = input.texts.iter().take(8).map(|t| &t[..t.len().min(4096)]).collect();
    let mut alone = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let capacity = if i == 0 { usize::from(input.score_capacity % 5) } else { k };
        let p = scores(model, k, text, capacity);
        if let Some(p) = &p {
            let (mut label, mut top) = (usize::MAX, f32::NAN);
            let mut err = ptr::null_mut();
            check_ok(unsafe { senti_predict_label(model, text_ptr(text), text.len(), &mut label, &mut top, &mut err) }, err);
            let want = (0..k).fold(0, |best, c| if p[c] > p[best] { c } else { best });
            assert_eq!((label, top.to_bits()), (want, p[want].to_bits()), "the label call disagrees with the scores {p:?}");
        }
        alone.push(p);
    }
    let all_valid = texts.iter().all(|t| std::str::from_utf8(t).is_ok());
    match batch_scores(model, k, &texts) {
        Ok(rows) => {
            assert!(all_valid, "a batch with invalid UTF-8 was accepted");
            for (i, row) in rows.chunks_exact(k).enumerate() {
                // The first text may have been refused for its capacity alone.
                let Some(p) = alone[i].clone().or_else(|| scores(model, k, texts[i], k)) else { panic!("text {i} alone refused") };
                assert!(row.iter().zip(&p).all(|(a, b)| (a - b).abs() <= 1e-4), "text {i}: {row:?} in a batch, {p:?} alone");
            }
            // The documented promise: the thread count never changes a score.
            set_threads(model, usize::from(input.other_threads % 5));
            let again = batch_scores(model, k, &texts).expect("the same batch refused with other threads");
            assert_eq!(
                rows.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                again.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "scores changed with the prediction threads"
            );
        }
        // An empty batch is refused as documented.
        Err(status) if texts.is_empty() => assert_eq!(status, senti_status::SENTI_ERR_INVALID_ARGUMENT),
        Err(status) => assert!(!all_valid && status == senti_status::SENTI_ERR_INVALID_UTF8, "a valid batch refused with {status:?}"),
    }

    // Evaluation: labels are class indices; one past the last is refused.
    let labels: Vec<u8> = (0..texts.len()).map(|i| input.labels.get(i).copied().unwrap_or(0) % (k as u8 + 1)).collect();
    let ptrs: Vec<*const c_char> = texts.iter().map(|t| text_ptr(t)).collect();
    let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
    let mut eval: senti_evaluation = unsafe { std::mem::zeroed() };
    eval.count = u64::MAX;
    let mut err = ptr::null_mut();
    let status = unsafe { senti_evaluate_texts(model, ptrs.as_ptr(), lens.as_ptr(), labels.as_ptr(), texts.len(), &mut eval, &mut err) };
    if status != senti_status::SENTI_OK {
        check_error(status, err, None);
        assert_eq!(eval.count, u64::MAX, "the result written on failure");
        assert!(!all_valid || labels.iter().any(|&l| usize::from(l) >= k) || texts.is_empty(), "a valid evaluation refused with {status:?}");
        return;
    }
    check_ok(status, err);
    assert!(all_valid && labels.iter().all(|&l| usize::from(l) < k), "an invalid evaluation accepted");
    assert_eq!(eval.count as usize, texts.len());
    if texts.is_empty() {
        return;
    }
    let mut right = 0;
    for (text, &label) in texts.iter().zip(&labels) {
        let mut predicted = usize::MAX;
        check_ok(unsafe { senti_predict_label(model, text_ptr(text), text.len(), &mut predicted, ptr::null_mut(), ptr::null_mut()) }, ptr::null_mut());
        right += usize::from(predicted == usize::from(label));
    }
    assert!((eval.accuracy - right as f64 / texts.len() as f64).abs() < 1e-9, "accuracy {} for {right} of {} right", eval.accuracy, texts.len());
});
