// SPDX-License-Identifier: MIT OR Apache-2.0
//! The typed parameter calls of the C ABI: a params object from `senti_params_new` or from
//! arbitrary JSON (`senti_params_from_json`), then a sequence of `senti_params_set_int`,
//! `_set_float`, `_set_bool`, `_set_string` and `_reset` on known field names (every field the
//! defaults' JSON lists) and arbitrary ones, each followed by `senti_params_to_json`.
//!
//! What must hold: every call succeeds or fails with an error object (never
//! `SENTI_ERR_INTERNAL`); a failed setter leaves every field as it was; after every call the JSON
//! reads back (`senti_params_from_json`) into a params object with the same JSON; the capacity
//! protocol of `senti_params_to_json` reports the length and writes nothing too small.
#![no_main]

use std::ffi::{CString, c_char};
use std::ptr;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use senti::ffi::*;
use senti_fuzz::capi::{check_error, check_ok};

#[derive(Arbitrary, Debug)]
enum Name {
    /// One of the real fields (index modulo their count).
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Call {
    Int(Name, i64),
    /// A small integer: most real fields' valid values are small.
    SmallInt(Name, u8),
    Float(Name, f64),
    Bool(Name, bool),
    Str(Name, String),
    Reset(Name),
}

#[derive(Arbitrary, Debug)]
struct Input {
    json: Option<String>,
    calls: Vec<Call>,
}

/// The field names, read once from the defaults' JSON.
fn fields() -> &'static [String] {
    static FIELDS: OnceLock<Vec<String>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut params = ptr::null_mut();
        check_ok(unsafe { senti_params_new(&mut params, ptr::null_mut()) }, ptr::null_mut());
        let json: serde_json::Value = serde_json::from_str(&to_json(params)).unwrap();
        senti_params_free(params);
        json.as_object().unwrap().keys().cloned().collect()
    })
}

fn c_name(name: &Name) -> CString {
    let text = match name {
        Name::Known(i) => fields()[usize::from(*i) % fields().len()].clone(),
        Name::Other(s) => s.replace('\0', ""),
    };
    CString::new(text).unwrap()
}

/// `senti_params_to_json` by the capacity protocol: asked with no room, then with one byte too
/// few, then with enough.
fn to_json(params: *const senti_params) -> String {
    let mut len = usize::MAX;
    let mut err = ptr::null_mut();
    let status = unsafe { senti_params_to_json(params, ptr::null_mut(), 0, &mut len, &mut err) };
    check_error(status, err, Some(senti_status::SENTI_ERR_BUFFER_TOO_SMALL));
    assert!(len > 1 && len < 1 << 20, "length {len}");
    let mut buf = vec![0xAAu8; len + 1];
    let status = unsafe { senti_params_to_json(params, buf.as_mut_ptr().cast::<c_char>(), len, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(status, senti_status::SENTI_ERR_BUFFER_TOO_SMALL, "a buffer without room for the NUL was accepted");
    let mut again = 0;
    let mut err = ptr::null_mut();
    let status = unsafe { senti_params_to_json(params, buf.as_mut_ptr().cast::<c_char>(), len + 1, &mut again, &mut err) };
    check_ok(status, err);
    assert_eq!((again, buf[len]), (len, 0), "the length or the NUL");
    String::from_utf8(buf[..len].to_vec()).expect("the JSON is UTF-8")
}

/// The JSON must read back into params that write the same JSON. Setters check one field at a
/// time and `senti_params_from_json` also the checks that involve several (the activations a
/// batch needs, the model's size): JSON it refuses must be parameters that cannot train, which
/// `senti_train_params` says with `SENTI_ERR_CONFIG` before it reads any data.
fn check_round_trip(params: *const senti_params, json: &str) {
    let c = CString::new(json).expect("the JSON holds no NUL");
    let mut back = ptr::null_mut();
    let mut err = ptr::null_mut();
    let status = unsafe { senti_params_from_json(c.as_ptr(), &mut back, &mut err) };
    if status != senti_status::SENTI_OK {
        let why = senti_fuzz::capi::message(err);
        check_error(status, err, Some(senti_status::SENTI_ERR_CONFIG));
        let mut model = ptr::null_mut();
        let mut err = ptr::null_mut();
        let status = unsafe { senti_train_params(params, None, ptr::null_mut(), &mut model, &mut err) };
        assert_eq!(status, senti_status::SENTI_ERR_CONFIG, "{json} is refused ({why}) but trains: {}", senti_fuzz::capi::message(err));
        check_error(status, err, Some(senti_status::SENTI_ERR_CONFIG));
        return;
    }
    check_ok(status, err);
    assert_eq!(to_json(back), json, "the parameters change when their JSON is read back");
    senti_params_free(back);
}

fuzz_target!(|input: Input| {
    let mut params = ptr::null_mut();
    let mut err = ptr::null_mut();
    let status = match &input.json {
        None => unsafe { senti_params_new(&mut params, &mut err) },
        Some(json) => {
            let c = CString::new(json.replace('\0', "")).unwrap();
            unsafe { senti_params_from_json(c.as_ptr(), &mut params, &mut err) }
        }
    };
    if status != senti_status::SENTI_OK {
        check_error(status, err, Some(senti_status::SENTI_ERR_CONFIG));
        assert!(params.is_null(), "params_out written on failure");
        return;
    }
    check_ok(status, err);
    let mut json = to_json(params);
    check_round_trip(params, &json);
    for call in input.calls.iter().take(64) {
        let mut err = ptr::null_mut();
        let status = unsafe {
            match call {
                Call::Int(name, v) => senti_params_set_int(params, c_name(name).as_ptr(), *v, &mut err),
                Call::SmallInt(name, v) => senti_params_set_int(params, c_name(name).as_ptr(), i64::from(*v), &mut err),
                Call::Float(name, v) => senti_params_set_float(params, c_name(name).as_ptr(), *v, &mut err),
                Call::Bool(name, v) => senti_params_set_bool(params, c_name(name).as_ptr(), *v, &mut err),
                Call::Str(name, v) => {
                    let value = CString::new(v.replace('\0', "")).unwrap();
                    senti_params_set_string(params, c_name(name).as_ptr(), value.as_ptr(), &mut err)
                }
                Call::Reset(name) => senti_params_reset(params, c_name(name).as_ptr(), &mut err),
            }
        };
        let now = to_json(params);
        if status == senti_status::SENTI_OK {
            check_ok(status, err);
            check_round_trip(params, &now);
        } else {
            check_error(status, err, None);
            assert_eq!(now, json, "a refused {call:?} changed the parameters");
        }
        json = now;
    }
    senti_params_free(params);
});
