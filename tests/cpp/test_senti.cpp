/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// GoogleTest suite for the C++ wrapper (bindings/cpp/senti.hpp). Trains one small GRU once per
// process (TrainedModel::SetUpTestSuite) and shares it. The IMDB file comes from the SENTI_DATA
// environment variable, else from the path CMake compiled in (SENTI_TEST_DATA).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

#include "second_tu.h"
#include "senti.hpp"

namespace fs = std::filesystem;

namespace {

static_assert(!std::is_copy_constructible<senti::Model>::value, "Model must not be copyable");
static_assert(!std::is_copy_assignable<senti::Model>::value, "Model must not be copyable");
static_assert(std::is_nothrow_move_constructible<senti::Model>::value, "Model moves must not throw");
static_assert(std::is_nothrow_move_assignable<senti::Model>::value, "Model moves must not throw");
static_assert(std::is_base_of<std::runtime_error, senti::Error>::value, "Error is a runtime_error");
static_assert(!std::is_convertible<senti::Model, bool>::value, "operator bool must be explicit");

std::string data_path() {
    const char* env = std::getenv("SENTI_DATA");
    return env != nullptr && *env != '\0' ? env : SENTI_TEST_DATA;
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string training_params(const std::string& extra = "") {
    return "{\"data_path\": " + json_string(data_path()) +
           ", \"train_limit\": 1500, \"epochs\": 2, \"max_len\": 100, \"vocab_size\": 5000,"
           " \"embedding_dim\": 32, \"hidden_size\": 32, \"cell\": \"gru\", \"seed\": 1, \"threads\": 2" +
           extra + "}";
}

// Cheap runs for the callback tests: cancelled or aborted after a batch or two anyway.
std::string tiny_params() {
    return "{\"data_path\": " + json_string(data_path()) +
           ", \"train_limit\": 600, \"epochs\": 1, \"max_len\": 64, \"vocab_size\": 2000,"
           " \"embedding_dim\": 16, \"hidden_size\": 16, \"seed\": 1, \"threads\": 2}";
}

// Runs `f`, which must throw senti::Error with status `want` and a message containing `needle`.
template <class F>
::testing::AssertionResult ThrowsSenti(F&& f, senti_status want, const std::string& needle = "") {
    try {
        f();
    } catch (const senti::Error& e) {
        if (e.status() != want)
            return ::testing::AssertionFailure() << "status " << e.status_name() << ", want "
                                                 << senti::status_name(want) << " (message: " << e.what() << ")";
        if (std::string(e.what()).find(needle) == std::string::npos)
            return ::testing::AssertionFailure() << "message \"" << e.what() << "\" lacks \"" << needle << "\"";
        return ::testing::AssertionSuccess() << e.what();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "threw a non-senti exception: " << e.what();
    }
    return ::testing::AssertionFailure() << "did not throw";
}

const std::vector<std::string> kReviews = {
    "An absolute masterpiece: moving, funny and beautifully acted. I loved every minute of it.",
    "Terrible. Boring plot, wooden acting, and the ending made no sense. A waste of time.",
    "",
    "It was okay, I guess.",
};

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST(Version, MatchesHeader) {
    EXPECT_EQ(senti::version_number(), static_cast<std::uint32_t>(SENTI_VERSION_NUMBER));
    const std::string want = std::to_string(SENTI_VERSION_MAJOR) + "." + std::to_string(SENTI_VERSION_MINOR) + "." +
                             std::to_string(SENTI_VERSION_PATCH);
    EXPECT_EQ(senti::version(), want);
    EXPECT_STREQ(senti::status_name(SENTI_ERR_IO), "SENTI_ERR_IO");
}

TEST(Errors, BadJsonIsConfig) {
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Model::train("{\"epochs\": "); }, SENTI_ERR_CONFIG));
}

TEST(Errors, UnknownFieldIsConfigNamingTheField) {
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Model::train("{\"epoch\": 2}"); }, SENTI_ERR_CONFIG, "epoch"));
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Model::train("{\"hidden_sise\": 8}"); }, SENTI_ERR_CONFIG, "hidden_sise"));
}

TEST(Errors, OutOfRangeIsConfig) {
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Model::train("{\"hidden_size\": 0}"); }, SENTI_ERR_CONFIG, "hidden_size"));
}

TEST(Errors, MissingTrainingDataIsIo) {
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Model::train("{\"data_path\": \"/nonexistent/reviews.json\"}"); }, SENTI_ERR_IO,
                            "/nonexistent/reviews.json"));
}

TEST(Errors, MissingModelFileIsIo) {
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Model::load("/nonexistent/model.safetensors"); }, SENTI_ERR_IO,
                            "/nonexistent/model.safetensors"));
}

TEST(Errors, EmbeddedNulIsRejectedBeforeTheCall) {
    const std::string path("/tmp/model\0.safetensors", 23);
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::load(path); }, SENTI_ERR_INVALID_ARGUMENT, "NUL"));
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Model::train(std::string("{}\0x", 4)); }, SENTI_ERR_INVALID_ARGUMENT, "NUL"));
}

TEST(Errors, ErrorIsAnOrdinaryException) {
    try {
        (void)senti::Model::load("/nonexistent/model.safetensors");
        FAIL() << "load did not throw";
    } catch (const std::runtime_error& e) {
        const auto* se = dynamic_cast<const senti::Error*>(&e);
        ASSERT_NE(se, nullptr);
        const senti::Error copy = *se;  // copyable: it holds no library resources
        EXPECT_EQ(copy.status(), SENTI_ERR_IO);
        EXPECT_STREQ(copy.status_name(), "SENTI_ERR_IO");
        EXPECT_STREQ(copy.what(), e.what());
    }
    const senti::Error adopted = senti::Error::adopt(SENTI_ERR_INTERNAL, nullptr);
    EXPECT_EQ(adopted.status(), SENTI_ERR_INTERNAL);
    EXPECT_STREQ(adopted.what(), "SENTI_ERR_INTERNAL");
}

TEST(Progress, ReturningFalseCancels) {
    int calls = 0;
    EXPECT_TRUE(ThrowsSenti(
        [&] {
            (void)senti::Model::train(tiny_params(), [&](const senti_progress&) { return ++calls < 2; });
        },
        SENTI_ERR_CANCELLED, "cancel"));
    EXPECT_EQ(calls, 2);
}

TEST(Progress, ExceptionInCallbackIsRethrown) {
    struct Boom : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    int calls = 0;
    try {
        (void)senti::Model::train(tiny_params(), [&](const senti_progress& p) -> bool {
            ++calls;
            throw Boom("boom at batch " + std::to_string(p.batch));
        });
        FAIL() << "train did not throw";
    } catch (const Boom& e) {
        EXPECT_STREQ(e.what(), "boom at batch 1");
    } catch (const std::exception& e) {
        FAIL() << "wrong exception: " << e.what();
    }
    EXPECT_EQ(calls, 1) << "callback called again after it threw";
}

class TrainedModel : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char tmpl[] = "/tmp/senti-cpp-tests-XXXXXX";
        if (mkdtemp(tmpl) == nullptr) {
            setup_error_ = "mkdtemp failed";
            return;
        }
        dir_ = tmpl;
        try {
            model_ = senti::Model::train(training_params(), [](const senti_progress& p) {
                if (p.phase == SENTI_PHASE_BATCH) {
                    ++batches_;
                    last_batch_ = p;
                } else if (p.phase == SENTI_PHASE_EPOCH) {
                    ++epochs_;
                    std::printf("  epoch %u/%u: loss %.4f acc %.4f val_loss %.4f val_acc %.4f\n", p.epoch, p.epochs,
                                p.loss, p.accuracy, p.val_loss, p.val_accuracy);
                }
                return true;
            });
            model_path_ = (dir_ / "model.safetensors").string();
            model_.save(model_path_);
        } catch (const std::exception& e) {
            setup_error_ = std::string("training the shared model failed: ") + e.what();
        }
    }

    static void TearDownTestSuite() {
        model_ = senti::Model();  // free the handle before static destruction
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    void SetUp() override { ASSERT_TRUE(model_) << setup_error_; }

    static inline senti::Model model_;
    static inline fs::path dir_;
    static inline std::string model_path_;
    static inline std::string setup_error_ = "no model";
    static inline int batches_ = 0;
    static inline int epochs_ = 0;
    static inline senti_progress last_batch_{};
};

TEST_F(TrainedModel, ProgressCallbackSawEveryEpoch) {
    EXPECT_EQ(epochs_, 2);
    EXPECT_GT(batches_, 2);
    EXPECT_EQ(last_batch_.epoch, 2u);
    EXPECT_EQ(last_batch_.epochs, 2u);
    EXPECT_EQ(last_batch_.batch, last_batch_.batches);
    EXPECT_TRUE(std::isnan(last_batch_.val_loss));
}

TEST_F(TrainedModel, PredictGivesProbabilities) {
    for (const std::string& text : kReviews) {
        const float p = model_.predict(text);
        EXPECT_GE(p, 0.0f);
        EXPECT_LE(p, 1.0f);
    }
}

TEST_F(TrainedModel, PredictTakesPointerAndLength) {
    // The view covers a prefix of the buffer: nothing after it may be read.
    const char buffer[] = "a wonderful film, I loved it###garbage that must be ignored";
    const std::string_view prefix(buffer, 28);
    EXPECT_EQ(model_.predict(prefix), model_.predict(std::string(prefix)));
    // An embedded NUL is a word separator, not the end of the text.
    const std::string with_nul("great\0movie", 11);
    EXPECT_EQ(model_.predict(with_nul), model_.predict("great movie"));
    EXPECT_EQ(model_.predict(std::string_view()), model_.predict(""));
}

