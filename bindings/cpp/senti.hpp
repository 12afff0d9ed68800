/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * senti.hpp — header-only C++17 wrapper over the libsenti C API (senti.h).
 *
 * Include it next to senti.h and link libsenti; there is nothing to compile. Everything here is
 * `inline`, so any number of translation units may include it.
 *
 *     senti::Model model = senti::Model::load("model.safetensors");
 *     float p = model.predict("A wonderful, moving film.");        // two labels: P(second label)
 *     std::vector<float> ps = model.predict_batch(lines);
 *     std::vector<float> s = model.scores("...");                   // K scores, in labels() order
 *     senti::Prediction top = model.predict_label("...");           // {index, label, score}
 *     senti::Explanation why = model.explain("...");                // each token's contribution
 *
 *     senti::Dataset train;                                         // training from memory
 *     train.set_labels({"sports", "cooking", "space"});
 *     train.add("the striker scored a late goal", "sports");
 *     senti::Model m = senti::Model::train(senti::Params().cell("gru").epochs(3), train);
 *     senti::Report r = m.evaluate(test_set);                      // accuracy, per class, confusion
 *
 * ERRORS
 *   Every failing call throws senti::Error, which carries the library's status code (status())
 *   and its full message (what()). The C error object behind it is always requested and always
 *   freed before the exception leaves the wrapper. The wrapper adds a few checks of its own
 *   (a NUL byte inside a path, JSON string, field name or label, texts and labels of different
 *   lengths, an empty Params or Dataset where NULL would silently mean something else); those
 *   throw senti::Error with SENTI_ERR_INVALID_ARGUMENT or SENTI_ERR_NULL_POINTER. A bad training
 *   parameter (unknown field, wrong type, out of range) is SENTI_ERR_CONFIG with a message that
 *   names the field. An exception thrown by a training progress callback is carried across the
 *   C call and rethrown unchanged (see Model::train).
 *
 * OWNERSHIP
 *   senti::Model, senti::Params and senti::Dataset each own one handle and free it in their
 *   destructor. They are move-only; a moved-from object is empty (operator bool is false) and
 *   its calls throw senti::Error with SENTI_ERR_NULL_POINTER. Strings, texts and arrays passed
 *   to any member are borrowed for the duration of the call only (a Dataset copies what it is
 *   given). senti::Report, senti::Prediction and senti::Explanation are plain values (an
 *   explanation's C object is freed before Model::explain returns).
 *
 * THREADS
 *   predict, predict_batch, scores, scores_batch, predict_label, explain, labels, evaluate,
 *   evaluate_report, save and info may run on one Model from many threads at once (the library
 *   synchronises them); so may the setters and to_json on one Params, and add and size on one
 *   Dataset. Moving, assigning, resetting or destroying any of these objects while another thread
 *   uses the same object is a data race on the C++ object, as for any C++ type.
 */
#ifndef SENTI_HPP
#define SENTI_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <locale>
#include <memory>
#include <sstream>
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

// A NUL-terminated copy of a string_view (field names, string values, labels), refusing
// embedded NULs. `what` names the argument in the message.
inline std::string c_string(std::string_view s, const std::string& what) {
    if (s.find('\0') != std::string_view::npos)
        throw Error(SENTI_ERR_INVALID_ARGUMENT, what + " contains a NUL byte");
    return std::string(s);
}

// Reads a string by the capacity protocol of senti_model_info: `f(buffer, capacity, &length,
// &err)` reports the length without the NUL on success and on SENTI_ERR_BUFFER_TOO_SMALL.
template <class F>
std::string read_string(F&& f) {
    std::size_t length = 0;
    senti_error* err = nullptr;
    senti_status status = f(static_cast<char*>(nullptr), std::size_t{0}, &length, &err);
    for (;;) {
        if (status != SENTI_OK && status != SENTI_ERR_BUFFER_TOO_SMALL) throw Error::adopt(status, err);
        senti_error_free(err);
        err = nullptr;
        std::string text(length + 1, '\0');
        status = f(text.data(), text.size(), &length, &err);
        if (status == SENTI_OK) {
            text.resize(length);
            return text;
        }
    }
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

// NUL-terminated copies of names (labels) and their pointers; never empty, so data() is never
// NULL. `what` names the argument in messages ("labels" gives "labels[3] contains a NUL byte").
struct NameArray {
    std::vector<std::string> names;
    std::vector<const char*> ptrs;

    template <class Names>
    NameArray(const Names& list, const char* what) {
        for (const auto& name : list) {
            const std::string_view view(name);
            names.push_back(c_string(view, std::string(what) + "[" + std::to_string(names.size()) + "]"));
        }
        ptrs.reserve(names.size() > 0 ? names.size() : 1);
        for (const std::string& name : names) ptrs.push_back(name.c_str());
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

// Any range (std::begin, std::end, std::size) whose elements convert to std::string_view: the
// label names, which are copied anyway (std::vector, std::list, std::set, std::array, ...).
template <class C, class = void>
struct is_name_range : std::false_type {};
template <class C>
struct is_name_range<C, std::void_t<decltype(std::begin(std::declval<const C&>())),
                                    decltype(std::end(std::declval<const C&>())),
                                    decltype(std::size(std::declval<const C&>()))>>
    : std::is_convertible<decltype(*std::begin(std::declval<const C&>())), std::string_view> {};

// Any range (std::begin, std::end, std::size) of integers: label indices.
template <class C, class = void>
struct is_index_range : std::false_type {};
template <class C>
struct is_index_range<C, std::void_t<decltype(std::begin(std::declval<const C&>())),
                                     decltype(std::end(std::declval<const C&>())),
                                     decltype(std::size(std::declval<const C&>()))>>
    : std::is_integral<std::decay_t<decltype(*std::begin(std::declval<const C&>()))>> {};

template <class T>
struct dependent_false : std::false_type {};

struct ProgressBridge {
    const ProgressFn* fn;
    std::exception_ptr exception;
};

// The C callback. Exceptions must not unwind through the library's frames: the first one is
// stored, training is cancelled, and Model::train rethrows it once the C call has returned.
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

// A minimal JSON reader for the library's own output (the evaluation report): objects, arrays,
// strings with every escape, numbers kept as their literal text, true/false/null. A malformed
// document is a library bug and throws senti::Error(SENTI_ERR_INTERNAL).
namespace json {

struct Value {
    enum class Kind { null, boolean, number, string, array, object };
    Kind kind = Kind::null;
    bool boolean = false;
    std::string text;               // a string's contents, or a number's literal
    std::vector<Value> items;       // array elements, or object member values
    std::vector<std::string> keys;  // object member names, parallel to items

    // The member `key` of an object (the first, if repeated), or nullptr.
    const Value* find(std::string_view key) const noexcept {
        if (kind != Kind::object) return nullptr;
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == key) return &items[i];
        return nullptr;
    }
};

[[noreturn]] inline void fail(const std::string& what) {
    throw Error(SENTI_ERR_INTERNAL, "senti.hpp: unexpected JSON from the library: " + what);
}

class Parser {
public:
    explicit Parser(std::string_view input) noexcept : in_(input) {}

    Value document() {
        Value v = value(0);
        space();
        if (pos_ != in_.size()) error("trailing characters");
        return v;
    }

private:
    static constexpr int max_depth = 64;

    [[noreturn]] void error(const char* what) const { fail(std::string(what) + " at byte " + std::to_string(pos_)); }

    void space() noexcept {
        while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r'))
            ++pos_;
    }

    bool eat(char c) noexcept {
        space();
        if (pos_ < in_.size() && in_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    void expect(char c) {
        if (!eat(c)) error((std::string("expected '") + c + "'").c_str());
    }

    bool literal(std::string_view word) noexcept {
        if (in_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    Value value(int depth) {
        if (depth > max_depth) error("nesting too deep");
        space();
        if (pos_ >= in_.size()) error("unexpected end");
        Value v;
        const char c = in_[pos_];
        if (c == '{') {
            ++pos_;
            v.kind = Value::Kind::object;
            if (eat('}')) return v;
            do {
                space();
                v.keys.push_back(string());
                expect(':');
                v.items.push_back(value(depth + 1));
            } while (eat(','));
            expect('}');
        } else if (c == '[') {
            ++pos_;
            v.kind = Value::Kind::array;
            if (eat(']')) return v;
            do v.items.push_back(value(depth + 1));
            while (eat(','));
            expect(']');
        } else if (c == '"') {
            v.kind = Value::Kind::string;
            v.text = string();
        } else if (literal("true")) {
            v.kind = Value::Kind::boolean;
            v.boolean = true;
        } else if (literal("false")) {
            v.kind = Value::Kind::boolean;
        } else if (literal("null")) {
            v.kind = Value::Kind::null;
        } else {
            v.kind = Value::Kind::number;
            v.text = number();
        }
        return v;
    }

    static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

    // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    std::string number() {
        const std::size_t start = pos_;
        auto digits = [&] {
            const std::size_t first = pos_;
            while (pos_ < in_.size() && digit(in_[pos_])) ++pos_;
            if (pos_ == first) error("bad number");
        };
        if (pos_ < in_.size() && in_[pos_] == '-') ++pos_;
        if (pos_ < in_.size() && in_[pos_] == '0')
            ++pos_;
        else
            digits();
        if (pos_ < in_.size() && in_[pos_] == '.') {
            ++pos_;
            digits();
        }
        if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
            digits();
        }
        return std::string(in_.substr(start, pos_ - start));
    }

    unsigned hex4() {
        if (in_.size() - pos_ < 4) error("short \\u escape");
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = in_[pos_++];
            code <<= 4;
            if (c >= '0' && c <= '9')
                code |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                code |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                code |= static_cast<unsigned>(c - 'A' + 10);
            else
                error("bad \\u escape");
        }
        return code;
    }

    static void append_utf8(std::string& out, unsigned code) {
        auto byte = [&](unsigned b) { out.push_back(static_cast<char>(static_cast<unsigned char>(b))); };
        if (code < 0x80) {
            byte(code);
        } else if (code < 0x800) {
            byte(0xC0 | (code >> 6));
            byte(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            byte(0xE0 | (code >> 12));
            byte(0x80 | ((code >> 6) & 0x3F));
            byte(0x80 | (code & 0x3F));
        } else {
            byte(0xF0 | (code >> 18));
            byte(0x80 | ((code >> 12) & 0x3F));
            byte(0x80 | ((code >> 6) & 0x3F));
            byte(0x80 | (code & 0x3F));
        }
    }

    std::string string() {
        if (pos_ >= in_.size() || in_[pos_] != '"') error("expected a string");
        ++pos_;
        std::string out;
        for (;;) {
            if (pos_ >= in_.size()) error("unterminated string");
            const char c = in_[pos_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) error("control character in a string");
            if (c != '\\') {
                out.push_back(c);
                continue;
            }
            if (pos_ >= in_.size()) error("unterminated string");
            switch (in_[pos_++]) {
                case '"': out.push_back('"'); break;
                case '\\': out.push_back('\\'); break;
                case '/': out.push_back('/'); break;
                case 'b': out.push_back('\b'); break;
                case 'f': out.push_back('\f'); break;
                case 'n': out.push_back('\n'); break;
                case 'r': out.push_back('\r'); break;
                case 't': out.push_back('\t'); break;
                case 'u': {
                    unsigned code = hex4();
                    if (code >= 0xDC00 && code <= 0xDFFF) error("lone low surrogate");
                    if (code >= 0xD800 && code <= 0xDBFF) {
                        if (!literal("\\u")) error("lone high surrogate");
                        const unsigned low = hex4();
                        if (low < 0xDC00 || low > 0xDFFF) error("bad surrogate pair");
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    }
                    append_utf8(out, code);
                    break;
                }
                default: error("bad escape");
            }
        }
    }

    std::string_view in_;
    std::size_t pos_ = 0;
};

inline Value parse(std::string_view text) { return Parser(text).document(); }

inline const Value& member(const Value& object, std::string_view key) {
    const Value* v = object.find(key);
    if (v == nullptr) fail("no \"" + std::string(key) + "\" member");
    return *v;
}

inline const std::vector<Value>& array(const Value& v, std::string_view what) {
    if (v.kind != Value::Kind::array) fail("\"" + std::string(what) + "\" is not an array");
    return v.items;
}

inline const std::string& string(const Value& v, std::string_view what) {
    if (v.kind != Value::Kind::string) fail("\"" + std::string(what) + "\" is not a string");
    return v.text;
}

// A number, independent of the C locale; null (how the library writes NaN) is NaN.
inline double number(const Value& v, std::string_view what) {
    if (v.kind == Value::Kind::null) return std::numeric_limits<double>::quiet_NaN();
    if (v.kind != Value::Kind::number) fail("\"" + std::string(what) + "\" is not a number");
    std::istringstream in(v.text);
    in.imbue(std::locale::classic());
    double x = 0.0;
    in >> x;
    if (in.fail()) fail("\"" + std::string(what) + "\" is out of range");
    return x;
}

// A float read as a float (not through a double, which could round twice), so that the
// library's shortest representation of an f32 reads back as that f32; null is NaN.
inline float number_f(const Value& v, std::string_view what) {
    if (v.kind == Value::Kind::null) return std::numeric_limits<float>::quiet_NaN();
    if (v.kind != Value::Kind::number) fail("\"" + std::string(what) + "\" is not a number");
    std::istringstream in(v.text);
    in.imbue(std::locale::classic());
    float x = 0.0f;
    in >> x;
    if (in.fail()) fail("\"" + std::string(what) + "\" is out of range");
    return x;
}

inline bool boolean(const Value& v, std::string_view what) {
    if (v.kind != Value::Kind::boolean) fail("\"" + std::string(what) + "\" is not a boolean");
    return v.boolean;
}

// A non-negative integer written without fraction or exponent.
inline std::uint64_t count(const Value& v, std::string_view what) {
    if (v.kind != Value::Kind::number || v.text.find_first_not_of("0123456789") != std::string::npos)
        fail("\"" + std::string(what) + "\" is not a count");
    std::uint64_t n = 0;
    for (const char c : v.text) {
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) fail("\"" + std::string(what) + "\" overflows");
        n = n * 10 + d;
    }
    return n;
}

}  // namespace json

}  // namespace detail

/// One class's figures in a Report.
struct ClassMetrics {
    std::string label;
    double precision = 0.0;     ///< 0 for a class the model never predicted
    double recall = 0.0;        ///< 0 for a class without examples
    double f1 = 0.0;
    std::uint64_t support = 0;  ///< examples whose actual class is this one
};

/// A model's full evaluation on labeled data, for any number of classes K
/// (Model::evaluate_report, Model::evaluate(const Dataset&)). A plain value.
struct Report {
    std::uint64_t count = 0;  ///< examples evaluated
    double accuracy = 0.0;    ///< fraction classified correctly (the most likely class)
    double loss = 0.0;        ///< mean cross-entropy (NaN if the library reported none)
    double macro_f1 = 0.0;    ///< unweighted mean of the per-class F1
    std::vector<std::string> labels;     ///< the K class names, in the model's label order
    std::vector<ClassMetrics> per_class; ///< K entries, in label order
    /// K x K counts, confusion[actual][predicted], in label order; every row and the whole
    /// matrix sum to the class's support and to count.
    std::vector<std::vector<std::uint64_t>> confusion;
    std::string json;  ///< the report exactly as the library wrote it (senti_report_json)

    /// Reads a report from the library's JSON: {"count", "accuracy", "loss", "macro_f1",
    /// "labels", "per_class": [{"label", "precision", "recall", "f1", "support"}...],
    /// "confusion"}. Members may come in any order; unknown members are ignored. Throws
    /// senti::Error(SENTI_ERR_INTERNAL) when the JSON is malformed or a member is missing.
    static Report parse(std::string_view json);
};

inline Report Report::parse(std::string_view text) {
    namespace js = detail::json;
    const js::Value root = js::parse(text);
    if (root.kind != js::Value::Kind::object) js::fail("not an object");
    Report r;
    r.count = js::count(js::member(root, "count"), "count");
    r.accuracy = js::number(js::member(root, "accuracy"), "accuracy");
    r.loss = js::number(js::member(root, "loss"), "loss");
    r.macro_f1 = js::number(js::member(root, "macro_f1"), "macro_f1");
    for (const js::Value& name : js::array(js::member(root, "labels"), "labels"))
        r.labels.push_back(js::string(name, "labels[]"));
    for (const js::Value& entry : js::array(js::member(root, "per_class"), "per_class")) {
        if (entry.kind != js::Value::Kind::object) js::fail("\"per_class\" holds a non-object");
        ClassMetrics c;
        c.label = js::string(js::member(entry, "label"), "label");
        c.precision = js::number(js::member(entry, "precision"), "precision");
        c.recall = js::number(js::member(entry, "recall"), "recall");
        c.f1 = js::number(js::member(entry, "f1"), "f1");
        c.support = js::count(js::member(entry, "support"), "support");
        r.per_class.push_back(std::move(c));
    }
    for (const js::Value& row : js::array(js::member(root, "confusion"), "confusion")) {
        std::vector<std::uint64_t> counts;
        for (const js::Value& cell : js::array(row, "confusion[]")) counts.push_back(js::count(cell, "confusion[][]"));
        r.confusion.push_back(std::move(counts));
    }
    r.json = std::string(text);
    return r;
}

/// The most likely class for one text (Model::predict_label).
struct Prediction {
    std::size_t index = 0;  ///< position in Model::labels()
    std::string label;      ///< its name
    float score = 0.0f;     ///< its score, in [0, 1] (the largest of Model::scores)
};

/// Pass as the class to Model::explain to explain the predicted class (SENTI_PREDICTED_CLASS).
inline constexpr std::size_t predicted_class = static_cast<std::size_t>(-1);

/// One token of an Explanation.
struct TokenContribution {
    std::string token;          ///< the token as the model saw it (lowercased)
    std::size_t start = 0;      ///< its byte range [start, end) in the text given to Model::explain
    std::size_t end = 0;
    float contribution = 0.0f;  ///< network + wide: how far it moved the class's logit (> 0: towards it)
    float network = 0.0f;       ///< the recurrent network's part (0 when it did not read the token)
    float wide = 0.0f;          ///< the wide n-gram path's part (0 without a wide path)
    bool read_by_network = false;  ///< false past the model's max_len, where only the wide path credits

    /// The token's bytes in `text`, the text that was explained: text.substr(start, end - start).
    /// Throws std::out_of_range for a shorter text.
    [[nodiscard]] std::string_view text_in(std::string_view text) const { return text.substr(start, end - start); }
};

/// Why a model gave a text its score (Model::explain): every token with its byte range and its
/// signed contribution to one class's logit. A plain value; the library's explanation object
/// is freed before Model::explain returns.
///
/// reference + the sum of the contributions + unexplained == logit. For a two-label model the
/// first label's logit is the second's, negated, and so are the contributions; with more labels
/// the logit is the class's own, before the softmax.
struct Explanation {
    std::size_t class_index = 0;  ///< the explained class, its position in Model::labels()
    std::string label;            ///< its name
    float score = 0.0f;           ///< the model's probability for it (as Model::scores gives it)
    float logit = 0.0f;           ///< its logit
    float reference = 0.0f;       ///< the logit of a text without words
    float unexplained = 0.0f;     ///< what the contributions leave out: the integration's error
    std::string method;           ///< how the network's part was computed: "integrated_gradients"; "wide_path" for a model without a network
    std::uint32_t steps = 0;      ///< integration steps used
    std::vector<TokenContribution> tokens;  ///< in text order; empty for a text without words
    std::string json;  ///< the explanation exactly as the library wrote it (senti_explanation_json)

    /// Reads an explanation from the library's JSON: {"class", "label", "score", "logit",
    /// "reference", "unexplained", "method", "steps", "tokens": [{"token", "start", "end",
    /// "contribution", "network", "wide", "read_by_network"}...]}. Members may come in any
    /// order; unknown members are ignored. Throws senti::Error(SENTI_ERR_INTERNAL) when the JSON
    /// is malformed or a member is missing.
    static Explanation parse(std::string_view json);
};

inline Explanation Explanation::parse(std::string_view text) {
    namespace js = detail::json;
    const js::Value root = js::parse(text);
    if (root.kind != js::Value::Kind::object) js::fail("not an object");
    Explanation e;
    e.class_index = static_cast<std::size_t>(js::count(js::member(root, "class"), "class"));
    e.label = js::string(js::member(root, "label"), "label");
    e.score = js::number_f(js::member(root, "score"), "score");
    e.logit = js::number_f(js::member(root, "logit"), "logit");
    e.reference = js::number_f(js::member(root, "reference"), "reference");
    e.unexplained = js::number_f(js::member(root, "unexplained"), "unexplained");
    e.method = js::string(js::member(root, "method"), "method");
    const std::uint64_t steps = js::count(js::member(root, "steps"), "steps");
    if (steps > std::numeric_limits<std::uint32_t>::max()) js::fail("\"steps\" overflows");
    e.steps = static_cast<std::uint32_t>(steps);
    for (const js::Value& entry : js::array(js::member(root, "tokens"), "tokens")) {
        if (entry.kind != js::Value::Kind::object) js::fail("\"tokens\" holds a non-object");
        TokenContribution t;
        t.token = js::string(js::member(entry, "token"), "token");
        t.start = static_cast<std::size_t>(js::count(js::member(entry, "start"), "start"));
        t.end = static_cast<std::size_t>(js::count(js::member(entry, "end"), "end"));
        t.contribution = js::number_f(js::member(entry, "contribution"), "contribution");
        t.network = js::number_f(js::member(entry, "network"), "network");
        t.wide = js::number_f(js::member(entry, "wide"), "wide");
        t.read_by_network = js::boolean(js::member(entry, "read_by_network"), "read_by_network");
        e.tokens.push_back(std::move(t));
    }
    e.json = std::string(text);
    return e;
}

namespace detail {
struct ExplanationDeleter {
    void operator()(senti_explanation* explanation) const noexcept { senti_explanation_free(explanation); }
};

// Takes ownership of an explanation from the library, reads its JSON and frees it.
inline Explanation adopt_explanation(senti_explanation* explanation) {
    const std::unique_ptr<senti_explanation, ExplanationDeleter> owned(explanation);
    const char* json = senti_explanation_json(explanation);
    if (json == nullptr)
        throw Error(SENTI_ERR_INTERNAL, "senti_explanation_json returned NULL for a live explanation");
    return Explanation::parse(json);
}

struct ReportDeleter {
    void operator()(senti_report* report) const noexcept { senti_report_free(report); }
};

// Takes ownership of a report from the library, reads its JSON and frees it.
inline Report adopt_report(senti_report* report) {
    const std::unique_ptr<senti_report, ReportDeleter> owned(report);
    const char* json = senti_report_json(report);
    if (json == nullptr) throw Error(SENTI_ERR_INTERNAL, "senti_report_json returned NULL for a live report");
    return Report::parse(json);
}
}  // namespace detail

/// Training parameters (senti_params): owns one handle, freed by the destructor. Move-only.
/// A new Params holds every default; the setters change one field each and return the Params,
/// so they chain, on a named object or on a temporary:
///
///     senti::Params p = senti::Params().cell("gru").epochs(3).bidirectional(false);
///     p.learning_rate(0.003).data_path("data/imdb/reviews.json");
///     p.set("hidden_size", 64).reset("epochs");                  // by name; back to the default
///
/// Every setter throws senti::Error(SENTI_ERR_CONFIG) for an unknown field, a value of the
/// wrong type or out of range (the message names the field), and leaves the Params unchanged.
/// Checks that involve several fields (weight_decay needs optimizer "adamw", ...) run when
/// training starts, so fields may be set in any order. Training reads the fields once, at the
/// start; a Params may train any number of models.
class Params {
public:
    /// Every parameter at its default (senti_params_new). Throws senti::Error.
    Params() {
        detail::call([&](senti_error** err) { return senti_params_new(&handle_, err); });
    }

    /// Takes ownership of a handle from senti_params_new or senti_params_from_json.
    explicit Params(senti_params* handle) noexcept : handle_(handle) {}

    ~Params() { senti_params_free(handle_); }

    Params(const Params&) = delete;
    Params& operator=(const Params&) = delete;

    /// Takes the handle of `other`, which is left empty.
    Params(Params&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

    /// Frees this handle, then takes the handle of `other`, which is left empty.
    Params& operator=(Params&& other) noexcept {
        if (this != &other) senti_params_free(std::exchange(handle_, std::exchange(other.handle_, nullptr)));
        return *this;
    }

    /// Parameters from a JSON object of fields ("" or "{}" for all defaults), as senti_train
    /// takes them. Throws senti::Error(SENTI_ERR_CONFIG) for bad JSON or a bad field.
    [[nodiscard]] static Params from_json(const std::string& json) {
        const char* text = detail::c_str(json, "json");
        senti_params* handle = nullptr;
        detail::call([&](senti_error** err) { return senti_params_from_json(text, &handle, err); });
        return Params(handle);
    }

    /// Every field as a JSON object (senti_params_to_json); from_json reads it back.
    [[nodiscard]] std::string to_json() const {
        return detail::read_string([&](char* buffer, std::size_t capacity, std::size_t* length, senti_error** err) {
            return senti_params_to_json(handle_, buffer, capacity, length, err);
        });
    }

    /// Sets `field` by name. The value's C++ type picks the setter: bool, any integer (as
    /// int64_t; a float field takes one too), float or double (refused for an integer field),
    /// or anything convertible to std::string_view (a string; a NULL const char* is
    /// SENTI_ERR_NULL_POINTER). An unsigned value above INT64_MAX is SENTI_ERR_CONFIG here.
    template <class T>
    Params& set(std::string_view field, const T& value) & {
        assign(field, value);
        return *this;
    }
    template <class T>
    [[nodiscard]] Params set(std::string_view field, const T& value) && {
        assign(field, value);
        return std::move(*this);
    }

    /// Puts `field` back to its default (an optional field such as train_limit becomes absent).
    Params& reset(std::string_view field) & {
        const std::string name = detail::c_string(field, "field name");
        detail::call([&](senti_error** err) { return senti_params_reset(handle_, name.c_str(), err); });
        return *this;
    }
    [[nodiscard]] Params reset(std::string_view field) && {
        reset(field);
        return std::move(*this);
    }

    // Typed setters, one per field (see senti.h for the ranges). Each has an lvalue form that
    // returns *this and an rvalue form that returns the moved Params, for chains on temporaries.

    /// Training data file or directory (read by Model::train(params) only).
    Params& data_path(std::string_view path) & { return string_field("data_path", path); }
    [[nodiscard]] Params data_path(std::string_view path) && { return std::move(data_path(path)); }
    /// auto | imdb-json | aclimdb | jsonl | csv | folders.
    Params& data_format(std::string_view format) & { return string_field("data_format", format); }
    [[nodiscard]] Params data_format(std::string_view format) && { return std::move(data_format(format)); }
    /// Use at most this many training examples (reset("train_limit") for all).
    Params& train_limit(std::int64_t n) & { return int_field("train_limit", n); }
    [[nodiscard]] Params train_limit(std::int64_t n) && { return std::move(train_limit(n)); }
    /// Fraction of the training data held out for validation when none is given.
    Params& validation_fraction(double f) & { return float_field("validation_fraction", f); }
    [[nodiscard]] Params validation_fraction(double f) && { return std::move(validation_fraction(f)); }
    /// lstm | gru.
    Params& cell(std::string_view kind) & { return string_field("cell", kind); }
    [[nodiscard]] Params cell(std::string_view kind) && { return std::move(cell(kind)); }
    Params& embedding_dim(std::int64_t n) & { return int_field("embedding_dim", n); }
    [[nodiscard]] Params embedding_dim(std::int64_t n) && { return std::move(embedding_dim(n)); }
    Params& hidden_size(std::int64_t n) & { return int_field("hidden_size", n); }
    [[nodiscard]] Params hidden_size(std::int64_t n) && { return std::move(hidden_size(n)); }
    Params& layers(std::int64_t n) & { return int_field("layers", n); }
    [[nodiscard]] Params layers(std::int64_t n) && { return std::move(layers(n)); }
    Params& bidirectional(bool on) & { return bool_field("bidirectional", on); }
    [[nodiscard]] Params bidirectional(bool on) && { return std::move(bidirectional(on)); }
    /// last | max | mean | max_mean.
    Params& pooling(std::string_view kind) & { return string_field("pooling", kind); }
    [[nodiscard]] Params pooling(std::string_view kind) && { return std::move(pooling(kind)); }
    Params& dropout(double p) & { return float_field("dropout", p); }
    [[nodiscard]] Params dropout(double p) && { return std::move(dropout(p)); }
    Params& embedding_dropout(double p) & { return float_field("embedding_dropout", p); }
    [[nodiscard]] Params embedding_dropout(double p) && { return std::move(embedding_dropout(p)); }
    /// Word-vector pretraining epochs; 0 for none (reset for the automatic choice).
    Params& embedding_pretrain_epochs(std::int64_t n) & { return int_field("embedding_pretrain_epochs", n); }
    [[nodiscard]] Params embedding_pretrain_epochs(std::int64_t n) && { return std::move(embedding_pretrain_epochs(n)); }
    Params& vocab_size(std::int64_t n) & { return int_field("vocab_size", n); }
    [[nodiscard]] Params vocab_size(std::int64_t n) && { return std::move(vocab_size(n)); }
    /// Tokens kept per text.
    Params& max_len(std::int64_t n) & { return int_field("max_len", n); }
    [[nodiscard]] Params max_len(std::int64_t n) && { return std::move(max_len(n)); }
    /// keep_end | keep_start.
    Params& truncation(std::string_view kind) & { return string_field("truncation", kind); }
    [[nodiscard]] Params truncation(std::string_view kind) && { return std::move(truncation(kind)); }
    Params& epochs(std::int64_t n) & { return int_field("epochs", n); }
    [[nodiscard]] Params epochs(std::int64_t n) && { return std::move(epochs(n)); }
    Params& batch_size(std::int64_t n) & { return int_field("batch_size", n); }
    [[nodiscard]] Params batch_size(std::int64_t n) && { return std::move(batch_size(n)); }
    /// adam | adamw.
    Params& optimizer(std::string_view kind) & { return string_field("optimizer", kind); }
    [[nodiscard]] Params optimizer(std::string_view kind) && { return std::move(optimizer(kind)); }
    Params& learning_rate(double rate) & { return float_field("learning_rate", rate); }
    [[nodiscard]] Params learning_rate(double rate) && { return std::move(learning_rate(rate)); }
    /// constant | linear | cosine.
    Params& lr_schedule(std::string_view kind) & { return string_field("lr_schedule", kind); }
    [[nodiscard]] Params lr_schedule(std::string_view kind) && { return std::move(lr_schedule(kind)); }
    Params& weight_decay(double w) & { return float_field("weight_decay", w); }
    [[nodiscard]] Params weight_decay(double w) && { return std::move(weight_decay(w)); }
    Params& clip_norm(double norm) & { return float_field("clip_norm", norm); }
    [[nodiscard]] Params clip_norm(double norm) && { return std::move(clip_norm(norm)); }
    /// Keep the weights of the best validation epoch.
    Params& restore_best(bool on) & { return bool_field("restore_best", on); }
    [[nodiscard]] Params restore_best(bool on) && { return std::move(restore_best(on)); }
    Params& seed(std::int64_t s) & { return int_field("seed", s); }
    [[nodiscard]] Params seed(std::int64_t s) && { return std::move(seed(s)); }
    /// Worker threads; 0 for all cores.
    Params& threads(std::int64_t n) & { return int_field("threads", n); }
    [[nodiscard]] Params threads(std::int64_t n) && { return std::move(threads(n)); }
    /// n-gram order of the wide path; 0 for a purely recurrent model.
    Params& wide_ngrams(std::int64_t n) & { return int_field("wide_ngrams", n); }
    [[nodiscard]] Params wide_ngrams(std::int64_t n) && { return std::move(wide_ngrams(n)); }
    /// Hash buckets of the wide path; 0 for automatic.
    Params& wide_buckets(std::int64_t n) & { return int_field("wide_buckets", n); }
    [[nodiscard]] Params wide_buckets(std::int64_t n) && { return std::move(wide_buckets(n)); }
    Params& wide_epochs(std::int64_t n) & { return int_field("wide_epochs", n); }
    [[nodiscard]] Params wide_epochs(std::int64_t n) && { return std::move(wide_epochs(n)); }
    Params& wide_learning_rate(double rate) & { return float_field("wide_learning_rate", rate); }
    [[nodiscard]] Params wide_learning_rate(double rate) && { return std::move(wide_learning_rate(rate)); }
    Params& wide_l2(double l2) & { return float_field("wide_l2", l2); }
    [[nodiscard]] Params wide_l2(double l2) && { return std::move(wide_l2(l2)); }

    /// True when the Params holds a handle (false after a move or release()).
    explicit operator bool() const noexcept { return handle_ != nullptr; }

    /// The handle, still owned by this Params; for direct senti.h calls.
    senti_params* get() const noexcept { return handle_; }

    /// Gives up ownership: returns the handle (the caller must senti_params_free it).
    [[nodiscard]] senti_params* release() noexcept { return std::exchange(handle_, nullptr); }

    /// Exchanges the handles of two Params.
    void swap(Params& other) noexcept { std::swap(handle_, other.handle_); }
    friend void swap(Params& a, Params& b) noexcept { a.swap(b); }

private:
    // Field names here are literals without NUL bytes.
    Params& int_field(const char* field, std::int64_t value) {
        detail::call([&](senti_error** err) { return senti_params_set_int(handle_, field, value, err); });
        return *this;
    }
    Params& float_field(const char* field, double value) {
        detail::call([&](senti_error** err) { return senti_params_set_float(handle_, field, value, err); });
        return *this;
    }
    Params& bool_field(const char* field, bool value) {
        detail::call([&](senti_error** err) { return senti_params_set_bool(handle_, field, value, err); });
        return *this;
    }
    Params& string_field(const char* field, std::string_view value) {
        const std::string text = detail::c_string(value, std::string(field) + " value");
        detail::call([&](senti_error** err) { return senti_params_set_string(handle_, field, text.c_str(), err); });
        return *this;
    }

    template <class T>
    void assign(std::string_view field, const T& value) {
        using V = std::remove_cv_t<T>;
        const std::string name = detail::c_string(field, "field name");
        if constexpr (std::is_same<V, bool>::value) {
            bool_field(name.c_str(), value);
        } else if constexpr (std::is_integral<V>::value) {
            static_assert(!std::is_same<V, char>::value && !std::is_same<V, wchar_t>::value &&
                              !std::is_same<V, char16_t>::value && !std::is_same<V, char32_t>::value,
                          "a character is not a number: pass an integer or a string");
            if constexpr (std::is_unsigned<V>::value) {
                const std::uint64_t wide = value;
                if (wide > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                    throw Error(SENTI_ERR_CONFIG, name + ": " + std::to_string(wide) +
                                                      " does not fit an int64_t (a larger seed only through from_json)");
            }
            int_field(name.c_str(), static_cast<std::int64_t>(value));
        } else if constexpr (std::is_floating_point<V>::value) {
            float_field(name.c_str(), static_cast<double>(value));
        } else if constexpr (std::is_convertible<const T&, std::string_view>::value) {
            if constexpr (std::is_pointer<V>::value) {
                if (value == nullptr) throw Error(SENTI_ERR_NULL_POINTER, name + ": the value is a NULL string");
            }
            string_field(name.c_str(), std::string_view(value));
        } else {
            static_assert(detail::dependent_false<T>::value,
                          "Params::set takes a bool, an integer, a floating-point number or a string");
        }
    }

    senti_params* handle_ = nullptr;
};

/// Labeled texts in memory for Model::train and Model::evaluate (senti_dataset): owns one
/// handle, freed by the destructor. Move-only. Texts and labels are copied in; nothing is read
/// from disk.
///
///     senti::Dataset data;
///     data.set_labels({"negative", "neutral", "positive"});       // optional; fixes the order
///     data.add("not bad at all", "positive");
///     data.add(texts, labels);                                     // two ranges of strings
///     data.add_indexed(texts, std::vector<int>{0, 2, 1});          // indices into the labels
///
/// Without set_labels the classes are inferred when training: by number when every name is a
/// number ("1" < "2" < "10"), else by bytes. The calls throw senti::Error.
class Dataset {
public:
    /// An empty dataset (senti_dataset_new). Throws senti::Error.
    Dataset() {
        detail::call([&](senti_error** err) { return senti_dataset_new(&handle_, err); });
    }

    /// Takes ownership of a handle from senti_dataset_new.
    explicit Dataset(senti_dataset* handle) noexcept : handle_(handle) {}

    ~Dataset() { senti_dataset_free(handle_); }

    Dataset(const Dataset&) = delete;
    Dataset& operator=(const Dataset&) = delete;

    /// Takes the handle of `other`, which is left empty.
    Dataset(Dataset&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

    /// Frees this handle, then takes the handle of `other`, which is left empty.
    Dataset& operator=(Dataset&& other) noexcept {
        if (this != &other) senti_dataset_free(std::exchange(handle_, std::exchange(other.handle_, nullptr)));
        return *this;
    }

    /// Declares the class names in index order (at least two, distinct): once, before the first
    /// example. Required before add_indexed. `names` is any range of strings.
    template <class Names, std::enable_if_t<detail::is_name_range<Names>::value, int> = 0>
    Dataset& set_labels(const Names& names) {
        const detail::NameArray array(names, "labels");
        detail::call([&](senti_error** err) {
            return senti_dataset_set_labels(handle_, array.ptrs.data(), array.names.size(), err);
        });
        return *this;
    }

    /// set_labels over a braced list: `data.set_labels({"sports", "cooking", "space"})`.
    Dataset& set_labels(std::initializer_list<std::string_view> names) {
        return set_labels<std::initializer_list<std::string_view>>(names);
    }

    /// Adds one example: `text` (UTF-8, any bytes) with the class `label` (by name).
    Dataset& add(std::string_view text, std::string_view label) {
        const detail::Text t = detail::to_text(text);
        const std::string name = detail::c_string(label, "label");
        detail::call([&](senti_error** err) { return senti_dataset_add(handle_, t.data, t.len, name.c_str(), err); });
        return *this;
    }

    /// Adds texts[i] with labels[i] for every i: `texts` a contiguous container of strings (as
    /// for Model::predict_batch), `labels` any range of strings of the same length. Nothing is
    /// added when any example is refused. Throws senti::Error (SENTI_ERR_INVALID_ARGUMENT for
    /// mismatched lengths).
    template <class Texts, class Labels,
              std::enable_if_t<detail::is_text_range<Texts>::value && detail::is_name_range<Labels>::value, int> = 0>
    Dataset& add(const Texts& texts, const Labels& labels) {
        return add_batch(std::data(texts), static_cast<std::size_t>(std::size(texts)), labels);
    }

    /// add over braced lists: `data.add({"goal!", "bake it"}, {"sports", "cooking"})`.
    Dataset& add(std::initializer_list<std::string_view> texts, std::initializer_list<std::string_view> labels) {
        return add_batch(texts.begin(), texts.size(), labels);
    }

    /// Adds texts[i] with the class labels()[indices[i]]: indices are integers into the names
    /// given to set_labels, which must come first. Throws senti::Error
    /// (SENTI_ERR_INVALID_ARGUMENT for mismatched lengths or a negative index).
    template <class Texts, class Indices,
              std::enable_if_t<detail::is_text_range<Texts>::value && detail::is_index_range<Indices>::value, int> = 0>
    Dataset& add_indexed(const Texts& texts, const Indices& indices) {
        const auto count = static_cast<std::size_t>(std::size(texts));
        check_lengths("add_indexed", count, static_cast<std::size_t>(std::size(indices)));
        if (count == 0) return *this;
        std::vector<std::uint32_t> values;
        values.reserve(count);
        for (const auto& index : indices) {
            const auto value = index;
            if constexpr (std::is_signed<std::decay_t<decltype(value)>>::value) {
                if (value < 0) bad_index(values.size(), std::to_string(value));
            }
            const auto wide = static_cast<std::uint64_t>(value);
            if (wide > std::numeric_limits<std::uint32_t>::max()) bad_index(values.size(), std::to_string(wide));
            values.push_back(static_cast<std::uint32_t>(wide));
        }
        const detail::TextArray array(std::data(texts), count);
        detail::call([&](senti_error** err) {
            return senti_dataset_add_indexed(handle_, array.ptrs.data(), array.lens.data(), values.data(), count, err);
        });
        return *this;
    }

    /// The number of examples added so far.
    [[nodiscard]] std::size_t size() const {
        std::size_t count = 0;
        detail::call([&](senti_error** err) { return senti_dataset_count(handle_, &count, err); });
        return count;
    }

    /// True when the Dataset holds a handle (false after a move or release()).
    explicit operator bool() const noexcept { return handle_ != nullptr; }

    /// The handle, still owned by this Dataset; for direct senti.h calls.
    senti_dataset* get() const noexcept { return handle_; }

    /// Gives up ownership: returns the handle (the caller must senti_dataset_free it).
    [[nodiscard]] senti_dataset* release() noexcept { return std::exchange(handle_, nullptr); }

    /// Exchanges the handles of two Datasets.
    void swap(Dataset& other) noexcept { std::swap(handle_, other.handle_); }
    friend void swap(Dataset& a, Dataset& b) noexcept { a.swap(b); }

private:
    static void check_lengths(const char* what, std::size_t texts, std::size_t labels) {
        if (texts != labels)
            throw Error(SENTI_ERR_INVALID_ARGUMENT, std::string(what) + ": " + std::to_string(texts) + " texts but " +
                                                        std::to_string(labels) + " labels");
    }

    [[noreturn]] static void bad_index(std::size_t i, const std::string& value) {
        throw Error(SENTI_ERR_INVALID_ARGUMENT,
                    "add_indexed: label_indices[" + std::to_string(i) + "] is " + value + ", not a label index");
    }

    template <class T, class Labels>
    Dataset& add_batch(const T* texts, std::size_t count, const Labels& labels) {
        check_lengths("add", count, static_cast<std::size_t>(std::size(labels)));
        if (count == 0) return *this;
        const detail::TextArray array(texts, count);
        const detail::NameArray names(labels, "labels");
        detail::call([&](senti_error** err) {
            return senti_dataset_add_batch(handle_, array.ptrs.data(), array.lens.data(), names.ptrs.data(), count, err);
        });
        return *this;
    }

    senti_dataset* handle_ = nullptr;
};

/// A trained text classifier with K >= 2 labels: owns one senti_model handle, freed by the
/// destructor. Move-only. See the THREADS note at the top of this file.
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
        return train_with(progress, [&](senti_progress_fn fn, void* user, senti_model** out, senti_error** err) {
            return senti_train(params, fn, user, out, err);
        });
    }

    /// Trains a model with typed parameters (senti_train_params) on the data at
    /// params.data_path(): progress, exceptions and errors as for train(params_json).
    [[nodiscard]] static Model train(const Params& params, ProgressFn progress = {}) {
        require(params, "params");
        return train_with(progress, [&](senti_progress_fn fn, void* user, senti_model** out, senti_error** err) {
            return senti_train_params(params.get(), fn, user, out, err);
        });
    }

    /// Trains a model on texts in memory (senti_train_dataset): `data` gives the examples and
    /// the classes, `validation` (optional) the held-out examples; without it
    /// params.validation_fraction() of `data` is held out. params.data_path() is not read.
    /// The datasets are copied when training starts. Progress, exceptions and errors as for
    /// train(params_json); SENTI_ERR_DATA for a single class or a validation label that `data`
    /// does not have.
    [[nodiscard]] static Model train(const Params& params, const Dataset& data, const Dataset* validation = nullptr,
                                     ProgressFn progress = {}) {
        require(params, "params");  // a NULL senti_params would silently mean the defaults
        require(data, "data");
        if (validation != nullptr) require(*validation, "validation");  // NULL would mean a holdout
        senti_dataset* val = validation != nullptr ? validation->get() : nullptr;
        return train_with(progress, [&](senti_progress_fn fn, void* user, senti_model** out, senti_error** err) {
            return senti_train_dataset(params.get(), data.get(), val, fn, user, out, err);
        });
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

    /// The number of classes K (2 for IMDB models). Thread-safe on one model.
    [[nodiscard]] std::size_t label_count() const {
        std::size_t count = 0;
        detail::call([&](senti_error** err) { return senti_label_count(handle_, &count, err); });
        return count;
    }

    /// The name of class `index` (0-based, in score order). Throws senti::Error
    /// (SENTI_ERR_INVALID_ARGUMENT for an index >= label_count()).
    [[nodiscard]] std::string label(std::size_t index) const {
        return detail::read_string([&](char* buffer, std::size_t capacity, std::size_t* length, senti_error** err) {
            return senti_label_name(handle_, index, buffer, capacity, length, err);
        });
    }

    /// The K class names in score order ("negative", "positive" for IMDB models).
    [[nodiscard]] std::vector<std::string> labels() const {
        const std::size_t count = label_count();
        std::vector<std::string> names;
        names.reserve(count);
        for (std::size_t i = 0; i < count; ++i) names.push_back(label(i));
        return names;
    }

    /// For a two-label model: the probability in [0, 1] of the second label (for IMDB models,
    /// that `text` is a positive review). `text` is UTF-8, borrowed; it need not be
    /// NUL-terminated and may contain NUL bytes. Thread-safe on one model. Throws senti::Error
    /// (SENTI_ERR_INVALID_ARGUMENT for a model with more than two labels: use scores or
    /// predict_label; SENTI_ERR_INVALID_UTF8 for invalid UTF-8; SENTI_ERR_NULL_POINTER on an
    /// empty Model).
    [[nodiscard]] float predict(std::string_view text) const {
        const detail::Text t = detail::to_text(text);
        float probability = 0.0f;
        detail::call([&](senti_error** err) { return senti_predict(handle_, t.data, t.len, &probability, err); });
        return probability;
    }

    /// Probabilities for `count` texts at once, in input order (faster than one predict per
    /// text); two-label models only, as for predict. The texts are borrowed for the call. An
    /// empty batch returns an empty vector without calling the library. Thread-safe on one
    /// model. Throws senti::Error.
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

    /// Every class's score for `text`: K floats in [0, 1] summing to 1, in labels() order.
    /// Works for any K. Thread-safe on one model. Throws senti::Error (as predict).
    [[nodiscard]] std::vector<float> scores(std::string_view text) const {
        const detail::Text t = detail::to_text(text);
        std::vector<float> out(label_count());
        detail::call([&](senti_error** err) {
            return senti_predict_scores(handle_, t.data, t.len, out.data(), out.size(), err);
        });
        return out;
    }

    /// Scores for `count` texts at once, in input order: one row per text, each row the K
    /// scores of scores(text) (row i belongs to texts[i]; every row has label_count() floats).
    /// The texts are borrowed for the call; an empty batch returns no rows without calling the
    /// library. Thread-safe on one model. Throws senti::Error.
    [[nodiscard]] std::vector<std::vector<float>> scores_batch(const std::string_view* texts, std::size_t count) const {
        return scores_batch_impl(texts, count);
    }

    /// scores_batch over a vector of strings.
    [[nodiscard]] std::vector<std::vector<float>> scores_batch(const std::vector<std::string>& texts) const {
        return scores_batch_impl(texts.data(), texts.size());
    }

    /// scores_batch over a braced list.
    [[nodiscard]] std::vector<std::vector<float>> scores_batch(std::initializer_list<std::string_view> texts) const {
        return scores_batch_impl(texts.begin(), texts.size());
    }

    /// scores_batch over any contiguous container of strings (as for predict_batch).
    template <class Texts, std::enable_if_t<detail::is_text_range<Texts>::value, int> = 0>
    [[nodiscard]] std::vector<std::vector<float>> scores_batch(const Texts& texts) const {
        return scores_batch_impl(std::data(texts), std::size(texts));
    }

    /// The most likely class for `text`: its index, name and score. Thread-safe on one model.
    /// Throws senti::Error (as predict, for any K).
    [[nodiscard]] Prediction predict_label(std::string_view text) const {
        const detail::Text t = detail::to_text(text);
        std::size_t index = 0;
        float score = 0.0f;
        detail::call([&](senti_error** err) { return senti_predict_label(handle_, t.data, t.len, &index, &score, err); });
        Prediction p;
        p.index = index;
        p.label = label(index);
        p.score = score;
        return p;
    }

    /// Explains the score `text` gets for class `class_index` (0-based, in labels() order), or
    /// for the predicted class with senti::predicted_class (the default): every token with its
    /// byte range in `text` and its contribution to the class's logit (see Explanation).
    /// `steps`: integration steps of the network's part, 1 to 256; 0 (the default) is 8. More
    /// steps leave less unexplained and cost proportionally more: one explanation costs about
    /// `steps` forward and backward passes over the text. `text` is UTF-8, borrowed for the
    /// call. Thread-safe on one model. Throws senti::Error (SENTI_ERR_INVALID_ARGUMENT for a
    /// class index >= label_count() or more than 256 steps; SENTI_ERR_INVALID_UTF8;
    /// SENTI_ERR_NULL_POINTER on an empty Model).
    [[nodiscard]] Explanation explain(std::string_view text, std::size_t class_index = predicted_class,
                                      std::uint32_t steps = 0) const {
        const detail::Text t = detail::to_text(text);
        senti_explanation* explanation = nullptr;
        detail::call([&](senti_error** err) {
            return senti_explain(handle_, t.data, t.len, class_index, steps, &explanation, err);
        });
        return detail::adopt_explanation(explanation);
    }

    /// Loss, accuracy and (for two labels) confusion counts on labeled data described by
    /// `data_json` (borrowed): {"path": "...", "format": "auto|imdb-json|aclimdb|jsonl|csv",
    /// "split": "test|train", "limit": N, "part": "model|recurrent|wide"}; only "path" is
    /// required; "part" scores the whole model (default) or one part of a model with a wide
    /// n-gram path. For K > 2 the TP/TN/FP/FN fields are zero: use evaluate_report.
    /// Thread-safe on one model.
    /// Throws senti::Error (SENTI_ERR_CONFIG for a bad specification, SENTI_ERR_IO, SENTI_ERR_DATA).
    [[nodiscard]] senti_evaluation evaluate(const std::string& data_json) const {
        const char* spec = detail::c_str(data_json, "data_json");
        senti_evaluation result{};
        detail::call([&](senti_error** err) { return senti_evaluate(handle_, spec, &result, err); });
        return result;
    }

    /// The full report (accuracy, loss, macro-F1, per-class figures, confusion matrix) on
    /// labeled data described by `data_json`, as for evaluate(data_json). Thread-safe on one
    /// model. Throws senti::Error (as evaluate; SENTI_ERR_DATA for a label the model lacks).
    [[nodiscard]] Report evaluate_report(const std::string& data_json) const {
        const char* spec = detail::c_str(data_json, "data_json");
        senti_report* report = nullptr;
        detail::call([&](senti_error** err) { return senti_evaluate_report(handle_, spec, &report, err); });
        return detail::adopt_report(report);
    }

    /// The full report on a Dataset, whose labels must be the model's, by name. Thread-safe on
    /// one model. Throws senti::Error (SENTI_ERR_DATA for a label the model lacks).
    [[nodiscard]] Report evaluate(const Dataset& data) const {
        senti_report* report = nullptr;
        detail::call([&](senti_error** err) { return senti_evaluate_dataset(handle_, data.get(), &report, err); });
        return detail::adopt_report(report);
    }

    /// Loss, accuracy and confusion counts of a two-label model on texts held in memory (a
    /// contiguous container as for predict_batch) with their labels (any container of integers
    /// or bools, each 0 or 1, one per text). Both are borrowed for the call. Thread-safe on one
    /// model. Throws senti::Error: SENTI_ERR_INVALID_ARGUMENT for mismatched lengths, a label
    /// other than 0 or 1, or no texts at all. For K labels, use a Dataset.
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

    /// Sets between how many threads each later prediction and evaluation splits its reviews:
    /// 0 (the default) is one per available core, at most SENTI_MAX_THREADS (1024). Scores do not depend on it.
    /// Throws senti::Error (SENTI_ERR_INVALID_ARGUMENT above SENTI_MAX_THREADS).
    void set_prediction_threads(std::size_t threads) const {
        detail::call([&](senti_error** err) { return senti_set_prediction_threads(handle_, threads, err); });
    }

    /// Sets the precision at which each later prediction and evaluation stores the network's
    /// weights: "f32" (the default after load: the weights as trained), "f16" (half floats,
    /// widened to f32 as they are read) or "i16" (the recurrent matrices as 16-bit integers and
    /// the input table as bytes, each with a scale per row: the fastest where the CPU has AVX2
    /// but not AVX-512, and the least memory); both lower the
    /// latency per review, and scores move by about 1e-4.
    /// Arithmetic stays f32 and the wide path is unaffected; explanations integrate at f32 (the
    /// rounding shows in their unexplained part). Safe while other threads predict. Throws senti::Error (SENTI_ERR_INVALID_ARGUMENT for any other value,
    /// which changes nothing).
    void set_prediction_precision(std::string_view precision) const {
        const std::string p = detail::c_string(precision, "precision");
        detail::call([&](senti_error** err) { return senti_set_prediction_precision(handle_, p.c_str(), err); });
    }

    /// The model's description as JSON: library version, labels, model and text configuration,
    /// vocabulary size and training record. Thread-safe on one model. Throws senti::Error.
    [[nodiscard]] std::string info() const {
        return detail::read_string([&](char* buffer, std::size_t capacity, std::size_t* length, senti_error** err) {
            return senti_model_info(handle_, buffer, capacity, length, err);
        });
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
    template <class Handle>
    static void require(const Handle& object, const char* what) {
        if (!object)
            throw Error(SENTI_ERR_NULL_POINTER, std::string("Model::train: ") + what + " is empty (moved from or released)");
    }

    // Runs one of the training calls, `start(progress_fn, user_data, &handle, &err)`, with the
    // progress bridge: an exception from `progress` is rethrown once the call has returned.
    template <class F>
    static Model train_with(const ProgressFn& progress, F&& start) {
        detail::ProgressBridge bridge{&progress, nullptr};
        senti_model* handle = nullptr;
        senti_error* err = nullptr;
        const senti_status status = std::forward<F>(start)(progress ? &detail::progress_trampoline : nullptr,
                                                           progress ? static_cast<void*>(&bridge) : nullptr, &handle, &err);
        Model model(handle);  // owns whatever the call produced, whatever happens next
        if (bridge.exception) {
            senti_error_free(err);
            std::rethrow_exception(bridge.exception);
        }
        detail::check(status, err);
        return model;
    }

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

    template <class T>
    std::vector<std::vector<float>> scores_batch_impl(const T* texts, std::size_t count) const {
        std::vector<std::vector<float>> rows;
        if (count == 0) return rows;
        const std::size_t k = label_count();
        const detail::TextArray array(texts, count);
        std::vector<float> flat(count * k);  // row-major, as the library writes it
        detail::call([&](senti_error** err) {
            return senti_predict_scores_batch(handle_, array.ptrs.data(), array.lens.data(), count, flat.data(),
                                              flat.size(), err);
        });
        rows.reserve(count);
        for (std::size_t i = 0; i < count; ++i) rows.emplace_back(flat.data() + i * k, flat.data() + (i + 1) * k);
        return rows;
    }

    senti_model* handle_ = nullptr;
};

}  // namespace senti

#endif  // SENTI_HPP
