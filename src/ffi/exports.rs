// SPDX-License-Identifier: MIT OR Apache-2.0
//! The exported functions. Each one: NULL checks first, then argument conversion, then the core
//! call inside `guard`, then out-parameters (written only on success).

use std::ffi::{CStr, c_char, c_void};

use super::guard::{Failure, Outcome, guard, quietly};
use super::handles;
use super::types::*;
use crate::config::TrainParams;
use crate::data::{Example, Origin};
use crate::error::{Error, ErrorKind};
use crate::model::{Evaluation, EvaluationRequest, Model, SentimentModel};
use crate::nn::Precision;
use crate::train::{Control, Phase, Progress};

/// `text_len` value meaning "the text is NUL-terminated".
const NUL_TERMINATED: usize = usize::MAX;
/// Longest text accepted by prediction (bytes). Longer reviews are truncated to `max_len`
/// tokens anyway; this only bounds the work of tokenizing.
const MAX_TEXT_BYTES: usize = 64 << 20;

fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(senti_status::SENTI_ERR_INVALID_UTF8, format!("{what} is not valid UTF-8 (first invalid byte at offset {})", e.valid_up_to()))
    })
}

/// # Safety
/// `p` must be NULL or point to a NUL-terminated string.
pub(super) unsafe fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    utf8(unsafe { CStr::from_ptr(p) }.to_bytes(), what)
}

/// # Safety
/// `p` must be valid for `len` bytes, or NUL-terminated when `len` is `NUL_TERMINATED`.
pub(super) unsafe fn text<'a>(p: *const c_char, len: usize, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return if len == 0 { Ok("") } else { Err(Failure::null(what)) };
    }
    let bytes = if len == NUL_TERMINATED {
        // SAFETY: NUL-terminated per the contract.
        unsafe { CStr::from_ptr(p) }.to_bytes()
    } else {
        if len > MAX_TEXT_BYTES {
            return Err(Failure::new(senti_status::SENTI_ERR_INVALID_ARGUMENT, format!("{what} is {len} bytes; the limit is {MAX_TEXT_BYTES}")));
        }
        // SAFETY: valid for `len` bytes per the contract.
        unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
    };
    if bytes.len() > MAX_TEXT_BYTES {
        return Err(Failure::new(senti_status::SENTI_ERR_INVALID_ARGUMENT, format!("{what} is {} bytes; the limit is {MAX_TEXT_BYTES}", bytes.len())));
    }
    utf8(bytes, what)
}

/// # Safety
/// `texts` must hold `count` pointers, `lens` NULL or `count` lengths, each text as for `text`.
pub(super) unsafe fn texts<'a>(texts: *const *const c_char, lens: *const usize, count: usize) -> Result<Vec<&'a str>, Failure> {
    if count == 0 {
        return Err(Failure::new(senti_status::SENTI_ERR_INVALID_ARGUMENT, "count is 0: an empty batch has nothing to predict"));
    }
    if texts.is_null() {
        return Err(Failure::null("texts"));
    }
    // SAFETY: `count` elements per the contract.
    let ptrs = unsafe { std::slice::from_raw_parts(texts, count) };
    let lens = if lens.is_null() { None } else { Some(unsafe { std::slice::from_raw_parts(lens, count) }) };
    ptrs.iter()
        .enumerate()
        .map(|(i, &p)| unsafe { text(p, lens.map_or(NUL_TERMINATED, |l| l[i]), &format!("texts[{i}]")) })
        .collect()
}

fn to_c(e: &Evaluation) -> senti_evaluation {
    let (true_positive, true_negative, false_positive, false_negative) = e.binary_counts();
    senti_evaluation { count: e.count, true_positive, true_negative, false_positive, false_negative, loss: e.loss, accuracy: e.accuracy }
}

pub(super) fn out<T>(p: *mut T, what: &str) -> Result<(), Failure> {
    if p.is_null() { Err(Failure::null(what)) } else { Ok(()) }
}

/// The library version as a static NUL-terminated string, e.g. "0.1.0". Never free it.
#[unsafe(no_mangle)]
pub extern "C" fn senti_version() -> *const c_char {
    static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(s) => s,
        Err(_) => c"?",
    };
    VERSION.as_ptr()
}