TEST_F(TrainedModel, InvalidUtf8IsAnError) {
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.predict("ok \xc3\x28 bad"); }, SENTI_ERR_INVALID_UTF8, "UTF-8"));
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.predict_batch({"fine", "bad \xff"}); }, SENTI_ERR_INVALID_UTF8));
}

TEST_F(TrainedModel, BatchEqualsSingles) {
    std::vector<float> singles;
    for (const std::string& text : kReviews) singles.push_back(model_.predict(text));

    const std::vector<float> from_strings = model_.predict_batch(kReviews);
    const std::vector<std::string_view> views(kReviews.begin(), kReviews.end());
    const std::vector<float> from_views = model_.predict_batch(views.data(), views.size());
    const std::vector<float> from_view_vector = model_.predict_batch(views);
    const std::array<const char*, 4> c_strings = {kReviews[0].c_str(), kReviews[1].c_str(), kReviews[2].c_str(),
                                                  kReviews[3].c_str()};
    const std::vector<float> from_c_strings = model_.predict_batch(c_strings);
    const std::vector<float> from_list = model_.predict_batch({kReviews[0], kReviews[1], kReviews[2], kReviews[3]});

    for (const auto* batch : {&from_strings, &from_views, &from_view_vector, &from_c_strings, &from_list}) {
        ASSERT_EQ(batch->size(), singles.size());
        for (std::size_t i = 0; i < singles.size(); ++i) EXPECT_NEAR((*batch)[i], singles[i], 1e-5f) << "text " << i;
    }
    EXPECT_TRUE(model_.predict_batch(std::vector<std::string>()).empty());
}

TEST_F(TrainedModel, SaveAndLoadPredictIdentically) {
    const senti::Model loaded = senti::Model::load(model_path_);
    ASSERT_TRUE(loaded);
    for (const std::string& text : kReviews) EXPECT_EQ(loaded.predict(text), model_.predict(text)) << text;
    EXPECT_EQ(loaded.predict_batch(kReviews), model_.predict_batch(kReviews));
    EXPECT_EQ(loaded.info(), model_.info());
}

TEST_F(TrainedModel, InfoIsJson) {
    const std::string info = model_.info();
    ASSERT_FALSE(info.empty());
    EXPECT_EQ(info.front(), '{');
    EXPECT_EQ(info.back(), '}');
    EXPECT_EQ(info.find('\0'), std::string::npos);
    EXPECT_NE(info.find("\"cell\":\"gru\""), std::string::npos) << info;
}

TEST_F(TrainedModel, EvaluateOnTestSplit) {
    const senti_evaluation ev =
        model_.evaluate("{\"path\": " + json_string(data_path()) + ", \"split\": \"test\", \"limit\": 500}");
    std::printf("  held-out (500 test reviews): accuracy %.4f loss %.4f\n", ev.accuracy, ev.loss);
    EXPECT_EQ(ev.count, 500u);
    EXPECT_EQ(ev.true_positive + ev.true_negative + ev.false_positive + ev.false_negative, 500u);
    EXPECT_GE(ev.accuracy, 0.0);
    EXPECT_LE(ev.accuracy, 1.0);
    EXPECT_TRUE(std::isfinite(ev.loss));
}

TEST_F(TrainedModel, EvaluateBadSpecIsConfig) {
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.evaluate("{\"path\": 3}"); }, SENTI_ERR_CONFIG));
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.evaluate("{\"path\": \"x.jsonl\", \"lim\": 3}"); }, SENTI_ERR_CONFIG, "lim"));
}

TEST_F(TrainedModel, EvaluateTextsInMemory) {
    const std::vector<std::string> texts(kReviews.begin(), kReviews.begin() + 2);
    const senti_evaluation ints = model_.evaluate(texts, std::vector<int>{1, 0});
    EXPECT_EQ(ints.count, 2u);
    EXPECT_EQ(ints.true_positive + ints.false_negative, 1u);
    EXPECT_EQ(ints.true_negative + ints.false_positive, 1u);
    const senti_evaluation bools = model_.evaluate(texts, std::vector<bool>{true, false});
    EXPECT_EQ(bools.count, ints.count);
    EXPECT_EQ(bools.accuracy, ints.accuracy);
    EXPECT_EQ(bools.loss, ints.loss);

    EXPECT_TRUE(ThrowsSenti([&] { (void)model_.evaluate(texts, std::vector<int>{1}); }, SENTI_ERR_INVALID_ARGUMENT, "labels"));
    EXPECT_TRUE(
        ThrowsSenti([&] { (void)model_.evaluate(texts, std::vector<int>{1, 7}); }, SENTI_ERR_INVALID_ARGUMENT, "labels[1]"));
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.evaluate(std::vector<std::string>(), std::vector<int>()); },
                            SENTI_ERR_INVALID_ARGUMENT));
}

TEST_F(TrainedModel, DamagedModelFilesAreModelFileErrors) {
    const std::string bytes = read_bytes(model_path_);
    ASSERT_GT(bytes.size(), 16u);

    const fs::path truncated = dir_ / "truncated.safetensors";
    write_bytes(truncated, bytes.substr(0, bytes.size() / 2));
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::load(truncated.string()); }, SENTI_ERR_MODEL_FILE,
                            "truncated.safetensors"));

    std::string header = bytes;
    header[0] = static_cast<char>(header[0] ^ 0x7f);  // the header length
    const fs::path damaged = dir_ / "damaged.safetensors";
    write_bytes(damaged, header);
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::load(damaged.string()); }, SENTI_ERR_MODEL_FILE));

    const fs::path text = dir_ / "text.safetensors";
    write_bytes(text, "hello");
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::load(text.string()); }, SENTI_ERR_MODEL_FILE, "text.safetensors"));
}

TEST_F(TrainedModel, SaveToMissingDirectoryIsIo) {
    EXPECT_TRUE(ThrowsSenti([] { model_.save("/nonexistent/dir/m.safetensors"); }, SENTI_ERR_IO, "/nonexistent/dir"));
}

TEST_F(TrainedModel, MovedFromModelIsSafe) {
    senti::Model a = senti::Model::load(model_path_);
    const float want = a.predict(kReviews[0]);

    senti::Model b(std::move(a));
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_EQ(a.get(), nullptr);
    ASSERT_TRUE(b);
    EXPECT_EQ(b.predict(kReviews[0]), want);
    EXPECT_TRUE(ThrowsSenti([&] { (void)a.predict(kReviews[0]); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { (void)a.predict_batch(kReviews); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { (void)a.info(); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { a.save((dir_ / "never.safetensors").string()); }, SENTI_ERR_NULL_POINTER));

    senti::Model c = senti::Model::load(model_path_);
    c = std::move(b);  // frees c's own handle, takes b's
    EXPECT_FALSE(b);
    ASSERT_TRUE(c);
    EXPECT_EQ(c.predict(kReviews[0]), want);
    EXPECT_TRUE(ThrowsSenti([&] { (void)b.predict(kReviews[0]); }, SENTI_ERR_NULL_POINTER));

    senti::Model& alias = c;
    c = std::move(alias);  // self-move keeps the handle
    ASSERT_TRUE(c);
    EXPECT_EQ(c.predict(kReviews[0]), want);

    a = std::move(c);  // a moved-from model can be assigned to again
    EXPECT_EQ(a.predict(kReviews[0]), want);
}  // a, b and c are destroyed here; only a holds a handle

TEST_F(TrainedModel, ReleaseAndAdopt) {
    senti::Model a = senti::Model::load(model_path_);
    senti_model* raw = a.release();
    EXPECT_FALSE(a);
    ASSERT_NE(raw, nullptr);
    float p = -1.0f;
    ASSERT_EQ(senti_predict(raw, "fine", SENTI_NUL_TERMINATED, &p, nullptr), SENTI_OK);
    const senti::Model adopted(raw);
    EXPECT_EQ(adopted.get(), raw);
    EXPECT_EQ(adopted.predict("fine"), p);
}

TEST_F(TrainedModel, PredictFromManyThreads) {
    const std::vector<float> want = model_.predict_batch(kReviews);
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int round = 0; round < 10; ++round) {
                for (std::size_t i = 0; i < kReviews.size(); ++i)
                    if (std::fabs(model_.predict(kReviews[i]) - want[i]) > 1e-5f) ++mismatches;
                if (model_.predict_batch(kReviews) != want) ++mismatches;
            }
        });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(TrainedModel, HeaderWorksFromASecondTranslationUnit) {
    EXPECT_EQ(second_tu_version(), senti::version());
    const std::vector<float> there = second_tu_predict_each(model_, kReviews);
    ASSERT_EQ(there.size(), kReviews.size());
    for (std::size_t i = 0; i < kReviews.size(); ++i) EXPECT_EQ(there[i], model_.predict(kReviews[i]));
    EXPECT_EQ(second_tu_status_of_empty_predict(), SENTI_ERR_NULL_POINTER);
}

TEST_F(TrainedModel, TwoLabelModelHasNamedLabels) {
    EXPECT_EQ(model_.label_count(), 2u);
    EXPECT_EQ(model_.labels(), (std::vector<std::string>{"negative", "positive"}));
    EXPECT_EQ(model_.label(1), "positive");
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.label(2); }, SENTI_ERR_INVALID_ARGUMENT));
    EXPECT_NE(model_.info().find("\"labels\""), std::string::npos);
}

