/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Misuse and bad input at the C API of libsenti. Every case is a named check; every API call
 * that returns a status is also a row of the table printed at the end (case -> status).
 *
 *   misuse:    NULL in every pointer argument of every function, double free, use after free,
 *              a handle of the wrong kind, never-issued handle values, and senti_free racing
 *              with calls on the same handle from other threads.
 *   bad input: empty and whitespace-only texts, a 10 MB text, texts over the size limit, NUL
 *              bytes inside a text, invalid UTF-8 (texts, paths, JSON), empty batches, bad
 *              labels, absurd training parameters, bad data specifications, bad paths.
 *
 * Usage: test_misuse <reviews.json> <scratch-dir>. Trains tiny models on a JSONL slice of the
 * reviews (well under a second). SENTI_TEST_QUICK=1 runs fewer race rounds (for valgrind).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* This program, run again for child processes (argv[0] resolved: under valgrind
 * /proc/self/exe is valgrind itself). */
static char self_path[4096];

/* ---- the table of case -> status ---------------------------------------------------------- */

struct row {
    char name[112];
    char want[40];
    char got[40];
    double ms;
    int ok;
};
static struct row rows[512];
static int nrows;

static void add_row(const char *name, const char *want, const char *got, double ms, int ok) {
    if (nrows >= (int)(sizeof rows / sizeof rows[0])) return;
    struct row *r = &rows[nrows++];
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->want, sizeof r->want, "%s", want);
    snprintf(r->got, sizeof r->got, "%s", got);
    r->ms = ms;
    r->ok = ok;
}

/* Checks a returned status against `want`. On failure the error object (when one was asked
 * for) must exist and carry the same code and a message; on success there must be none. */
static int expect_status(const char *name, senti_status want, senti_status got, senti_error *err, int asked, double secs) {
    int ok = got == want;
    char detail[512] = "";
    if (asked && want != SENTI_OK) {
        if (err == NULL) {
            ok = 0;
            snprintf(detail, sizeof detail, "no error object");
        } else if (senti_error_code(err) != got || senti_error_message(err) == NULL || senti_error_message(err)[0] == 0) {
            ok = 0;
            snprintf(detail, sizeof detail, "error object code %d, message %s", (int)senti_error_code(err),
                     senti_error_message(err) ? senti_error_message(err) : "(null)");
        }
    }
    if (asked && want == SENTI_OK && got == SENTI_OK && err != NULL) {
        ok = 0;
        snprintf(detail, sizeof detail, "an error object on success");
    }
    if (got != want)
        snprintf(detail, sizeof detail, "%s", err && senti_error_message(err) ? senti_error_message(err) : "");
    CHECK(name, ok, "got %s, want %s %s", senti_status_name(got), senti_status_name(want), detail);
    add_row(name, senti_status_name(want), senti_status_name(got), secs * 1e3, ok);
    senti_error_free(err);
    return ok;
}

/* `call` may use `err` (declared here, NULL) as its error_out. */
#define EXPECT(name, want, call)                                              \
    do {                                                                      \
        senti_error *err = NULL;                                              \
        double t0_ = now_s();                                                 \
        senti_status st_ = (call);                                            \
        expect_status((name), (want), st_, err, 1, now_s() - t0_);            \
    } while (0)
/* The same for a call that passes NULL as error_out. */
#define EXPECT_NOERR(name, want, call)                                        \
    do {                                                                      \
        double t0_ = now_s();                                                 \
        senti_status st_ = (call);                                            \
        expect_status((name), (want), st_, NULL, 0, now_s() - t0_);           \
    } while (0)

/* A non-status result (a void function, a pointer) as a row. */
static void note(const char *name, int ok, const char *got) {
    CHECK(name, ok, "%s", got);
    add_row(name, "-", got, 0, ok);
}

static char path_buf[1024];
static const char *in_dir(const char *dir, const char *name) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
    return path_buf;
}

static float predict1(senti_model *m, const char *text, size_t len) {
    float p = -1.0f;
    senti_error *err = NULL;
    senti_status st = senti_predict(m, text, len, &p, &err);
    if (st != SENTI_OK) {
        char d[512];
        fprintf(stderr, "predict failed: %s\n", describe(st, err, d, sizeof d));
        return -2.0f;
    }
    return p;
}

static const char *texts2[] = {"A wonderful film.", "Dull and far too long."};
static const size_t lens2[] = {17, 22};
static const uint8_t labels2[] = {1, 0};

/* ---- NULL in every pointer argument ------------------------------------------------------- */

static int saw_null_user_data = -1;

static int32_t cancel_first(const senti_progress *p, void *user_data) {
    if (user_data != NULL) *(int *)user_data = 1;
    else saw_null_user_data = (p != NULL);
    return 1; /* cancel at once */
}

