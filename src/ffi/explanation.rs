// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti_explanation`: why a model scored one text as it did. Each token comes with its byte
//! range in the caller's text and a signed contribution to one class's logit (see
//! `crate::explain` for the method and what the contributions sum to).
#![allow(non_camel_case_types)]

use std::ffi::{CString, c_char};

use super::exports::{out, text};
use super::guard::{Failure, guard, quietly};
use super::handles;
use super::types::{senti_error, senti_model, senti_status};
use crate::explain::Explanation;

/// `class_index` value asking `senti_explain` for the predicted class (`SENTI_PREDICTED_CLASS`).
const PREDICTED_CLASS: usize = usize::MAX;

/// An explanation of one prediction. Opaque; owned by the caller, released with
/// `senti_explanation_free`.
pub struct senti_explanation {
    _opaque: [u8; 0],
}

pub(crate) struct ExplanationObject {
    pub explanation: Explanation,
    pub json: CString,
}

fn object(handle: *const senti_explanation) -> Result<std::sync::Arc<ExplanationObject>, Failure> {
    handles::explanation(handle)
}

/// Explains the score `text` gets for class `class_index` (0-based, in label order), or for the
/// predicted class with `SENTI_PREDICTED_CLASS`, and returns the explanation in
/// `explanation_out`, released with `senti_explanation_free`.
///
/// `text`, `text_len`: as for `senti_predict`; the byte ranges refer to these bytes.
/// `steps`: integration steps for the network's part, 1 to `SENTI_EXPLAIN_MAX_STEPS` (256); 0
/// picks `SENTI_EXPLAIN_DEFAULT_STEPS` (8). More steps leave less unexplained (`"unexplained"`
/// in the JSON) and cost proportionally more: an explanation costs about a prediction plus a
/// forward and a backward pass over `steps` copies of the text. A class index past the last class, or more than 256 steps, is
/// `SENTI_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_explain(
    model: *const senti_model,
    text: *const c_char,
    text_len: usize,
    class_index: usize,
    steps: u32,
    explanation_out: *mut *mut senti_explanation,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(explanation_out, "explanation_out")?;
            let text = self::text(text, text_len, "text")?;
            let class = (class_index != PREDICTED_CLASS).then_some(class_index);
            let explanation = model.explain(text, class, steps as usize)?;
            // Labels and tokens hold no NUL: labels are checked names, and the tokenizer drops
            // control characters.
            let json = CString::new(explanation.to_json()).unwrap_or_default();
            *explanation_out = handles::insert_explanation(ExplanationObject { explanation, json });
            Ok(())
        })
    }
}

/// The explained class's index into `class_out` and, when the pointers are not NULL, the
/// model's score for it (`score_out`, as `senti_predict_scores` gives it), its logit
/// (`logit_out`) and the logit with no words (`reference_out`). The contributions of all
/// tokens add up to `logit - reference`, up to the small part the JSON calls `"unexplained"`.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_explanation_class(
    explanation: *const senti_explanation,
    class_out: *mut usize,
    score_out: *mut f32,
    logit_out: *mut f32,
    reference_out: *mut f32,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let object = object(explanation)?;
            out(class_out, "class_out")?;
            let e = &object.explanation;
            *class_out = e.class;
            for (p, v) in [(score_out, e.score), (logit_out, e.logit), (reference_out, e.reference)] {
                if !p.is_null() {
                    *p = v;
                }
            }
            Ok(())
        })
    }
}

/// The number of tokens of the explained text, into `count_out` (0 for a text without words).
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_explanation_token_count(explanation: *const senti_explanation, count_out: *mut usize, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            let object = object(explanation)?;
            out(count_out, "count_out")?;
            *count_out = object.explanation.tokens.len();
            Ok(())
        })
    }
}

/// Token `index` (0-based, in text order): its byte range `[*start_out, *end_out)` in the text
/// given to `senti_explain` and its contribution to the explained class's logit
/// (`contribution_out`; positive pushes towards the class). Any of the three pointers may be
/// NULL. An index past the last token is `SENTI_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_explanation_token(
    explanation: *const senti_explanation,
    index: usize,
    start_out: *mut usize,
    end_out: *mut usize,
    contribution_out: *mut f32,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let object = object(explanation)?;
            let tokens = &object.explanation.tokens;
            let token = tokens.get(index).ok_or_else(|| {
                Failure::new(senti_status::SENTI_ERR_INVALID_ARGUMENT, format!("token index {index}: the explanation has {} tokens", tokens.len()))
            })?;
            if !start_out.is_null() {
                *start_out = token.start;
            }
            if !end_out.is_null() {
                *end_out = token.end;
            }
            if !contribution_out.is_null() {
                *contribution_out = token.contribution;
            }
            Ok(())
        })
    }
}

/// The whole explanation as NUL-terminated JSON, owned by the explanation and valid until
/// `senti_explanation_free(explanation)`; NULL if `explanation` is not a live explanation:
/// `{"class", "label", "score", "logit", "reference", "unexplained", "method":
/// "integrated_gradients", "steps", "tokens": [{"token", "start", "end", "contribution",
/// "network", "wide", "read_by_network", "attention"}, ...]}`. `contribution` is `network +
/// wide`: the network's part (0 for a token past `max_len`, which the network does not read) and
/// the wide n-gram path's (exact; 0 without a wide path). A model without a network (`layers` 0)
/// has method "wide_path", steps 0, and every token's part is the wide path's. `attention`, only for a model pooled by
/// attention, is the token's weight in the pooled vector (the weights of the tokens read sum to 1).
#[unsafe(no_mangle)]
pub extern "C" fn senti_explanation_json(explanation: *const senti_explanation) -> *const c_char {
    quietly(std::ptr::null(), || handles::explanation_json(explanation))
}

/// Releases an explanation. NULL, an already-freed explanation or any other value is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn senti_explanation_free(explanation: *mut senti_explanation) {
    quietly((), || handles::remove_explanation(explanation))
}
