// SPDX-License-Identifier: MIT OR Apache-2.0
//! Training from memory through the C ABI: a dataset built by arbitrary calls
//! (`senti_dataset_set_labels` with any names, `senti_dataset_add` / `_add_batch` /
//! `_add_indexed` with any texts, names and indices), then, when it holds a few examples, a tiny
//! model trained on it by `senti_train_dataset` (one epoch, widths of 4, one thread) and checked
//! through `senti_label_count`, `senti_label_name`, `senti_predict_scores` and
//! `senti_evaluate_dataset` (the report's JSON).
//!
//! What must hold: the count follows the accepted calls (a refused batch adds nothing); labels
//! cannot be declared after examples; a refusal is an error object of a documented kind; a
//! trained model has the declared labels in their order (or the inferred ones), scores that sum
//! to 1, and a report whose counts add up to the dataset.
#![no_main]

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use senti::ffi::*;
use senti_fuzz::capi::{check_error, check_ok, message, text_ptr};

#[derive(Arbitrary, Debug)]
enum Label {
    /// One of a few short names, so that examples share classes.
    Common(u8),
    Name(String),
}

#[derive(Arbitrary, Debug)]
enum Call {
    SetLabels(Vec<Label>),
    Add(Vec<u8>, Label),
    AddBatch(Vec<(Vec<u8>, Label)>),
    AddIndexed(Vec<(Vec<u8>, u32)>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    calls: Vec<Call>,
    seed: u8,
    probe: Vec<u8>,
}

const COMMON: [&str; 4] = ["neg", "pos", "3", "10"];

fn name(label: &Label) -> CString {
    let text = match label {
        Label::Common(i) => COMMON[usize::from(*i) % COMMON.len()].to_string(),
        Label::Name(s) => s.replace('\0', ""),
    };
    CString::new(text).unwrap()
}

/// Short texts keep training fast; the tokenizer sees every byte anyway.
fn short(text: &[u8]) -> &[u8] {
    &text[..text.len().min(256)]
}

fn count(dataset: *const senti_dataset) -> usize {
    let mut n = usize::MAX;
    let mut err = ptr::null_mut();
    check_ok(unsafe { senti_dataset_count(dataset, &mut n, &mut err) }, err);
    n
}

/// Applies one call; returns how many examples it should have added, or `None` if refused.
fn apply(dataset: *mut senti_dataset, call: &Call, declared: &mut Option<Vec<String>>, before: usize) -> Option<usize> {
    let mut err = ptr::null_mut();
    let (status, adds) = match call {
        Call::SetLabels(labels) => {
            let names: Vec<CString> = labels.iter().take(8).map(name).collect();
            let ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
            let status = unsafe { senti_dataset_set_labels(dataset, ptrs.as_ptr(), ptrs.len(), &mut err) };
            if status == senti_status::SENTI_OK {
                assert!(declared.is_none() && before == 0, "labels declared twice, or after examples");
                *declared = Some(names.iter().map(|n| n.to_str().unwrap().to_string()).collect());
            }
            (status, 0)
        }
        Call::Add(text, label) => {
            let text = short(text);
            let label = name(label);
            (unsafe { senti_dataset_add(dataset, text_ptr(text), text.len(), label.as_ptr(), &mut err) }, 1)
        }
        Call::AddBatch(examples) => {
            let examples = &examples[..examples.len().min(16)];
            let names: Vec<CString> = examples.iter().map(|(_, l)| name(l)).collect();
            let ptrs: Vec<*const c_char> = examples.iter().map(|(t, _)| text_ptr(short(t))).collect();
            let lens: Vec<usize> = examples.iter().map(|(t, _)| short(t).len()).collect();
            let labels: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
            (unsafe { senti_dataset_add_batch(dataset, ptrs.as_ptr(), lens.as_ptr(), labels.as_ptr(), examples.len(), &mut err) }, examples.len())
        }
        Call::AddIndexed(examples) => {
            let examples = &examples[..examples.len().min(16)];
            let ptrs: Vec<*const c_char> = examples.iter().map(|(t, _)| text_ptr(short(t))).collect();
            let lens: Vec<usize> = examples.iter().map(|(t, _)| short(t).len()).collect();
            let indices: Vec<u32> = examples.iter().map(|(_, i)| i % 10).collect();
            let status = unsafe { senti_dataset_add_indexed(dataset, ptrs.as_ptr(), lens.as_ptr(), indices.as_ptr(), examples.len(), &mut err) };
            if status == senti_status::SENTI_OK {
                let k = declared.as_ref().expect("indexed examples accepted without declared labels").len();
                assert!(indices.iter().all(|&i| (i as usize) < k), "an index past the declared labels accepted");
            }
            (status, examples.len())
        }
    };
    if status == senti_status::SENTI_OK {
        check_ok(status, err);
        Some(adds)
    } else {
        check_error(status, err, None);
        None
    }
}

fn label_names(model: *const senti_model) -> Vec<String> {
    let mut k = 0;
    check_ok(unsafe { senti_label_count(model, &mut k, ptr::null_mut()) }, ptr::null_mut());
    (0..k)
        .map(|i| {
            let mut buf = [0u8; 512];
            let mut len = 0;
            let mut err = ptr::null_mut();
            check_ok(unsafe { senti_label_name(model, i, buf.as_mut_ptr().cast(), buf.len(), &mut len, &mut err) }, err);
            String::from_utf8(buf[..len].to_vec()).unwrap()
        })
        .collect()
}

fn train(dataset: *const senti_dataset, seed: u8) -> Option<*mut senti_model> {
    let json = format!(
        r#"{{"epochs": 1, "vocab_size": 64, "embedding_dim": 4, "hidden_size": 4, "max_len": 32, "batch_size": 8,
            "threads": 1, "seed": {seed}, "embedding_pretrain_epochs": 0, "wide_buckets": 1024, "validation_fraction": 0.25}}"#
    );
    let json = CString::new(json).unwrap();
    let mut params = ptr::null_mut();
    check_ok(unsafe { senti_params_from_json(json.as_ptr(), &mut params, ptr::null_mut()) }, ptr::null_mut());
    let mut model = ptr::null_mut();
    let mut err = ptr::null_mut();
    let status = unsafe { senti_train_dataset(params, dataset, ptr::null(), None, ptr::null_mut(), &mut model, &mut err) };
    senti_params_free(params);
    if status == senti_status::SENTI_OK {
        check_ok(status, err);
        Some(model)
    } else {
        // Too few examples of a class for a validation slice, one class only, ...: the data's fault.
        let kind = status;
        let msg = message(err);
        check_error(status, err, None);
        assert!(matches!(kind, senti_status::SENTI_ERR_DATA | senti_status::SENTI_ERR_CONFIG), "training refused with {kind:?}: {msg}");
        assert!(model.is_null(), "model_out written on failure");
        None
    }
}