static void test_null_pointers(senti_model *model, const char *slice, const char *dir) {
    senti_model *m = NULL;
    float p = -7.0f;
    float probs[2] = {-7.0f, -7.0f};
    senti_evaluation ev;
    memset(&ev, 0x5a, sizeof ev);
    char json[4096];

    /* senti_train(params_json, progress, user_data, model_out, error_out) */
    /* params_json NULL means all defaults; defaults read data/imdb/reviews.json relative to the
     * working directory, so run it where that file does not exist: a cheap SENTI_ERR_IO naming
     * the default path shows that NULL was taken for the defaults. */
    char cwd[1024];
    if (getcwd(cwd, sizeof cwd) == NULL) { perror("getcwd"); exit(2); }
    const char *empty = in_dir(dir, "empty-cwd");
    if (chdir(empty) != 0) { perror(empty); exit(2); }
    {
        senti_error *err = NULL;
        senti_status st = senti_train(NULL, NULL, NULL, &m, &err);
        const char *msg = err ? senti_error_message(err) : NULL;
        CHECK("train: params_json NULL means defaults (reads data/imdb/reviews.json)",
              st == SENTI_ERR_IO && msg && strstr(msg, "data/imdb/reviews.json"), "%s %s", senti_status_name(st), msg ? msg : "");
        add_row("train: params_json NULL = defaults (no data here)", "SENTI_ERR_IO", senti_status_name(st), 0, st == SENTI_ERR_IO);
        senti_error_free(err);
    }
    if (chdir(cwd) != 0) { perror(cwd); exit(2); }
    snprintf(json, sizeof json, "{\"data_path\": \"%s\", \"epochs\": 1, \"vocab_size\": 500, \"embedding_dim\": 8, \"hidden_size\": 8, \"threads\": 1}", slice);
    /* progress NULL (no callback) is what train_tiny does for every model of this test. */
    EXPECT("train: user_data NULL with a callback", SENTI_ERR_CANCELLED, senti_train(json, cancel_first, NULL, &m, &err));
    CHECK("train: the callback got user_data NULL and a progress record", saw_null_user_data == 1, "%d", saw_null_user_data);
    {
        int seen = 0;
        EXPECT("train: user_data passed through", SENTI_ERR_CANCELLED, senti_train(json, cancel_first, &seen, &m, &err));
        CHECK("train: callback saw user_data", seen == 1, "seen %d", seen);
    }
    EXPECT("train: model_out NULL", SENTI_ERR_NULL_POINTER, senti_train(json, NULL, NULL, NULL, &err));
    EXPECT_NOERR("train: error_out NULL on failure", SENTI_ERR_NULL_POINTER, senti_train(json, NULL, NULL, NULL, NULL));
    EXPECT_NOERR("train: model_out and error_out NULL", SENTI_ERR_NULL_POINTER, senti_train(NULL, NULL, NULL, NULL, NULL));
    CHECK("train: model_out untouched on failure", m == NULL, "%p", (void *)m);

    /* senti_load(path, model_out, error_out) */
    const char *file = in_dir(dir, "misuse.safetensors");
    EXPECT("load: path NULL", SENTI_ERR_NULL_POINTER, senti_load(NULL, &m, &err));
    EXPECT("load: model_out NULL", SENTI_ERR_NULL_POINTER, senti_load(file, NULL, &err));
    EXPECT_NOERR("load: error_out NULL on failure", SENTI_ERR_NULL_POINTER, senti_load(NULL, &m, NULL));
    EXPECT_NOERR("load: all NULL", SENTI_ERR_NULL_POINTER, senti_load(NULL, NULL, NULL));
    CHECK("load: model_out untouched on failure", m == NULL, "%p", (void *)m);
    EXPECT_NOERR("load: error_out NULL on success", SENTI_OK, senti_load(file, &m, NULL));
    senti_free(m);
    m = NULL;

    /* senti_save(model, path, error_out) */
    EXPECT("save: model NULL", SENTI_ERR_NULL_POINTER, senti_save(NULL, file, &err));
    EXPECT("save: path NULL", SENTI_ERR_NULL_POINTER, senti_save(model, NULL, &err));
    EXPECT_NOERR("save: error_out NULL on failure", SENTI_ERR_NULL_POINTER, senti_save(model, NULL, NULL));
    EXPECT_NOERR("save: all NULL", SENTI_ERR_NULL_POINTER, senti_save(NULL, NULL, NULL));

    /* senti_predict(model, text, text_len, probability_out, error_out) */
    EXPECT("predict: model NULL", SENTI_ERR_NULL_POINTER, senti_predict(NULL, "x", 1, &p, &err));
    EXPECT("predict: text NULL with length 5", SENTI_ERR_NULL_POINTER, senti_predict(model, NULL, 5, &p, &err));
    EXPECT("predict: text NULL, NUL-terminated", SENTI_ERR_NULL_POINTER, senti_predict(model, NULL, SENTI_NUL_TERMINATED, &p, &err));
    EXPECT("predict: probability_out NULL", SENTI_ERR_NULL_POINTER, senti_predict(model, "x", 1, NULL, &err));
    EXPECT_NOERR("predict: error_out NULL on failure", SENTI_ERR_NULL_POINTER, senti_predict(model, "x", 1, NULL, NULL));
    EXPECT_NOERR("predict: all NULL", SENTI_ERR_NULL_POINTER, senti_predict(NULL, NULL, 0, NULL, NULL));
    CHECK("predict: probability untouched on failure", p == -7.0f, "%f", p);
    EXPECT("predict: text NULL with length 0 is the empty text", SENTI_OK, senti_predict(model, NULL, 0, &p, &err));

    /* senti_predict_batch(model, texts, text_lens, count, probabilities_out, error_out) */
    EXPECT("predict_batch: model NULL", SENTI_ERR_NULL_POINTER, senti_predict_batch(NULL, texts2, lens2, 2, probs, &err));
    EXPECT("predict_batch: texts NULL", SENTI_ERR_NULL_POINTER, senti_predict_batch(model, NULL, lens2, 2, probs, &err));
    EXPECT("predict_batch: probabilities_out NULL", SENTI_ERR_NULL_POINTER, senti_predict_batch(model, texts2, lens2, 2, NULL, &err));
    const char *with_null[] = {"fine", NULL};
    EXPECT("predict_batch: texts[1] NULL", SENTI_ERR_NULL_POINTER, senti_predict_batch(model, with_null, NULL, 2, probs, &err));
    EXPECT_NOERR("predict_batch: error_out NULL on failure", SENTI_ERR_NULL_POINTER, senti_predict_batch(model, NULL, NULL, 2, probs, NULL));
    EXPECT_NOERR("predict_batch: all NULL", SENTI_ERR_NULL_POINTER, senti_predict_batch(NULL, NULL, NULL, 2, NULL, NULL));
    CHECK("predict_batch: probabilities untouched on failure", probs[0] == -7.0f && probs[1] == -7.0f, "%f %f", probs[0], probs[1]);
    EXPECT("predict_batch: text_lens NULL = all NUL-terminated", SENTI_OK, senti_predict_batch(model, texts2, NULL, 2, probs, &err));
    {
        const size_t lens[] = {4, 0};
        EXPECT("predict_batch: texts[1] NULL with length 0 is empty", SENTI_OK, senti_predict_batch(model, with_null, lens, 2, probs, &err));
    }

    /* senti_evaluate(model, data_json, result_out, error_out) */
    snprintf(json, sizeof json, "{\"path\": \"%s\", \"limit\": 20}", slice);
    EXPECT("evaluate: model NULL", SENTI_ERR_NULL_POINTER, senti_evaluate(NULL, json, &ev, &err));
    EXPECT("evaluate: data_json NULL", SENTI_ERR_NULL_POINTER, senti_evaluate(model, NULL, &ev, &err));
    EXPECT("evaluate: result_out NULL", SENTI_ERR_NULL_POINTER, senti_evaluate(model, json, NULL, &err));
    EXPECT_NOERR("evaluate: error_out NULL on failure", SENTI_ERR_NULL_POINTER, senti_evaluate(model, NULL, &ev, NULL));
    EXPECT_NOERR("evaluate: all NULL", SENTI_ERR_NULL_POINTER, senti_evaluate(NULL, NULL, NULL, NULL));
    {
        senti_evaluation pattern;
        memset(&pattern, 0x5a, sizeof pattern);
        CHECK("evaluate: result untouched on failure", memcmp(&ev, &pattern, sizeof ev) == 0, "result written");
    }
    EXPECT("evaluate: valid call", SENTI_OK, senti_evaluate(model, json, &ev, &err));
    CHECK("evaluate: 20 reviews counted", ev.count == 20, "count %llu", (unsigned long long)ev.count);

    /* senti_evaluate_texts(model, texts, text_lens, labels, count, result_out, error_out) */
    EXPECT("evaluate_texts: model NULL", SENTI_ERR_NULL_POINTER, senti_evaluate_texts(NULL, texts2, lens2, labels2, 2, &ev, &err));
    EXPECT("evaluate_texts: texts NULL", SENTI_ERR_NULL_POINTER, senti_evaluate_texts(model, NULL, lens2, labels2, 2, &ev, &err));
    EXPECT("evaluate_texts: labels NULL", SENTI_ERR_NULL_POINTER, senti_evaluate_texts(model, texts2, lens2, NULL, 2, &ev, &err));
    EXPECT("evaluate_texts: result_out NULL", SENTI_ERR_NULL_POINTER, senti_evaluate_texts(model, texts2, lens2, labels2, 2, NULL, &err));
    EXPECT("evaluate_texts: texts[1] NULL", SENTI_ERR_NULL_POINTER, senti_evaluate_texts(model, with_null, NULL, labels2, 2, &ev, &err));
    EXPECT_NOERR("evaluate_texts: error_out NULL on failure", SENTI_ERR_NULL_POINTER, senti_evaluate_texts(model, texts2, lens2, NULL, 2, &ev, NULL));
    EXPECT_NOERR("evaluate_texts: all NULL", SENTI_ERR_NULL_POINTER, senti_evaluate_texts(NULL, NULL, NULL, NULL, 2, NULL, NULL));
    EXPECT("evaluate_texts: text_lens NULL = all NUL-terminated", SENTI_OK, senti_evaluate_texts(model, texts2, NULL, labels2, 2, &ev, &err));

    /* senti_model_info(model, buffer, capacity, length_out, error_out) */
    size_t need = 0;
    char small[8];
    EXPECT("model_info: model NULL", SENTI_ERR_NULL_POINTER, senti_model_info(NULL, small, sizeof small, &need, &err));
    EXPECT("model_info: buffer NULL with capacity 64", SENTI_ERR_NULL_POINTER, senti_model_info(model, NULL, 64, &need, &err));
    EXPECT("model_info: buffer NULL with capacity 0 asks the length", SENTI_ERR_BUFFER_TOO_SMALL, senti_model_info(model, NULL, 0, &need, &err));
    CHECK("model_info: length reported", need > 0, "%zu", need);
    EXPECT("model_info: length_out NULL", SENTI_ERR_BUFFER_TOO_SMALL, senti_model_info(model, small, sizeof small, NULL, &err));
    EXPECT_NOERR("model_info: error_out NULL on failure", SENTI_ERR_NULL_POINTER, senti_model_info(NULL, NULL, 0, NULL, NULL));
    {
        char *buf = malloc(need + 1);
        EXPECT("model_info: length_out NULL on success", SENTI_OK, senti_model_info(model, buf, need + 1, NULL, &err));
        CHECK("model_info: NUL-terminated JSON", strlen(buf) == need && buf[0] == '{', "%zu vs %zu", strlen(buf), need);
        free(buf);
    }

    /* The functions without a status. */
    senti_free(NULL);
    note("free: NULL is ignored", 1, "returned");
    senti_error_free(NULL);
    note("error_free: NULL is ignored", 1, "returned");
    note("error_code: NULL", senti_error_code(NULL) == SENTI_ERR_INVALID_HANDLE, senti_status_name(senti_error_code(NULL)));
    note("error_message: NULL", senti_error_message(NULL) == NULL, senti_error_message(NULL) ? "non-NULL" : "NULL");
    note("status_name: undefined status -1", strcmp(senti_status_name(-1), "SENTI_UNKNOWN_STATUS") == 0, senti_status_name(-1));
    note("status_name: INT32_MIN", strcmp(senti_status_name(INT32_MIN), "SENTI_UNKNOWN_STATUS") == 0, senti_status_name(INT32_MIN));
}

