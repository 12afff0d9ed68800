/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * C test of the typed training parameters (senti_params_*): fields of every type set, read back
 * as JSON and reset; unknown fields, wrong types and out-of-range values refused with
 * SENTI_ERR_CONFIG and a message naming the field; NULL, freed and wrong-kind handles; several
 * threads setting one object; and a tiny model trained through senti_train_params from a JSONL
 * file whose path holds a double quote, a backslash and spaces (no JSON is built by hand).
 * Usage: test_params [reviews.json] <scratch-dir>   (the data file is not needed; it is accepted
 * so that the sanitizer suite can run every C test with the same arguments)
 */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "testutil.h"

/* A call that must fail with `want` and an error whose message contains every needle. */
static void expect(const char *name, senti_status got, senti_error *err, senti_status want, const char *needle1, const char *needle2) {
    const char *msg = err ? senti_error_message(err) : NULL;
    int ok = got == want && err != NULL && senti_error_code(err) == want && msg != NULL && strstr(msg, needle1) != NULL &&
             (needle2 == NULL || strstr(msg, needle2) != NULL);
    CHECK(name, ok, "got %s (%s), want %s with \"%s\"%s%s", senti_status_name(got), msg ? msg : "no message", senti_status_name(want), needle1,
          needle2 ? " and " : "", needle2 ? needle2 : "");
    senti_error_free(err);
}
#define EXPECT(name, want, n1, n2, call)           \
    do {                                           \
        senti_error *err = NULL;                   \
        senti_status st_ = (call);                 \
        expect((name), st_, err, (want), (n1), (n2)); \
    } while (0)

#define OK(name, call)                                                                  \
    do {                                                                                \
        senti_error *err = NULL;                                                        \
        senti_status st_ = (call);                                                      \
        char d_[512];                                                                   \
        CHECK((name), st_ == SENTI_OK, "%s", describe(st_, err, d_, sizeof d_));        \
    } while (0)

/* The object's JSON (malloc'ed), through the capacity protocol: ask, allocate, ask again. */
static char *params_json(const senti_params *p) {
    size_t len = 0;
    senti_error *err = NULL;
    senti_status st = senti_params_to_json(p, NULL, 0, &len, &err);
    CHECK("to_json: capacity 0 reports the length", st == SENTI_ERR_BUFFER_TOO_SMALL && len > 100, "%s, %zu", senti_status_name(st), len);
    senti_error_free(err);
    char *buf = malloc(len + 1);
    size_t len2 = 0;
    st = senti_params_to_json(p, buf, len, &len2, NULL);
    CHECK("to_json: no room for the NUL is too small", st == SENTI_ERR_BUFFER_TOO_SMALL && len2 == len, "%s", senti_status_name(st));
    st = senti_params_to_json(p, buf, len + 1, &len2, NULL);
    CHECK("to_json: fits", st == SENTI_OK && len2 == len && strlen(buf) == len, "%s", senti_status_name(st));
    return buf;
}

static int has(const char *json, const char *piece) {
    return strstr(json, piece) != NULL;
}