TEST_F(TrainedModel, TwoLabelScoresMatchPredict) {
    for (const std::string& text : kReviews) {
        const std::vector<float> s = model_.scores(text);
        ASSERT_EQ(s.size(), 2u);
        EXPECT_NEAR(s[0] + s[1], 1.0f, 1e-5f);
        EXPECT_NEAR(s[1], model_.predict(text), 1e-5f) << text;
        const senti::Prediction top = model_.predict_label(text);
        EXPECT_EQ(top.index, s[1] > s[0] ? 1u : 0u);
        EXPECT_EQ(top.label, model_.labels()[top.index]);
        EXPECT_NEAR(top.score, s[top.index], 1e-6f);
    }
}

TEST_F(TrainedModel, PredictionPrecisionsOfHalfSizeStayCloseAndF32IsExact) {
    const auto base = model_.scores_batch(kReviews);
    for (const char* precision : {"f16", "i16"}) {
        model_.set_prediction_precision(precision);
        const auto half = model_.scores_batch(kReviews);
        ASSERT_EQ(half.size(), base.size());
        for (std::size_t i = 0; i < base.size(); ++i) {
            ASSERT_EQ(half[i].size(), 2u);
            for (std::size_t k = 0; k < 2; ++k) {
                EXPECT_GE(half[i][k], 0.0f);
                EXPECT_LE(half[i][k], 1.0f);
                EXPECT_NEAR(half[i][k], base[i][k], 1e-2f) << precision << " text " << i << " label " << k;
            }
            EXPECT_NEAR(half[i][0] + half[i][1], 1.0f, 1e-5f) << precision << " text " << i;
        }
    }
    model_.set_prediction_precision(std::string("f32"));
    EXPECT_EQ(model_.scores_batch(kReviews), base);
    EXPECT_TRUE(ThrowsSenti([] { model_.set_prediction_precision("f64"); }, SENTI_ERR_INVALID_ARGUMENT, "f64"));
    EXPECT_TRUE(ThrowsSenti([] { model_.set_prediction_precision(std::string("f16\0", 4)); }, SENTI_ERR_INVALID_ARGUMENT,
                            "NUL"));
    EXPECT_EQ(model_.scores_batch(kReviews), base);
}

TEST_F(TrainedModel, TwoLabelReportAgreesWithTheFixedStruct) {
    const std::string spec = "{\"path\": " + json_string(data_path()) + ", \"split\": \"test\", \"limit\": 300}";
    const senti_evaluation ev = model_.evaluate(spec);
    const senti::Report r = model_.evaluate_report(spec);
    EXPECT_EQ(r.count, 300u);
    EXPECT_EQ(r.labels, (std::vector<std::string>{"negative", "positive"}));
    ASSERT_EQ(r.confusion.size(), 2u);
    ASSERT_EQ(r.confusion[0].size(), 2u);
    ASSERT_EQ(r.confusion[1].size(), 2u);
    EXPECT_EQ(r.confusion[0][0], ev.true_negative);
    EXPECT_EQ(r.confusion[0][1], ev.false_positive);
    EXPECT_EQ(r.confusion[1][0], ev.false_negative);
    EXPECT_EQ(r.confusion[1][1], ev.true_positive);
    EXPECT_NEAR(r.accuracy, ev.accuracy, 1e-9);
    EXPECT_NEAR(r.loss, ev.loss, 1e-6);
    ASSERT_EQ(r.per_class.size(), 2u);
    EXPECT_EQ(r.per_class[1].label, "positive");
    EXPECT_EQ(r.per_class[1].support, ev.true_positive + ev.false_negative);
    EXPECT_FALSE(r.json.empty());
}

// ---- Explanations ---------------------------------------------------------------------------

namespace {

bool is_ascii(std::string_view s) {
    for (const char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// What holds for every explanation of `text`: spans in order inside the text, ASCII words
// reading back as their lowercased token, each token's parts adding up, and reference +
// contributions + unexplained == logit.
void expect_explained(const senti::Explanation& e, std::string_view text) {
    EXPECT_EQ(e.method, "integrated_gradients");
    EXPECT_GE(e.steps, 1u);
    EXPECT_LE(e.steps, 256u);
    EXPECT_FALSE(e.json.empty());
    std::size_t prev = 0;
    double sum = static_cast<double>(e.reference) + static_cast<double>(e.unexplained);
    for (const senti::TokenContribution& t : e.tokens) {
        EXPECT_LE(prev, t.start) << t.token;
        EXPECT_LT(t.start, t.end) << t.token;
        ASSERT_LE(t.end, text.size()) << t.token;
        prev = t.start;
        const std::string_view span = t.text_in(text);
        if (is_ascii(span)) {
            EXPECT_EQ(lower_ascii(span), t.token);
        }
        EXPECT_NEAR(t.network + t.wide, t.contribution, 1e-5f) << t.token;
        if (!t.read_by_network) {
            EXPECT_EQ(t.network, 0.0f) << t.token;
        }
        sum += static_cast<double>(t.contribution);
    }
    EXPECT_NEAR(sum, static_cast<double>(e.logit), 1e-3) << e.json;
}

}  // namespace

TEST_F(TrainedModel, ExplainThePredictedClass) {
    const std::string text = "An absolute MASTERPIECE: moving, funny and beautifully acted. I loved it.";
    const senti::Explanation e = model_.explain(text);
    expect_explained(e, text);
    const senti::Prediction top = model_.predict_label(text);
    EXPECT_EQ(e.class_index, top.index);
    EXPECT_EQ(e.label, top.label);
    EXPECT_NEAR(e.score, top.score, 1e-6f);
    EXPECT_EQ(e.steps, static_cast<std::uint32_t>(SENTI_EXPLAIN_DEFAULT_STEPS));
    ASSERT_EQ(e.tokens.size(), 15u);
    EXPECT_EQ(e.tokens[2].token, "masterpiece");
    EXPECT_EQ(e.tokens[2].text_in(text), "MASTERPIECE");
    EXPECT_EQ(e.tokens[3].token, ":");
    // The two-label score is the sigmoid of the logit.
    EXPECT_NEAR(1.0 / (1.0 + std::exp(-static_cast<double>(e.logit))), static_cast<double>(e.score), 1e-4);
}

TEST_F(TrainedModel, ExplainTheOtherClassNegates) {
    const std::string text = "Terrible. Boring plot, wooden acting, and the ending made no sense.";
    const senti::Explanation e = model_.explain(text);
    const std::size_t other = 1 - e.class_index;
    const senti::Explanation o = model_.explain(text, other, SENTI_EXPLAIN_DEFAULT_STEPS);
    expect_explained(o, text);
    EXPECT_EQ(o.class_index, other);
    EXPECT_EQ(o.label, model_.label(other));
    EXPECT_NEAR(o.logit, -e.logit, 1e-5f);
    EXPECT_NEAR(o.reference, -e.reference, 1e-5f);
    EXPECT_NEAR(o.score, 1.0f - e.score, 1e-5f);
    ASSERT_EQ(o.tokens.size(), e.tokens.size());
    for (std::size_t i = 0; i < o.tokens.size(); ++i) {
        EXPECT_EQ(o.tokens[i].token, e.tokens[i].token);
        EXPECT_EQ(o.tokens[i].start, e.tokens[i].start);
        EXPECT_NEAR(o.tokens[i].contribution, -e.tokens[i].contribution, 1e-5f) << o.tokens[i].token;
        EXPECT_NEAR(o.tokens[i].wide, -e.tokens[i].wide, 1e-5f) << o.tokens[i].token;
    }
}

// The value type holds what the C accessors report, exactly.
TEST_F(TrainedModel, ExplainMatchesTheCAccessors) {
    const std::string text = "It was okay, I guess. Not great, not awful.";
    const senti::Explanation e = model_.explain(text, 1, 8);
    senti_explanation* raw = nullptr;
    ASSERT_EQ(senti_explain(model_.get(), text.data(), text.size(), 1, 8, &raw, nullptr), SENTI_OK);
    const std::unique_ptr<senti_explanation, senti::detail::ExplanationDeleter> owned(raw);
    std::size_t cls = 99, count = 0;
    float score = 0, logit = 0, reference = 0;
    ASSERT_EQ(senti_explanation_class(raw, &cls, &score, &logit, &reference, nullptr), SENTI_OK);
    EXPECT_EQ(cls, e.class_index);
    EXPECT_EQ(score, e.score);
    EXPECT_EQ(logit, e.logit);
    EXPECT_EQ(reference, e.reference);
    ASSERT_EQ(senti_explanation_token_count(raw, &count, nullptr), SENTI_OK);
    ASSERT_EQ(count, e.tokens.size());
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t start = 0, end = 0;
        float contribution = 0;
        ASSERT_EQ(senti_explanation_token(raw, i, &start, &end, &contribution, nullptr), SENTI_OK);
        EXPECT_EQ(start, e.tokens[i].start);
        EXPECT_EQ(end, e.tokens[i].end);
        EXPECT_EQ(contribution, e.tokens[i].contribution);
    }
    EXPECT_EQ(std::string(senti_explanation_json(raw)), e.json);
}

TEST_F(TrainedModel, ExplainErrors) {
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.explain("fine", 2); }, SENTI_ERR_INVALID_ARGUMENT, "2 labels"));
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.explain("fine", senti::predicted_class, 257); }, SENTI_ERR_INVALID_ARGUMENT,
                            "between 0"));
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.explain("bad \xff"); }, SENTI_ERR_INVALID_UTF8));
    EXPECT_EQ(model_.explain("fine", senti::predicted_class, 256).steps, 256u);
    const senti::Explanation empty_text = model_.explain("");
    EXPECT_TRUE(empty_text.tokens.empty());
    expect_explained(empty_text, "");
    const senti::Model empty;
    EXPECT_TRUE(ThrowsSenti([&] { (void)empty.explain("fine"); }, SENTI_ERR_NULL_POINTER));
}