/* ---- handles: wrong kind, never issued, double free, use after free ----------------------- */

/* Runs every model-taking function on `h`, which is not a live model: each must fail with
 * INVALID_HANDLE (and senti_free must ignore it). */
static void all_model_calls_fail(const char *what, senti_model *h, const char *file) {
    char name[160];
    float p = -7.0f, probs[2];
    senti_evaluation ev;
    size_t need = 0;
    char buf[16];
    char json[4096];
    snprintf(json, sizeof json, "{\"path\": \"%s\"}", file);
#define NAMED(fn) (snprintf(name, sizeof name, "%s: %s", what, fn), name)
    EXPECT(NAMED("predict"), SENTI_ERR_INVALID_HANDLE, senti_predict(h, "x", 1, &p, &err));
    EXPECT(NAMED("predict_batch"), SENTI_ERR_INVALID_HANDLE, senti_predict_batch(h, texts2, NULL, 2, probs, &err));
    EXPECT(NAMED("evaluate"), SENTI_ERR_INVALID_HANDLE, senti_evaluate(h, json, &ev, &err));
    EXPECT(NAMED("evaluate_texts"), SENTI_ERR_INVALID_HANDLE, senti_evaluate_texts(h, texts2, NULL, labels2, 2, &ev, &err));
    EXPECT(NAMED("model_info"), SENTI_ERR_INVALID_HANDLE, senti_model_info(h, buf, sizeof buf, &need, &err));
    EXPECT(NAMED("save"), SENTI_ERR_INVALID_HANDLE, senti_save(h, file, &err));
    senti_free(h);
    note(NAMED("free is ignored"), 1, "returned");
    CHECK(NAMED("probability untouched"), p == -7.0f, "%f", p);
#undef NAMED
}

static void all_error_calls_fail(const char *what, senti_error *e) {
    char name[160];
    snprintf(name, sizeof name, "%s: error_code", what);
    note(name, senti_error_code(e) == SENTI_ERR_INVALID_HANDLE, senti_status_name(senti_error_code(e)));
    snprintf(name, sizeof name, "%s: error_message", what);
    note(name, senti_error_message(e) == NULL, senti_error_message(e) ? "non-NULL" : "NULL");
    senti_error_free(e);
    snprintf(name, sizeof name, "%s: error_free is ignored", what);
    note(name, 1, "returned");
}

