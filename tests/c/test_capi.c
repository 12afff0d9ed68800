/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * C test harness for libsenti: trains on a small IMDB slice through senti_train, then exercises
 * save, load, predict, batch predict, evaluate and every error path of the C API.
 * Usage: test_capi <reviews.json> <scratch-dir>
 * SENTI_TEST_QUICK=1 (used for the valgrind run of tests/sanitize/run.sh) trains a much smaller
 * model for one epoch and skips only the assertions about accuracy, saying so; every other
 * check runs as usual.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "senti.h"

static int passed, failed;
static int quick; /* SENTI_TEST_QUICK: a tiny model, no accuracy assertions */

/* An assertion about how well the model learned: skipped (and reported) in quick mode. */
#define CHECK_ACCURACY(cond, ...)                                               \
    do {                                                                        \
        if (quick) {                                                            \
            printf("  quick mode: skipped accuracy assertion %s\n", #cond);     \
        } else {                                                                \
            CHECK(cond, __VA_ARGS__);                                           \
        }                                                                       \
    } while (0)

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (cond) {                                                             \
            passed++;                                                           \
        } else {                                                                \
            failed++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, "\n");                                              \
        }                                                                       \
    } while (0)

/* Checks that a call failed with `want`, that its error object carries the same code and a
 * message containing `needle`, and frees the error. */
static void expect_error(const char *what, senti_status got, senti_error *err, senti_status want, const char *needle) {
    CHECK(got == want, "%s: got %s, want %s", what, senti_status_name(got), senti_status_name(want));
    CHECK(err != NULL, "%s: no error object", what);
    if (err == NULL) return;
    CHECK(senti_error_code(err) == want, "%s: error object code %d", what, (int)senti_error_code(err));
    const char *msg = senti_error_message(err);
    CHECK(msg != NULL && strstr(msg, needle) != NULL, "%s: message %s lacks \"%s\"", what, msg ? msg : "(null)", needle);
    senti_error_free(err);
    CHECK(senti_error_message(err) == NULL, "%s: freed error still readable", what);
    senti_error_free(err); /* double free is harmless */
}

/* `call` reports through a fresh `err` declared here; C leaves argument evaluation order
 * unspecified, so the call must complete before the error is inspected. */
#define EXPECT_ERROR(what, want, needle, call)            \
    do {                                                  \
        senti_error *err = NULL;                          \
        senti_status st_ = (call);                        \
        expect_error(what, st_, err, want, needle);       \
    } while (0)

struct progress_log {
    int batches, epochs, cancel_at;
    double last_val_accuracy;
    int pretrain_reports, cancel_in_pretrain, misplaced_pretrain_reports;
};

static int32_t on_progress(const senti_progress *p, void *user_data) {
    struct progress_log *log = user_data;
    if (p->phase == SENTI_PHASE_PRETRAIN) {
        log->pretrain_reports++;
        if (log->batches > 0 || p->epoch < 1 || p->epoch > p->epochs || p->batch < 1 || p->batch > p->batches || !isnan(p->loss))
            log->misplaced_pretrain_reports++;
        return log->cancel_in_pretrain;
    }
    if (p->phase == SENTI_PHASE_BATCH) log->batches++;
    if (p->phase == SENTI_PHASE_EPOCH) {
        log->epochs++;
        log->last_val_accuracy = p->val_accuracy;
        printf("  epoch %u/%u: loss %.4f acc %.4f val_loss %.4f val_acc %.4f\n", p->epoch, p->epochs, p->loss,
               p->accuracy, p->val_loss, p->val_accuracy);
    }
    return log->cancel_at > 0 && log->batches >= log->cancel_at;
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    fwrite(data, 1, len, f);
    fclose(f);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(*len);
    if (fread(buf, 1, *len, f) != *len) { perror(path); exit(2); }
    fclose(f);
    return buf;
}

/* Whether the first "flags" line of /proc/cpuinfo lists `flag`; -1 when there is no such file. */
static int cpu_has(const char *flag) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    static char line[8192];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        for (char *tok = strtok(strchr(line, ':') + 1, " \n"); tok; tok = strtok(NULL, " \n"))
            if (!strcmp(tok, flag)) found = 1;
        break;
    }
    fclose(f);
    return found;
}

