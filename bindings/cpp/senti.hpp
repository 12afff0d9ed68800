/*
 * senti.hpp — header-only C++17 wrapper over the libsenti C API (senti.h).
 *
 * Include it next to senti.h and link libsenti; there is nothing to compile. Everything here is
 * `inline`, so any number of translation units may include it.
 *
 *     senti::Model model = senti::Model::load("model.safetensors");
 *     float p = model.predict("A wonderful, moving film.");        // probability of positive
 *     std::vector<float> ps = model.predict_batch(lines);
 *
 * ERRORS
 *   Every failing call throws senti::Error, which carries the library's status code (status())
 *   and its full message (what()). The C error object behind it is always requested and always
 *   freed before the exception leaves the wrapper. The wrapper adds a few checks of its own
 *   (a NUL byte inside a path or JSON string, texts and labels of different lengths); those
 *   throw senti::Error with SENTI_ERR_INVALID_ARGUMENT. An exception thrown by a training
 *   progress callback is carried across the C call and rethrown unchanged (see Model::train).
 *
 * OWNERSHIP
 *   senti::Model owns one senti_model handle and frees it in its destructor. It is move-only;
 *   a moved-from Model is empty (operator bool is false) and its calls throw senti::Error with
 *   SENTI_ERR_NULL_POINTER, reported by the library itself. Strings, texts and arrays passed to
 *   any member are borrowed for the duration of the call only.
 *
 * THREADS
 *   predict, predict_batch, evaluate, save and info may run on one Model from many threads at
 *   once (the library synchronises them). Moving, assigning, resetting or destroying a Model
 *   while another thread uses the same object is a data race on the C++ object, as for any
 *   C++ type: keep the Model alive and unchanged while other threads call it.
 */
#ifndef SENTI_HPP
#define SENTI_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "senti.h"

namespace senti {

/// Progress callback for Model::train. Receives each batch and epoch update (valid only during
/// the call); return true to continue training, false to cancel it.
using ProgressFn = std::function<bool(const senti_progress&)>;

/// The library version string of the linked libsenti, e.g. "0.1.0".
inline std::string version() { return senti_version(); }

/// The linked library's version as MAJOR * 10000 + MINOR * 100 + PATCH. Compare with
/// SENTI_VERSION_NUMBER (this header's version) to detect a header/library mismatch.
inline std::uint32_t version_number() noexcept { return senti_version_number(); }

/// The name of a status code, e.g. "SENTI_ERR_IO". Static storage; never free it.
inline const char* status_name(senti_status status) noexcept { return senti_status_name(status); }

namespace detail {
struct ErrorDeleter {
    void operator()(senti_error* err) const noexcept { senti_error_free(err); }
};
}  // namespace detail

/// A failed libsenti call: the status code and the library's full message (what()).
/// Copyable, like every standard exception; it holds no library resources.
class Error : public std::runtime_error {
public:
    /// An error with the given status and message (used by the wrapper's own checks).
    Error(senti_status status, const std::string& message) : std::runtime_error(message), status_(status) {}

    /// Builds the exception for a failed C call and frees `err` (which may be NULL, in which
    /// case the message is the status name). Use it when mixing direct senti.h calls with the
    /// wrapper: `if (st != SENTI_OK) throw senti::Error::adopt(st, err);`.
    static Error adopt(senti_status status, senti_error* err) {
        std::unique_ptr<senti_error, detail::ErrorDeleter> owned(err);  // freed even if copying throws
        const char* message = err != nullptr ? senti_error_message(err) : nullptr;
        return Error(status, message != nullptr ? std::string(message) : std::string(senti_status_name(status)));
    }

    /// The library's status code (never SENTI_OK).
    senti_status status() const noexcept { return status_; }

