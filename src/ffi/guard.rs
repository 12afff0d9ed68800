// SPDX-License-Identifier: MIT OR Apache-2.0
//! Turns a core result (or a panic) into a status code and, if the caller asked, an error object.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::handles;
use super::types::{senti_error, senti_status};
use crate::error::Error;

/// An error at the boundary: the status to return and the message to attach.
pub(crate) struct Failure {
    pub status: senti_status,
    pub message: String,
}

impl Failure {
    pub fn new(status: senti_status, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
    pub fn null(what: &str) -> Self {
        Self::new(senti_status::SENTI_ERR_NULL_POINTER, format!("{what} is NULL"))
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self { status: e.kind().into(), message: e.message().to_string() }
    }
}

pub(crate) type Outcome = Result<(), Failure>;

/// Runs `body`, catching panics; on failure stores an error object in `*error_out` (when that
/// pointer is not NULL) and returns its status.
///
/// # Safety
/// `error_out` must be NULL or valid for one pointer write.
pub(crate) unsafe fn guard(error_out: *mut *mut senti_error, body: impl FnOnce() -> Outcome) -> senti_status {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return senti_status::SENTI_OK,
        Ok(Err(f)) => f,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Failure::new(senti_status::SENTI_ERR_INTERNAL, format!("internal error (caught panic): {what}"))
        }
    };
    if !error_out.is_null() {
        let handle = handles::insert_error(failure.status, &failure.message);
        // SAFETY: non-NULL and, per the contract, valid for a write.
        unsafe { *error_out = handle };
    }
    failure.status
}

/// Catches panics in functions that have no status to return.
pub(crate) fn quietly<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}