// ---- Report::parse, without the library ------------------------------------------------------

TEST(ReportParse, ReadsTheLibraryShape) {
    const std::string json =
        "{\"count\":5,\"accuracy\":0.6,\"loss\":1.25e-1,\"macro_f1\":0.5,\"labels\":[\"a\",\"b\",\"c\"],"
        "\"per_class\":[{\"label\":\"a\",\"precision\":0.5,\"recall\":0.5,\"f1\":0.5,\"support\":2},"
        "{\"label\":\"b\",\"precision\":0.5,\"recall\":1.0,\"f1\":0.6666666666666666,\"support\":1},"
        "{\"label\":\"c\",\"precision\":1,\"recall\":0.5,\"f1\":0.6666666666666666,\"support\":2}],"
        "\"confusion\":[[1,1,0],[0,1,0],[1,0,1]]}";
    const senti::Report r = senti::Report::parse(json);
    EXPECT_EQ(r.count, 5u);
    EXPECT_DOUBLE_EQ(r.accuracy, 0.6);
    EXPECT_DOUBLE_EQ(r.loss, 0.125);
    EXPECT_DOUBLE_EQ(r.macro_f1, 0.5);
    EXPECT_EQ(r.labels, (std::vector<std::string>{"a", "b", "c"}));
    ASSERT_EQ(r.per_class.size(), 3u);
    EXPECT_EQ(r.per_class[2].label, "c");
    EXPECT_DOUBLE_EQ(r.per_class[2].precision, 1.0);
    EXPECT_DOUBLE_EQ(r.per_class[1].f1, 2.0 / 3.0);
    EXPECT_EQ(r.per_class[0].support, 2u);
    EXPECT_EQ(r.confusion, (std::vector<std::vector<std::uint64_t>>{{1, 1, 0}, {0, 1, 0}, {1, 0, 1}}));
    EXPECT_EQ(r.json, json);
    EXPECT_EQ(second_tu_report_labels(json), r.labels);
}

TEST(ReportParse, AnyOrderWhitespaceEscapesAndNull) {
    const std::string json =
        " {\n \"confusion\" : [ [ 3 , 0 ] , [ 1 , 2 ] ] ,\t\"extra\": {\"nested\": [true, false, null, -1.5E+2]},\r\n"
        "  \"labels\": [\"caf\\u00e9 \\\"x\\\"\", \"\\ud83d\\ude00\\n/\\/\\\\\"], \"count\": 6, \"loss\": null,"
        "  \"macro_f1\": 0, \"accuracy\": 8.3333e-1,"
        "  \"per_class\": [ {\"support\": 3, \"f1\": 0.857, \"recall\": 1, \"precision\": 0.75, \"label\": \"caf\\u00e9 \\\"x\\\"\"},"
        "                  {\"label\": \"\\ud83d\\ude00\\n/\\/\\\\\", \"precision\": 1, \"recall\": 0.667, \"f1\": 0.8, \"support\": 3} ] } ";
    const senti::Report r = senti::Report::parse(json);
    ASSERT_EQ(r.labels.size(), 2u);
    EXPECT_EQ(r.labels[0], "caf\xc3\xa9 \"x\"");
    EXPECT_EQ(r.labels[1], "\xf0\x9f\x98\x80\n//\\");
    EXPECT_EQ(r.per_class[0].label, r.labels[0]);
    EXPECT_EQ(r.per_class[1].label, r.labels[1]);
    EXPECT_EQ(r.count, 6u);
    EXPECT_TRUE(std::isnan(r.loss));
    EXPECT_DOUBLE_EQ(r.accuracy, 0.83333);
    EXPECT_EQ(r.macro_f1, 0.0);
    EXPECT_DOUBLE_EQ(r.per_class[0].precision, 0.75);
    EXPECT_EQ(r.confusion, (std::vector<std::vector<std::uint64_t>>{{3, 0}, {1, 2}}));
}

TEST(ReportParse, MalformedOrIncompleteIsInternal) {
    const std::string good =
        "{\"count\":1,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[\"a\",\"b\"],"
        "\"per_class\":[],\"confusion\":[]}";
    EXPECT_EQ(senti::Report::parse(good).count, 1u);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"", "unexpected end"},
        {"[]", "not an object"},
        {"{\"count\":1,\"accuracy\":1,\"loss\":0.1,\"labels\":[],\"per_class\":[],\"confusion\":[]}", "macro_f1"},
        {"{\"count\":-1,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[],\"per_class\":[],\"confusion\":[]}",
         "count"},
        {"{\"count\":1.5,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[],\"per_class\":[],\"confusion\":[]}",
         "count"},
        {"{\"count\":1,\"accuracy\":\"1\",\"loss\":0.1,\"macro_f1\":1,\"labels\":[],\"per_class\":[],\"confusion\":[]}",
         "accuracy"},
        {"{\"count\":1,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[1],\"per_class\":[],\"confusion\":[]}",
         "labels"},
        {"{\"count\":1,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[],\"per_class\":[],\"confusion\":[[1,"
         "]]}",
         ""},
        {good + "x", "trailing"},
        {"{\"count\":1,\"accuracy\":1,\"loss\":01,\"macro_f1\":1,\"labels\":[],\"per_class\":[],\"confusion\":[]}", ""},
        {"{\"count\":1,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[\"\\ud800\"],\"per_class\":[],"
         "\"confusion\":[]}",
         "surrogate"},
        {"{\"count\":1,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[\"a\nb\"],\"per_class\":[],"
         "\"confusion\":[]}",
         "control"},
        {"{\"count\":1,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[\"a\\qb\"],\"per_class\":[],"
         "\"confusion\":[]}",
         "escape"},
        {"{\"count\":1,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[],\"per_class\":[{\"label\":\"a\"}],"
         "\"confusion\":[]}",
         "precision"},
        {"{\"count\":99999999999999999999,\"accuracy\":1,\"loss\":0.1,\"macro_f1\":1,\"labels\":[],\"per_class\":[],"
         "\"confusion\":[]}",
         "overflows"},
        {std::string(100, '[') + std::string(100, ']'), "deep"},
    };
    for (const auto& [json, needle] : bad)
        EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Report::parse(json); }, SENTI_ERR_INTERNAL, needle)) << json;
}

TEST(ExplanationParse, ReadsTheLibraryShape) {
    const std::string json =
        "{\"class\":1,\"label\":\"positive\",\"score\":0.75,\"logit\":1.0986123,\"reference\":-0.25,"
        "\"unexplained\":1e-7,\"method\":\"integrated_gradients\",\"steps\":16,\"tokens\":["
        "{\"token\":\"great\",\"start\":0,\"end\":5,\"contribution\":1.3486123,\"network\":1.0,\"wide\":0.3486123,"
        "\"read_by_network\":true},"
        "{\"token\":\"\\u00fc\",\"start\":6,\"end\":8,\"contribution\":0,\"network\":-0,\"wide\":0,"
        "\"read_by_network\":false}]}";
    const senti::Explanation e = senti::Explanation::parse(json);
    EXPECT_EQ(e.class_index, 1u);
    EXPECT_EQ(e.label, "positive");
    EXPECT_EQ(e.score, 0.75f);
    EXPECT_EQ(e.logit, 1.0986123f);
    EXPECT_EQ(e.reference, -0.25f);
    EXPECT_EQ(e.unexplained, 1e-7f);
    EXPECT_EQ(e.method, "integrated_gradients");
    EXPECT_EQ(e.steps, 16u);
    ASSERT_EQ(e.tokens.size(), 2u);
    EXPECT_EQ(e.tokens[0].token, "great");
    EXPECT_EQ(e.tokens[0].end, 5u);
    EXPECT_EQ(e.tokens[0].wide, 0.3486123f);
    EXPECT_TRUE(e.tokens[0].read_by_network);
    EXPECT_EQ(e.tokens[1].token, "\xc3\xbc");
    EXPECT_EQ(e.tokens[1].start, 6u);
    EXPECT_FALSE(e.tokens[1].read_by_network);
    EXPECT_EQ(e.json, json);
    EXPECT_TRUE(senti::Explanation::parse(
                    "{\"tokens\":[],\"steps\":1,\"method\":\"m\",\"unexplained\":0,\"reference\":0,\"logit\":0,"
                    "\"score\":0.5,\"label\":\"a\",\"class\":0,\"extra\":null}")
                    .tokens.empty());
}

TEST(ExplanationParse, MalformedOrIncompleteIsInternal) {
    const std::string head =
        "{\"class\":0,\"label\":\"a\",\"score\":0.5,\"logit\":0,\"reference\":0,\"unexplained\":0,"
        "\"method\":\"integrated_gradients\",\"steps\":16,\"tokens\":";
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"", "unexpected end"},
        {"[]", "not an object"},
        {"{\"class\":0}", "label"},
        {head + "{}}", "tokens"},
        {head + "[1]}", "non-object"},
        {head + "[{\"token\":\"a\",\"start\":0,\"end\":1,\"contribution\":0,\"network\":0,\"wide\":0}]}",
         "read_by_network"},
        {head + "[{\"token\":\"a\",\"start\":-1,\"end\":1,\"contribution\":0,\"network\":0,\"wide\":0,"
                "\"read_by_network\":true}]}",
         "start"},
        {head + "[{\"token\":\"a\",\"start\":0,\"end\":1,\"contribution\":0,\"network\":0,\"wide\":0,"
                "\"read_by_network\":1}]}",
         "read_by_network"},
        {"{\"class\":0,\"label\":\"a\",\"score\":0.5,\"logit\":0,\"reference\":0,\"unexplained\":0,"
         "\"method\":\"m\",\"steps\":99999999999,\"tokens\":[]}",
         "steps"},
        {head + "[]}x", "trailing"},
    };
    for (const auto& [json, needle] : bad)
        EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Explanation::parse(json); }, SENTI_ERR_INTERNAL, needle)) << json;
}

