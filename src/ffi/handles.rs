// SPDX-License-Identifier: MIT OR Apache-2.0
//! The handle registry. A handle's value is a kind tag in the top 16 bits and a sequence number
//! below, never reused. Such a value is a non-canonical address on 64-bit targets: it can never
//! be a real pointer, Go's garbage collector ignores it, and the library never dereferences it.
//! Every kind of object goes through the same insert, lookup and remove, so a NULL, freed,
//! never-issued or wrong-kind handle is refused the same way for each.

#[cfg(not(target_pointer_width = "64"))]
compile_error!("libsenti's handles are tagged 64-bit values: build it for a 64-bit target");

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char};
use std::sync::{Arc, Mutex, RwLock};

use once_cell::sync::Lazy;

use super::dataset::{Dataset, senti_dataset};
use super::explanation::{ExplanationObject, senti_explanation};
use super::guard::Failure;
use super::params::senti_params;
use super::report::{Report, senti_report};
use super::types::{senti_error, senti_model, senti_status};
use crate::config::TrainParams;
use crate::model::Model;

const TAG_SHIFT: u32 = 48;
const SEQ_MASK: u64 = (1 << TAG_SHIFT) - 1;

/// The kinds of object a handle can name, each with its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Model,
    Error,
    Params,
    Dataset,
    Report,
    Explanation,
}

impl Kind {
    const ALL: [Kind; 6] = [Kind::Model, Kind::Error, Kind::Params, Kind::Dataset, Kind::Report, Kind::Explanation];

    fn tag(self) -> u64 {
        match self {
            Kind::Model => 0x5E4D,
            Kind::Error => 0x5E45,
            Kind::Params => 0x5E50,
            Kind::Dataset => 0x5E44,
            Kind::Report => 0x5E52,
            Kind::Explanation => 0x5E58,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Error => "error",
            Kind::Params => "params",
            Kind::Dataset => "dataset",
            Kind::Report => "report",
            Kind::Explanation => "explanation",
        }
    }

    /// The name with its article, as a message says it: "an error handle", "a model handle".
    fn described(self) -> String {
        let article = if self == Kind::Error { "an" } else { "a" };
        format!("{article} {} handle", self.name())
    }

    fn of_key(key: u64) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.tag() == key >> TAG_SHIFT)
    }
}

pub(crate) struct ErrorObject {
    pub status: senti_status,
    pub message: CString,
}

enum Object {
    Model(Arc<Model>),
    Error(Arc<ErrorObject>),
    /// Several threads may set fields of one params object at once: the mutex orders them.
    Params(Arc<Mutex<TrainParams>>),
    /// Likewise for adding examples to one dataset.
    Dataset(Arc<Mutex<Dataset>>),
    Report(Arc<Report>),
    Explanation(Arc<ExplanationObject>),
}

#[derive(Default)]
struct Registry {
    next: u64,
    objects: HashMap<u64, Object>,
}

static REGISTRY: Lazy<RwLock<Registry>> = Lazy::new(Default::default);

fn registry() -> std::sync::RwLockWriteGuard<'static, Registry> {
    // A panic cannot leave the map half-updated (each operation is one insert or remove), so
    // a poisoned lock is still consistent.
    REGISTRY.write().unwrap_or_else(|e| e.into_inner())
}

fn insert(kind: Kind, object: Object) -> u64 {
    let mut reg = registry();
    reg.next += 1;
    let key = (kind.tag() << TAG_SHIFT) | (reg.next & SEQ_MASK);
    reg.objects.insert(key, object);
    key
}

fn key_of<T>(handle: *const T) -> u64 {
    handle as usize as u64
}

/// The live object of kind `want` behind `handle`, through `pick`; anything else is an error
/// that says what the handle was instead.
fn lookup<T, H>(handle: *const H, want: Kind, pick: impl FnOnce(&Object) -> Option<T>) -> Result<T, Failure> {
    if handle.is_null() {
        return Err(Failure::null(want.name()));
    }
    let key = key_of(handle);
    let invalid = |msg: String| Failure::new(senti_status::SENTI_ERR_INVALID_HANDLE, msg);
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    match (registry.objects.get(&key), Kind::of_key(key)) {
        (Some(object), Some(kind)) if kind == want => pick(object).ok_or_else(|| invalid(format!("expected a {} handle ({key:#x})", want.name()))),
        (Some(_), Some(kind)) => Err(invalid(format!("expected {}, got {}", want.described(), kind.described()))),
        (None, Some(kind)) => Err(invalid(format!("expected a live {} handle, got {} that was freed or never issued ({key:#x})", want.name(), kind.described()))),
        (_, None) => Err(invalid(format!("expected a live {} handle, got not a handle issued by libsenti ({key:#x})", want.name()))),
    }
}