/// The instruction set the library's kernels chose for this CPU when first asked: "avx512",
/// "avx2" or "baseline" (portable code), at most the level the environment variable
/// SENTI_MAX_SIMD names when it is set before the first call. A static NUL-terminated string;
/// never free it. Speed figures hold for the level they were measured at.
#[unsafe(no_mangle)]
pub extern "C" fn senti_simd_level() -> *const c_char {
    crate::nn::simd::level().name().as_ptr()
}

/// The library version as MAJOR * 10000 + MINOR * 100 + PATCH; compare with
/// `SENTI_VERSION_NUMBER` to detect a header/library mismatch.
#[unsafe(no_mangle)]
pub extern "C" fn senti_version_number() -> u32 {
    SENTI_VERSION_NUMBER
}

/// The name of a status code as a static string ("SENTI_OK", "SENTI_ERR_IO", ...), or
/// "SENTI_UNKNOWN_STATUS" for a value this version does not define. Never free it.
#[unsafe(no_mangle)]
pub extern "C" fn senti_status_name(status: i32) -> *const c_char {
    super::status::STATUS_NAMES.iter().find(|(s, _)| *s as i32 == status).map_or(c"SENTI_UNKNOWN_STATUS", |(_, n)| n).as_ptr()
}

/// Trains a model.
///
/// `params_json`: a JSON object of training parameters, or NULL / "" / "{}" for all defaults.
/// Every field is optional (the TRAINING PARAMETERS block lists fields and defaults; a
/// `senti_params` object and `senti_train_params` avoid building the JSON by hand); an unknown
/// field, a wrong type or an out-of-range value fails with `SENTI_ERR_CONFIG`. Borrowed for the call. By default
/// the model pairs the recurrent network with a wide path over hashed word n-grams, mixed on the
/// validation slice; `"wide_ngrams": 0` trains a pure LSTM/GRU, and `"layers": 0` the wide path
/// alone (no network, no epochs: `progress` is then never called). On a training set of IMDB's size
/// (2 million tokens or more) the embedding starts from word vectors learned from the reviews' text
/// first (`SENTI_PHASE_PRETRAIN` reports); `"embedding_pretrain_epochs": 0` starts it at random.
/// `progress`: optional callback, called on this thread after every batch and every epoch; a
/// nonzero return cancels training (`SENTI_ERR_CANCELLED`). `user_data` is passed to it untouched.
/// `model_out`: receives a new model handle on success; the caller owns it and releases it with
/// `senti_free`.
/// `error_out`: optional; on failure receives an error the caller releases with `senti_error_free`.
///
/// # Safety
/// Pointers must be NULL or valid as described; `progress` must be safe to call with `user_data`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_train(
    params_json: *const c_char,
    progress: senti_progress_fn,
    user_data: *mut c_void,
    model_out: *mut *mut senti_model,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || -> Outcome {
            out(model_out, "model_out")?;
            let json = if params_json.is_null() { "" } else { c_str(params_json, "params_json")? };
            let params = TrainParams::from_json(json)?;
            let model = train_reporting(progress, user_data, |report| crate::train::train(&params, report))?;
            *model_out = handles::insert_model(model);
            Ok(())
        })
    }
}

/// Runs `train` (a training call of the core) reporting to the C progress callback: the one
/// conversion from the core's progress reports to `senti_progress`, shared by `senti_train`,
/// `senti_train_params` and `senti_train_dataset`.
///
/// # Safety
/// `progress` must be safe to call with `user_data`.
pub(super) unsafe fn train_reporting(
    progress: senti_progress_fn,
    user_data: *mut c_void,
    train: impl FnOnce(&mut crate::train::ProgressFn) -> crate::Result<Model>,
) -> crate::Result<Model> {
    let mut callback = |p: &Progress| -> Control {
        let Some(cb) = progress else { return Control::Continue };
        let c = senti_progress {
            phase: match p.phase {
                Phase::Batch => SENTI_PHASE_BATCH,
                Phase::Epoch => SENTI_PHASE_EPOCH,
                Phase::Pretrain => SENTI_PHASE_PRETRAIN,
            },
            epoch: p.epoch as u32,
            epochs: p.epochs as u32,
            batch: p.batch as u32,
            batches: p.batches as u32,
            loss: p.loss,
            accuracy: p.accuracy,
            val_loss: p.val_loss,
            val_accuracy: p.val_accuracy,
        };
        // SAFETY: the caller vouches for the callback and its user data.
        if unsafe { cb(&c, user_data) } != 0 { Control::Stop } else { Control::Continue }
    };
    train(&mut callback)
}

