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