static void test_setters(void) {
    senti_params *p = NULL;
    EXPECT("new: NULL params_out", SENTI_ERR_NULL_POINTER, "params_out", NULL, senti_params_new(NULL, &err));
    OK("new", senti_params_new(&p, &err));
    char *json = params_json(p);
    CHECK("new: defaults", has(json, "\"epochs\":3") && has(json, "\"cell\":\"lstm\"") && has(json, "\"train_limit\":null") &&
                               has(json, "\"learning_rate\":0.002") && has(json, "\"bidirectional\":true"),
          "%s", json);
    free(json);

    /* Every type. */
    OK("set_int epochs", senti_params_set_int(p, "epochs", 5, &err));
    OK("set_int train_limit (optional)", senti_params_set_int(p, "train_limit", 400, &err));
    OK("set_float learning_rate", senti_params_set_float(p, "learning_rate", 0.01, &err));
    OK("set_int on a float field (clip_norm)", senti_params_set_int(p, "clip_norm", 2, &err));
    OK("set_bool bidirectional", senti_params_set_bool(p, "bidirectional", false, &err));
    OK("set_string cell", senti_params_set_string(p, "cell", "gru", &err));
    OK("set_string data_format", senti_params_set_string(p, "data_format", "imdb-json", &err));
    OK("set_string data_path", senti_params_set_string(p, "data_path", "a \"quoted\" \\ path", &err));
    json = params_json(p);
    CHECK("set: the JSON shows every value",
          has(json, "\"epochs\":5") && has(json, "\"train_limit\":400") && has(json, "\"learning_rate\":0.01") && has(json, "\"clip_norm\":2.0") &&
              has(json, "\"bidirectional\":false") && has(json, "\"cell\":\"gru\"") && has(json, "\"data_format\":\"imdb-json\"") &&
              has(json, "\"data_path\":\"a \\\"quoted\\\" \\\\ path\""),
          "%s", json);

    /* The JSON makes the same object again. */
    senti_params *q = NULL;
    OK("from_json of to_json", senti_params_from_json(json, &q, &err));
    char *json2 = params_json(q);
    CHECK("from_json: round trip", strcmp(json, json2) == 0, "%s\nvs\n%s", json, json2);
    free(json2);
    senti_params_free(q);

    /* Unknown fields, wrong types, out of range: refused, naming the field. */
    EXPECT("unknown field", SENTI_ERR_CONFIG, "unknown training parameter `epoch`", "did you mean `epochs`", senti_params_set_int(p, "epoch", 2, &err));
    EXPECT("unknown field (reset)", SENTI_ERR_CONFIG, "`nonsense`", NULL, senti_params_reset(p, "nonsense", &err));
    EXPECT("float for an integer field", SENTI_ERR_CONFIG, "`epochs`", "integer", senti_params_set_float(p, "epochs", 2.5, &err));
    EXPECT("bool for an integer field", SENTI_ERR_CONFIG, "`hidden_size`", "integer", senti_params_set_bool(p, "hidden_size", true, &err));
    EXPECT("string for an integer field", SENTI_ERR_CONFIG, "`epochs`", "integer", senti_params_set_string(p, "epochs", "3", &err));
    EXPECT("integer for a string field", SENTI_ERR_CONFIG, "`cell`", "string", senti_params_set_int(p, "cell", 1, &err));
    EXPECT("integer for a bool field", SENTI_ERR_CONFIG, "`restore_best`", "bool", senti_params_set_int(p, "restore_best", 1, &err));
    EXPECT("float for a string field", SENTI_ERR_CONFIG, "`data_path`", "string", senti_params_set_float(p, "data_path", 1.0, &err));
    EXPECT("epochs 0", SENTI_ERR_CONFIG, "epochs must be between 1 and 10000", "got 0", senti_params_set_int(p, "epochs", 0, &err));
    EXPECT("hidden_size -1", SENTI_ERR_CONFIG, "hidden_size must be between 1 and 4096", "got -1", senti_params_set_int(p, "hidden_size", -1, &err));
    EXPECT("vocab_size 2^62", SENTI_ERR_CONFIG, "vocab_size must be between", NULL, senti_params_set_int(p, "vocab_size", INT64_C(1) << 62, &err));
    EXPECT("dropout 1.0", SENTI_ERR_CONFIG, "dropout must be in [0, 1)", NULL, senti_params_set_float(p, "dropout", 1.0, &err));
    EXPECT("learning_rate NaN", SENTI_ERR_CONFIG, "learning_rate must be a finite number in (0, 10]", NULL,
           senti_params_set_float(p, "learning_rate", NAN, &err));
    EXPECT("clip_norm infinity", SENTI_ERR_CONFIG, "clip_norm", NULL, senti_params_set_float(p, "clip_norm", INFINITY, &err));
    EXPECT("wide_buckets 100", SENTI_ERR_CONFIG, "wide_buckets must be 0 (automatic) or between 1024", NULL, senti_params_set_int(p, "wide_buckets", 100, &err));
    EXPECT("cell rnn", SENTI_ERR_CONFIG, "cell must be one of `lstm`, `gru`", "`rnn`", senti_params_set_string(p, "cell", "rnn", &err));
    EXPECT("train_limit 0", SENTI_ERR_CONFIG, "train_limit must be at least 1", NULL, senti_params_set_int(p, "train_limit", 0, &err));
    json2 = params_json(p);
    CHECK("refused values change nothing", strcmp(json, json2) == 0, "%s\nvs\n%s", json, json2);
    free(json2);
    free(json);

    /* Bad arguments. */
    const char bad_utf8[] = {'g', (char)0xff, 'u', 0};
    EXPECT("NULL field", SENTI_ERR_NULL_POINTER, "field", NULL, senti_params_set_int(p, NULL, 1, &err));
    EXPECT("NULL string value", SENTI_ERR_NULL_POINTER, "value", NULL, senti_params_set_string(p, "cell", NULL, &err));
    EXPECT("invalid UTF-8 value", SENTI_ERR_INVALID_UTF8, "value", NULL, senti_params_set_string(p, "data_path", bad_utf8, &err));
    EXPECT("invalid UTF-8 field", SENTI_ERR_INVALID_UTF8, "field", NULL, senti_params_set_bool(p, bad_utf8, true, &err));
    EXPECT("NULL params", SENTI_ERR_NULL_POINTER, "params", NULL, senti_params_set_int(NULL, "epochs", 1, &err));
    EXPECT("to_json: NULL buffer with capacity", SENTI_ERR_NULL_POINTER, "buffer", NULL, senti_params_to_json(p, NULL, 10, NULL, &err));

    /* Reset: the default again; for an optional field, absent. */
    OK("reset epochs", senti_params_reset(p, "epochs", &err));
    OK("reset train_limit", senti_params_reset(p, "train_limit", &err));
    json = params_json(p);
    CHECK("reset: defaults again", has(json, "\"epochs\":3") && has(json, "\"train_limit\":null") && has(json, "\"cell\":\"gru\""), "%s", json);
    free(json);

    /* from_json: JSON errors as senti_train reports them; the out-parameter stays untouched. */
    q = NULL;
    EXPECT("from_json: unknown field", SENTI_ERR_CONFIG, "unknown field `epoch`", NULL, senti_params_from_json("{\"epoch\": 2}", &q, &err));
    EXPECT("from_json: wrong type", SENTI_ERR_CONFIG, "field `epochs`", NULL, senti_params_from_json("{\"epochs\": \"2\"}", &q, &err));
    EXPECT("from_json: array", SENTI_ERR_CONFIG, "JSON object", NULL, senti_params_from_json("[]", &q, &err));
    CHECK("from_json: params_out untouched on failure", q == NULL, "written");
    OK("from_json: NULL is all defaults", senti_params_from_json(NULL, &q, &err));
    senti_params_free(q);

    /* Handles: freed, double free, wrong kinds. */
    senti_params_free(p);
    senti_params_free(p);
    senti_params_free(NULL);
    EXPECT("use after free", SENTI_ERR_INVALID_HANDLE, "freed", NULL, senti_params_set_int(p, "epochs", 1, &err));
    senti_model *m = NULL;
    EXPECT("train after free", SENTI_ERR_INVALID_HANDLE, "params", NULL, senti_train_params(p, NULL, NULL, &m, &err));
    CHECK("train after free: no model", m == NULL, "model_out written");
    senti_error *e = NULL;
    senti_load("/nonexistent/model.safetensors", NULL, &e);
    EXPECT("error handle as params", SENTI_ERR_INVALID_HANDLE, "got an error handle", NULL, senti_params_set_int((senti_params *)e, "epochs", 1, &err));
    senti_params_free((senti_params *)e);
    CHECK("senti_params_free ignores an error handle", senti_error_message(e) != NULL, "the error was freed");
    senti_error_free(e);
}