/* The kernels' level follows the CPU as this process sees it: the widest of AVX-512 (F, VL, FMA)
 * and AVX2 (with FMA). On x86-64 that is CPUID with the OS's register support, as the library
 * reads it: under valgrind, whose emulated CPU has no AVX-512, /proc/cpuinfo would say otherwise. */
static void test_simd_level(void) {
    const char *level = senti_simd_level();
    printf("     kernels chose %s\n", level);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    int avx2 = __builtin_cpu_supports("avx2");
    int fma = __builtin_cpu_supports("fma");
    (void)cpu_has;
#else
    int avx512 = cpu_has("avx512f"), avx2 = cpu_has("avx2"), fma = cpu_has("fma");
    if (avx512 < 0) {
        CHECK(!strcmp(level, "avx512") || !strcmp(level, "avx2") || !strcmp(level, "baseline"), "level %s", level);
        return;
    }
    avx512 = avx512 && cpu_has("avx512vl");
#endif
    const char *want = avx512 && fma ? "avx512" : avx2 && fma ? "avx2" : "baseline";
#if !defined(__x86_64__)
    want = "baseline";
#endif
    CHECK(!strcmp(level, want), "kernels chose %s, the CPU says %s", level, want);
}

static void test_version(void) {
    CHECK(senti_version_number() == SENTI_VERSION_NUMBER, "library %u vs header %d", senti_version_number(), SENTI_VERSION_NUMBER);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", SENTI_VERSION_MAJOR, SENTI_VERSION_MINOR, SENTI_VERSION_PATCH);
    CHECK(strcmp(senti_version(), want) == 0, "version string %s", senti_version());
    CHECK(strcmp(senti_status_name(SENTI_ERR_IO), "SENTI_ERR_IO") == 0, "status name");
    CHECK(strcmp(senti_status_name(999), "SENTI_UNKNOWN_STATUS") == 0, "unknown status name");
}