static void test_handles(senti_model *model, const char *dir) {
    const char *file = in_dir(dir, "misuse.safetensors");
    char scratch_file[1024];
    snprintf(scratch_file, sizeof scratch_file, "%s/never-written.safetensors", dir);
    float before = predict1(model, texts2[0], SENTI_NUL_TERMINATED);

    /* Wrong kind: an error handle passed as a model, a model handle passed as an error. */
    senti_error *e = NULL;
    senti_load("/nonexistent/m.safetensors", &(senti_model *){NULL}, &e);
    CHECK("wrong kind: got a live error to misuse", e != NULL, "no error");
    all_model_calls_fail("wrong kind (error handle as model)", (senti_model *)e, scratch_file);
    CHECK("wrong kind: senti_free left the error alive", senti_error_code(e) == SENTI_ERR_IO && senti_error_message(e) != NULL,
          "code %d", (int)senti_error_code(e));
    all_error_calls_fail("wrong kind (model handle as error)", (senti_error *)model);
    CHECK("wrong kind: senti_error_free left the model alive", predict1(model, texts2[0], SENTI_NUL_TERMINATED) == before, "model changed or freed");
    senti_error_free(e);

    /* Never-issued values: small integers, all ones, real addresses (stack, heap, a function),
     * and values next to live handles that the registry never issued. */
    int on_stack = 42;
    void *on_heap = malloc(64);
    memset(on_heap, 0xab, 64);
    struct {
        const char *name;
        uintptr_t value;
    } forged[] = {
        {"never issued (1)", 1},
        {"never issued (0x1234)", 0x1234},
        {"never issued (UINTPTR_MAX)", UINTPTR_MAX},
        {"never issued (stack address)", (uintptr_t)&on_stack},
        {"never issued (heap address)", (uintptr_t)on_heap},
        {"never issued (function address)", (uintptr_t)&test_handles},
        {"never issued (live model + 2^20)", (uintptr_t)model + (1u << 20)},
        {"never issued (live model - 1 bit flip)", (uintptr_t)model ^ ((uintptr_t)1 << 40)},
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        all_model_calls_fail(forged[i].name, (senti_model *)forged[i].value, scratch_file);
        all_error_calls_fail(forged[i].name, (senti_error *)forged[i].value);
    }
    CHECK("never issued: heap memory untouched", ((unsigned char *)on_heap)[0] == 0xab && ((unsigned char *)on_heap)[63] == 0xab, "written");
    CHECK("never issued: stack memory untouched", on_stack == 42, "written");
    free(on_heap);
    CHECK("never issued: the live model still works", predict1(model, texts2[0], SENTI_NUL_TERMINATED) == before, "model changed or freed");
    struct stat st;
    CHECK("never issued: save wrote nothing", stat(scratch_file, &st) != 0, "file exists");

    /* Double free and use after free of a model. */
    senti_model *m = NULL;
    EXPECT("use after free: load a model to free", SENTI_OK, senti_load(file, &m, &err));
    senti_free(m);
    senti_free(m);
    note("double free: model", 1, "returned");
    all_model_calls_fail("use after free (model)", m, scratch_file);
    senti_model *m2 = NULL;
    EXPECT("use after free: load again", SENTI_OK, senti_load(file, &m2, &err));
    CHECK("use after free: a freed handle value is never reissued", m2 != m, "reissued %p", (void *)m);
    all_model_calls_fail("use after free (model, after a new load)", m, scratch_file);
    CHECK("use after free: the new handle works", predict1(m2, texts2[0], SENTI_NUL_TERMINATED) == before, "differs");
    senti_free(m2);

    /* Double free and use after free of an error. */
    senti_error *e2 = NULL;
    senti_load(NULL, &m, &e2);
    CHECK("use after free: got an error to free", e2 != NULL && senti_error_code(e2) == SENTI_ERR_NULL_POINTER, "no error");
    senti_error_free(e2);
    senti_error_free(e2);
    note("double free: error", 1, "returned");
    all_error_calls_fail("use after free (error)", e2);
}

/* ---- senti_free racing with calls on the same handle -------------------------------------- */

struct racer {
    senti_model *model;
    float expect;
    int kind; /* 0 predict, 1 predict_batch, 2 model_info, 3 evaluate_texts */
    atomic_int *freed; /* set once both freers have returned */
    long ok_calls, invalid_calls, bad_status, wrong_value, ok_after_invalid;
    senti_status last_bad;
};

static void *race_caller(void *arg) {
    struct racer *r = arg;
    int seen_invalid = 0;
    /* Until the handle is gone, plus a few calls to see it stays gone. No clock: under valgrind
     * a busy caller can hold the CPU for a long time, and the free always comes. A broken
     * library that never invalidates the handle ends the loop 1000 calls after the free. */
    long after_free = 0;
    while (r->invalid_calls < 3 && !(atomic_load(r->freed) && ++after_free > 1000)) {
        senti_status st;
        float p = -1.0f, probs[2];
        char buf[4096];
        size_t len;
        senti_evaluation ev;
        switch (r->kind) {
        case 0: st = senti_predict(r->model, texts2[0], SENTI_NUL_TERMINATED, &p, NULL); break;
        case 1: st = senti_predict_batch(r->model, texts2, NULL, 2, probs, NULL); p = probs[0]; break;
        case 2: st = senti_model_info(r->model, buf, sizeof buf, &len, NULL); if (st == SENTI_ERR_BUFFER_TOO_SMALL) st = SENTI_OK; p = r->expect; break;
        default: st = senti_evaluate_texts(r->model, texts2, NULL, labels2, 2, &ev, NULL); p = r->expect; break;
        }
        if (st == SENTI_OK) {
            r->ok_calls++;
            if (seen_invalid) r->ok_after_invalid++;
            if (r->kind == 0 && p != r->expect) r->wrong_value++;
            if (r->kind == 1 && !(p >= 0.0f && p <= 1.0f)) r->wrong_value++;
        } else if (st == SENTI_ERR_INVALID_HANDLE) {
            r->invalid_calls++;
            seen_invalid = 1;
        } else {
            r->bad_status++;
            r->last_bad = st;
        }
    }
    return NULL;
}

struct freer {
    senti_model *model;
    unsigned delay_us;
    int times;
};

static void *race_freer(void *arg) {
    struct freer *f = arg;
    struct timespec ts = {0, (long)f->delay_us * 1000};
    nanosleep(&ts, NULL);
    for (int i = 0; i < f->times; i++) senti_free(f->model);
    return NULL;
}