/// Copies `text` and a NUL into `buffer` by the capacity protocol of `senti_model_info`:
/// `length_out` (optional) receives the length without the NUL on success and on
/// `SENTI_ERR_BUFFER_TOO_SMALL` alike; `what` names the text in that error.
///
/// # Safety
/// `buffer` must be valid for `capacity` bytes (or NULL with capacity 0), `length_out` NULL or
/// valid for a write.
pub(super) unsafe fn write_text(text: &str, buffer: *mut c_char, capacity: usize, length_out: *mut usize, what: &str) -> Outcome {
    if buffer.is_null() && capacity > 0 {
        return Err(Failure::null("buffer"));
    }
    if !length_out.is_null() {
        // SAFETY: non-NULL and valid per the contract.
        unsafe { *length_out = text.len() };
    }
    if capacity <= text.len() {
        return Err(Failure::new(
            senti_status::SENTI_ERR_BUFFER_TOO_SMALL,
            format!("{what} needs {} bytes plus a NUL; the buffer holds {capacity}", text.len()),
        ));
    }
    // SAFETY: `capacity` > `text.len()` bytes are writable per the contract.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), text.len());
        *buffer.add(text.len()) = 0;
    }
    Ok(())
}

/// Loads a model file written by `senti_save`.
///
/// `path`: NUL-terminated UTF-8 path, borrowed. `model_out`: receives a new handle on success
/// (release with `senti_free`). A missing file fails with `SENTI_ERR_IO`; a damaged, truncated
/// or foreign file with `SENTI_ERR_MODEL_FILE`.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_load(path: *const c_char, model_out: *mut *mut senti_model, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            out(model_out, "model_out")?;
            let path = c_str(path, "path")?;
            let model = SentimentModel::load(path)?;
            *model_out = handles::insert_model(model);
            Ok(())
        })
    }
}

/// Saves a model to `path` (NUL-terminated UTF-8, borrowed) as one .safetensors file. The file is
/// written to a temporary name, synced and renamed over `path`, so a failed or interrupted save
/// leaves any previous file intact. Safe to call while other threads predict with the model.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_save(model: *const senti_model, path: *const c_char, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            let path = c_str(path, "path")?;
            model.save(path)?;
            Ok(())
        })
    }
}

/// For a two-label model, the probability in [0, 1] of its second label (`positive` for IMDB
/// models); a model with more labels fails with `SENTI_ERR_INVALID_ARGUMENT` (use
/// `senti_predict_scores`).
///
/// `text`: UTF-8 bytes, borrowed; `text_len` bytes long, or NUL-terminated when `text_len` is
/// `SENTI_NUL_TERMINATED`. With an explicit length the text may contain NUL bytes (they separate
/// words). Invalid UTF-8 fails with `SENTI_ERR_INVALID_UTF8`. A text without words (empty or
/// only spaces) gets the model's prior for an unknown word. NULL with length 0 is the empty text.
/// `probability_out`: written on success only. Thread-safe: any number of threads may predict
/// with the same model at once.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_predict(
    model: *const senti_model,
    text: *const c_char,
    text_len: usize,
    probability_out: *mut f32,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(probability_out, "probability_out")?;
            let text = self::text(text, text_len, "text")?;
            let p = model.predict(text)?;
            *probability_out = p;
            Ok(())
        })
    }
}

/// `senti_predict` for `count` texts at once (faster than one call per text); two-label models
/// only.
///
/// `texts`: `count` pointers to UTF-8 texts, borrowed. `text_lens`: NULL when every text is
/// NUL-terminated, else `count` lengths (each may be `SENTI_NUL_TERMINATED`). `probabilities_out`:
/// caller-allocated array of `count` floats, written on success only, in input order. `count`
/// of 0 fails with `SENTI_ERR_INVALID_ARGUMENT`. Thread-safe like `senti_predict`.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_predict_batch(
    model: *const senti_model,
    texts: *const *const c_char,
    text_lens: *const usize,
    count: usize,
    probabilities_out: *mut f32,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(probabilities_out, "probabilities_out")?;
            let texts = self::texts(texts, text_lens, count)?;
            let probs = model.predict_batch(&texts)?;
            std::ptr::copy_nonoverlapping(probs.as_ptr(), probabilities_out, probs.len());
            Ok(())
        })
    }
}