static void test_training_errors(const char *data) {
    senti_model *model = NULL;
    char json[1024];

    EXPECT_ERROR("bad json", SENTI_ERR_CONFIG, "training parameters", senti_train("{\"epochs\": ", NULL, NULL, &model, &err));
    EXPECT_ERROR("unknown field", SENTI_ERR_CONFIG, "unknown field `epoch`", senti_train("{\"epoch\": 2}", NULL, NULL, &model, &err));
    EXPECT_ERROR("wrong type", SENTI_ERR_CONFIG, "epochs", senti_train("{\"epochs\": \"two\"}", NULL, NULL, &model, &err));
    EXPECT_ERROR("out of range", SENTI_ERR_CONFIG, "hidden_size", senti_train("{\"hidden_size\": 0}", NULL, NULL, &model, &err));
    EXPECT_ERROR("nan learning rate", SENTI_ERR_CONFIG, "learning_rate", senti_train("{\"learning_rate\": -1}", NULL, NULL, &model, &err));
    EXPECT_ERROR("wide n-grams out of range", SENTI_ERR_CONFIG, "wide_ngrams", senti_train("{\"wide_ngrams\": 4}", NULL, NULL, &model, &err));
    EXPECT_ERROR("wide buckets out of range", SENTI_ERR_CONFIG, "wide_buckets", senti_train("{\"wide_buckets\": 5}", NULL, NULL, &model, &err));
    EXPECT_ERROR("missing data", SENTI_ERR_IO, "/nonexistent/reviews.json", senti_train("{\"data_path\": \"/nonexistent/reviews.json\"}", NULL, NULL, &model, &err));
    EXPECT_ERROR("null model_out", SENTI_ERR_NULL_POINTER, "model_out", senti_train("{}", NULL, NULL, NULL, &err));
    const char bad_utf8[] = {'{', '"', 'x', (char)0xff, '"', ':', '1', '}', 0};
    EXPECT_ERROR("invalid utf-8 json", SENTI_ERR_INVALID_UTF8, "UTF-8", senti_train(bad_utf8, NULL, NULL, &model, &err));
    CHECK(model == NULL, "model_out written on failure");
    /* The status alone, without an error object. */
    CHECK(senti_train("{\"epoch\": 2}", NULL, NULL, &model, NULL) == SENTI_ERR_CONFIG, "status without error object");

    /* Cancelling from the progress callback. */
    struct progress_log log = {0, 0, 3, 0, 0, 0, 0};
    /* Quick mode: tiny layers here too (valgrind takes minutes for 3 batches of the default size). */
    snprintf(json, sizeof json, "{\"data_path\": \"%s\", \"train_limit\": 600, \"epochs\": 1, \"max_len\": 64, \"threads\": 2%s}", data,
             quick ? ", \"vocab_size\": 2000, \"embedding_dim\": 16, \"hidden_size\": 16" : "");
    EXPECT_ERROR("cancel", SENTI_ERR_CANCELLED, "cancelled", senti_train(json, on_progress, &log, &model, &err));
    CHECK(log.batches == 3, "callback ran %d batches after cancelling", log.batches);
    CHECK(model == NULL, "cancelled training produced a model");

    /* Cancelling while word vectors are learned, before any batch. */
    struct progress_log early = {0, 0, 0, 0, 0, 1, 0};
    snprintf(json, sizeof json, "{\"data_path\": \"%s\", \"train_limit\": 600, \"embedding_pretrain_epochs\": 3, \"max_len\": 64, \"threads\": 2%s}", data,
             quick ? ", \"vocab_size\": 2000, \"embedding_dim\": 16, \"hidden_size\": 16" : "");
    EXPECT_ERROR("cancel word vectors", SENTI_ERR_CANCELLED, "word vectors", senti_train(json, on_progress, &early, &model, &err));
    CHECK(early.pretrain_reports == 1 && early.batches == 0, "%d word-vector reports, %d batches", early.pretrain_reports, early.batches);
    CHECK(early.misplaced_pretrain_reports == 0, "%d word-vector reports with out-of-range fields", early.misplaced_pretrain_reports);
    CHECK(model == NULL, "cancelled training produced a model");
    EXPECT_ERROR("word-vector epochs out of range", SENTI_ERR_CONFIG, "embedding_pretrain_epochs", senti_train("{\"embedding_pretrain_epochs\": 101}", NULL, NULL, &model, &err));
}

static senti_model *train_small(const char *data) {
    char json[1024];
    /* 3000 reviews less 10% validation in batches of 64: 43 batches an epoch (quick: 600, 9). */
    int epochs = quick ? 1 : 3, min_batches = quick ? 8 : 40;
    if (quick)
        snprintf(json, sizeof json,
                 "{\"data_path\": \"%s\", \"train_limit\": 600, \"epochs\": 1, \"max_len\": 40, \"vocab_size\": 2000,"
                 " \"embedding_dim\": 16, \"hidden_size\": 16, \"cell\": \"gru\", \"seed\": 3, \"threads\": 1}",
                 data);
    else
        snprintf(json, sizeof json,
                 "{\"data_path\": \"%s\", \"train_limit\": 3000, \"epochs\": 3, \"max_len\": 150, \"vocab_size\": 8000,"
                 " \"embedding_dim\": 64, \"hidden_size\": 64, \"cell\": \"gru\", \"seed\": 3, \"threads\": 2}",
                 data);
    struct progress_log log = {0, 0, 0, 0, 0, 0, 0};
    senti_model *model = NULL;
    senti_error *err = NULL;
    senti_status st = senti_train(json, on_progress, &log, &model, &err);
    CHECK(st == SENTI_OK, "train: %s %s", senti_status_name(st), err ? senti_error_message(err) : "");
    senti_error_free(err);
    CHECK(log.epochs == epochs && log.batches > epochs * min_batches, "progress: %d epochs, %d batches", log.epochs, log.batches);
    /* 2,700 reviews are too little text for word vectors by default. */
    CHECK(log.pretrain_reports == 0, "%d word-vector reports", log.pretrain_reports);
    CHECK_ACCURACY(log.last_val_accuracy > 0.65, "validation accuracy %.3f", log.last_val_accuracy);
    return model;
}