static void test_free_races(const char *dir) {
    const char *file = in_dir(dir, "misuse.safetensors");
    char file_copy[1024];
    snprintf(file_copy, sizeof file_copy, "%s", file);
    senti_model *ref = NULL;
    if (senti_load(file_copy, &ref, NULL) != SENTI_OK) { fprintf(stderr, "load failed\n"); exit(2); }
    float expect = predict1(ref, texts2[0], SENTI_NUL_TERMINATED);
    senti_free(ref);

    int rounds = quick_mode() ? 4 : 40;
    long ok = 0, invalid = 0, bad = 0, wrong = 0, after = 0, never_freed = 0;
    senti_status last_bad = SENTI_OK;
    unsigned seed = 12345;
    for (int r = 0; r < rounds; r++) {
        senti_model *m = NULL;
        if (senti_load(file_copy, &m, NULL) != SENTI_OK) { fprintf(stderr, "load failed\n"); exit(2); }
        struct racer callers[4];
        pthread_t tc[4], tf[2];
        atomic_int freed = 0;
        for (int k = 0; k < 4; k++) {
            memset(&callers[k], 0, sizeof callers[k]);
            callers[k].freed = &freed;
            callers[k].model = m;
            callers[k].expect = expect;
            callers[k].kind = k;
            pthread_create(&tc[k], NULL, race_caller, &callers[k]);
        }
        /* Two freers race each other too (a concurrent double free). */
        seed = seed * 1103515245u + 12345u;
        struct freer fr = {m, (seed >> 8) % 3000, 1};
        struct freer fr2 = {m, (seed >> 16) % 3000, 2};
        pthread_create(&tf[0], NULL, race_freer, &fr);
        pthread_create(&tf[1], NULL, race_freer, &fr2);
        for (int k = 0; k < 2; k++) pthread_join(tf[k], NULL);
        atomic_store(&freed, 1);
        for (int k = 0; k < 4; k++) {
            pthread_join(tc[k], NULL);
            ok += callers[k].ok_calls;
            invalid += callers[k].invalid_calls;
            bad += callers[k].bad_status;
            wrong += callers[k].wrong_value;
            after += callers[k].ok_after_invalid;
            if (callers[k].invalid_calls == 0) never_freed++;
            if (callers[k].bad_status) last_bad = callers[k].last_bad;
        }
    }
    printf("  free race: %d rounds, %ld calls OK, %ld INVALID_HANDLE\n", rounds, ok, invalid);
    CHECK("free race: every call returned SENTI_OK or SENTI_ERR_INVALID_HANDLE", bad == 0, "%ld calls returned other statuses (last %s)", bad, senti_status_name(last_bad));
    CHECK("free race: calls that succeeded returned the model's answer", wrong == 0, "%ld wrong answers", wrong);
    CHECK("free race: once freed, the handle stays invalid", after == 0, "%ld OK after INVALID_HANDLE", after);
    CHECK("free race: every caller saw the free", never_freed == 0, "%ld callers never saw INVALID_HANDLE", never_freed);
    add_row("free race: predict/batch/info/evaluate vs free", "OK or INVALID_HANDLE", bad == 0 ? "OK / INVALID_HANDLE" : senti_status_name(last_bad), 0, bad == 0);
}

/* ---- bad input ---------------------------------------------------------------------------- */

