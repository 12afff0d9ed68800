// SPDX-License-Identifier: MIT OR Apache-2.0
//! `model_file::from_bytes` on arbitrary bytes: refused with a model-file error, or a model that
//! predicts and survives a save/load round trip. Never a crash, a hang or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    senti_fuzz::load_and_check(data, "A fine film, not bad at all!");
});
