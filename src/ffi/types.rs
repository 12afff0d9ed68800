// SPDX-License-Identifier: MIT OR Apache-2.0
//! Types that appear in `senti.h`.
#![allow(non_camel_case_types)]

use std::ffi::c_void;

/// Library version, as macros (compile time) and through `senti_version_number()` (run time).
pub const SENTI_VERSION_MAJOR: u32 = 0;
pub const SENTI_VERSION_MINOR: u32 = 2;
pub const SENTI_VERSION_PATCH: u32 = 0;
/// MAJOR * 10000 + MINOR * 100 + PATCH.
pub const SENTI_VERSION_NUMBER: u32 = SENTI_VERSION_MAJOR * 10000 + SENTI_VERSION_MINOR * 100 + SENTI_VERSION_PATCH;

// cbindgen writes literals only, so the numbers above are written out; this keeps them Cargo's.
const _: () = assert!(
    SENTI_VERSION_MAJOR == decimal(env!("CARGO_PKG_VERSION_MAJOR"))
        && SENTI_VERSION_MINOR == decimal(env!("CARGO_PKG_VERSION_MINOR"))
        && SENTI_VERSION_PATCH == decimal(env!("CARGO_PKG_VERSION_PATCH")),
    "SENTI_VERSION_* in src/ffi/types.rs differ from the version in Cargo.toml"
);

const fn decimal(digits: &str) -> u32 {
    let bytes = digits.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        n = n * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    n
}

pub use super::status::senti_status;

/// A trained model. Opaque; obtained from `senti_train` or `senti_load`, released with
/// `senti_free`.
pub struct senti_model {
    _opaque: [u8; 0],
}

/// A failure's status code and full message. Opaque; owned by the caller, released with
/// `senti_error_free`.
pub struct senti_error {
    _opaque: [u8; 0],
}

/// `senti_progress.phase` after each training batch.
pub const SENTI_PHASE_BATCH: i32 = 0;
/// `senti_progress.phase` after each epoch's validation.
pub const SENTI_PHASE_EPOCH: i32 = 1;
/// `senti_progress.phase` while word vectors are learned before the first epoch
/// (`embedding_pretrain_epochs`): `epoch`/`epochs` count their passes, `batch`/`batches` chunks
/// of reviews, and the loss and accuracy fields are NaN. Returning nonzero cancels here too.
pub const SENTI_PHASE_PRETRAIN: i32 = 2;

/// Training progress, passed to the progress callback. Owned by the library and valid only
/// during the callback. Later versions may append fields, never reorder them.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct senti_progress {
    /// `SENTI_PHASE_BATCH`, `SENTI_PHASE_EPOCH` or `SENTI_PHASE_PRETRAIN`.
    pub phase: i32,
    /// 1-based epoch and total epochs.
    pub epoch: u32,
    pub epochs: u32,
    /// 1-based batch within the epoch and batches per epoch.
    pub batch: u32,
    pub batches: u32,
    /// Running mean training loss and accuracy of the current epoch.
    pub loss: f64,
    pub accuracy: f64,
    /// Validation loss and accuracy after the epoch; NaN in batch updates and without validation.
    pub val_loss: f64,
    pub val_accuracy: f64,
}

/// Called on the thread that called `senti_train`. Return 0 to continue, nonzero to cancel
/// (`senti_train` then returns `SENTI_ERR_CANCELLED`).
pub type senti_progress_fn = Option<unsafe extern "C" fn(progress: *const senti_progress, user_data: *mut c_void) -> i32>;

/// Result of `senti_evaluate`. Caller-allocated; its layout is fixed for this major version. The
/// four counts are a two-label model's (the second label positive); 0 for more labels, whose
/// figures `senti_evaluate_report` gives.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct senti_evaluation {
    /// Number of labeled texts evaluated.
    pub count: u64,
    pub true_positive: u64,
    pub true_negative: u64,
    pub false_positive: u64,
    pub false_negative: u64,
    /// Mean cross-entropy (binary for two labels).
    pub loss: f64,
    /// Fraction classified correctly (the top label; for two labels, probability > 0.5 means
    /// the second).
    pub accuracy: f64,
}