static void test_bad_text(senti_model *model) {
    char name[160];
    float p_empty = -1.0f, p = -7.0f;
    EXPECT("text: empty \"\"", SENTI_OK, senti_predict(model, "", SENTI_NUL_TERMINATED, &p_empty, &err));
    CHECK("text: empty is a probability in [0,1]", p_empty >= 0.0f && p_empty <= 1.0f, "%f", p_empty);
    const char *blank[] = {"   ", "\t\n\r ", "\n", "\xe2\x80\x83\xc2\xa0 "}; /* em space, no-break space */
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        float q = -1.0f;
        snprintf(name, sizeof name, "text: whitespace only #%zu", i);
        EXPECT(name, SENTI_OK, senti_predict(model, blank[i], SENTI_NUL_TERMINATED, &q, &err));
        snprintf(name, sizeof name, "text: whitespace only #%zu equals empty", i);
        CHECK(name, q == p_empty, "%.9g vs %.9g", q, p_empty);
    }
    float q = -1.0f;
    EXPECT("text: NULL with length 0", SENTI_OK, senti_predict(model, NULL, 0, &q, &err));
    CHECK("text: NULL with length 0 equals empty", q == p_empty, "%.9g vs %.9g", q, p_empty);
    EXPECT("text: explicit length 0 of a non-empty buffer", SENTI_OK, senti_predict(model, "great", 0, &q, &err));
    CHECK("text: explicit length 0 equals empty", q == p_empty, "%.9g vs %.9g", q, p_empty);
    EXPECT("text: one out-of-vocabulary word", SENTI_OK, senti_predict(model, "qzxqzxqzx", SENTI_NUL_TERMINATED, &q, &err));
    CHECK("text: empty equals a single unknown word (documented)", q == p_empty, "%.9g vs %.9g", q, p_empty);

    /* NUL bytes inside a text with an explicit length separate words. */
    float a = -1.0f, b = -2.0f;
    EXPECT("text: NUL byte inside, explicit length", SENTI_OK, senti_predict(model, "great\0movie", 11, &a, &err));
    EXPECT("text: the same words with a space", SENTI_OK, senti_predict(model, "great movie", 11, &b, &err));
    CHECK("text: NUL separates words like a space", a == b, "%.9g vs %.9g", a, b);
    EXPECT("text: only NUL bytes", SENTI_OK, senti_predict(model, "\0\0\0\0", 4, &a, &err));
    CHECK("text: only NUL bytes equals empty", a == p_empty, "%.9g vs %.9g", a, p_empty);
    EXPECT("text: NUL-terminated stops at the first NUL", SENTI_OK, senti_predict(model, "great\0movie", SENTI_NUL_TERMINATED, &a, &err));
    EXPECT("text: \"great\" alone", SENTI_OK, senti_predict(model, "great", 5, &b, &err));
    CHECK("text: NUL-terminated read up to the NUL", a == b, "%.9g vs %.9g", a, b);

    /* A 10 MB review works: it is tokenized and truncated to max_len tokens. */
    size_t big_len = 10u << 20;
    char *big = malloc(big_len + 1);
    const char *phrase = "this film was a wonderful surprise, with brilliant acting and a moving story. ";
    size_t pl = strlen(phrase);
    for (size_t i = 0; i < big_len; i++) big[i] = phrase[i % pl];
    big[big_len] = 0;
    float pb1 = -1.0f, pb2 = -1.0f;
    EXPECT("text: 10 MB, explicit length", SENTI_OK, senti_predict(model, big, big_len, &pb1, &err));
    EXPECT("text: 10 MB, NUL-terminated", SENTI_OK, senti_predict(model, big, SENTI_NUL_TERMINATED, &pb2, &err));
    CHECK("text: 10 MB gives a probability", pb1 >= 0.0f && pb1 <= 1.0f && pb1 == pb2, "%f %f", pb1, pb2);
    const char *bt[] = {big, "short"};
    float pbb[2];
    EXPECT("text: 10 MB inside a batch", SENTI_OK, senti_predict_batch(model, bt, NULL, 2, pbb, &err));
    CHECK("text: 10 MB in a batch gives a probability", pbb[0] >= 0.0f && pbb[0] <= 1.0f, "%f", pbb[0]);
    free(big);

    /* Over the 64 MiB limit: refused before tokenizing. */
    size_t over = (64u << 20) + 1;
    char *huge = malloc(over + 1);
    memset(huge, 'a', over);
    huge[over] = 0;
    p = -7.0f;
    EXPECT("text: 64 MiB + 1 byte, explicit length", SENTI_ERR_INVALID_ARGUMENT, senti_predict(model, huge, over, &p, &err));
    EXPECT("text: 64 MiB + 1 byte, NUL-terminated", SENTI_ERR_INVALID_ARGUMENT, senti_predict(model, huge, SENTI_NUL_TERMINATED, &p, &err));
    free(huge);
    EXPECT("text: length SIZE_MAX - 1 (refused before reading)", SENTI_ERR_INVALID_ARGUMENT, senti_predict(model, "x", SIZE_MAX - 1, &p, &err));
    CHECK("text: probability untouched after refusals", p == -7.0f, "%f", p);

    /* Invalid UTF-8. */
    struct {
        const char *name, *bytes;
        size_t len;
    } bad[] = {
        {"utf-8: lone continuation byte", "good \x80 film", 11},
        {"utf-8: 0xFF byte", "\xff", 1},
        {"utf-8: overlong '/' (C0 AF)", "a\xc0\xaf", 3},
        {"utf-8: UTF-16 surrogate (ED A0 80)", "\xed\xa0\x80", 3},
        {"utf-8: code point above U+10FFFF (F4 90 80 80)", "\xf4\x90\x80\x80", 4},
        {"utf-8: truncated sequence at the end", "caf\xc3", 4},
        {"utf-8: truncated 3-byte sequence", "\xe2\x82 euro", 7},
        {"utf-8: valid text cut inside a character by the length", "caf\xc3\xa9", 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = -7.0f;
        EXPECT(bad[i].name, SENTI_ERR_INVALID_UTF8, senti_predict(model, bad[i].bytes, bad[i].len, &p, &err));
        snprintf(name, sizeof name, "%s: probability untouched", bad[i].name);
        CHECK(name, p == -7.0f, "%f", p);
    }
    EXPECT("utf-8: valid multibyte text (é, emoji)", SENTI_OK, senti_predict(model, "caf\xc3\xa9 \xf0\x9f\x98\x80 great", SENTI_NUL_TERMINATED, &p, &err));
    {
        const char *batch[] = {"fine", "also fine", "bad \xff byte"};
        float out[3] = {-7.0f, -7.0f, -7.0f};
        senti_error *err = NULL;
        senti_status st = senti_predict_batch(model, batch, NULL, 3, out, &err);
        const char *msg = err ? senti_error_message(err) : "";
        CHECK("utf-8: invalid text in a batch names texts[2]", st == SENTI_ERR_INVALID_UTF8 && msg && strstr(msg, "texts[2]"), "%s %s", senti_status_name(st), msg);
        CHECK("utf-8: batch output untouched", out[0] == -7.0f && out[1] == -7.0f && out[2] == -7.0f, "written");
        add_row("utf-8: invalid text in a batch", "SENTI_ERR_INVALID_UTF8", senti_status_name(st), 0, st == SENTI_ERR_INVALID_UTF8);
        senti_error_free(err);
        senti_evaluation ev;
        const uint8_t labels[] = {1, 0, 1};
        EXPECT("utf-8: invalid text in evaluate_texts", SENTI_ERR_INVALID_UTF8, senti_evaluate_texts(model, batch, NULL, labels, 3, &ev, &err));
    }

    /* Empty batches and bad labels. */
    float out[2] = {-7.0f, -7.0f};
    senti_evaluation ev;
    EXPECT("batch: count 0", SENTI_ERR_INVALID_ARGUMENT, senti_predict_batch(model, texts2, lens2, 0, out, &err));
    EXPECT("batch: count 0 with texts NULL", SENTI_ERR_INVALID_ARGUMENT, senti_predict_batch(model, NULL, NULL, 0, out, &err));
    EXPECT("evaluate_texts: count 0", SENTI_ERR_INVALID_ARGUMENT, senti_evaluate_texts(model, texts2, lens2, labels2, 0, &ev, &err));
    {
        const uint8_t l2[] = {1, 2}, l255[] = {255, 0};
        EXPECT("evaluate_texts: label 2", SENTI_ERR_INVALID_ARGUMENT, senti_evaluate_texts(model, texts2, NULL, l2, 2, &ev, &err));
        EXPECT("evaluate_texts: label 255", SENTI_ERR_INVALID_ARGUMENT, senti_evaluate_texts(model, texts2, NULL, l255, 2, &ev, &err));
    }
    {
        const size_t lens[] = {SIZE_MAX - 1, 3};
        EXPECT("batch: a length over the limit", SENTI_ERR_INVALID_ARGUMENT, senti_predict_batch(model, texts2, lens, 2, out, &err));
    }
    CHECK("batch: output untouched after failures", out[0] == -7.0f && out[1] == -7.0f, "written");
    {
        /* The same text as one review and inside batches of every size up to 130 (a chunk
         * boundary is at 128): a batch answers each review as predict does. */
        const char *base = "A wonderful film.";
        float single = predict1(model, base, SENTI_NUL_TERMINATED);
        const char *many[130];
        float got[130];
        for (int i = 0; i < 130; i++) many[i] = (i % 3 == 0) ? base : (i % 3 == 1 ? "" : "bad acting, dull plot");
        int mismatch = 0;
        for (int n = 1; n <= 130; n += (n < 5 ? 1 : 41)) {
            if (senti_predict_batch(model, many, NULL, (size_t)n, got, NULL) != SENTI_OK) mismatch++;
            else if (fabsf(got[0] - single) > 1e-5f) mismatch++;
        }
        CHECK("batch: any batch size answers like predict", mismatch == 0, "%d mismatches", mismatch);
    }
}

