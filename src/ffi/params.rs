// SPDX-License-Identifier: MIT OR Apache-2.0
//! `senti_params`: training parameters built field by field with typed setters, so that C
//! callers never assemble JSON by hand (a path holding `"` or `\` needs no escaping). The fields,
//! their types, ranges and defaults are the table of src/config/fields.rs, which the header's
//! TRAINING PARAMETERS block documents.
#![allow(non_camel_case_types)]

use std::borrow::Cow;
use std::ffi::{c_char, c_void};

use super::exports::{c_str, out, train_reporting, write_text};
use super::guard::{guard, quietly};
use super::handles;
use super::types::{senti_error, senti_model, senti_progress_fn, senti_status};
use crate::config::{FieldValue, TrainParams};

/// A set of training parameters: every field of the TRAINING PARAMETERS block above, each
/// holding its default until set. Opaque; obtained from `senti_params_new` or
/// `senti_params_from_json`, owned by the caller and released with `senti_params_free`. Any
/// number of threads may set and read fields of one object at once (a lock orders them).
pub struct senti_params {
    _opaque: [u8; 0],
}

/// Sets `field` of `params` to `value`, checked at once.
///
/// # Safety
/// `field` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
unsafe fn set(params: *mut senti_params, field: *const c_char, value: impl FnOnce() -> Result<FieldValue, super::guard::Failure>, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            let params = handles::params(params)?;
            let field = c_str(field, "field")?;
            let value = value()?;
            params.lock().unwrap_or_else(|e| e.into_inner()).set(field, value)?;
            Ok(())
        })
    }
}

/// Creates a params object holding every field's default (the TRAINING PARAMETERS block lists
/// them); training from it unchanged is training with `senti_train(NULL, ...)`.
///
/// `params_out`: receives the new object on success; the caller owns it and releases it with
/// `senti_params_free`. `error_out`: optional; on failure receives an error the caller releases
/// with `senti_error_free`.
///
/// # Safety
/// Pointers must be NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_params_new(params_out: *mut *mut senti_params, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            out(params_out, "params_out")?;
            *params_out = handles::insert_params(TrainParams::default());
            Ok(())
        })
    }
}

/// Creates a params object from the JSON object `senti_train` takes (NUL-terminated UTF-8,
/// borrowed): the fields it names, defaults for the rest. NULL, "", "null" and "{}" give all
/// defaults. Malformed JSON, an unknown field, a wrong type or an out-of-range value fails with
/// `SENTI_ERR_CONFIG` (the message names the field), as in `senti_train`.
///
/// `params_out`: receives the new object on success; the caller owns it and releases it with
/// `senti_params_free`. `error_out`: optional, as everywhere.
///
/// # Safety
/// `json` must be NULL or NUL-terminated; the other pointers NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_params_from_json(json: *const c_char, params_out: *mut *mut senti_params, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            out(params_out, "params_out")?;
            let json = if json.is_null() { "" } else { c_str(json, "json")? };
            let params = TrainParams::from_json(json)?;
            *params_out = handles::insert_params(params);
            Ok(())
        })
    }
}

/// Sets an integer field (`epochs`, `hidden_size`, `seed`, ...) of `params`.
///
/// `field`: the field's name, NUL-terminated UTF-8, borrowed. A float field takes an integer
/// too (converted, as JSON takes `1` for `1.0`). The value is checked at once: an unknown field,
/// a field of another type or a value out of the field's range fails with `SENTI_ERR_CONFIG`,
/// a message naming the field (and its type or range), and no change.
/// Checks that involve several fields (`weight_decay` needs `optimizer` `adamw`, the model and
/// batch size limits) run in `senti_train_params`, so fields may be set in any order.
/// Thread-safe. Seeds above 2^63 - 1 can only be given as JSON (`senti_params_from_json`).
///
/// # Safety
/// `field` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_params_set_int(params: *mut senti_params, field: *const c_char, value: i64, error_out: *mut *mut senti_error) -> senti_status {
    unsafe { set(params, field, || Ok(FieldValue::Int(value.into())), error_out) }
}

