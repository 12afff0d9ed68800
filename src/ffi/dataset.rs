// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti_dataset`: labeled texts held in memory, to train on (`senti_train_dataset`) or to
//! evaluate a model on (`senti_evaluate_dataset`). Nothing is read from disk.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};
use std::sync::{Arc, Mutex};

use super::exports::{c_str, out, texts, train_reporting};
use super::guard::{Failure, guard, quietly};
use super::handles;
use super::params::senti_params;
use super::report::{Report, senti_report};
use super::types::{senti_error, senti_model, senti_progress_fn, senti_status};
use crate::data::{Example, Labels, Origin};
use crate::error::Error;
use crate::train::TrainingData;

/// Labeled texts in memory. Opaque; made by `senti_dataset_new`, released with
/// `senti_dataset_free`.
pub struct senti_dataset {
    _opaque: [u8; 0],
}

/// A dataset's contents: the examples in the order added and, when declared, the class names.
#[derive(Default)]
pub(crate) struct Dataset {
    pub examples: Vec<Example>,
    pub labels: Option<Labels>,
}

impl Dataset {
    fn push(&mut self, text: &str, label: String) {
        let index = self.examples.len() as u32;
        self.examples.push(Example { text: text.to_string(), label, origin: Origin::Memory { index } });
    }
}

/// A dataset's contents copied out under its lock, so training and evaluation never hold it.
pub(crate) fn snapshot(handle: *const senti_dataset, what: &str) -> Result<Dataset, Failure> {
    if handle.is_null() {
        return Err(Failure::null(what));
    }
    let data = handles::dataset(handle)?;
    let data = data.lock().unwrap_or_else(|e| e.into_inner());
    Ok(Dataset { examples: data.examples.clone(), labels: data.labels.clone() })
}

fn with_dataset<T>(handle: *const senti_dataset, f: impl FnOnce(&mut Dataset) -> Result<T, Failure>) -> Result<T, Failure> {
    if handle.is_null() {
        return Err(Failure::null("dataset"));
    }
    let data: Arc<Mutex<Dataset>> = handles::dataset(handle)?;
    let mut data = data.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut data)
}

/// Creates an empty dataset. `dataset_out` receives the handle; the caller releases it with
/// `senti_dataset_free`. Several threads may add to one dataset at once (calls are serialised).
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_dataset_new(dataset_out: *mut *mut senti_dataset, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            out(dataset_out, "dataset_out")?;
            *dataset_out = handles::insert_dataset(Dataset::default());
            Ok(())
        })
    }
}

/// Declares the class names in index order (`count` NUL-terminated UTF-8 names, at least two,
/// distinct). Optional for labels added by name (they are then inferred and ordered: by number
/// when every name is a number, else by bytes); required before `senti_dataset_add_indexed`.
/// May be called once, before any example is added.
///
/// # Safety
/// `names` must hold `count` pointers to NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_dataset_set_labels(
    dataset: *mut senti_dataset,
    names: *const *const c_char,
    count: usize,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            if names.is_null() {
                return Err(Failure::null("names"));
            }
            let list: Vec<String> = std::slice::from_raw_parts(names, count)
                .iter()
                .enumerate()
                .map(|(i, &p)| c_str(p, &format!("names[{i}]")).map(str::to_string))
                .collect::<Result<_, _>>()?;
            let labels = Labels::new(list).map_err(|e| Failure::from(Error::invalid_argument(e.message().to_string())))?;
            with_dataset(dataset, |d| {
                if d.labels.is_some() || !d.examples.is_empty() {
                    return Err(Failure::new(senti_status::SENTI_ERR_INVALID_ARGUMENT, "the labels are set once, before any example is added"));
                }
                d.labels = Some(labels);
                Ok(())
            })
        })
    }
}

/// Adds one example: `text` (`text_len` bytes, or NUL-terminated with `SENTI_NUL_TERMINATED`)
/// with the class name `label` (NUL-terminated UTF-8). Both are copied. With declared labels,
/// `label` must be one of them.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_dataset_add(
    dataset: *mut senti_dataset,
    text: *const c_char,
    text_len: usize,
    label: *const c_char,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe { senti_dataset_add_batch(dataset, &text, &text_len, &label, 1, error_out) }
}

