// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti_explain` and the `senti_explanation_*` calls on the tiny model (loaded once), with an
//! arbitrary text, class index and step count.
//!
//! What must hold: refusals of the documented kind (invalid UTF-8, a class past the labels, more
//! than 256 steps) with nothing written; on success, the predicted class when asked for it,
//! byte ranges that lie in the caller's bytes on character boundaries and in order, finite
//! contributions that add up to `logit − reference` up to the reported remainder, JSON that
//! parses and agrees with the typed calls, an index past the last token refused, and a freed
//! explanation refused.
#![no_main]

use std::ffi::CStr;
use std::ptr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use senti::ffi::*;
use senti_fuzz::capi::{check_error, check_ok, text_ptr, tiny_model};

#[derive(Arbitrary, Debug)]
struct Input {
    /// 0xFF: the predicted class.
    class: u8,
    /// Reduced modulo 300, so that some counts are past the limit.
    steps: u16,
    extra_index: u16,
    text: Vec<u8>,
}

fn explain(model: *const senti_model, input: &Input) {
    let (class, steps) = (if input.class == 0xFF { usize::MAX } else { input.class as usize }, (input.steps % 300) as u32);
    let mut k = 0;
    check_ok(unsafe { senti_label_count(model, &mut k, ptr::null_mut()) }, ptr::null_mut());
    let mut explanation = ptr::null_mut();
    let mut err = ptr::null_mut();
    let status = unsafe { senti_explain(model, text_ptr(&input.text), input.text.len(), class, steps, &mut explanation, &mut err) };
    let Ok(text) = std::str::from_utf8(&input.text) else {
        assert!(explanation.is_null());
        return check_error(status, err, None);
    };
    if (class != usize::MAX && class >= k) || steps > 256 {
        assert!(explanation.is_null());
        return check_error(status, err, Some(senti_status::SENTI_ERR_INVALID_ARGUMENT));
    }
    check_ok(status, err);

    let (mut got_class, mut score, mut logit, mut reference) = (usize::MAX, f32::NAN, f32::NAN, f32::NAN);
    check_ok(unsafe { senti_explanation_class(explanation, &mut got_class, &mut score, &mut logit, &mut reference, ptr::null_mut()) }, ptr::null_mut());
    if class == usize::MAX {
        let (mut top, mut top_score) = (usize::MAX, 0f32);
        check_ok(unsafe { senti_predict_label(model, text_ptr(&input.text), input.text.len(), &mut top, &mut top_score, ptr::null_mut()) }, ptr::null_mut());
        assert_eq!(got_class, top, "not the predicted class");
        assert!((score - top_score).abs() < 1e-5, "{score} vs {top_score}");
    } else {
        assert_eq!(got_class, class);
    }
    assert!(score.is_finite() && logit.is_finite() && reference.is_finite());

    let mut n = usize::MAX;
    check_ok(unsafe { senti_explanation_token_count(explanation, &mut n, ptr::null_mut()) }, ptr::null_mut());
    let mut sum = 0f64;
    let mut last_start = 0;
    for i in 0..n {
        let (mut start, mut end, mut c) = (usize::MAX, usize::MAX, f32::NAN);
        check_ok(unsafe { senti_explanation_token(explanation, i, &mut start, &mut end, &mut c, ptr::null_mut()) }, ptr::null_mut());
        assert!(start < end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end), "{start}..{end} of {}", text.len());
        assert!(start >= last_start, "ranges out of order");
        last_start = start;
        assert!(c.is_finite());
        sum += c as f64;
    }
    let json = senti_explanation_json(explanation);
    assert!(!json.is_null());
    let parsed: serde_json::Value = serde_json::from_str(unsafe { CStr::from_ptr(json) }.to_str().unwrap()).expect("the JSON parses");
    assert_eq!(parsed["tokens"].as_array().map(Vec::len), Some(n));
    assert_eq!(parsed["class"].as_u64(), Some(got_class as u64));
    let unexplained = parsed["unexplained"].as_f64().expect("unexplained");
    let tolerance = 1e-3 * (1.0 + logit.abs() as f64 + reference.abs() as f64 + sum.abs());
    assert!((reference as f64 + sum + unexplained - logit as f64).abs() < tolerance, "{reference} + {sum} + {unexplained} vs {logit}");

    let mut err = ptr::null_mut();
    let past = n + input.extra_index as usize;
    check_error(unsafe { senti_explanation_token(explanation, past, ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), &mut err) }, err, Some(senti_status::SENTI_ERR_INVALID_ARGUMENT));
    senti_explanation_free(explanation);
    senti_explanation_free(explanation);
    let mut err = ptr::null_mut();
    check_error(unsafe { senti_explanation_token_count(explanation, &mut n, &mut err) }, err, Some(senti_status::SENTI_ERR_INVALID_HANDLE));
    assert!(senti_explanation_json(explanation).is_null());
}

fuzz_target!(|input: Input| explain(tiny_model(), &input));