/// Sets a float field (`learning_rate`, `dropout`, ...) of `params`; checked at once like
/// `senti_params_set_int`. A float is refused for an integer field (`SENTI_ERR_CONFIG`, as JSON
/// refuses `2.0` for `epochs`), and NaN and infinities are out of every range.
///
/// # Safety
/// `field` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_params_set_float(params: *mut senti_params, field: *const c_char, value: f64, error_out: *mut *mut senti_error) -> senti_status {
    unsafe { set(params, field, || Ok(FieldValue::Float(value)), error_out) }
}

/// Sets a bool field (`bidirectional`, `restore_best`) of `params`; checked at once like
/// `senti_params_set_int`.
///
/// # Safety
/// `field` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_params_set_bool(params: *mut senti_params, field: *const c_char, value: bool, error_out: *mut *mut senti_error) -> senti_status {
    unsafe { set(params, field, || Ok(FieldValue::Bool(value)), error_out) }
}

/// Sets a string field of `params`: `data_path` (any path, taken as it is: quotes, backslashes
/// and spaces need no escaping) or one of the named choices (`cell`, `pooling`, `optimizer`,
/// `lr_schedule`, `truncation`, `data_format`), whose allowed values the TRAINING PARAMETERS
/// block lists; checked at once like `senti_params_set_int`.
///
/// `value`: NUL-terminated UTF-8, borrowed (the object keeps a copy). NULL fails with
/// `SENTI_ERR_NULL_POINTER`, invalid UTF-8 with `SENTI_ERR_INVALID_UTF8`.
///
/// # Safety
/// `field` and `value` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_params_set_string(
    params: *mut senti_params,
    field: *const c_char,
    value: *const c_char,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe { set(params, field, || Ok(FieldValue::Str(Cow::Owned(c_str(value, "value")?.to_string()))), error_out) }
}

/// Sets `field` of `params` back to its default. For the optional fields (`train_limit`,
/// `embedding_pretrain_epochs`) that is absent: the library decides. An unknown field fails with
/// `SENTI_ERR_CONFIG`. Thread-safe.
///
/// # Safety
/// `field` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_params_reset(params: *mut senti_params, field: *const c_char, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            let params = handles::params(params)?;
            let field = c_str(field, "field")?;
            params.lock().unwrap_or_else(|e| e.into_inner()).reset(field)?;
            Ok(())
        })
    }
}

/// Writes every field of `params` as the JSON object `senti_train` and `senti_params_from_json`
/// take (absent optional fields as `null`), so that a run can be logged and repeated.
///
/// Copies the JSON and a terminating NUL into `buffer` when `capacity` exceeds its length.
/// `length_out` (optional) receives the JSON's length without the NUL, on success and on
/// `SENTI_ERR_BUFFER_TOO_SMALL` alike, so a caller can ask with capacity 0 (buffer may then be
/// NULL), allocate, and ask again. Thread-safe.
///
/// # Safety
/// `buffer` must be valid for `capacity` bytes (or NULL with capacity 0); `length_out` and
/// `error_out` NULL or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_params_to_json(
    params: *const senti_params,
    buffer: *mut c_char,
    capacity: usize,
    length_out: *mut usize,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let params = handles::params(params)?;
            let json = serde_json::to_string(&*params.lock().unwrap_or_else(|e| e.into_inner()))
                .map_err(|e| crate::Error::new(crate::ErrorKind::Internal, format!("training parameters do not serialize: {e}")))?;
            write_text(&json, buffer, capacity, length_out, "the parameters' JSON")
        })
    }
}

/// Trains a model with the fields of `params`, as `senti_train` does with JSON (see there for
/// the model, `progress`, `user_data` and the errors). The fields are read once, at the start:
/// setting them while training runs affects only later calls. Checks that involve several
/// fields fail here with `SENTI_ERR_CONFIG` before any data is read. `params` stays owned by the
/// caller and may train again.
///
/// `model_out`: receives a new model handle on success; the caller owns it and releases it with
/// `senti_free`. `error_out`: optional; on failure receives an error the caller releases with
/// `senti_error_free`.
///
/// # Safety
/// Pointers must be NULL or valid as described; `progress` must be safe to call with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_train_params(
    params: *const senti_params,
    progress: senti_progress_fn,
    user_data: *mut c_void,
    model_out: *mut *mut senti_model,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let params = handles::params(params)?;
            out(model_out, "model_out")?;
            // A copy, so that the lock is not held while training.
            let params = params.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let model = train_reporting(progress, user_data, |report| crate::train::train(&params, report))?;
            *model_out = handles::insert_model(model);
            Ok(())
        })
    }
}