// ---- senti::Params ------------------------------------------------------------------------------

namespace {

static_assert(!std::is_copy_constructible<senti::Params>::value, "Params must not be copyable");
static_assert(!std::is_copy_assignable<senti::Params>::value, "Params must not be copyable");
static_assert(std::is_nothrow_move_constructible<senti::Params>::value, "Params moves must not throw");
static_assert(std::is_nothrow_move_assignable<senti::Params>::value, "Params moves must not throw");
static_assert(!std::is_copy_constructible<senti::Dataset>::value, "Dataset must not be copyable");
static_assert(std::is_nothrow_move_constructible<senti::Dataset>::value, "Dataset moves must not throw");
static_assert(std::is_nothrow_move_assignable<senti::Dataset>::value, "Dataset moves must not throw");
static_assert(!std::is_convertible<senti::Params, bool>::value, "operator bool must be explicit");
static_assert(std::is_same<decltype(std::declval<senti::Params&>().epochs(1)), senti::Params&>::value,
              "setters on a named Params return it by reference");
static_assert(std::is_same<decltype(senti::Params().epochs(1)), senti::Params>::value,
              "setters on a temporary return the moved Params");

// A field of params.to_json(), read with the header's own JSON reader; nullptr when absent.
std::unique_ptr<senti::detail::json::Value> field_of(const senti::Params& params, const std::string& name) {
    const senti::detail::json::Value all = senti::detail::json::parse(params.to_json());
    const senti::detail::json::Value* v = all.find(name);
    if (v == nullptr) return nullptr;
    return std::make_unique<senti::detail::json::Value>(*v);
}

std::string string_field(const senti::Params& params, const std::string& name) {
    const auto v = field_of(params, name);
    return v != nullptr && v->kind == senti::detail::json::Value::Kind::string ? v->text : "<not a string>";
}

double number_field(const senti::Params& params, const std::string& name) {
    const auto v = field_of(params, name);
    return v != nullptr && v->kind == senti::detail::json::Value::Kind::number
               ? senti::detail::json::number(*v, name)
               : -12345.0;
}

int bool_field(const senti::Params& params, const std::string& name) {
    const auto v = field_of(params, name);
    return v != nullptr && v->kind == senti::detail::json::Value::Kind::boolean ? int(v->boolean) : -1;
}

bool absent_field(const senti::Params& params, const std::string& name) {
    const auto v = field_of(params, name);
    return v == nullptr || v->kind == senti::detail::json::Value::Kind::null;
}

}  // namespace

TEST(Params, DefaultsAreTheSpecified) {
    const senti::Params p;
    ASSERT_TRUE(p);
    EXPECT_EQ(string_field(p, "data_path"), "data/imdb/reviews.json");
    EXPECT_EQ(string_field(p, "cell"), "lstm");
    EXPECT_EQ(string_field(p, "pooling"), "max_mean");
    EXPECT_EQ(number_field(p, "epochs"), 3.0);
    EXPECT_EQ(number_field(p, "hidden_size"), 128.0);
    EXPECT_DOUBLE_EQ(number_field(p, "learning_rate"), 0.002);
    EXPECT_DOUBLE_EQ(number_field(p, "validation_fraction"), 0.1);
    EXPECT_EQ(bool_field(p, "bidirectional"), 1);
    EXPECT_EQ(bool_field(p, "restore_best"), 1);
    EXPECT_TRUE(absent_field(p, "train_limit")) << p.to_json();
}

TEST(Params, BuilderChainsOnATemporaryAndANamedObject) {
    senti::Params p = senti::Params().cell("gru").epochs(4).bidirectional(false).learning_rate(0.003).data_path(
        "/data/some file.jsonl");
    EXPECT_EQ(string_field(p, "cell"), "gru");
    EXPECT_EQ(number_field(p, "epochs"), 4.0);
    EXPECT_EQ(bool_field(p, "bidirectional"), 0);
    EXPECT_DOUBLE_EQ(number_field(p, "learning_rate"), 0.003);
    EXPECT_EQ(string_field(p, "data_path"), "/data/some file.jsonl");

    senti::Params& same = p.hidden_size(24).pooling("mean").train_limit(100);
    EXPECT_EQ(&same, &p);
    EXPECT_EQ(number_field(p, "hidden_size"), 24.0);
    EXPECT_EQ(string_field(p, "pooling"), "mean");
    EXPECT_EQ(number_field(p, "train_limit"), 100.0);

    p.reset("train_limit").reset("cell");
    EXPECT_TRUE(absent_field(p, "train_limit"));
    EXPECT_EQ(string_field(p, "cell"), "lstm");
}

TEST(Params, EveryTypedSetterReachesItsField) {
    const std::string json = second_tu_params_json();
    const senti::Params p = senti::Params::from_json(json);
    EXPECT_EQ(p.to_json(), json);  // to_json and from_json round-trip
    EXPECT_EQ(string_field(p, "data_path"), "data/x.jsonl");
    EXPECT_EQ(string_field(p, "data_format"), "jsonl");
    EXPECT_TRUE(absent_field(p, "train_limit"));
    EXPECT_DOUBLE_EQ(number_field(p, "validation_fraction"), 0.2);
    EXPECT_EQ(string_field(p, "cell"), "lstm");
    EXPECT_EQ(number_field(p, "embedding_dim"), 16.0);
    EXPECT_EQ(number_field(p, "hidden_size"), 24.0);
    EXPECT_EQ(number_field(p, "layers"), 3.0);
    EXPECT_EQ(bool_field(p, "bidirectional"), 1);
    EXPECT_EQ(string_field(p, "pooling"), "max");
    EXPECT_DOUBLE_EQ(number_field(p, "dropout"), 0.25);
    EXPECT_DOUBLE_EQ(number_field(p, "embedding_dropout"), 0.0);
    EXPECT_EQ(number_field(p, "embedding_pretrain_epochs"), 0.0);
    EXPECT_EQ(number_field(p, "vocab_size"), 500.0);
    EXPECT_EQ(number_field(p, "max_len"), 32.0);
    EXPECT_EQ(string_field(p, "truncation"), "keep_end");
    EXPECT_EQ(number_field(p, "epochs"), 3.0);
    EXPECT_EQ(number_field(p, "batch_size"), 8.0);
    EXPECT_EQ(string_field(p, "optimizer"), "adamw");
    EXPECT_DOUBLE_EQ(number_field(p, "learning_rate"), 0.005);
    EXPECT_EQ(string_field(p, "lr_schedule"), "linear");
    EXPECT_DOUBLE_EQ(number_field(p, "weight_decay"), 0.001);
    EXPECT_DOUBLE_EQ(number_field(p, "clip_norm"), 2.0);
    EXPECT_EQ(bool_field(p, "restore_best"), 0);
    EXPECT_EQ(number_field(p, "seed"), 9.0);
    EXPECT_EQ(number_field(p, "threads"), 1.0);
    EXPECT_EQ(number_field(p, "wide_ngrams"), 1.0);
    EXPECT_EQ(number_field(p, "wide_buckets"), 0.0);  // reset to the default
    EXPECT_EQ(number_field(p, "wide_epochs"), 2.0);
    EXPECT_DOUBLE_EQ(number_field(p, "wide_learning_rate"), 0.05);
    EXPECT_DOUBLE_EQ(number_field(p, "wide_l2"), 1e-5);
}

TEST(Params, FromJson) {
    const senti::Params p = senti::Params::from_json("{\"epochs\": 5, \"cell\": \"gru\"}");
    EXPECT_EQ(number_field(p, "epochs"), 5.0);
    EXPECT_EQ(string_field(p, "cell"), "gru");
    EXPECT_EQ(senti::Params::from_json("").to_json(), senti::Params().to_json());
    EXPECT_EQ(senti::Params::from_json("{}").to_json(), senti::Params().to_json());
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Params::from_json("{\"epoch\": 5}"); }, SENTI_ERR_CONFIG, "epoch"));
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Params::from_json("{\"epochs\": "); }, SENTI_ERR_CONFIG));
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Params::from_json(std::string("{}\0x", 4)); }, SENTI_ERR_INVALID_ARGUMENT,
                            "NUL"));
}

