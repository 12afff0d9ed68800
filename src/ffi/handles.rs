//! The handle registry. A handle's value is a kind tag in the top 16 bits and a sequence number
//! below, never reused. Such a value is a non-canonical address on 64-bit targets: it can never
//! be a real pointer, Go's garbage collector ignores it, and the library never dereferences it.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::{Arc, Mutex, RwLock};

use once_cell::sync::Lazy;

use super::guard::Failure;
use super::params::senti_params;
use super::types::{senti_error, senti_model, senti_status};
use crate::config::TrainParams;
use crate::model::SentimentModel;

const TAG_SHIFT: u32 = 48;
const SEQ_MASK: u64 = (1 << TAG_SHIFT) - 1;
const MODEL_TAG: u64 = 0x5E4D;
const ERROR_TAG: u64 = 0x5E45;
const PARAMS_TAG: u64 = 0x5E50;

pub(crate) struct ErrorObject {
    pub status: senti_status,
    pub message: CString,
}

enum Object {
    Model(Arc<SentimentModel>),
    Error(Arc<ErrorObject>),
    /// Several threads may set fields of one params object at once: the mutex orders them.
    Params(Arc<Mutex<TrainParams>>),
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

fn insert(tag: u64, object: Object) -> u64 {
    let mut reg = registry();
    reg.next += 1;
    let key = (tag << TAG_SHIFT) | (reg.next & SEQ_MASK);
    reg.objects.insert(key, object);
    key
}

fn key_of<T>(handle: *const T) -> u64 {
    handle as usize as u64
}

pub(crate) fn insert_model(model: SentimentModel) -> *mut senti_model {
    insert(MODEL_TAG, Object::Model(Arc::new(model))) as usize as *mut senti_model
}

pub(crate) fn insert_error(status: senti_status, message: &str) -> *mut senti_error {
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    insert(ERROR_TAG, Object::Error(Arc::new(ErrorObject { status, message }))) as usize as *mut senti_error
}

fn describe(key: u64, want: &str) -> Failure {
    let kind = match key >> TAG_SHIFT {
        MODEL_TAG => "a model handle",
        ERROR_TAG => "an error handle",
        PARAMS_TAG => "a params handle",
        _ => "not a handle issued by libsenti",
    };
    let state = if matches!(key >> TAG_SHIFT, MODEL_TAG | ERROR_TAG | PARAMS_TAG) { " that was freed or never issued" } else { "" };
    Failure::new(senti_status::SENTI_ERR_INVALID_HANDLE, format!("expected a live {want} handle, got {kind}{state} ({key:#x})"))
}

/// The model behind `handle`; the `Arc` keeps it alive even if another thread frees the handle.
pub(crate) fn model(handle: *const senti_model) -> Result<Arc<SentimentModel>, Failure> {
    if handle.is_null() {
        return Err(Failure::null("model"));
    }
    let key = key_of(handle);
    match REGISTRY.read().unwrap_or_else(|e| e.into_inner()).objects.get(&key) {
        Some(Object::Model(m)) if key >> TAG_SHIFT == MODEL_TAG => Ok(m.clone()),
        _ if key >> TAG_SHIFT == ERROR_TAG => Err(Failure::new(senti_status::SENTI_ERR_INVALID_HANDLE, "expected a model handle, got an error handle")),
        Some(Object::Params(_)) => Err(Failure::new(senti_status::SENTI_ERR_INVALID_HANDLE, "expected a model handle, got a params handle")),
        _ => Err(describe(key, "model")),
    }
}

pub(crate) fn insert_params(params: TrainParams) -> *mut senti_params {
    insert(PARAMS_TAG, Object::Params(Arc::new(Mutex::new(params)))) as usize as *mut senti_params
}

/// The params object behind `handle`; the `Arc` keeps it alive even if another thread frees it.
pub(crate) fn params(handle: *const senti_params) -> Result<Arc<Mutex<TrainParams>>, Failure> {
    if handle.is_null() {
        return Err(Failure::null("params"));
    }
    let key = key_of(handle);
    let wrong = |kind: &str| Failure::new(senti_status::SENTI_ERR_INVALID_HANDLE, format!("expected a params handle, got {kind}"));
    match REGISTRY.read().unwrap_or_else(|e| e.into_inner()).objects.get(&key) {
        Some(Object::Params(p)) => Ok(p.clone()),
        Some(Object::Model(_)) => Err(wrong("a model handle")),
        Some(Object::Error(_)) => Err(wrong("an error handle")),
        None => Err(describe(key, "params")),
    }
}

pub(crate) fn error(handle: *const senti_error) -> Option<Arc<ErrorObject>> {
    match REGISTRY.read().unwrap_or_else(|e| e.into_inner()).objects.get(&key_of(handle)) {
        Some(Object::Error(e)) => Some(e.clone()),
        _ => None,
    }
}

/// A pointer to the message of a live error, valid until that error is freed.
pub(crate) fn error_message(handle: *const senti_error) -> *const std::ffi::c_char {
    match REGISTRY.read().unwrap_or_else(|e| e.into_inner()).objects.get(&key_of(handle)) {
        // The CString's buffer lives as long as the registry entry.
        Some(Object::Error(e)) => CStr::as_ptr(&e.message),
        _ => std::ptr::null(),
    }
}

/// Removes the object behind `handle` if it is live and of the given kind; anything else is ignored.
fn remove(key: u64, tag: u64) {
    if key >> TAG_SHIFT == tag {
        let removed = registry().objects.remove(&key);
        // Drop the object (possibly a large model) after releasing the lock.
        drop(removed);
    }
}

pub(crate) fn remove_model(handle: *const senti_model) {
    remove(key_of(handle), MODEL_TAG)
}

pub(crate) fn remove_error(handle: *const senti_error) {
    remove(key_of(handle), ERROR_TAG)
}

pub(crate) fn remove_params(handle: *const senti_params) {
    remove(key_of(handle), PARAMS_TAG)
}