/// Releases a params object. NULL, an already-freed object or any other value (a model or
/// error handle included) is ignored, so an explicit close and a finalizer may both call it.
/// Calls already running with the object on other threads finish normally; later calls with the
/// handle fail with `SENTI_ERR_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn senti_params_free(params: *mut senti_params) {
    quietly((), || handles::remove_params(params))
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::ptr::{null, null_mut};

    use super::*;

    fn message(err: *mut senti_error) -> String {
        let p = super::super::senti_error_message(err);
        assert!(!p.is_null(), "no error object");
        let m = unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned();
        super::super::senti_error_free(err);
        m
    }

    fn to_json(p: *const senti_params) -> String {
        let mut len = 0usize;
        let mut err = null_mut();
        assert_eq!(unsafe { senti_params_to_json(p, null_mut(), 0, &mut len, &mut err) }, senti_status::SENTI_ERR_BUFFER_TOO_SMALL);
        assert!(message(err).contains("needs"));
        let mut buf = vec![0 as c_char; len + 1];
        assert_eq!(unsafe { senti_params_to_json(p, buf.as_mut_ptr(), buf.len(), &mut len, null_mut()) }, senti_status::SENTI_OK);
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_string()
    }

    #[test]
    fn set_reset_and_json_through_the_c_functions() {
        let mut p = null_mut();
        assert_eq!(unsafe { senti_params_new(&mut p, null_mut()) }, senti_status::SENTI_OK);
        let path = CString::new("a \"b\" \\c.jsonl").unwrap();
        unsafe {
            assert_eq!(senti_params_set_int(p, c"epochs".as_ptr(), 7, null_mut()), senti_status::SENTI_OK);
            assert_eq!(senti_params_set_float(p, c"learning_rate".as_ptr(), 0.5, null_mut()), senti_status::SENTI_OK);
            assert_eq!(senti_params_set_int(p, c"clip_norm".as_ptr(), 2, null_mut()), senti_status::SENTI_OK);
            assert_eq!(senti_params_set_bool(p, c"bidirectional".as_ptr(), false, null_mut()), senti_status::SENTI_OK);
            assert_eq!(senti_params_set_string(p, c"data_path".as_ptr(), path.as_ptr(), null_mut()), senti_status::SENTI_OK);
            assert_eq!(senti_params_set_string(p, c"cell".as_ptr(), c"gru".as_ptr(), null_mut()), senti_status::SENTI_OK);
            let mut err = null_mut();
            assert_eq!(senti_params_set_float(p, c"epochs".as_ptr(), 2.5, &mut err), senti_status::SENTI_ERR_CONFIG);
            assert!(message(err).contains("`epochs` takes an integer"));
            assert_eq!(senti_params_set_int(p, c"epoch".as_ptr(), 2, &mut err), senti_status::SENTI_ERR_CONFIG);
            assert!(message(err).contains("did you mean `epochs`"));
            assert_eq!(senti_params_set_string(p, c"cell".as_ptr(), null(), &mut err), senti_status::SENTI_ERR_NULL_POINTER);
            assert!(message(err).contains("value is NULL"));
            assert_eq!(senti_params_set_int(p, null(), 1, &mut err), senti_status::SENTI_ERR_NULL_POINTER);
            assert!(message(err).contains("field is NULL"));
        }
        let json = to_json(p);
        let back = TrainParams::from_json(&json).unwrap();
        assert_eq!((back.epochs, back.learning_rate, back.clip_norm, back.bidirectional), (7, 0.5, 2.0, false));
        assert_eq!(back.data_path.to_str(), Some("a \"b\" \\c.jsonl"));
        // The JSON makes the same object again.
        let again = CString::new(json.clone()).unwrap();
        let mut q = null_mut();
        assert_eq!(unsafe { senti_params_from_json(again.as_ptr(), &mut q, null_mut()) }, senti_status::SENTI_OK);
        assert_eq!(to_json(q), json);
        assert_eq!(unsafe { senti_params_reset(p, c"epochs".as_ptr(), null_mut()) }, senti_status::SENTI_OK);
        assert_eq!(TrainParams::from_json(&to_json(p)).unwrap().epochs, 3);
        senti_params_free(p);
        senti_params_free(p);
        senti_params_free(q);
        let mut err = null_mut();
        assert_eq!(unsafe { senti_params_set_int(p, c"epochs".as_ptr(), 2, &mut err) }, senti_status::SENTI_ERR_INVALID_HANDLE);
        assert!(message(err).contains("freed or never issued"));
    }

    #[test]
    fn handles_of_other_kinds_are_refused_and_not_freed() {
        let mut err = null_mut();
        let mut p = null_mut();
        unsafe {
            senti_params_from_json(c"[]".as_ptr(), &mut p, &mut err);
            assert!(p.is_null(), "params_out written on failure");
            // The error handle is no params handle, and freeing it as one leaves it alive.
            let mut e2 = null_mut();
            assert_eq!(senti_params_set_int(err.cast(), c"epochs".as_ptr(), 2, &mut e2), senti_status::SENTI_ERR_INVALID_HANDLE);
            assert!(message(e2).contains("expected a params handle, got an error handle"));
            senti_params_free(err.cast());
            assert!(message(err).contains("expected a JSON object"));
            let mut q = null_mut();
            senti_params_new(&mut q, null_mut());
            let mut p_out = 0.0f32;
            assert_eq!(super::super::senti_predict(q.cast(), c"x".as_ptr(), 1, &mut p_out, &mut e2), senti_status::SENTI_ERR_INVALID_HANDLE);
            assert!(message(e2).contains("got a params handle"));
            super::super::senti_free(q.cast());
            assert_eq!(senti_params_set_int(q, c"epochs".as_ptr(), 2, null_mut()), senti_status::SENTI_OK, "senti_free freed params");
            senti_params_free(q);
            assert_eq!(senti_params_new(null_mut(), null_mut()), senti_status::SENTI_ERR_NULL_POINTER);
        }
    }

    #[test]
    fn threads_setting_one_object_at_once() {
        let mut p = null_mut();
        unsafe { senti_params_new(&mut p, null_mut()) };
        let handle = p as usize;
        std::thread::scope(|s| {
            for t in 0..8i64 {
                s.spawn(move || {
                    for i in 0..500 {
                        let p = handle as *mut senti_params;
                        let st = unsafe { senti_params_set_int(p, c"epochs".as_ptr(), 1 + (t * 500 + i) % 100, null_mut()) };
                        assert_eq!(st, senti_status::SENTI_OK);
                        let st = unsafe { senti_params_set_string(p, c"cell".as_ptr(), if i % 2 == 0 { c"gru".as_ptr() } else { c"lstm".as_ptr() }, null_mut()) };
                        assert_eq!(st, senti_status::SENTI_OK);
                        let mut len = 0;
                        unsafe { senti_params_to_json(p, null_mut(), 0, &mut len, null_mut()) };
                        assert!(len > 100);
                    }
                });
            }
        });
        let back = TrainParams::from_json(&to_json(p)).unwrap();
        assert!((1..=100).contains(&back.epochs));
        senti_params_free(p);
    }

    #[test]
    fn cross_field_checks_fail_at_training_before_any_data_is_read() {
        let mut p = null_mut();
        let mut m = null_mut();
        let mut err = null_mut();
        unsafe {
            senti_params_new(&mut p, null_mut());
            senti_params_set_string(p, c"data_path".as_ptr(), c"/nonexistent/x.jsonl".as_ptr(), null_mut());
            assert_eq!(senti_params_set_float(p, c"weight_decay".as_ptr(), 0.01, null_mut()), senti_status::SENTI_OK);
            assert_eq!(senti_train_params(p, None, null_mut(), &mut m, &mut err), senti_status::SENTI_ERR_CONFIG);
            assert!(message(err).contains("weight_decay needs"));
            senti_params_set_string(p, c"optimizer".as_ptr(), c"adamw".as_ptr(), null_mut());
            assert_eq!(senti_train_params(p, None, null_mut(), &mut m, &mut err), senti_status::SENTI_ERR_IO);
            message(err);
            assert!(m.is_null());
            senti_params_free(p);
        }
    }
}