TEST(Params, BadFieldsAreConfigNamingTheField) {
    senti::Params p;
    const std::string before = p.to_json();
    // Unknown field.
    EXPECT_TRUE(ThrowsSenti([&] { p.set("epoch", 3); }, SENTI_ERR_CONFIG, "epoch"));
    EXPECT_TRUE(ThrowsSenti([&] { p.set("hidden_sise", 8); }, SENTI_ERR_CONFIG, "hidden_sise"));
    EXPECT_TRUE(ThrowsSenti([&] { p.reset("no_such_field"); }, SENTI_ERR_CONFIG, "no_such_field"));
    // Wrong type.
    EXPECT_TRUE(ThrowsSenti([&] { p.set("epochs", "three"); }, SENTI_ERR_CONFIG, "epochs"));
    EXPECT_TRUE(ThrowsSenti([&] { p.set("cell", 3); }, SENTI_ERR_CONFIG, "cell"));
    EXPECT_TRUE(ThrowsSenti([&] { p.set("bidirectional", "yes"); }, SENTI_ERR_CONFIG, "bidirectional"));
    EXPECT_TRUE(ThrowsSenti([&] { p.set("data_path", true); }, SENTI_ERR_CONFIG, "data_path"));
    // Out of range, or not one of the choices.
    EXPECT_TRUE(ThrowsSenti([&] { p.hidden_size(0); }, SENTI_ERR_CONFIG, "hidden_size"));
    EXPECT_TRUE(ThrowsSenti([&] { p.epochs(-1); }, SENTI_ERR_CONFIG, "epochs"));
    EXPECT_TRUE(ThrowsSenti([&] { p.dropout(1.5); }, SENTI_ERR_CONFIG, "dropout"));
    EXPECT_TRUE(ThrowsSenti([&] { p.learning_rate(-0.1); }, SENTI_ERR_CONFIG, "learning_rate"));
    EXPECT_TRUE(ThrowsSenti([&] { p.cell("rnn"); }, SENTI_ERR_CONFIG, "cell"));
    EXPECT_TRUE(ThrowsSenti([&] { p.pooling("sum"); }, SENTI_ERR_CONFIG, "pooling"));
    EXPECT_TRUE(ThrowsSenti([&] { p.set("seed", std::numeric_limits<std::uint64_t>::max()); }, SENTI_ERR_CONFIG,
                            "seed"));
    EXPECT_TRUE(ThrowsSenti([&] { p.set("epochs", 2.0); }, SENTI_ERR_CONFIG, "epochs"));  // a float for an int
    // A refused value leaves the Params as it was.
    EXPECT_EQ(p.to_json(), before);
    // The wrapper's own checks.
    EXPECT_TRUE(ThrowsSenti([&] { p.set(std::string_view("epochs\0x", 8), 2); }, SENTI_ERR_INVALID_ARGUMENT, "NUL"));
    EXPECT_TRUE(ThrowsSenti([&] { p.cell(std::string_view("gru\0", 4)); }, SENTI_ERR_INVALID_ARGUMENT, "NUL"));
    EXPECT_TRUE(ThrowsSenti([&] { p.set("cell", static_cast<const char*>(nullptr)); }, SENTI_ERR_NULL_POINTER, "cell"));
    EXPECT_EQ(p.to_json(), before);
}

TEST(Params, MovedFromParamsIsSafe) {
    senti::Params a = senti::Params().epochs(2);
    senti::Params b(std::move(a));
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_EQ(number_field(b, "epochs"), 2.0);
    EXPECT_TRUE(ThrowsSenti([&] { a.epochs(3); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { (void)a.to_json(); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::train(a); }, SENTI_ERR_NULL_POINTER, "params"));
    senti::Dataset data;
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::train(a, data); }, SENTI_ERR_NULL_POINTER, "params"));
    a = std::move(b);
    EXPECT_EQ(number_field(a, "epochs"), 2.0);
    senti_params* raw = a.release();
    EXPECT_FALSE(a);
    const senti::Params adopted(raw);
    EXPECT_EQ(adopted.get(), raw);
    EXPECT_EQ(number_field(adopted, "epochs"), 2.0);
}

// ---- senti::Dataset -----------------------------------------------------------------------------

TEST(Dataset, EveryAddFormCounts) {
    EXPECT_EQ(second_tu_dataset_size({"x", "y", "z"}), 12u);

    senti::Dataset d;
    EXPECT_EQ(d.size(), 0u);
    d.add("first", "a").add(std::string("second"), std::string_view("b"));
    d.add(std::vector<std::string>{"third", "fourth"}, std::vector<std::string>{"a", "b"});
    d.add({"fifth"}, {"c"});
    d.add(std::vector<std::string>(), std::vector<std::string>());  // nothing to add
    EXPECT_EQ(d.size(), 5u);
}

TEST(Dataset, WrongInputIsRefused) {
    senti::Dataset d;
    EXPECT_TRUE(ThrowsSenti([&] { d.add(std::vector<std::string>{"a", "b"}, std::vector<std::string>{"x"}); },
                            SENTI_ERR_INVALID_ARGUMENT, "2 texts but 1 labels"));
    EXPECT_TRUE(ThrowsSenti([&] { d.add("text", std::string_view("x\0y", 3)); }, SENTI_ERR_INVALID_ARGUMENT, "NUL"));
    EXPECT_TRUE(ThrowsSenti([&] { d.add("bad \xff", "x"); }, SENTI_ERR_INVALID_UTF8));
    // add_indexed needs the labels declared first.
    EXPECT_THROW(d.add_indexed(std::vector<std::string>{"a"}, std::vector<int>{0}), senti::Error);
    EXPECT_EQ(d.size(), 0u);

    senti::Dataset named;
    named.set_labels({"x", "y", "z"});
    EXPECT_TRUE(ThrowsSenti([&] { named.add_indexed(std::vector<std::string>{"a", "b"}, std::vector<int>{0, -1}); },
                            SENTI_ERR_INVALID_ARGUMENT, "label_indices[1]"));
    EXPECT_TRUE(ThrowsSenti([&] { named.add_indexed(std::vector<std::string>{"a", "b"}, std::vector<int>{0}); },
                            SENTI_ERR_INVALID_ARGUMENT, "2 texts but 1 labels"));
    EXPECT_THROW(named.add_indexed(std::vector<std::string>{"a"}, std::vector<int>{3}), senti::Error);
    EXPECT_THROW(named.add("text", "w"), senti::Error);  // not a declared label
    EXPECT_EQ(named.size(), 0u);
    named.add_indexed(std::vector<std::string>{"a", "b"}, std::vector<int>{2, 0});
    EXPECT_EQ(named.size(), 2u);
    EXPECT_THROW(named.set_labels({"p", "q"}), senti::Error);  // once, before any example

    senti::Dataset one;
    EXPECT_THROW(one.set_labels({"only"}), senti::Error);
    EXPECT_THROW(one.set_labels({"same", "same"}), senti::Error);

    senti::Dataset moved = std::move(one);
    EXPECT_FALSE(one);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_TRUE(ThrowsSenti([&] { one.add("t", "x"); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { (void)one.size(); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::train(senti::Params(), one); }, SENTI_ERR_NULL_POINTER, "data"));
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::train(senti::Params(), moved, &one); }, SENTI_ERR_NULL_POINTER,
                            "validation"));
}

// ---- A three-label model trained from memory ----------------------------------------------------

namespace {

// Declared in this order on purpose: not the byte order ("cooking" < "space" < "sports").
const std::vector<std::string> kTopics = {"sports", "cooking", "space"};
const std::vector<std::vector<std::string>> kTopicWords = {
    {"goal", "striker", "league", "referee", "match", "stadium", "coach", "tournament", "penalty", "team"},
    {"oven", "flour", "garlic", "recipe", "simmer", "butter", "bake", "sauce", "onion", "skillet"},
    {"rocket", "orbit", "planet", "galaxy", "astronaut", "telescope", "comet", "launch", "nebula", "moon"},
};
const std::vector<std::string> kFiller = {"the", "a", "and", "it", "was", "very", "today", "we", "saw", "new"};

// Clear texts of each topic, for predict_label.
const std::vector<std::pair<std::string, std::size_t>> kClear = {
    {"the striker scored a penalty and the team won the league match", 0},
    {"the coach and the referee at the stadium before the tournament", 0},
    {"bake the flour and butter in the oven then simmer the garlic sauce", 1},
    {"a recipe with onion and garlic in a hot skillet", 1},
    {"the rocket launch put the astronaut in orbit around the moon", 2},
    {"a telescope saw a comet and a nebula in the galaxy", 2},
};

struct Examples {
    std::vector<std::string> texts;
    std::vector<std::string> labels;
    std::vector<std::size_t> indices;
};

// `per_topic` texts of each topic, interleaved; about a third of the words are shared filler.
Examples topic_examples(std::size_t per_topic, std::uint32_t seed) {
    std::uint32_t state = seed;
    auto next = [&] {
        state = state * 1664525u + 1013904223u;
        return state >> 8;
    };
    Examples out;
    for (std::size_t i = 0; i < per_topic; ++i) {
        for (std::size_t topic = 0; topic < kTopics.size(); ++topic) {
            std::string text;
            const std::size_t words = 6 + next() % 7;
            for (std::size_t w = 0; w < words; ++w) {
                if (!text.empty()) text += ' ';
                text += next() % 3 == 0 ? kFiller[next() % kFiller.size()]
                                        : kTopicWords[topic][next() % kTopicWords[topic].size()];
            }
            out.texts.push_back(text);
            out.labels.push_back(kTopics[topic]);
            out.indices.push_back(topic);
        }
    }
    return out;
}

// The brief's tiny recipe, through the typed builder.
senti::Params tiny_topic_params() {
    return senti::Params()
        .cell("gru")
        .epochs(3)
        .embedding_dim(16)
        .hidden_size(16)
        .vocab_size(500)
        .max_len(32)
        .threads(1)
        .embedding_pretrain_epochs(0)
        .batch_size(16)
        .learning_rate(0.01)
        .seed(3);
}

// Typed parameters for a cheap run on the IMDB file (senti_train_params reads data_path).
senti::Params tiny_imdb_params() {
    return senti::Params()
        .data_path(data_path())
        .train_limit(600)
        .epochs(1)
        .max_len(64)
        .vocab_size(2000)
        .embedding_dim(16)
        .hidden_size(16)
        .embedding_pretrain_epochs(0)
        .seed(1)
        .threads(1);
}

std::string jsonl_of(const Examples& examples) {
    std::string out;
    for (std::size_t i = 0; i < examples.texts.size(); ++i)
        out += "{\"text\": " + json_string(examples.texts[i]) + ", \"label\": " + json_string(examples.labels[i]) + "}\n";
    return out;
}

}  // namespace