/// Removes the object behind `handle` if it is live and of kind `kind`; anything else is ignored.
fn remove<H>(handle: *const H, kind: Kind) {
    let key = key_of(handle);
    if Kind::of_key(key) == Some(kind) {
        let removed = registry().objects.remove(&key);
        // Drop the object (possibly a large model) after releasing the lock.
        drop(removed);
    }
}

pub(crate) fn insert_model(model: Model) -> *mut senti_model {
    insert(Kind::Model, Object::Model(Arc::new(model))) as usize as *mut senti_model
}

/// The model behind `handle`; the `Arc` keeps it alive even if another thread frees the handle.
pub(crate) fn model(handle: *const senti_model) -> Result<Arc<Model>, Failure> {
    lookup(handle, Kind::Model, |o| if let Object::Model(m) = o { Some(m.clone()) } else { None })
}

pub(crate) fn remove_model(handle: *const senti_model) {
    remove(handle, Kind::Model)
}

pub(crate) fn insert_error(status: senti_status, message: &str) -> *mut senti_error {
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    insert(Kind::Error, Object::Error(Arc::new(ErrorObject { status, message }))) as usize as *mut senti_error
}

pub(crate) fn error(handle: *const senti_error) -> Option<Arc<ErrorObject>> {
    lookup(handle, Kind::Error, |o| if let Object::Error(e) = o { Some(e.clone()) } else { None }).ok()
}

/// A pointer to the message of a live error, valid until that error is freed.
pub(crate) fn error_message(handle: *const senti_error) -> *const c_char {
    // The CString's buffer lives as long as the registry entry.
    lookup(handle, Kind::Error, |o| if let Object::Error(e) = o { Some(CStr::as_ptr(&e.message)) } else { None }).unwrap_or(std::ptr::null())
}

pub(crate) fn remove_error(handle: *const senti_error) {
    remove(handle, Kind::Error)
}

pub(crate) fn insert_params(params: TrainParams) -> *mut senti_params {
    insert(Kind::Params, Object::Params(Arc::new(Mutex::new(params)))) as usize as *mut senti_params
}

/// The params object behind `handle`; the `Arc` keeps it alive even if another thread frees it.
pub(crate) fn params(handle: *const senti_params) -> Result<Arc<Mutex<TrainParams>>, Failure> {
    lookup(handle, Kind::Params, |o| if let Object::Params(p) = o { Some(p.clone()) } else { None })
}

pub(crate) fn remove_params(handle: *const senti_params) {
    remove(handle, Kind::Params)
}

pub(crate) fn insert_dataset(dataset: Dataset) -> *mut senti_dataset {
    insert(Kind::Dataset, Object::Dataset(Arc::new(Mutex::new(dataset)))) as usize as *mut senti_dataset
}

pub(crate) fn dataset(handle: *const senti_dataset) -> Result<Arc<Mutex<Dataset>>, Failure> {
    lookup(handle, Kind::Dataset, |o| if let Object::Dataset(d) = o { Some(d.clone()) } else { None })
}

pub(crate) fn remove_dataset(handle: *const senti_dataset) {
    remove(handle, Kind::Dataset)
}

pub(crate) fn insert_report(report: Report) -> *mut senti_report {
    insert(Kind::Report, Object::Report(Arc::new(report))) as usize as *mut senti_report
}

/// A pointer to a live report's JSON, valid until that report is freed.
pub(crate) fn report_json(handle: *const senti_report) -> *const c_char {
    lookup(handle, Kind::Report, |o| if let Object::Report(r) = o { Some(CStr::as_ptr(&r.json)) } else { None }).unwrap_or(std::ptr::null())
}

pub(crate) fn remove_report(handle: *const senti_report) {
    remove(handle, Kind::Report)
}

pub(crate) fn insert_explanation(explanation: ExplanationObject) -> *mut senti_explanation {
    insert(Kind::Explanation, Object::Explanation(Arc::new(explanation))) as usize as *mut senti_explanation
}

/// The explanation behind `handle`; the `Arc` keeps it alive even if another thread frees it.
pub(crate) fn explanation(handle: *const senti_explanation) -> Result<Arc<ExplanationObject>, Failure> {
    lookup(handle, Kind::Explanation, |o| if let Object::Explanation(e) = o { Some(e.clone()) } else { None })
}

/// A pointer to a live explanation's JSON, valid until that explanation is freed.
pub(crate) fn explanation_json(handle: *const senti_explanation) -> *const c_char {
    lookup(handle, Kind::Explanation, |o| if let Object::Explanation(e) = o { Some(CStr::as_ptr(&e.json)) } else { None }).unwrap_or(std::ptr::null())
}

pub(crate) fn remove_explanation(handle: *const senti_explanation) {
    remove(handle, Kind::Explanation)
}