struct setter_arg {
    senti_params *p;
    int id, failures;
};

static void *setter_thread(void *arg) {
    struct setter_arg *a = arg;
    for (int i = 0; i < 2000; i++) {
        if (senti_params_set_int(a->p, "epochs", 1 + (a->id * 7 + i) % 50, NULL) != SENTI_OK) a->failures++;
        if (senti_params_set_string(a->p, "pooling", i % 2 ? "max" : "mean", NULL) != SENTI_OK) a->failures++;
        if (senti_params_set_float(a->p, "dropout", (i % 10) / 20.0, NULL) != SENTI_OK) a->failures++;
        if (senti_params_set_int(a->p, "epochs", 0, NULL) != SENTI_ERR_CONFIG) a->failures++;
        size_t len = 0;
        if (senti_params_to_json(a->p, NULL, 0, &len, NULL) != SENTI_ERR_BUFFER_TOO_SMALL || len < 100) a->failures++;
    }
    return NULL;
}

static void test_threads(void) {
    senti_params *p = NULL;
    senti_params_new(&p, NULL);
    pthread_t threads[4];
    struct setter_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t] = (struct setter_arg){p, t, 0};
        pthread_create(&threads[t], NULL, setter_thread, &args[t]);
    }
    int failures = 0;
    for (int t = 0; t < 4; t++) {
        pthread_join(threads[t], NULL);
        failures += args[t].failures;
    }
    CHECK("threads: 4 threads setting one object at once", failures == 0, "%d calls failed", failures);
    char *json = params_json(p);
    senti_params *q = NULL;
    OK("threads: the object is still consistent", senti_params_from_json(json, &q, &err));
    free(json);
    senti_params_free(q);
    senti_params_free(p);
}