fuzz_target!(|input: Input| {
    let mut dataset = ptr::null_mut();
    check_ok(unsafe { senti_dataset_new(&mut dataset, ptr::null_mut()) }, ptr::null_mut());
    let mut declared = None;
    let mut expected = 0;
    for call in input.calls.iter().take(32) {
        let before = count(dataset);
        assert_eq!(before, expected);
        if let Some(adds) = apply(dataset, call, &mut declared, before) {
            expected += adds;
        }
        assert_eq!(count(dataset), expected, "the count after {call:?}");
    }
    if (4..=96).contains(&expected) {
        if let Some(model) = train(dataset, input.seed) {
            let names = label_names(model);
            if let Some(declared) = &declared {
                assert_eq!(&names, declared, "the model's labels are not the declared ones");
            }
            let probe = short(&input.probe);
            let mut scores = vec![-1.0f32; names.len()];
            let status = unsafe { senti_predict_scores(model, text_ptr(probe), probe.len(), scores.as_mut_ptr(), scores.len(), ptr::null_mut()) };
            if std::str::from_utf8(probe).is_ok() {
                assert_eq!(status, senti_status::SENTI_OK);
                assert!((scores.iter().sum::<f32>() - 1.0).abs() < 1e-4, "scores {scores:?}");
            }
            let mut report = ptr::null_mut();
            let mut err = ptr::null_mut();
            check_ok(unsafe { senti_evaluate_dataset(model, dataset, &mut report, &mut err) }, err);
            let json = senti_report_json(report);
            assert!(!json.is_null());
            let report_json: serde_json::Value = serde_json::from_slice(unsafe { CStr::from_ptr(json) }.to_bytes()).expect("the report is JSON");
            assert_eq!(report_json["count"].as_u64(), Some(expected as u64));
            assert_eq!(report_json["labels"], serde_json::json!(names));
            let cells: u64 = report_json["confusion"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap()).map(|c| c.as_u64().unwrap()).sum();
            assert_eq!(cells, expected as u64, "the confusion matrix does not add up to the dataset");
            senti_report_free(report);
            senti_free(model);
        }
    }
    senti_dataset_free(dataset);
});