class TopicModel : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        char tmpl[] = "/tmp/senti-cpp-topics-XXXXXX";
        if (mkdtemp(tmpl) == nullptr) {
            setup_error_ = "mkdtemp failed";
            return;
        }
        dir_ = tmpl;
        try {
            const Examples train = topic_examples(100, 1);
            const Examples validation = topic_examples(10, 2);
            test_ = topic_examples(20, 3);

            senti::Dataset train_set;
            train_set.set_labels(kTopics);
            train_set.add(train.texts, train.labels);
            senti::Dataset validation_set;
            validation_set.set_labels(kTopics);
            validation_set.add_indexed(validation.texts, validation.indices);
            test_set_ = senti::Dataset();
            test_set_.add(test_.texts, test_.labels);  // by name, without declaring the labels

            model_ = senti::Model::train(tiny_topic_params(), train_set, &validation_set, [](const senti_progress& p) {
                if (p.phase == SENTI_PHASE_EPOCH) {
                    ++epochs_;
                    last_val_accuracy_ = p.val_accuracy;
                    std::printf("  topics epoch %u/%u: loss %.4f acc %.4f val_loss %.4f val_acc %.4f\n", p.epoch,
                                p.epochs, p.loss, p.accuracy, p.val_loss, p.val_accuracy);
                }
                return true;
            });
            model_path_ = (dir_ / "topics.safetensors").string();
            model_.save(model_path_);
            test_jsonl_ = (dir_ / "test.jsonl").string();
            write_bytes(test_jsonl_, jsonl_of(test_));
        } catch (const std::exception& e) {
            setup_error_ = std::string("training the topic model failed: ") + e.what();
        }
    }

    static void TearDownTestSuite() {
        model_ = senti::Model();
        test_set_ = senti::Dataset(nullptr);
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    void SetUp() override { ASSERT_TRUE(model_) << setup_error_; }

    static void expect_consistent(const senti::Report& r, std::uint64_t count) {
        EXPECT_EQ(r.count, count);
        EXPECT_EQ(r.labels, kTopics);
        ASSERT_EQ(r.per_class.size(), 3u);
        ASSERT_EQ(r.confusion.size(), 3u);
        std::uint64_t total = 0, diagonal = 0, support = 0;
        for (std::size_t actual = 0; actual < 3; ++actual) {
            ASSERT_EQ(r.confusion[actual].size(), 3u) << "row " << actual;
            std::uint64_t row = 0;
            for (std::size_t predicted = 0; predicted < 3; ++predicted) row += r.confusion[actual][predicted];
            EXPECT_EQ(r.per_class[actual].label, kTopics[actual]);
            EXPECT_EQ(r.per_class[actual].support, row);
            total += row;
            diagonal += r.confusion[actual][actual];
            support += r.per_class[actual].support;
            for (const double x : {r.per_class[actual].precision, r.per_class[actual].recall, r.per_class[actual].f1}) {
                EXPECT_GE(x, 0.0);
                EXPECT_LE(x, 1.0);
            }
        }
        EXPECT_EQ(total, count);
        EXPECT_EQ(support, count);
        EXPECT_NEAR(r.accuracy, static_cast<double>(diagonal) / static_cast<double>(count), 1e-9);
        double f1_sum = 0.0;
        for (const senti::ClassMetrics& c : r.per_class) f1_sum += c.f1;
        EXPECT_NEAR(r.macro_f1, f1_sum / 3.0, 1e-9);
        EXPECT_TRUE(std::isfinite(r.loss));
    }

    static inline senti::Model model_;
    static inline senti::Dataset test_set_{nullptr};
    static inline Examples test_;
    static inline fs::path dir_;
    static inline std::string model_path_;
    static inline std::string test_jsonl_;
    static inline std::string setup_error_ = "no model";
    static inline int epochs_ = 0;
    static inline double last_val_accuracy_ = 0.0;
};

TEST_F(TopicModel, TrainedOnEveryEpochWithValidation) {
    EXPECT_EQ(epochs_, 3);
    EXPECT_FALSE(std::isnan(last_val_accuracy_));
}

TEST_F(TopicModel, LabelsKeepTheDeclaredOrder) {
    EXPECT_EQ(model_.label_count(), 3u);
    EXPECT_EQ(model_.labels(), kTopics);
    for (std::size_t i = 0; i < kTopics.size(); ++i) EXPECT_EQ(model_.label(i), kTopics[i]);
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.label(3); }, SENTI_ERR_INVALID_ARGUMENT));
    const std::string info = model_.info();
    EXPECT_NE(info.find("\"labels\""), std::string::npos) << info;
    EXPECT_NE(info.find("\"cooking\""), std::string::npos) << info;
}

TEST_F(TopicModel, ScoresAreADistribution) {
    std::vector<std::string> texts;
    for (const auto& [text, topic] : kClear) texts.push_back(text);
    texts.push_back("");
    texts.push_back("words the model has never seen: quux zorp");
    for (const std::string& text : texts) {
        const std::vector<float> s = model_.scores(text);
        ASSERT_EQ(s.size(), 3u);
        float sum = 0.0f;
        for (const float x : s) {
            EXPECT_GE(x, 0.0f);
            EXPECT_LE(x, 1.0f);
            sum += x;
        }
        EXPECT_NEAR(sum, 1.0f, 1e-5f) << text;
    }
}

TEST_F(TopicModel, PredictionThreadsDoNotChangeScores) {
    std::vector<std::string> texts;
    for (int i = 0; i < 200; i++) texts.push_back(kClear[i % kClear.size()].first + " " + std::to_string(i));
    const auto base = model_.scores_batch(texts);
    for (const std::size_t threads : {1u, 3u}) {
        model_.set_prediction_threads(threads);
        EXPECT_EQ(model_.scores_batch(texts), base) << threads << " threads";
    }
    EXPECT_TRUE(ThrowsSenti([&] { model_.set_prediction_threads(5000); }, SENTI_ERR_INVALID_ARGUMENT, "between 0 and 1024"));
    model_.set_prediction_threads(0);
}

TEST_F(TopicModel, ScoresBatchEqualsSingles) {
    std::vector<std::string> texts;
    for (const auto& [text, topic] : kClear) texts.push_back(text);
    const std::vector<std::vector<float>> batch = model_.scores_batch(texts);
    const std::vector<std::string_view> views(texts.begin(), texts.end());
    const std::vector<std::vector<float>> from_views = model_.scores_batch(views.data(), views.size());
    const std::vector<std::vector<float>> from_list = model_.scores_batch({texts[0], texts[1]});
    const std::vector<std::vector<float>> there = second_tu_scores_batch(model_, texts);
    ASSERT_EQ(batch.size(), texts.size());
    ASSERT_EQ(from_list.size(), 2u);
    EXPECT_EQ(from_views, batch);
    EXPECT_EQ(there, batch);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::vector<float> single = model_.scores(texts[i]);
        ASSERT_EQ(batch[i].size(), 3u);
        for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(batch[i][k], single[k], 1e-5f) << "text " << i;
    }
    for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(from_list[1][k], batch[1][k]);
    EXPECT_TRUE(model_.scores_batch(std::vector<std::string>()).empty());
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.scores_batch({"fine", "bad \xff"}); }, SENTI_ERR_INVALID_UTF8));
}

TEST_F(TopicModel, PredictLabelPicksTheTopic) {
    std::vector<std::string> texts;
    for (const auto& [text, topic] : kClear) {
        texts.push_back(text);
        const senti::Prediction p = model_.predict_label(text);
        EXPECT_EQ(p.index, topic) << text;
        EXPECT_EQ(p.label, kTopics[topic]) << text;
        const std::vector<float> s = model_.scores(text);
        EXPECT_NEAR(p.score, s[p.index], 1e-6f);
        for (const float x : s) EXPECT_LE(x, p.score);
    }
    const std::vector<std::string> there = second_tu_predicted_labels(model_, texts);
    for (std::size_t i = 0; i < kClear.size(); ++i) EXPECT_EQ(there[i], kTopics[kClear[i].second]);
}

TEST_F(TopicModel, ExplainEveryClass) {
    const std::string text = "the rocket launch put the astronaut in orbit around the moon";
    const std::vector<float> s = model_.scores(text);
    for (std::size_t k = 0; k < kTopics.size(); ++k) {
        const senti::Explanation e = model_.explain(text, k, 4);
        expect_explained(e, text);
        EXPECT_EQ(e.class_index, k);
        EXPECT_EQ(e.label, kTopics[k]);
        EXPECT_EQ(e.score, s[k]);
        EXPECT_EQ(e.steps, 4u);
    }
    EXPECT_EQ(model_.explain(text).label, "space");
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.explain("the rocket", 3); }, SENTI_ERR_INVALID_ARGUMENT, "3 labels"));
}

TEST_F(TopicModel, ExplainSpansPointIntoNonAsciiText) {
    const std::string text = "Ünïcödé ROCKET — moon 😀";  // UTF-8: 2-, 3- and 4-byte characters
    const senti::Explanation e = model_.explain(text);
    expect_explained(e, text);
    ASSERT_EQ(e.tokens.size(), 5u);
    EXPECT_EQ(e.tokens[0].text_in(text), "Ünïcödé");
    EXPECT_EQ(e.tokens[0].token, "ünïcödé");  // lowercased
    EXPECT_EQ(e.tokens[1].start, 12u);
    EXPECT_EQ(e.tokens[1].text_in(text), "ROCKET");
    EXPECT_EQ(e.tokens[2].text_in(text), "—");
    EXPECT_EQ(e.tokens[4].text_in(text), "😀");
    EXPECT_EQ(e.tokens[4].end, text.size());
    EXPECT_EQ(second_tu_explained_tokens(model_, text),
              (std::vector<std::string>{"Ünïcödé", "ROCKET", "—", "moon", "😀"}));
}