/* 40 labeled lines over a vocabulary of about 60 words, as tests/fuzz_seeds.rs writes. */
static void write_tiny_jsonl(const char *path) {
    static const char *pos[12] = {"good", "great", "wonderful", "fine", "moving", "brilliant", "superb", "fun", "lovely", "charming", "clever", "warm"};
    static const char *neg[12] = {"bad", "awful", "dull", "boring", "weak", "poor", "silly", "slow", "flat", "tired", "messy", "cold"};
    static const char *filler[30] = {"the", "film", "movie", "plot", "acting", "was", "is", "really", "very", "and", "story", "cast", "a", "it", "ending",
                                     "music", "script", "director", "scenes", "hero", "quite", "too", "not", "so", "this", "that", "of", "in", "with", "but"};
    static const char *stops[4] = {"!", ".", "?", "..."};
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    for (int i = 0; i < 40; i++) {
        const char **words = i % 2 == 0 ? pos : neg;
        fprintf(f, "{\"text\": \"%s %s %s %s %s, %s %s%s\", \"label\": %d}\n", filler[i % 30], filler[(i * 7 + 13) % 30], filler[(i * 3 + 1) % 30],
                words[i % 12], filler[(i * 5 + 2) % 30], words[(i * 7 + 3) % 12], filler[(i * 11 + 4) % 30], stops[i % 4], i % 2 == 0);
    }
    if (fclose(f) != 0) { perror(path); exit(2); }
}

struct progress_count {
    int batches, epochs;
};

static int32_t on_progress(const senti_progress *p, void *user_data) {
    struct progress_count *c = user_data;
    if (p->phase == SENTI_PHASE_BATCH) c->batches++;
    if (p->phase == SENTI_PHASE_EPOCH) c->epochs++;
    return 0;
}