static const char *reviews[] = {
    "An absolute masterpiece: moving, funny and beautifully acted. I loved every minute of it.",
    "Terrible. Boring plot, wooden acting, and the ending made no sense. A waste of time.",
    "",
    "It was okay, I guess.",
};
#define N_REVIEWS (sizeof reviews / sizeof reviews[0])

static void test_model(senti_model *model, const char *data, const char *dir) {
    char path[1024], json[1024];
    senti_error *err = NULL;

    float single[N_REVIEWS];
    for (size_t i = 0; i < N_REVIEWS; i++) {
        CHECK(senti_predict(model, reviews[i], SENTI_NUL_TERMINATED, &single[i], NULL) == SENTI_OK, "predict %zu", i);
        CHECK(single[i] >= 0.0f && single[i] <= 1.0f, "probability %f", single[i]);
    }
    CHECK_ACCURACY(single[0] > 0.5f && single[1] < 0.5f, "obvious reviews: positive %.3f, negative %.3f", single[0], single[1]);
    float explicit_len;
    CHECK(senti_predict(model, reviews[0], strlen(reviews[0]), &explicit_len, NULL) == SENTI_OK && explicit_len == single[0],
          "explicit length differs");
    float batch[N_REVIEWS];
    CHECK(senti_predict_batch(model, reviews, NULL, N_REVIEWS, batch, NULL) == SENTI_OK, "batch predict");
    for (size_t i = 0; i < N_REVIEWS; i++)
        CHECK(fabsf(batch[i] - single[i]) < 1e-5f, "batch[%zu] %f vs single %f", i, batch[i], single[i]);

    senti_evaluation ev;
    snprintf(json, sizeof json, "{\"path\": \"%s\", \"split\": \"test\", \"limit\": 1000}", data);
    senti_status st = senti_evaluate(model, json, &ev, &err);
    CHECK(st == SENTI_OK, "evaluate: %s", err ? senti_error_message(err) : "");
    senti_error_free(err);
    err = NULL;
    printf("  held-out (1000 test reviews): accuracy %.4f loss %.4f\n", ev.accuracy, ev.loss);
    CHECK(ev.count == 1000 && ev.true_positive + ev.true_negative + ev.false_positive + ev.false_negative == 1000, "counts");
    CHECK_ACCURACY(ev.accuracy > 0.70, "held-out accuracy %.3f is not well above chance", ev.accuracy);
    /* The default model has a wide n-gram path; each part can be scored alone. */
    static const char *const parts[] = {"recurrent", "wide", "model"};
    double part_acc[3];
    for (int k = 0; k < 3; k++) {
        senti_evaluation pe;
        snprintf(json, sizeof json, "{\"path\": \"%s\", \"split\": \"test\", \"limit\": 1000, \"part\": \"%s\"}", data, parts[k]);
        st = senti_evaluate(model, json, &pe, &err);
        CHECK(st == SENTI_OK && pe.count == 1000, "evaluate part %s: %s", parts[k], err ? senti_error_message(err) : "");
        senti_error_free(err);
        err = NULL;
        part_acc[k] = pe.accuracy;
    }
    printf("  parts on the same reviews: recurrent %.4f, wide %.4f, model %.4f\n", part_acc[0], part_acc[1], part_acc[2]);
    CHECK(part_acc[2] == ev.accuracy, "part \"model\" (%.4f) differs from the default evaluation (%.4f)", part_acc[2], ev.accuracy);
    CHECK_ACCURACY(part_acc[1] > 0.70, "the wide path alone: %.3f", part_acc[1]);

    const uint8_t labels[] = {1, 0};
    senti_evaluation ev2;
    CHECK(senti_evaluate_texts(model, reviews, NULL, labels, 2, &ev2, NULL) == SENTI_OK && ev2.count == 2, "evaluate_texts");
    CHECK_ACCURACY(ev2.accuracy == 1.0, "evaluate_texts accuracy %.2f on the two obvious reviews", ev2.accuracy);

    size_t info_len = 0;
    CHECK(senti_model_info(model, NULL, 0, &info_len, NULL) == SENTI_ERR_BUFFER_TOO_SMALL && info_len > 0, "info length");
    char *info = malloc(info_len + 1);
    CHECK(senti_model_info(model, info, info_len + 1, NULL, NULL) == SENTI_OK && strstr(info, "\"cell\":\"gru\"") != NULL, "info json");
    free(info);

    /* Save, load, and the loaded model predicts identically. */
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    st = senti_save(model, path, &err);
    CHECK(st == SENTI_OK, "save: %s", err ? senti_error_message(err) : "");
    senti_error_free(err);
    err = NULL;
    senti_model *loaded = NULL;
    CHECK(senti_load(path, &loaded, NULL) == SENTI_OK && loaded != NULL, "load");
    float again[N_REVIEWS];
    CHECK(senti_predict_batch(loaded, reviews, NULL, N_REVIEWS, again, NULL) == SENTI_OK, "predict after load");
    for (size_t i = 0; i < N_REVIEWS; i++) CHECK(again[i] == batch[i], "loaded model differs at %zu", i);
    senti_free(loaded);
    loaded = NULL;

    /* Damaged copies of the saved file. */
    size_t len;
    char *bytes = read_file(path, &len);
    char bad[1024];
    snprintf(bad, sizeof bad, "%s/truncated.safetensors", dir);
    write_file(bad, bytes, len / 2);
    EXPECT_ERROR("truncated file", SENTI_ERR_MODEL_FILE, "truncated.safetensors", senti_load(bad, &loaded, &err));
    snprintf(bad, sizeof bad, "%s/header.safetensors", dir);
    bytes[0] ^= 0x7f; /* header length */
    write_file(bad, bytes, len);
    EXPECT_ERROR("damaged header", SENTI_ERR_MODEL_FILE, "safetensors", senti_load(bad, &loaded, &err));
    bytes[0] ^= 0x7f;
    /* One bit of one weight: structurally a valid model, refused by the checksum. */
    snprintf(bad, sizeof bad, "%s/weight.safetensors", dir);
    bytes[len - 3] ^= 0x01;
    write_file(bad, bytes, len);
    EXPECT_ERROR("one bit of a weight changed", SENTI_ERR_MODEL_FILE, "damaged", senti_load(bad, &loaded, &err));
    free(bytes);
    snprintf(bad, sizeof bad, "%s/foreign.safetensors", dir);
    const char foreign[] = "\x0e\0\0\0\0\0\0\0{\"__a__\":null}";
    write_file(bad, foreign, sizeof foreign - 1);
    EXPECT_ERROR("foreign file", SENTI_ERR_MODEL_FILE, "safetensors", senti_load(bad, &loaded, &err));
    snprintf(bad, sizeof bad, "%s/text.safetensors", dir);
    write_file(bad, "hello", 5);
    EXPECT_ERROR("text file", SENTI_ERR_MODEL_FILE, "text.safetensors", senti_load(bad, &loaded, &err));
    EXPECT_ERROR("missing file", SENTI_ERR_IO, "/nonexistent/model.safetensors", senti_load("/nonexistent/model.safetensors", &loaded, &err));
    EXPECT_ERROR("save to missing dir", SENTI_ERR_IO, "/nonexistent/dir", senti_save(model, "/nonexistent/dir/m.safetensors", &err));
    CHECK(loaded == NULL, "load wrote model_out on failure");
}

