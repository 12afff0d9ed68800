// SPDX-License-Identifier: MIT OR Apache-2.0
//! A model's classes through the C ABI: how many, their names, every class's score for a
//! text or a batch, and the most likely class.

use std::ffi::c_char;

use super::exports::{out, text, texts, write_text};
use super::guard::{Failure, guard};
use super::handles;
use super::types::{senti_error, senti_model, senti_status};

fn capacity_check(needed: usize, capacity: usize) -> Result<(), Failure> {
    if capacity < needed {
        return Err(Failure::new(
            senti_status::SENTI_ERR_BUFFER_TOO_SMALL,
            format!("the scores need room for {needed} floats; the buffer holds {capacity}"),
        ));
    }
    Ok(())
}

/// The number of classes the model tells apart (2 for IMDB models), into `count_out`.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_label_count(model: *const senti_model, count_out: *mut usize, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(count_out, "count_out")?;
            *count_out = model.labels().len();
            Ok(())
        })
    }
}

/// The name of class `index` (0-based, in score order), copied with a NUL into `buffer` by the
/// capacity protocol of `senti_model_info` (`length_out`, optional, gets the length without
/// the NUL, also on `SENTI_ERR_BUFFER_TOO_SMALL`). An index past the last class is
/// `SENTI_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `buffer` must be valid for `capacity` bytes (or NULL with capacity 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_label_name(
    model: *const senti_model,
    index: usize,
    buffer: *mut c_char,
    capacity: usize,
    length_out: *mut usize,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            let labels = model.labels();
            let name = labels.name(index).ok_or_else(|| {
                Failure::new(senti_status::SENTI_ERR_INVALID_ARGUMENT, format!("label index {index}: the model has {} labels", labels.len()))
            })?;
            write_text(name, buffer, capacity, length_out, "the label name")
        })
    }
}

/// Every class's score for one text: `senti_label_count` floats that sum to 1, in label order,
/// written to `scores_out` (caller-allocated, `capacity` floats; fewer than the label count is
/// `SENTI_ERR_BUFFER_TOO_SMALL`). `text` and `text_len` as for `senti_predict`. Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid as described; `scores_out` valid for `capacity` floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_predict_scores(
    model: *const senti_model,
    text: *const c_char,
    text_len: usize,
    scores_out: *mut f32,
    capacity: usize,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(scores_out, "scores_out")?;
            capacity_check(model.labels().len(), capacity)?;
            let text = self::text(text, text_len, "text")?;
            let scores = model.scores(text)?;
            std::ptr::copy_nonoverlapping(scores.as_ptr(), scores_out, scores.len());
            Ok(())
        })
    }
}

/// Every class's score for `count` texts: row by row, text `i`'s scores at
/// `scores_out[i * K .. (i + 1) * K]` for K labels. `capacity` is in floats and must be at least
/// `count * K`. `texts` and `text_lens` as for `senti_predict_batch`. Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid as described; `scores_out` valid for `capacity` floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_predict_scores_batch(
    model: *const senti_model,
    texts: *const *const c_char,
    text_lens: *const usize,
    count: usize,
    scores_out: *mut f32,
    capacity: usize,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(scores_out, "scores_out")?;
            capacity_check(count.saturating_mul(model.labels().len()), capacity)?;
            let texts = self::texts(texts, text_lens, count)?;
            let scores = model.scores_batch(&texts)?;
            std::ptr::copy_nonoverlapping(scores.as_ptr(), scores_out, scores.len());
            Ok(())
        })
    }
}

/// The most likely class of one text: its index into `label_out` and, when `score_out` is not
/// NULL, its score. Ties go to the lower index. Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_predict_label(
    model: *const senti_model,
    text: *const c_char,
    text_len: usize,
    label_out: *mut usize,
    score_out: *mut f32,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(label_out, "label_out")?;
            let text = self::text(text, text_len, "text")?;
            let (index, score) = model.top_label(text)?;
            *label_out = index;
            if !score_out.is_null() {
                *score_out = score;
            }
            Ok(())
        })
    }
}