static void test_bad_config(const char *empty_dir) {
    /* data_path does not exist: a value that slips through validation then fails with
     * SENTI_ERR_IO instead of SENTI_ERR_CONFIG, without training anything. */
    struct {
        const char *name, *fields;
    } cases[] = {
        {"config: hidden_size 0", "\"hidden_size\": 0"},
        {"config: hidden_size -1", "\"hidden_size\": -1"},
        {"config: hidden_size 10^6", "\"hidden_size\": 1000000"},
        {"config: embedding_dim 0", "\"embedding_dim\": 0"},
        {"config: embedding_dim 10^6", "\"embedding_dim\": 1000000"},
        {"config: layers 0 without a wide path", "\"layers\": 0, \"wide_ngrams\": 0"},
        {"config: layers 1000", "\"layers\": 1000"},
        {"config: vocab_size 0", "\"vocab_size\": 0"},
        {"config: vocab_size -5", "\"vocab_size\": -5"},
        {"config: vocab_size 10^12", "\"vocab_size\": 1000000000000"},
        {"config: vocab_size 2^64 (overflows u64)", "\"vocab_size\": 18446744073709551616"},
        {"config: vocab_size 2*10^6 x embedding_dim 4096 (params)", "\"vocab_size\": 2000000, \"embedding_dim\": 4096"},
        {"config: max_len 0", "\"max_len\": 0"},
        {"config: max_len 10^9", "\"max_len\": 1000000000"},
        {"config: max_len 10^5 x batch_size 65536 (activations)", "\"max_len\": 100000, \"batch_size\": 65536"},
        {"config: batch_size 0", "\"batch_size\": 0"},
        {"config: batch_size 10^9", "\"batch_size\": 1000000000"},
        {"config: batch_size -64", "\"batch_size\": -64"},
        {"config: batch_size 1.5", "\"batch_size\": 1.5"},
        {"config: epochs 0", "\"epochs\": 0"},
        {"config: epochs -1", "\"epochs\": -1"},
        {"config: epochs 10^9", "\"epochs\": 1000000000"},
        {"config: learning_rate 1e999 (overflow)", "\"learning_rate\": 1e999"},
        {"config: learning_rate -1e999", "\"learning_rate\": -1e999"},
        {"config: learning_rate \"NaN\"", "\"learning_rate\": \"NaN\""},
        {"config: learning_rate NaN (bare)", "\"learning_rate\": NaN"},
        {"config: learning_rate Infinity (bare)", "\"learning_rate\": Infinity"},
        {"config: learning_rate -1", "\"learning_rate\": -1"},
        {"config: learning_rate 0", "\"learning_rate\": 0"},
        {"config: learning_rate 1e308", "\"learning_rate\": 1e308"},
        {"config: learning_rate null", "\"learning_rate\": null"},
        {"config: dropout 1.0", "\"dropout\": 1.0"},
        {"config: dropout -0.1", "\"dropout\": -0.1"},
        {"config: dropout 1e999", "\"dropout\": 1e999"},
        {"config: validation_fraction 0.95", "\"validation_fraction\": 0.95"},
        {"config: weight_decay 2", "\"weight_decay\": 2"},
        {"config: clip_norm -1", "\"clip_norm\": -1"},
        {"config: train_limit 0", "\"train_limit\": 0"},
        {"config: threads 10^9", "\"threads\": 1000000000"},
        {"config: threads -1", "\"threads\": -1"},
        {"config: seed -1", "\"seed\": -1"},
        {"config: cell \"rnn\"", "\"cell\": \"rnn\""},
        {"config: unknown field", "\"epoch\": 2"},
        {"config: duplicate field", "\"epochs\": 1, \"epochs\": 2"},
    };
    char json[4096], name[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(json, sizeof json, "{\"data_path\": \"/nonexistent/senti-misuse.jsonl\", %s}", cases[i].fields);
        senti_model *m = NULL;
        EXPECT(cases[i].name, SENTI_ERR_CONFIG, senti_train(json, NULL, NULL, &m, &err));
        snprintf(name, sizeof name, "%s: no model", cases[i].name);
        CHECK(name, m == NULL, "model_out written");
    }
    const char *whole[][2] = {
        {"config: an array ([])", "[]"},
        {"config: an array of values ([\"x.jsonl\", \"auto\", 10])", "[\"x.jsonl\", \"auto\", 10]"},
        {"config: a number", "42"},
        {"config: truncated JSON", "{\"epochs\": "},
        {"config: trailing garbage", "{} x"},
        {"config: 100 nested arrays", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                                       "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"},
    };
    /* These carry no data_path: run them where the default data/imdb/reviews.json does not
     * exist, so that one accepted by mistake fails fast with SENTI_ERR_IO instead of training
     * the default model on the whole IMDB set. */
    char cwd[1024];
    if (getcwd(cwd, sizeof cwd) == NULL || chdir(empty_dir) != 0) { perror("chdir"); exit(2); }
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        senti_model *m = NULL;
        EXPECT(whole[i][0], SENTI_ERR_CONFIG, senti_train(whole[i][1], NULL, NULL, &m, &err));
    }
    {
        /* Deep nesting must not overflow the stack (serde_json limits recursion). */
        size_t depth = 100000;
        char *deep = malloc(2 * depth + 1);
        memset(deep, '[', depth);
        memset(deep + depth, ']', depth);
        deep[2 * depth] = 0;
        senti_model *m = NULL;
        EXPECT("config: 100000 nested arrays", SENTI_ERR_CONFIG, senti_train(deep, NULL, NULL, &m, &err));
        free(deep);
    }
    if (chdir(cwd) != 0) { perror(cwd); exit(2); }
    const char bad_utf8[] = {'{', '"', 'x', (char)0xff, '"', ':', '1', '}', 0};
    senti_model *m = NULL;
    EXPECT("config: invalid UTF-8 in params_json", SENTI_ERR_INVALID_UTF8, senti_train(bad_utf8, NULL, NULL, &m, &err));
}

static void test_bad_paths_and_specs(senti_model *model, const char *slice, const char *dir) {
    senti_model *m = NULL;
    senti_evaluation ev;
    char json[4096];
    const char bad_path[] = {'/', 't', 'm', 'p', '/', (char)0xff, '.', 's', 't', 0};
    EXPECT("path: invalid UTF-8 (load)", SENTI_ERR_INVALID_UTF8, senti_load(bad_path, &m, &err));
    EXPECT("path: invalid UTF-8 (save)", SENTI_ERR_INVALID_UTF8, senti_save(model, bad_path, &err));
    EXPECT("path: empty (load)", SENTI_ERR_IO, senti_load("", &m, &err));
    EXPECT("path: empty (save)", SENTI_ERR_INVALID_ARGUMENT, senti_save(model, "", &err));
    EXPECT("path: a directory (load)", SENTI_ERR_IO, senti_load(dir, &m, &err));
    EXPECT("path: a directory (save over it)", SENTI_ERR_IO, senti_save(model, dir, &err));
    EXPECT("path: missing parent (save)", SENTI_ERR_IO, senti_save(model, "/nonexistent/dir/m.safetensors", &err));
    char empty_file[1024];
    snprintf(empty_file, sizeof empty_file, "%s/empty.safetensors", dir);
    FILE *f = fopen(empty_file, "wb");
    if (f) fclose(f);
    EXPECT("path: an empty file (load)", SENTI_ERR_MODEL_FILE, senti_load(empty_file, &m, &err));
    unlink(empty_file);
    CHECK("path: model_out untouched", m == NULL, "written");

    snprintf(json, sizeof json, "{\"path\": \"%s\", \"limit\": 0}", slice);
    EXPECT("spec: limit 0", SENTI_ERR_CONFIG, senti_evaluate(model, json, &ev, &err));
    snprintf(json, sizeof json, "{\"path\": \"%s\", \"limit\": -1}", slice);
    EXPECT("spec: limit -1", SENTI_ERR_CONFIG, senti_evaluate(model, json, &ev, &err));
    snprintf(json, sizeof json, "{\"path\": \"%s\", \"split\": \"test\"}", slice);
    EXPECT("spec: a split for a JSONL file", SENTI_ERR_CONFIG, senti_evaluate(model, json, &ev, &err));
    EXPECT("spec: no path", SENTI_ERR_CONFIG, senti_evaluate(model, "{}", &ev, &err));
    EXPECT("spec: empty string", SENTI_ERR_CONFIG, senti_evaluate(model, "", &ev, &err));
    snprintf(json, sizeof json, "[\"%s\"]", slice);
    EXPECT("spec: an array ([path])", SENTI_ERR_CONFIG, senti_evaluate(model, json, &ev, &err));
    EXPECT("spec: missing file", SENTI_ERR_IO, senti_evaluate(model, "{\"path\": \"/nonexistent/x.jsonl\"}", &ev, &err));
    EXPECT("spec: unknown extension", SENTI_ERR_CONFIG, senti_evaluate(model, "{\"path\": \"/dev/null\"}", &ev, &err));
    char empty_jsonl[1024];
    snprintf(empty_jsonl, sizeof empty_jsonl, "%s/empty.jsonl", dir);
    FILE *ef = fopen(empty_jsonl, "w");
    if (ef) fclose(ef);
    snprintf(json, sizeof json, "{\"path\": \"%s\"}", empty_jsonl);
    EXPECT("spec: an empty JSONL file", SENTI_ERR_DATA, senti_evaluate(model, json, &ev, &err));
    EXPECT("spec: /dev/null as JSONL (not a regular file)", SENTI_ERR_IO, senti_evaluate(model, "{\"path\": \"/dev/null\", \"format\": \"jsonl\"}", &ev, &err));
    EXPECT("spec: /dev/zero as JSONL (would never end)", SENTI_ERR_IO, senti_evaluate(model, "{\"path\": \"/dev/zero\", \"format\": \"jsonl\"}", &ev, &err));
    const char bad_json[] = {'{', '"', 'p', 'a', 't', 'h', '"', ':', '"', (char)0xc3, '"', '}', 0};
    EXPECT("spec: invalid UTF-8 in data_json", SENTI_ERR_INVALID_UTF8, senti_evaluate(model, bad_json, &ev, &err));
}