/// Evaluates the model on labeled data described by `data_json` (borrowed):
/// `{"path": "...", "format": "auto|imdb-json|aclimdb|jsonl|csv|folders", "split": "test|train",
/// "limit": N, "part": "model|recurrent|wide"}`. Only `path` is required; sources with splits
/// default to the test split; labels are the model's names (for a model none of whose labels is
/// a number, an integer is also taken as an index), and an unknown one is `SENTI_ERR_DATA`
/// naming the file and line; `limit` takes a fixed class-balanced sample; `part` scores the whole model
/// (default) or, for a model with a wide path, its recurrent network or its wide path alone
/// (`"wide"` on a model without one, and `"recurrent"` on a model without a network, trained
/// with `"layers": 0`, are `SENTI_ERR_CONFIG`). `result_out` is written on success
/// only. For every class's figures and the confusion matrix use `senti_evaluate_report`.
/// Thread-safe.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_evaluate(
    model: *const senti_model,
    data_json: *const c_char,
    result_out: *mut senti_evaluation,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(result_out, "result_out")?;
            let request = EvaluationRequest::from_json(c_str(data_json, "data_json")?)?;
            *result_out = to_c(&request.evaluate(&model)?);
            Ok(())
        })
    }
}

/// Evaluates the model on `count` texts held in memory with their `labels`, each a class index
/// below the model's label count (0 or 1 for a two-label model).
/// `texts` and `text_lens` as for `senti_predict_batch`. `result_out` is written on success only.
///
/// # Safety
/// Pointers must be NULL or valid as described.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_evaluate_texts(
    model: *const senti_model,
    texts: *const *const c_char,
    text_lens: *const usize,
    labels: *const u8,
    count: usize,
    result_out: *mut senti_evaluation,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            out(result_out, "result_out")?;
            let texts = self::texts(texts, text_lens, count)?;
            if labels.is_null() {
                return Err(Failure::null("labels"));
            }
            let labels = std::slice::from_raw_parts(labels, count);
            let mut examples = Vec::with_capacity(count);
            let classes = model.labels().len();
            for (i, (t, &l)) in texts.iter().zip(labels).enumerate() {
                if l as usize >= classes {
                    return Err(Error::new(ErrorKind::InvalidArgument, format!("labels[{i}] is {l}; this model's labels are 0 to {}", classes - 1)).into());
                }
                let label = model.labels().names()[l as usize].clone();
                examples.push(Example { text: t.to_string(), label, origin: Origin::Memory { index: i as u32 } });
            }
            *result_out = to_c(&model.evaluate(&examples)?);
            Ok(())
        })
    }
}

/// Describes the model as JSON: library version, model and text configuration, vocabulary
/// size, and the training record (parameters, per-epoch history, best epoch, wall time).
/// `"model_config"` is null for a model without a network (trained with `layers` 0).
///
/// Copies the JSON and a terminating NUL into `buffer` when `capacity` exceeds its length.
/// `length_out` (optional) receives the JSON's length without the NUL, on success and on
/// `SENTI_ERR_BUFFER_TOO_SMALL` alike, so a caller can ask with capacity 0 (buffer may then be
/// NULL), allocate, and ask again.
///
/// # Safety
/// `buffer` must be valid for `capacity` bytes (or NULL with capacity 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_model_info(
    model: *const senti_model,
    buffer: *mut c_char,
    capacity: usize,
    length_out: *mut usize,
    error_out: *mut *mut senti_error,
) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            let info = serde_json::json!({
                "library_version": crate::VERSION,
                "model_config": model.network_config(),
                "labels": model.labels(),
                "text_config": model.text_config(),
                "vocab_len": model.vocab_len(),
                "wide_config": model.wide().map(|w| &w.config),
                "training": model.record(),
            })
            .to_string();
            write_text(&info, buffer, capacity, length_out, "the model info")
        })
    }
}

/// Sets between how many threads the recurrent network of each later prediction, batch
/// prediction and evaluation with `model` splits its reviews: `threads` from 0 (the default: one
/// per available core) to `SENTI_MAX_THREADS` (1024). The setting belongs to the model, is safe to change while other
/// threads predict, and takes effect for calls that start after it returns; scores do not
/// depend on it.
///
/// A service that predicts from many threads at once usually gets more throughput from 1 (each
/// request on its own core); a program that makes one call at a time gets lower latency from
/// the default. Returns `SENTI_ERR_INVALID_ARGUMENT` above `SENTI_MAX_THREADS`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_set_prediction_threads(model: *const senti_model, threads: usize, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            handles::model(model)?.set_prediction_threads(threads)?;
            Ok(())
        })
    }
}