TEST_F(TopicModel, PredictIsForTwoLabelsOnly) {
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.predict("the rocket"); }, SENTI_ERR_INVALID_ARGUMENT));
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.predict_batch({"the rocket", "the oven"}); }, SENTI_ERR_INVALID_ARGUMENT));
}

TEST_F(TopicModel, ReportOnADataset) {
    EXPECT_EQ(test_set_.size(), test_.texts.size());
    const senti::Report r = model_.evaluate(test_set_);
    expect_consistent(r, test_.texts.size());
    std::printf("  topics (60 held-out texts): accuracy %.4f macro-F1 %.4f loss %.4f\n", r.accuracy, r.macro_f1, r.loss);
    EXPECT_GE(r.accuracy, 0.8) << r.json;
}

TEST_F(TopicModel, ReportOnAFileMatchesTheDataset) {
    const senti::Report from_file =
        model_.evaluate_report("{\"path\": " + json_string(test_jsonl_) + ", \"format\": \"jsonl\"}");
    expect_consistent(from_file, test_.texts.size());
    const senti::Report from_memory = model_.evaluate(test_set_);
    EXPECT_EQ(from_file.confusion, from_memory.confusion);
    EXPECT_NEAR(from_file.accuracy, from_memory.accuracy, 1e-12);
    EXPECT_NEAR(from_file.loss, from_memory.loss, 1e-6);
    // The fixed struct keeps count, loss and accuracy for any K; its binary counts are zero.
    const senti_evaluation ev = model_.evaluate("{\"path\": " + json_string(test_jsonl_) + "}");
    EXPECT_EQ(ev.count, test_.texts.size());
    EXPECT_NEAR(ev.accuracy, from_file.accuracy, 1e-9);
    EXPECT_EQ(ev.true_positive + ev.true_negative + ev.false_positive + ev.false_negative, 0u);
}

TEST_F(TopicModel, ReportRefusesUnknownLabels) {
    senti::Dataset other;
    other.add("the rocket", "space").add("a goal", "football");
    EXPECT_TRUE(ThrowsSenti([&] { (void)model_.evaluate(other); }, SENTI_ERR_DATA));
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.evaluate_report("{\"path\": \"/nonexistent/t.jsonl\"}"); }, SENTI_ERR_IO,
                            "/nonexistent/t.jsonl"));
    EXPECT_TRUE(ThrowsSenti([] { (void)model_.evaluate_report("{\"path\": 3}"); }, SENTI_ERR_CONFIG));
    const senti::Model empty;
    EXPECT_TRUE(ThrowsSenti([&] { (void)empty.evaluate(test_set_); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { (void)empty.scores("x"); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { (void)empty.labels(); }, SENTI_ERR_NULL_POINTER));
    EXPECT_TRUE(ThrowsSenti([&] { (void)empty.predict_label("x"); }, SENTI_ERR_NULL_POINTER));
}

TEST_F(TopicModel, SaveAndLoadKeepLabelsAndScores) {
    const senti::Model loaded = senti::Model::load(model_path_);
    EXPECT_EQ(loaded.labels(), kTopics);
    for (const auto& [text, topic] : kClear) EXPECT_EQ(loaded.scores(text), model_.scores(text)) << text;
}

TEST_F(TopicModel, ScoresFromManyThreads) {
    std::vector<std::string> texts;
    for (const auto& [text, topic] : kClear) texts.push_back(text);
    const std::vector<std::vector<float>> want = model_.scores_batch(texts);
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&] {
            for (int round = 0; round < 5; ++round) {
                if (model_.scores_batch(texts) != want) ++mismatches;
                for (std::size_t i = 0; i < texts.size(); ++i)
                    if (model_.predict_label(texts[i]).index != kClear[i].second) ++mismatches;
            }
        });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(mismatches.load(), 0);
}

// ---- Training from memory: labels, data errors, callbacks --------------------------------------

namespace {

senti::Params one_epoch_params() {
    return tiny_topic_params().epochs(1).wide_ngrams(0).restore_best(false);
}

}  // namespace

// Without a wide path the network alone explains (by integrated gradients); the tiny models
// with one learn to give the network no weight, so the tests above see the wide path only.
TEST(Explain, ARecurrentModelIsExplainedByTheNetwork) {
    const Examples e = topic_examples(40, 8);
    senti::Dataset train;
    train.set_labels(kTopics);
    train.add(e.texts, e.labels);
    const senti::Model model = senti::Model::train(tiny_topic_params().wide_ngrams(0), train);
    // max_len is 32 and the end is kept: the first 16 of 48 tokens are not read.
    std::string text;
    for (int i = 0; i < 8; ++i) text += "rocket ";
    for (int i = 0; i < 8; ++i) text += "the moon and the orbit ";
    for (std::size_t k = 0; k < kTopics.size(); ++k) {
        const senti::Explanation x = model.explain(text, k);
        expect_explained(x, text);
        ASSERT_EQ(x.tokens.size(), 48u);
        std::size_t network = 0;
        for (std::size_t i = 0; i < x.tokens.size(); ++i) {
            EXPECT_EQ(x.tokens[i].read_by_network, i >= 16) << i;
            EXPECT_EQ(x.tokens[i].wide, 0.0f);
            if (x.tokens[i].network != 0.0f) ++network;
        }
        EXPECT_GT(network, 0u) << x.json;
    }
}

TEST(TrainDataset, InfersLabelsByBytesOrByNumber) {
    const Examples e = topic_examples(10, 5);
    senti::Dataset named;
    named.add(e.texts, e.labels);  // sports, cooking, space: inferred in byte order
    const senti::Model by_bytes = senti::Model::train(one_epoch_params(), named);
    EXPECT_EQ(by_bytes.labels(), (std::vector<std::string>{"cooking", "space", "sports"}));

    senti::Dataset numbered;
    const std::vector<std::string> numbers = {"10", "2", "1"};
    for (std::size_t i = 0; i < e.texts.size(); ++i) numbered.add(e.texts[i], numbers[e.indices[i]]);
    const senti::Model by_number = senti::Model::train(one_epoch_params(), numbered);
    EXPECT_EQ(by_number.labels(), (std::vector<std::string>{"1", "2", "10"}));
    EXPECT_EQ(by_number.scores("the rocket").size(), 3u);
}

TEST(TrainDataset, DataErrors) {
    senti::Dataset one_class;
    one_class.add("a goal", "sports").add("the striker", "sports").add("the league", "sports");
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::train(one_epoch_params(), one_class); }, SENTI_ERR_DATA));

    const Examples e = topic_examples(10, 6);
    senti::Dataset train;
    train.add(e.texts, e.labels);
    senti::Dataset validation;
    validation.add("the rocket", "space").add("a recipe", "baking");
    EXPECT_TRUE(ThrowsSenti([&] { (void)senti::Model::train(one_epoch_params(), train, &validation); }, SENTI_ERR_DATA,
                            "example 1"));

    senti::Dataset empty;
    EXPECT_THROW((void)senti::Model::train(one_epoch_params(), empty), senti::Error);
}

TEST(TrainDataset, ReturningFalseCancels) {
    const Examples e = topic_examples(20, 7);
    senti::Dataset train;
    train.add(e.texts, e.labels);
    int calls = 0;
    EXPECT_TRUE(ThrowsSenti(
        [&] {
            (void)senti::Model::train(one_epoch_params().batch_size(4), train, nullptr,
                                      [&](const senti_progress&) { return ++calls < 2; });
        },
        SENTI_ERR_CANCELLED, "cancel"));
    EXPECT_EQ(calls, 2);
}

TEST(TrainDataset, ExceptionInCallbackIsRethrown) {
    struct Boom : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    const Examples e = topic_examples(20, 8);
    senti::Dataset train;
    train.add(e.texts, e.labels);
    int calls = 0;
    try {
        (void)senti::Model::train(one_epoch_params().batch_size(4), train, nullptr, [&](const senti_progress& p) -> bool {
            ++calls;
            throw Boom("dataset boom at batch " + std::to_string(p.batch));
        });
        FAIL() << "train did not throw";
    } catch (const Boom& e2) {
        EXPECT_STREQ(e2.what(), "dataset boom at batch 1");
    } catch (const std::exception& e2) {
        FAIL() << "wrong exception: " << e2.what();
    }
    EXPECT_EQ(calls, 1) << "callback called again after it threw";
}

TEST(TrainParams, TypedParamsReadTheDataPath) {
    EXPECT_TRUE(ThrowsSenti([] { (void)senti::Model::train(senti::Params().data_path("/nonexistent/reviews.json")); },
                            SENTI_ERR_IO, "/nonexistent/reviews.json"));
}

TEST(TrainParams, ExceptionInCallbackIsRethrown) {
    struct Boom : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    int calls = 0;
    try {
        (void)senti::Model::train(tiny_imdb_params(), [&](const senti_progress& p) -> bool {
            ++calls;
            throw Boom("typed boom at batch " + std::to_string(p.batch));
        });
        FAIL() << "train did not throw";
    } catch (const Boom& e) {
        EXPECT_STREQ(e.what(), "typed boom at batch 1");
    } catch (const std::exception& e) {
        FAIL() << "wrong exception: " << e.what();
    }
    EXPECT_EQ(calls, 1) << "callback called again after it threw";
}

TEST(TrainParams, ReturningFalseCancels) {
    int calls = 0;
    EXPECT_TRUE(ThrowsSenti(
        [&] { (void)senti::Model::train(tiny_imdb_params(), [&](const senti_progress&) { return ++calls < 2; }); },
        SENTI_ERR_CANCELLED, "cancel"));
    EXPECT_EQ(calls, 2);
}
