// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti_report`: a model's full evaluation on labeled data, as JSON: accuracy, loss,
//! macro-F1, per-class precision/recall/F1/support and the K×K confusion matrix. A fixed
//! struct cannot hold K classes, so the report is an object the caller reads and frees.
#![allow(non_camel_case_types)]

use std::ffi::{CString, c_char};

use super::exports::{c_str, out};
use super::guard::{guard, quietly};
use super::handles;
use super::types::{senti_error, senti_model, senti_status};
use crate::model::{Evaluation, EvaluationRequest};

/// An evaluation report. Opaque; owned by the caller, released with `senti_report_free`.
pub struct senti_report {
    _opaque: [u8; 0],
}

pub(crate) struct Report {
    pub json: CString,
}

impl Report {
    pub fn new(evaluation: &Evaluation) -> Self {
        // Labels hold no NUL (they are checked names) and JSON escapes control characters.
        Self { json: CString::new(evaluation.to_json()).unwrap_or_default() }
    }
}

/// Evaluates `model` on the labeled data `data_json` describes (as for `senti_evaluate`:
/// `{"path", "format", "split", "limit", "part"}`) and returns the full report in
/// `report_out`, released with `senti_report_free`. A label the model does not know is
/// `SENTI_ERR_DATA` naming the file and line. Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_evaluate_report(
    model: *const senti_model,
    data_json: *const c_char,
    report_out: *mut *mut senti_report,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(report_out, "report_out")?;
            let request = EvaluationRequest::from_json(c_str(data_json, "data_json")?)?;
            *report_out = handles::insert_report(Report::new(&request.evaluate(&model)?));
            Ok(())
        })
    }
}

/// The report as NUL-terminated JSON, owned by the report and valid until
/// `senti_report_free(report)`; NULL if `report` is not a live report:
/// `{"count": N, "accuracy": a, "loss": l, "macro_f1": f, "labels": [names in class order],
/// "per_class": [{"label", "precision", "recall", "f1", "support"}, ...],
/// "confusion": [[...], ...]}` where `confusion[actual][predicted]` counts examples. Precision is
/// 0 for a class never predicted, recall 0 for a class without examples.
#[unsafe(no_mangle)]
pub extern "C" fn senti_report_json(report: *const senti_report) -> *const c_char {
    quietly(std::ptr::null(), || handles::report_json(report))
}

/// Releases a report. NULL, an already-freed report or any other value is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn senti_report_free(report: *mut senti_report) {
    quietly((), || handles::remove_report(report))
}