/// Sets the precision at which each later prediction, batch prediction and evaluation with
/// `model` stores the network's weights: `precision` is "f32" (the default after `senti_load`:
/// the weights as trained; a model builds what prediction reads at its first prediction, so one
/// switched before it predicts never holds f32's tables), "f16" (IEEE half floats, widened to f32 as they are read) or "i16"
/// (the recurrent matrices as 16-bit integers with a scale per row, multiplied by the state
/// rounded to 16-bit integers at every step; the per-word input table one byte a value with a
/// scale per row, half of "f16"'s memory).
///
/// "f16" halves the bytes a single review's recurrence reads at every step, which is what limits
/// a single review's latency: on an AVX-512 CPU the default BiLSTM's review took 0.56 to 0.66 of its f32
/// time (README, Models). It also stores the first layer's per-word input table at half size,
/// so the default bidirectional model keeps one at all (61 MB; its f32 table is over the 64 MB
/// limit and each review's words are projected instead): its serving process peaked 41 MB higher
/// in the benchmark. On IMDB's test split probabilities moved by at most 1.1e-4 and one review in 25,000
/// changed class. Arithmetic and state stay f32, and a review scores the same alone and in a
/// batch; where the kernels have no F16C product (the baseline level) the rounded weights are
/// held as f32, with the same scores. The wide path and a transformer's layers are unaffected;
/// explanations integrate their gradients at f32, so at f16 the rounding shows in their
/// unexplained part.
///
/// "i16" reads the same bytes as "f16" without widening them, which is what limits "f16" on
/// AVX2-only CPUs: held to AVX2 on an AVX-512 Xeon the default BiLSTM's review took 0.57 to
/// 0.59 ms at i16 against 0.67 to 0.74 at f16 and 0.88 to 0.92 at f32, and 0.39 ms at AVX-512
/// (README, Models). On IMDB's test split its accuracy equalled f32's for both default
/// models and probabilities moved by at most 1.1e-4. Its integer sums are exact, so every
/// instruction set gives the same scores, and a batch multiplies the same integers, so a review
/// scores the same alone and in a batch. For a model without a network the call changes nothing. Switching builds
/// the new weights first (tens of milliseconds for the default model; one switch at a time), is
/// safe while other threads predict, and takes effect for calls that start after it returns:
/// a call already running finishes with the weights it started with. `precision` must be a
/// NUL-terminated string, borrowed for the call; any other value is
/// `SENTI_ERR_INVALID_ARGUMENT` and changes nothing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn senti_set_prediction_precision(model: *const senti_model, precision: *const c_char, error_out: *mut *mut senti_error) -> senti_status {
    unsafe {
        guard(error_out, || {
            let model = handles::model(model)?;
            let precision = Precision::parse(c_str(precision, "precision")?)?;
            model.set_prediction_precision(precision)?;
            Ok(())
        })
    }
}

/// Releases a model handle. NULL, an already-freed handle or any other value is ignored, so an
/// explicit close and a finalizer may both call it. Calls already running with the model on
/// other threads finish normally; later calls with the handle fail with `SENTI_ERR_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn senti_free(model: *mut senti_model) {
    quietly((), || handles::remove_model(model))
}

/// The status code of an error; `SENTI_ERR_INVALID_HANDLE` if `error` is not a live error.
#[unsafe(no_mangle)]
pub extern "C" fn senti_error_code(error: *const senti_error) -> senti_status {
    quietly(senti_status::SENTI_ERR_INTERNAL, || handles::error(error).map_or(senti_status::SENTI_ERR_INVALID_HANDLE, |e| e.status))
}

/// The full message of an error as NUL-terminated UTF-8, owned by the error and valid until
/// `senti_error_free(error)`; NULL if `error` is not a live error.
#[unsafe(no_mangle)]
pub extern "C" fn senti_error_message(error: *const senti_error) -> *const c_char {
    quietly(std::ptr::null(), || handles::error_message(error))
}

/// Releases an error. NULL or an already-freed error is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn senti_error_free(error: *mut senti_error) {
    quietly((), || handles::remove_error(error))
}