/// Adds `count` examples: `texts` and `text_lens` as for `senti_predict_batch`, `labels` the
/// `count` class names. Nothing is added when any of them is refused.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_dataset_add_batch(
    dataset: *mut senti_dataset,
    texts: *const *const c_char,
    text_lens: *const usize,
    labels: *const *const c_char,
    count: usize,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let texts = self::texts(texts, text_lens, count)?;
            if labels.is_null() {
                return Err(Failure::null("labels"));
            }
            let names: Vec<&str> = std::slice::from_raw_parts(labels, count)
                .iter()
                .enumerate()
                .map(|(i, &p)| c_str(p, &format!("labels[{i}]")))
                .collect::<Result<_, _>>()?;
            for (i, name) in names.iter().enumerate() {
                crate::data::labels::check_name(name).map_err(|e| Failure::new(senti_status::SENTI_ERR_INVALID_ARGUMENT, format!("labels[{i}]: {e}")))?;
            }
            with_dataset(dataset, |d| {
                if let Some(known) = &d.labels
                    && let Some((i, name)) = names.iter().enumerate().find(|(_, n)| known.index_of(n).is_none())
                {
                    return Err(Failure::new(
                        senti_status::SENTI_ERR_INVALID_ARGUMENT,
                        format!("labels[{i}] is {name:?}, not one of the dataset's labels ({})", known.describe()),
                    ));
                }
                for (t, name) in texts.iter().zip(&names) {
                    d.push(t, name.to_string());
                }
                Ok(())
            })
        })
    }
}

/// Adds `count` examples whose classes are indices into the labels declared with
/// `senti_dataset_set_labels` (which must come first).
///
/// # Safety
/// Pointers must be NULL or valid as described; `label_indices` holds `count` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_dataset_add_indexed(
    dataset: *mut senti_dataset,
    texts: *const *const c_char,
    text_lens: *const usize,
    label_indices: *const u32,
    count: usize,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let texts = self::texts(texts, text_lens, count)?;
            if label_indices.is_null() {
                return Err(Failure::null("label_indices"));
            }
            let indices = std::slice::from_raw_parts(label_indices, count);
            with_dataset(dataset, |d| {
                let Some(known) = d.labels.clone() else {
                    return Err(Failure::new(senti_status::SENTI_ERR_INVALID_ARGUMENT, "label indices need the labels declared first (senti_dataset_set_labels)"));
                };
                if let Some((i, &k)) = indices.iter().enumerate().find(|&(_, &k)| k as usize >= known.len()) {
                    return Err(Failure::new(
                        senti_status::SENTI_ERR_INVALID_ARGUMENT,
                        format!("label_indices[{i}] is {k}; the dataset has {} labels", known.len()),
                    ));
                }
                for (t, &k) in texts.iter().zip(indices) {
                    d.push(t, known.names()[k as usize].clone());
                }
                Ok(())
            })
        })
    }
}

/// The number of examples in the dataset, into `count_out`.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_dataset_count(dataset: *const senti_dataset, count_out: *mut usize, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            out(count_out, "count_out")?;
            let n = with_dataset(dataset, |d| Ok(d.examples.len()))?;
            *count_out = n;
            Ok(())
        })
    }
}

/// Releases a dataset. NULL, an already-freed handle or any other value is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn senti_dataset_free(dataset: *mut senti_dataset) {
    quietly((), || handles::remove_dataset(dataset))
}

/// Trains a model on `train` (a dataset), validating on `validation` when it is not NULL and
/// otherwise on `validation_fraction` of `train` (a stratified slice). `params` (NULL for all
/// defaults) gives every other training parameter; its `data_path` and `data_format` are not
/// read. The classes are the labels declared on `train`, or else inferred from its examples;
/// one class is `SENTI_ERR_DATA`, and so is a validation label the training set does not know.
/// `progress`, `user_data`, `model_out` and `error_out` as for `senti_train`. The datasets are
/// copied at the start, so they may be changed or freed while training runs.
///
/// # Safety
/// Pointers must be NULL or valid as described; `progress` must be safe to call with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_train_dataset(
    params: *const senti_params,
    train: *const senti_dataset,
    validation: *const senti_dataset,
    progress: senti_progress_fn,
    user_data: *mut c_void,
    model_out: *mut *mut senti_model,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            out(model_out, "model_out")?;
            let params = if params.is_null() { crate::TrainParams::default() } else { handles::params(params)?.lock().unwrap_or_else(|e| e.into_inner()).clone() };
            let train = snapshot(train, "train")?;
            let validation = if validation.is_null() { None } else { Some(snapshot(validation, "validation")?.examples) };
            let data = TrainingData { train: train.examples, validation, labels: train.labels };
            let model = train_reporting(progress, user_data, |report| crate::train::train_on(&params, data, report))?;
            *model_out = handles::insert_model(model);
            Ok(())
        })
    }
}

/// Evaluates `model` on a dataset's examples (whose labels must be the model's, by name) and
/// returns the full report (see `senti_report_json`). Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_evaluate_dataset(
    model: *const senti_model,
    dataset: *const senti_dataset,
    report_out: *mut *mut senti_report,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(report_out, "report_out")?;
            let data = snapshot(dataset, "dataset")?;
            let evaluation = model.evaluate(&data.examples)?;
            *report_out = handles::insert_report(Report::new(&evaluation));
            Ok(())
        })
    }
}