    /// The status code's name, e.g. "SENTI_ERR_MODEL_FILE".
    const char* status_name() const noexcept { return senti_status_name(status_); }

private:
    senti_status status_;
};

namespace detail {

// Throws for a failed status; frees the error object either way.
inline void check(senti_status status, senti_error* err) {
    if (status != SENTI_OK) throw Error::adopt(status, err);
    senti_error_free(err);
}

// Runs `f(&err)` for a C call that takes a trailing senti_error** and throws on failure.
template <class F>
void call(F&& f) {
    senti_error* err = nullptr;
    const senti_status status = std::forward<F>(f)(&err);
    check(status, err);
}

// The C API takes NUL-terminated paths and JSON; an embedded NUL would silently cut them short.
inline const char* c_str(const std::string& s, const char* what) {
    if (s.find('\0') != std::string::npos)
        throw Error(SENTI_ERR_INVALID_ARGUMENT, std::string(what) + " contains a NUL byte");
    return s.c_str();
}

struct Text {
    const char* data;
    std::size_t len;
};
// Explicit length for string-like texts; a NULL data pointer (empty string_view) becomes "".
inline Text to_text(std::string_view s) noexcept { return {s.data() != nullptr ? s.data() : "", s.size()}; }
// SENTI_NUL_TERMINATED without its C-style cast, which -Wold-style-cast would flag in user code.
inline constexpr std::size_t nul_terminated = static_cast<std::size_t>(-1);
// C strings are passed as NUL-terminated, so a NULL pointer reaches the library and is reported.
inline Text to_text(const char* s) noexcept { return {s, nul_terminated}; }

// Pointer and length arrays for the batch calls; never empty, so data() is never NULL.
struct TextArray {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;

    template <class T>
    TextArray(const T* texts, std::size_t count) {
        ptrs.reserve(count > 0 ? count : 1);
        lens.reserve(count > 0 ? count : 1);
        for (std::size_t i = 0; i < count; ++i) {
            const Text t = to_text(texts[i]);
            ptrs.push_back(t.data);
            lens.push_back(t.len);
        }
    }
};

// A contiguous range (std::data, std::size) whose elements convert to std::string_view:
// std::vector / std::array / C arrays of std::string, std::string_view or const char*.
template <class C, class = void>
struct is_text_range : std::false_type {};
template <class C>
struct is_text_range<C, std::void_t<decltype(std::data(std::declval<const C&>())),
                                    decltype(std::size(std::declval<const C&>()))>>
    : std::is_convertible<decltype(*std::data(std::declval<const C&>())), std::string_view> {};

struct ProgressBridge {
    const ProgressFn* fn;
    std::exception_ptr exception;
};

// The C callback. Exceptions must not unwind through the library's frames: the first one is
// stored, training is cancelled, and Model::train rethrows it once senti_train has returned.
inline std::int32_t progress_trampoline(const senti_progress* progress, void* user_data) noexcept {
    auto* bridge = static_cast<ProgressBridge*>(user_data);
    if (bridge->exception) return 1;
    try {
        return (*bridge->fn)(*progress) ? 0 : 1;
    } catch (...) {
        bridge->exception = std::current_exception();
        return 1;
    }
}

}  // namespace detail

/// A trained sentiment classifier: owns one senti_model handle, freed by the destructor.
/// Move-only. See the THREADS note at the top of this file.
class Model {
public:
    /// An empty model (no handle). Its calls throw senti::Error(SENTI_ERR_NULL_POINTER).
    Model() noexcept = default;

    /// Takes ownership of a handle from senti_train or senti_load (NULL gives an empty model).
    explicit Model(senti_model* handle) noexcept : handle_(handle) {}