static void test_training(const char *scratch) {
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/odd \"dir\" \\ name", scratch);
    if (mkdir(dir, 0700) != 0) { perror(dir); exit(2); }
    snprintf(path, sizeof path, "%s/tiny data.jsonl", dir);
    write_tiny_jsonl(path);

    senti_params *p = NULL;
    OK("train: new", senti_params_new(&p, &err));
    OK("train: data_path with a quote, a backslash and spaces", senti_params_set_string(p, "data_path", path, &err));
    OK("train: data_format", senti_params_set_string(p, "data_format", "jsonl", &err));
    const struct {
        const char *field;
        int64_t value;
    } ints[] = {{"epochs", 1}, {"embedding_dim", 8}, {"hidden_size", 8}, {"vocab_size", 200}, {"max_len", 32},
                {"batch_size", 8}, {"threads", 1}, {"embedding_pretrain_epochs", 0}, {"seed", 7}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "train: set %s", ints[i].field);
        OK(name, senti_params_set_int(p, ints[i].field, ints[i].value, &err));
    }
    OK("train: validation_fraction", senti_params_set_float(p, "validation_fraction", 0.2, &err));

    /* A check across fields waits for training, and fails before any data is read. */
    OK("train: weight_decay (set alone)", senti_params_set_float(p, "weight_decay", 0.01, &err));
    senti_model *model = NULL;
    EXPECT("train: weight_decay without adamw", SENTI_ERR_CONFIG, "weight_decay", "adamw", senti_train_params(p, NULL, NULL, &model, &err));
    CHECK("train: no model on failure", model == NULL, "model_out written");
    OK("train: optimizer adamw", senti_params_set_string(p, "optimizer", "adamw", &err));
    EXPECT("train: NULL model_out", SENTI_ERR_NULL_POINTER, "model_out", NULL, senti_train_params(p, NULL, NULL, NULL, &err));

    struct progress_count count = {0, 0};
    senti_error *err = NULL;
    senti_status st = senti_train_params(p, on_progress, &count, &model, &err);
    char d[1024];
    CHECK("train: senti_train_params", st == SENTI_OK && model != NULL, "%s", describe(st, err, d, sizeof d));
    CHECK("train: progress reported", count.batches >= 4 && count.epochs == 1, "%d batches, %d epochs", count.batches, count.epochs);
    senti_params_free(p); /* the model does not need the params */
    if (model == NULL) return;

    float prob = -1;
    OK("train: predict", senti_predict(model, "a wonderful and brilliant film", SENTI_NUL_TERMINATED, &prob, &err));
    CHECK("train: a probability", prob >= 0.0f && prob <= 1.0f && !isnan(prob), "%f", (double)prob);

    /* The model's record holds the path as given. */
    size_t len = 0;
    senti_model_info(model, NULL, 0, &len, NULL);
    char *info = malloc(len + 1);
    OK("train: model info", senti_model_info(model, info, len + 1, &len, &err));
    CHECK("train: the record keeps the odd path", has(info, "odd \\\"dir\\\" \\\\ name/tiny data.jsonl"), "%.300s", info);
    CHECK("train: the record keeps the fields", has(info, "\"hidden_size\":8") && has(info, "\"optimizer\":\"adamw\""), "%.300s", info);
    free(info);

    /* A model handle is no params handle, and senti_params_free leaves it alone. */
    EXPECT("model handle as params", SENTI_ERR_INVALID_HANDLE, "got a model handle", NULL,
           senti_params_set_int((senti_params *)model, "epochs", 1, &err));
    senti_params_free((senti_params *)model);
    OK("train: the model survives senti_params_free", senti_predict(model, "dull", SENTI_NUL_TERMINATED, &prob, &err));
    senti_free(model);
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s [reviews.json] <scratch-dir>\n", argv[0]);
        return 2;
    }
    test_setters();
    test_threads();
    test_training(argv[argc - 1]);
    printf("c-params: %d passed, %d failed\n", t_passed, t_failed);
    return t_failed == 0 ? 0 : 1;
}
