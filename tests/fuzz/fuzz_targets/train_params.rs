// SPDX-License-Identifier: MIT OR Apache-2.0
//! The JSON of `senti_train` (`TrainParams::from_json`) and of `senti_evaluate`
//! (`DataSpec::from_json`, the data part of its JSON) on arbitrary text. Accepted parameters must validate and
//! survive a JSON round trip unchanged (they are stored in every model file and read back).
#![no_main]

use libfuzzer_sys::fuzz_target;
use senti::{DataSpec, ErrorKind, TrainParams};

fuzz_target!(|data: &[u8]| {
    let json = String::from_utf8_lossy(data);
    match TrainParams::from_json(&json) {
        Ok(params) => {
            params.validate().expect("accepted parameters validate");
            let again = serde_json::to_string(&params).expect("parameters serialize");
            let back = TrainParams::from_json(&again).unwrap_or_else(|e| panic!("{again} is refused: {e}"));
            assert_eq!(back, params, "the parameters change in a JSON round trip");
            assert!(params.thread_count() >= 1);
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::Config, "{e}"),
    }
    match DataSpec::from_json(&json) {
        Ok(spec) => {
            let again = serde_json::to_string(&spec).expect("a data spec serializes");
            let back = DataSpec::from_json(&again).unwrap_or_else(|e| panic!("{again} is refused: {e}"));
            assert_eq!(back, spec, "the data spec changes in a JSON round trip");
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::Config, "{e}"),
    }
});