static void test_argument_errors(senti_model *model) {
    float p = -1.0f;
    EXPECT_ERROR("null model", SENTI_ERR_NULL_POINTER, "model", senti_predict(NULL, "x", 1, &p, &err));
    EXPECT_ERROR("never-issued handle", SENTI_ERR_INVALID_HANDLE, "handle", senti_predict((senti_model *)(uintptr_t)0x1234, "x", 1, &p, &err));
    EXPECT_ERROR("null text", SENTI_ERR_NULL_POINTER, "text", senti_predict(model, NULL, 5, &p, &err));
    EXPECT_ERROR("null out", SENTI_ERR_NULL_POINTER, "probability_out", senti_predict(model, "x", 1, NULL, &err));
    EXPECT_ERROR("invalid utf-8", SENTI_ERR_INVALID_UTF8, "UTF-8", senti_predict(model, "ok \xc3\x28 bad", 10, &p, &err));
    CHECK(p == -1.0f, "probability written on failure");
    CHECK(senti_predict(model, NULL, 0, &p, NULL) == SENTI_OK, "NULL with length 0 is the empty text");
    const char with_nul[] = "great\0movie";
    CHECK(senti_predict(model, with_nul, sizeof with_nul - 1, &p, NULL) == SENTI_OK, "text with NUL byte");
    float out[2];
    EXPECT_ERROR("empty batch", SENTI_ERR_INVALID_ARGUMENT, "count is 0", senti_predict_batch(model, reviews, NULL, 0, out, &err));
    const char *with_null[] = {"fine", NULL};
    EXPECT_ERROR("null in batch", SENTI_ERR_NULL_POINTER, "texts[1]", senti_predict_batch(model, with_null, NULL, 2, out, &err));
    senti_evaluation ev;
    EXPECT_ERROR("eval bad json", SENTI_ERR_CONFIG, "data specification", senti_evaluate(model, "{\"path\": 3}", &ev, &err));
    EXPECT_ERROR("eval unknown field", SENTI_ERR_CONFIG, "unknown field", senti_evaluate(model, "{\"path\": \"x.jsonl\", \"lim\": 3}", &ev, &err));
    EXPECT_ERROR("eval unknown part", SENTI_ERR_CONFIG, "unknown variant", senti_evaluate(model, "{\"path\": \"x.jsonl\", \"part\": \"head\"}", &ev, &err));
    const uint8_t bad_labels[] = {1, 7};
    EXPECT_ERROR("bad label", SENTI_ERR_INVALID_ARGUMENT, "labels[1]", senti_evaluate_texts(model, reviews, NULL, bad_labels, 2, &ev, &err));
    char small[4];
    size_t need = 0;
    EXPECT_ERROR("small buffer", SENTI_ERR_BUFFER_TOO_SMALL, "bytes", senti_model_info(model, small, sizeof small, &need, &err));
    CHECK(need > sizeof small, "needed length %zu", need);

    /* An error handle is not a model handle. */
    senti_error *e2 = NULL;
    senti_load("/nonexistent", NULL, &e2);
    EXPECT_ERROR("error handle as model", SENTI_ERR_INVALID_HANDLE, "error handle", senti_predict((const senti_model *)e2, "x", 1, &p, &err));
    senti_free((senti_model *)e2); /* wrong kind: ignored, the error stays alive */
    CHECK(senti_error_message(e2) != NULL, "senti_free released an error handle");
    senti_error_free(e2);
    CHECK(senti_error_code(NULL) == SENTI_ERR_INVALID_HANDLE && senti_error_message(NULL) == NULL, "NULL error");
    senti_error_free(NULL);
    senti_free(NULL);
}

static void test_use_after_free(const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    senti_model *model = NULL;
    CHECK(senti_load(path, &model, NULL) == SENTI_OK, "load for use-after-free");
    senti_free(model);
    senti_free(model); /* double free is harmless */
    float p;
    EXPECT_ERROR("use after free", SENTI_ERR_INVALID_HANDLE, "freed", senti_predict(model, "x", 1, &p, &err));
    EXPECT_ERROR("save after free", SENTI_ERR_INVALID_HANDLE, "freed", senti_save(model, path, &err));
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <reviews.json> <scratch-dir>\n", argv[0]);
        return 2;
    }
    const char *data = argv[1], *dir = argv[2];
    const char *q = getenv("SENTI_TEST_QUICK");
    quick = q != NULL && *q != '\0' && strcmp(q, "0") != 0;
    if (quick) printf("SENTI_TEST_QUICK: tiny model, accuracy assertions skipped\n");
    test_version();
    test_simd_level();
    test_training_errors(data);
    senti_model *model = train_small(data);
    if (model != NULL) {
        test_model(model, data, dir);
        test_argument_errors(model);
        senti_free(model);
        test_use_after_free(dir);
    }
    printf("c-api: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