/* Loading something that is not a regular file must fail at once: /dev/zero is endless. The
 * load runs in a child (this program re-executed with --load, so it starts with a fresh library
 * rather than a one-thread copy of this multithreaded process) that the parent kills if it
 * grows past 1 GB or runs 60 s, so a regression fails this check instead of exhausting the
 * machine's memory. */
static senti_status load_in_child(const char *path, int *killed) {
    int fds[2];
    if (pipe(fds) != 0) { perror("pipe"); exit(2); }
    char fdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", fds[1]);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        execl(self_path, "test_misuse", "--load", path, fdarg, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    *killed = 0;
    double t0 = now_s();
    for (;;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) break;
        char statm[64];
        long pages = 0;
        snprintf(statm, sizeof statm, "/proc/%d/statm", (int)pid);
        FILE *f = fopen(statm, "r");
        if (f) {
            long size;
            if (fscanf(f, "%ld %ld", &size, &pages) != 2) pages = 0;
            fclose(f);
        }
        if (pages * 4096L > (1L << 30) || now_s() - t0 > 60) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            *killed = 1;
            break;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int32_t st = -1;
    if (!*killed && read(fds[0], &st, sizeof st) != (ssize_t)sizeof st) st = -1;
    close(fds[0]);
    return (senti_status)st;
}

static void test_special_files(const char *dir) {
    struct {
        const char *name, *path;
    } cases[] = {
        {"path: /dev/zero (endless) (load)", "/dev/zero"},
        {"path: a symlink to /dev/zero (load)", NULL},
        {"path: a FIFO (load)", NULL},
        {"path: /dev/null (load)", "/dev/null"},
    };
    char link[1024], fifo[1024];
    snprintf(link, sizeof link, "%s/zero.safetensors", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo.safetensors", dir);
    unlink(link);
    unlink(fifo);
    if (symlink("/dev/zero", link) != 0) perror("symlink");
    if (mkfifo(fifo, 0600) != 0) perror("mkfifo");
    cases[1].path = link;
    cases[2].path = fifo;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int killed;
        double t0 = now_s();
        senti_status st = load_in_child(cases[i].path, &killed);
        int ok = !killed && (st == SENTI_ERR_IO || st == SENTI_ERR_MODEL_FILE);
        CHECK(cases[i].name, ok, "%s", killed ? "killed: the load read without end or blocked" : senti_status_name(st));
        add_row(cases[i].name, "SENTI_ERR_IO", killed ? "killed (hung/endless read)" : senti_status_name(st), (now_s() - t0) * 1e3, ok);
    }
    unlink(link);
    unlink(fifo);
}

static void print_table(void) {
    printf("\n%-70s %-28s %-28s %9s\n", "case", "expected", "observed", "ms");
    for (int i = 0; i < nrows; i++)
        printf("%-70s %-28s %-28s %9.1f%s\n", rows[i].name, rows[i].want, rows[i].got, rows[i].ms, rows[i].ok ? "" : "  <-- FAIL");
    printf("\n");
}

/* --load path fd: the child of load_in_child; writes senti_load's status to fd. */
static int child_load(char **argv) {
    senti_model *m = NULL;
    int32_t st = senti_load(argv[2], &m, NULL);
    senti_free(m);
    return write(atoi(argv[3]), &st, sizeof st) == (ssize_t)sizeof st ? 0 : 3;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--load") == 0) return child_load(argv);
    if (realpath(argv[0], self_path) == NULL) snprintf(self_path, sizeof self_path, "/proc/self/exe");
    if (argc != 3) {
        fprintf(stderr, "usage: %s <reviews.json> <scratch-dir>\n", argv[0]);
        return 2;
    }
    const char *data = argv[1], *dir = argv[2];
    char slice[1024], file[1024];
    snprintf(slice, sizeof slice, "%s/misuse-slice.jsonl", dir);
    snprintf(file, sizeof file, "%s/misuse.safetensors", dir);
    write_slice(data, slice, 400);
    /* A working directory without data/imdb/reviews.json, for calls that fall back on it. */
    char empty[1024];
    snprintf(empty, sizeof empty, "%s/empty-cwd", dir);
    if (mkdir(empty, 0700) != 0 && errno != EEXIST) { perror(empty); return 2; }
    senti_model *model = train_tiny(slice, 1, 2000, 16);
    senti_error *err = NULL;
    senti_status st = senti_save(model, file, &err);
    if (st != SENTI_OK) {
        char d[512];
        fprintf(stderr, "save failed: %s\n", describe(st, err, d, sizeof d));
        return 2;
    }

    test_null_pointers(model, slice, dir);
    test_handles(model, dir);
    test_free_races(dir);
    test_bad_text(model);
    test_bad_config(empty);
    test_bad_paths_and_specs(model, slice, dir);
    test_special_files(dir);

    senti_free(model);
    rmdir(empty);
    print_table();
    printf("c-misuse: %d passed, %d failed\n", t_passed, t_failed);
    return t_failed == 0 ? 0 : 1;
}