    /// Frees the handle (senti_free). Calls already running on other threads finish normally.
    ~Model() { senti_free(handle_); }

    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    /// Takes the handle of `other`, which is left empty.
    Model(Model&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

    /// Frees this model's handle, then takes the handle of `other`, which is left empty.
    Model& operator=(Model&& other) noexcept {
        if (this != &other) reset(std::exchange(other.handle_, nullptr));
        return *this;
    }

    /// Trains a model (senti_train) on the calling thread plus the library's own worker pool
    /// ("threads" parameter). `params_json` is a JSON object of training parameters ("" or "{}"
    /// for all defaults), borrowed for the call. `progress`, if given, is called on this thread
    /// after every batch and every epoch; returning false cancels training, which then throws
    /// senti::Error(SENTI_ERR_CANCELLED). If `progress` throws, training is cancelled and that
    /// exception is rethrown from here, unchanged. The returned Model owns the new handle.
    /// Throws senti::Error (SENTI_ERR_CONFIG for bad parameters, SENTI_ERR_IO / SENTI_ERR_DATA
    /// for the training data, SENTI_ERR_DIVERGED, ...).
    [[nodiscard]] static Model train(const std::string& params_json, ProgressFn progress = {}) {
        const char* params = detail::c_str(params_json, "params_json");
        detail::ProgressBridge bridge{&progress, nullptr};
        senti_model* handle = nullptr;
        senti_error* err = nullptr;
        const senti_status status = senti_train(params, progress ? &detail::progress_trampoline : nullptr,
                                                progress ? &bridge : nullptr, &handle, &err);
        Model model(handle);  // owns whatever the call produced, whatever happens next
        if (bridge.exception) {
            senti_error_free(err);
            std::rethrow_exception(bridge.exception);
        }
        detail::check(status, err);
        return model;
    }

    /// Loads a model file written by save() (senti_load). The returned Model owns the handle.
    /// Throws senti::Error: SENTI_ERR_IO for a missing or unreadable file, SENTI_ERR_MODEL_FILE
    /// for a damaged, truncated, foreign or unsupported one.
    [[nodiscard]] static Model load(const std::string& path) {
        const char* p = detail::c_str(path, "path");
        senti_model* handle = nullptr;
        detail::call([&](senti_error** err) { return senti_load(p, &handle, err); });
        return Model(handle);
    }

    /// Probability in [0, 1] that `text` (UTF-8, borrowed; need not be NUL-terminated and may
    /// contain NUL bytes) is a positive review. Thread-safe on one model. Throws senti::Error
    /// (SENTI_ERR_INVALID_UTF8 for invalid UTF-8, SENTI_ERR_NULL_POINTER on an empty Model).
    [[nodiscard]] float predict(std::string_view text) const {
        const detail::Text t = detail::to_text(text);
        float probability = 0.0f;
        detail::call([&](senti_error** err) { return senti_predict(handle_, t.data, t.len, &probability, err); });
        return probability;
    }

    /// Probabilities for `count` texts at once, in input order (faster than one predict per
    /// text). The texts are borrowed for the call. An empty batch returns an empty vector
    /// without calling the library. Thread-safe on one model. Throws senti::Error.
    [[nodiscard]] std::vector<float> predict_batch(const std::string_view* texts, std::size_t count) const {
        return predict_batch_impl(texts, count);
    }

    /// predict_batch over a vector of strings.
    [[nodiscard]] std::vector<float> predict_batch(const std::vector<std::string>& texts) const {
        return predict_batch_impl(texts.data(), texts.size());
    }

    /// predict_batch over a braced list: `model.predict_batch({"great film", "dull"})`.
    [[nodiscard]] std::vector<float> predict_batch(std::initializer_list<std::string_view> texts) const {
        return predict_batch_impl(texts.begin(), texts.size());
    }

    /// predict_batch over any contiguous container (std::data and std::size) of std::string,
    /// std::string_view or const char* (a NULL const char* is reported by the library).
    template <class Texts, std::enable_if_t<detail::is_text_range<Texts>::value, int> = 0>
    [[nodiscard]] std::vector<float> predict_batch(const Texts& texts) const {
        return predict_batch_impl(std::data(texts), std::size(texts));
    }

    /// Loss, accuracy and confusion counts on labeled data described by `data_json`
    /// (borrowed): {"path": "...", "format": "auto|imdb-json|aclimdb|jsonl|csv",
    /// "split": "test|train", "limit": N, "part": "model|recurrent|wide"}; only "path" is
    /// required; "part" scores the whole model (default) or one part of a model with a wide
    /// n-gram path. Thread-safe on one model.
    /// Throws senti::Error (SENTI_ERR_CONFIG for a bad specification, SENTI_ERR_IO, SENTI_ERR_DATA).
    [[nodiscard]] senti_evaluation evaluate(const std::string& data_json) const {
        const char* spec = detail::c_str(data_json, "data_json");
        senti_evaluation result{};
        detail::call([&](senti_error** err) { return senti_evaluate(handle_, spec, &result, err); });
        return result;
    }

    /// Loss, accuracy and confusion counts on texts held in memory (a contiguous container as
    /// for predict_batch) with their labels (any container of integers or bools, each 0 or 1,
    /// one per text). Both are borrowed for the call. Thread-safe on one model. Throws
    /// senti::Error: SENTI_ERR_INVALID_ARGUMENT for mismatched lengths, a label other than
    /// 0 or 1, or no texts at all.
    template <class Texts, class Labels, std::enable_if_t<detail::is_text_range<Texts>::value, int> = 0>
    [[nodiscard]] senti_evaluation evaluate(const Texts& texts, const Labels& labels) const {
        using Label = std::decay_t<decltype(*std::begin(labels))>;
        static_assert(std::is_integral<Label>::value || std::is_same<Labels, std::vector<bool>>::value,
                      "labels must be integers or bools (0 or 1)");
        const std::size_t count = std::size(texts);
        if (static_cast<std::size_t>(std::size(labels)) != count)
            throw Error(SENTI_ERR_INVALID_ARGUMENT, "evaluate: " + std::to_string(count) + " texts but " +
                                                        std::to_string(std::size(labels)) + " labels");
        std::vector<std::uint8_t> bytes;
        bytes.reserve(count > 0 ? count : 1);
        for (const auto& label : labels) {
            const auto value = static_cast<long long>(label);
            if (value != 0 && value != 1)
                throw Error(SENTI_ERR_INVALID_ARGUMENT,
                            "evaluate: labels[" + std::to_string(bytes.size()) + "] is " + std::to_string(value) +
                                ", not 0 or 1");
            bytes.push_back(static_cast<std::uint8_t>(value));
        }
        const detail::TextArray array(std::data(texts), count);
        senti_evaluation result{};
        detail::call([&](senti_error** err) {
            return senti_evaluate_texts(handle_, array.ptrs.data(), array.lens.data(), bytes.data(), count, &result,
                                        err);
        });
        return result;
    }

    /// Writes the model to `path` as one .safetensors file, atomically (a temporary file is
    /// synced and renamed, so a failed save leaves any previous file intact). Safe while other
    /// threads predict with the model. Throws senti::Error (SENTI_ERR_IO).
    void save(const std::string& path) const {
        const char* p = detail::c_str(path, "path");
        detail::call([&](senti_error** err) { return senti_save(handle_, p, err); });
    }

    /// The model's description as JSON: library version, model and text configuration,
    /// vocabulary size and training record. Thread-safe on one model. Throws senti::Error.
    [[nodiscard]] std::string info() const {
        std::size_t length = 0;
        senti_error* err = nullptr;
        senti_status status = senti_model_info(handle_, nullptr, 0, &length, &err);
        for (;;) {
            if (status != SENTI_OK && status != SENTI_ERR_BUFFER_TOO_SMALL) throw Error::adopt(status, err);
            senti_error_free(err);
            err = nullptr;
            std::string json(length + 1, '\0');
            status = senti_model_info(handle_, json.data(), json.size(), &length, &err);
            if (status == SENTI_OK) {
                json.resize(length);
                return json;
            }
        }
    }

    /// True when the model holds a handle (false after a move or release()).
    explicit operator bool() const noexcept { return handle_ != nullptr; }

    /// The handle, still owned by this Model; for direct senti.h calls.
    senti_model* get() const noexcept { return handle_; }

    /// Gives up ownership: returns the handle (the caller must senti_free it) and leaves this
    /// Model empty.
    [[nodiscard]] senti_model* release() noexcept { return std::exchange(handle_, nullptr); }

    /// Frees the current handle and takes ownership of `handle` (default: none).
    void reset(senti_model* handle = nullptr) noexcept { senti_free(std::exchange(handle_, handle)); }

    /// Exchanges the handles of two models.
    void swap(Model& other) noexcept { std::swap(handle_, other.handle_); }
    friend void swap(Model& a, Model& b) noexcept { a.swap(b); }

private:
    template <class T>
    std::vector<float> predict_batch_impl(const T* texts, std::size_t count) const {
        std::vector<float> probabilities;
        if (count == 0) return probabilities;
        const detail::TextArray array(texts, count);
        probabilities.resize(count);
        detail::call([&](senti_error** err) {
            return senti_predict_batch(handle_, array.ptrs.data(), array.lens.data(), count, probabilities.data(), err);
        });
        return probabilities;
    }

    senti_model* handle_ = nullptr;
};

}  // namespace senti

#endif  // SENTI_HPP
