/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * K labels through the C API: datasets in memory (labels by name and by index), training from
 * memory with typed parameters, every class's scores, the top label, label names, evaluation
 * reports with the K×K confusion matrix, explanations (byte ranges, contributions that add up,
 * each call's errors), the errors of each call, folder-per-class data, and a three-label model
 * surviving save and load.
 * Usage: test_classes [reviews.json] <scratch-dir>   (the last argument is the scratch folder; the
 * data argument of the other C tests is accepted and not read: this test makes its own data)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <sys/stat.h>

#include "testutil.h"

static const char *TOPICS[3][8] = {
    {"goal", "match", "team", "league", "coach", "season", "score", "players"},
    {"stocks", "market", "shares", "bank", "profit", "investors", "prices", "trade"},
    {"vote", "election", "party", "minister", "senate", "campaign", "policy", "law"},
};
/* Label names in an order that is not sorted, so that index order is tested. */
static const char *NAMES[3] = {"sports", "business", "politics"};

enum { N = 300 };
static char storage[N][128];
static const char *texts[N];
static uint32_t indices[N];
static const char *names_of[N];

static void make_texts(void) {
    for (int i = 0; i < N; i++) {
        int k = i % 3;
        const char **w = TOPICS[k];
        snprintf(storage[i], sizeof storage[i], "the %s and the %s of the %s, %s said", w[i % 8], w[(i / 3 + 1) % 8], w[(i / 7 + 2) % 8],
                 w[(i / 5 + 3) % 8]);
        texts[i] = storage[i];
        indices[i] = (uint32_t)k;
        names_of[i] = NAMES[k];
    }
}

static senti_params *small_params(void) {
    senti_params *p = NULL;
    senti_params_new(&p, NULL);
    senti_params_set_int(p, "epochs", 4, NULL);
    senti_params_set_int(p, "embedding_dim", 16, NULL);
    senti_params_set_int(p, "hidden_size", 16, NULL);
    senti_params_set_int(p, "vocab_size", 200, NULL);
    senti_params_set_int(p, "max_len", 24, NULL);
    senti_params_set_int(p, "threads", 1, NULL);
    senti_params_set_int(p, "embedding_pretrain_epochs", 0, NULL);
    senti_params_set_float(p, "learning_rate", 0.01, NULL);
    senti_params_set_bool(p, "bidirectional", false, NULL);
    return p;
}

static int contains(senti_error *err, const char *needle) {
    const char *m = err ? senti_error_message(err) : NULL;
    return m && strstr(m, needle);
}

/* `errp` is read here, after the call in the arguments has filled it; it is reset for the next. */
static void expect(const char *name, senti_status got, senti_error **errp, senti_status want, const char *needle) {
    senti_error *err = *errp;
    CHECK(name, got == want && (!needle || contains(err, needle)), "got %s (%s), want %s with \"%s\"", senti_status_name(got),
          err ? senti_error_message(err) : "", senti_status_name(want), needle ? needle : "");
    senti_error_free(err);
    *errp = NULL;
}

static void test_dataset_errors(void) {
    senti_error *err = NULL;
    senti_dataset *d = NULL;
    CHECK("dataset_new", senti_dataset_new(&d, NULL) == SENTI_OK && d, "no dataset");
    uint32_t bad = 3;
    expect("add_indexed needs labels", senti_dataset_add_indexed(d, texts, NULL, &bad, 1, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "labels declared");
    err = NULL;
    const char *one[] = {"only"};
    expect("one label is refused", senti_dataset_set_labels(d, one, 1, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "at least two");
    err = NULL;
    const char *twice[] = {"a", "a"};
    expect("a repeated label is refused", senti_dataset_set_labels(d, twice, 2, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "twice");
    err = NULL;
    CHECK("set_labels", senti_dataset_set_labels(d, NAMES, 3, NULL) == SENTI_OK, "refused");
    err = NULL;
    expect("labels are set once", senti_dataset_set_labels(d, NAMES, 3, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "once");
    err = NULL;
    expect("index past the labels", senti_dataset_add_indexed(d, texts, NULL, &bad, 1, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "label_indices[0] is 3");
    err = NULL;
    const char *unknown[] = {"weather"};
    expect("a name not declared", senti_dataset_add_batch(d, texts, NULL, unknown, 1, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "\"weather\"");
    err = NULL;
    const char *empty[] = {""};
    expect("an empty label", senti_dataset_add_batch(d, texts, NULL, empty, 1, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "empty");
    err = NULL;
    expect("NULL labels", senti_dataset_add_batch(d, texts, NULL, NULL, 1, &err), &err, SENTI_ERR_NULL_POINTER, "labels");
    const char bad_utf8[] = {'a', (char)0xff, 0};
    const char *bad_texts[] = {bad_utf8};
    err = NULL;
    expect("invalid UTF-8 text", senti_dataset_add(d, bad_texts[0], 2, "sports", &err), &err, SENTI_ERR_INVALID_UTF8, "texts[0]");
    size_t n = 99;
    CHECK("nothing was added by the refused calls", senti_dataset_count(d, &n, NULL) == SENTI_OK && n == 0, "count %zu", n);
    CHECK("add one by name", senti_dataset_add(d, "the goal", SENTI_NUL_TERMINATED, "sports", NULL) == SENTI_OK, "refused");
    CHECK("count is one", senti_dataset_count(d, &n, NULL) == SENTI_OK && n == 1, "count %zu", n);
    senti_dataset_free(d);
    senti_dataset_free(d); /* twice is harmless */
    err = NULL;
    expect("a freed dataset", senti_dataset_count(d, &n, &err), &err, SENTI_ERR_INVALID_HANDLE, NULL);
    err = NULL;
    expect("NULL dataset", senti_dataset_add(NULL, "x", 1, "a", &err), &err, SENTI_ERR_NULL_POINTER, "dataset");

    /* Training: one class, an unknown validation label. */
    senti_params *p = small_params();
    senti_model *m = NULL;
    senti_dataset *single = NULL;
    senti_dataset_new(&single, NULL);
    const char *same[] = {"sports", "sports", "sports"};
    senti_dataset_add_batch(single, texts, NULL, same, 3, NULL);
    err = NULL;
    expect("one class is a data error", senti_train_dataset(p, single, NULL, NULL, NULL, &m, &err), &err, SENTI_ERR_DATA, "one class");
    CHECK("no model after a refusal", m == NULL, "model written");
    senti_dataset *train = NULL, *val = NULL;
    senti_dataset_new(&train, NULL);
    senti_dataset_add_batch(train, texts, NULL, names_of, 60, NULL);
    senti_dataset_new(&val, NULL);
    const char *val_labels[] = {"sports", "weather"};
    senti_dataset_add_batch(val, texts, NULL, val_labels, 2, NULL);
    err = NULL;
    expect("a validation label the training set lacks", senti_train_dataset(p, train, val, NULL, NULL, &m, &err), &err, SENTI_ERR_DATA,
           "example 1: label \"weather\"");
    err = NULL;
    expect("NULL training set", senti_train_dataset(p, NULL, NULL, NULL, NULL, &m, &err), &err, SENTI_ERR_NULL_POINTER, "train");
    senti_dataset_free(single);
    senti_dataset_free(train);
    senti_dataset_free(val);
    senti_params_free(p);
}

static int cancel_at_once(const senti_progress *p, void *user_data) {
    (void)p;
    (void)user_data;
    return 1;
}

extern char **environ;

static size_t environment_size(void) {
    size_t n = 0;
    while (environ[n]) n++;
    return n;
}

static senti_model *train_three(void) {
    senti_dataset *train = NULL;
    senti_dataset_new(&train, NULL);
    senti_dataset_set_labels(train, NAMES, 3, NULL);
    CHECK("add 300 by index", senti_dataset_add_indexed(train, texts, NULL, indices, N, NULL) == SENTI_OK, "refused");
    senti_params *p = small_params();
    senti_model *m = NULL;
    senti_error *err = NULL;
    expect("cancelling training from memory", senti_train_dataset(p, train, NULL, cancel_at_once, NULL, &m, &err), &err, SENTI_ERR_CANCELLED, NULL);
    err = NULL;
    size_t env_before = environment_size();
    senti_status st = senti_train_dataset(p, train, NULL, NULL, NULL, &m, &err);
    CHECK("train three labels from memory", st == SENTI_OK && m, "%s: %s", senti_status_name(st), err ? senti_error_message(err) : "");
    /* A library must leave its host's environment alone: setenv races getenv in threaded hosts. */
    CHECK("training sets no environment variable", environment_size() == env_before && !getenv("CANDLE_NUM_THREADS"),
          "%zu variables before, %zu after", env_before, environment_size());
    senti_error_free(err);
    senti_params_free(p);
    senti_dataset_free(train); /* the model does not need it */
    if (!m) exit(1);
    return m;
}

/* Rows are independent, so how many threads split a batch cannot change its scores. */
static void test_prediction_threads(senti_model *m) {
    static float base[N * 3], other[N * 3];
    CHECK("batch with the default threads", senti_predict_scores_batch(m, texts, NULL, N, base, N * 3, NULL) == SENTI_OK, "refused");
    size_t settings[2] = {1, 3};
    for (int i = 0; i < 2; i++) {
        CHECK("set prediction threads", senti_set_prediction_threads(m, settings[i], NULL) == SENTI_OK, "refused %zu", settings[i]);
        CHECK("batch with set threads", senti_predict_scores_batch(m, texts, NULL, N, other, N * 3, NULL) == SENTI_OK, "refused");
        CHECK("the scores do not depend on the threads", !memcmp(base, other, sizeof base), "%zu threads differ", settings[i]);
    }
    senti_error *err = NULL;
    expect("too many prediction threads", senti_set_prediction_threads(m, 5000, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "between 0 and 1024");
    CHECK("back to the default", senti_set_prediction_threads(m, 0, NULL) == SENTI_OK, "refused");
    err = NULL;
    expect("prediction threads of no model", senti_set_prediction_threads(NULL, 1, &err), &err, SENTI_ERR_NULL_POINTER, NULL);
}

/* Switches `m` to `precision` and scores the texts in a batch into `got`: the scores stay
 * within 1e-2 of `base` (f32's) and each review alone agrees with the batch within
 * `alone_tolerance`. */
static void check_half_size_precision(senti_model *m, const char *precision, const float *base, float *got, float alone_tolerance) {
    char name[96];
    float alone[3], worst = 0, worst_alone = 0;
    size_t refused = 0;
    snprintf(name, sizeof name, "batch at %s", precision);
    CHECK(name, senti_set_prediction_precision(m, precision, NULL) == SENTI_OK &&
                    senti_predict_scores_batch(m, texts, NULL, N, got, N * 3, NULL) == SENTI_OK, "refused");
    for (size_t i = 0; i < N * 3; i++) worst = fmaxf(worst, fabsf(got[i] - base[i]));
    for (size_t i = 0; i < N; i++) {
        refused += senti_predict_scores(m, texts[i], SENTI_NUL_TERMINATED, alone, 3, NULL) != SENTI_OK;
        for (size_t c = 0; c < 3; c++) worst_alone = fmaxf(worst_alone, fabsf(alone[c] - got[i * 3 + c]));
    }
    snprintf(name, sizeof name, "every review alone at %s", precision);
    CHECK(name, refused == 0, "%zu refused", refused);
    snprintf(name, sizeof name, "%s scores stay close to f32 and round something", precision);
    CHECK(name, worst < 1e-2f && memcmp(base, got, N * 3 * sizeof *got) != 0, "moved by %g", worst);
    snprintf(name, sizeof name, "at %s a review alone and in a batch agree", precision);
    CHECK(name, worst_alone <= alone_tolerance, "differ by %g", worst_alone);
}

/* The half-size precisions round the weights prediction reads: scores move a little, not far.
 * Alone and in a batch a review's recurrence reads the same rounded values (at i16 it multiplies
 * the same integers in the same order), so its scores agree to rounding in the layers after it.
 * f32 again gives the first scores back bit for bit; a refused value changes nothing. */
static void test_prediction_precision(senti_model *m) {
    static float base[N * 3], half[N * 3], integers[N * 3], again[N * 3];
    CHECK("batch at f32", senti_predict_scores_batch(m, texts, NULL, N, base, N * 3, NULL) == SENTI_OK, "refused");
    check_half_size_precision(m, "i16", base, integers, 1e-6f);
    check_half_size_precision(m, "f16", base, half, 1e-5f);
    senti_error *err = NULL;
    expect("an unknown precision", senti_set_prediction_precision(m, "f64", &err), &err, SENTI_ERR_INVALID_ARGUMENT, "\"f32\", \"f16\" or \"i16\"");
    err = NULL;
    expect("no precision", senti_set_prediction_precision(m, NULL, &err), &err, SENTI_ERR_NULL_POINTER, NULL);
    err = NULL;
    expect("precision of no model", senti_set_prediction_precision(NULL, "f32", &err), &err, SENTI_ERR_NULL_POINTER, NULL);
    CHECK("a refused value keeps f16", senti_predict_scores_batch(m, texts, NULL, N, again, N * 3, NULL) == SENTI_OK && !memcmp(again, half, sizeof half), "changed");
    CHECK("back to f32", senti_set_prediction_precision(m, "f32", NULL) == SENTI_OK, "refused");
    CHECK("batch at f32 again", senti_predict_scores_batch(m, texts, NULL, N, again, N * 3, NULL) == SENTI_OK, "refused");
    CHECK("f32 again gives the same scores", !memcmp(base, again, sizeof base), "differ");
}

static void test_scores(senti_model *m, const char *what) {
    char name[64];
    size_t k = 0, len = 0;
    CHECK(what, senti_label_count(m, &k, NULL) == SENTI_OK && k == 3, "label count %zu", k);
    int order = 1;
    for (size_t i = 0; i < 3; i++) order &= senti_label_name(m, i, name, sizeof name, &len, NULL) == SENTI_OK && !strcmp(name, NAMES[i]) && len == strlen(NAMES[i]);
    CHECK("label names keep the declared order", order, "order differs");
    senti_error *err = NULL;
    expect("label index past the end", senti_label_name(m, 3, name, sizeof name, NULL, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "3 labels");
    err = NULL;
    expect("label name buffer too small", senti_label_name(m, 1, name, 3, &len, &err), &err, SENTI_ERR_BUFFER_TOO_SMALL, NULL);
    CHECK("the needed length is reported", len == strlen("business"), "len %zu", len);

    const char *probes[3] = {"the goal of the team and the coach", "the stocks and the shares of the bank", "the vote of the party and the minister"};
    float scores[3], batch[9];
    for (int i = 0; i < 3; i++) {
        size_t top = 9;
        float top_score = 0;
        CHECK("scores", senti_predict_scores(m, probes[i], SENTI_NUL_TERMINATED, scores, 3, NULL) == SENTI_OK, "refused");
        CHECK("scores sum to 1", fabsf(scores[0] + scores[1] + scores[2] - 1.0f) < 1e-5f, "sum %f", scores[0] + scores[1] + scores[2]);
        CHECK("top label", senti_predict_label(m, probes[i], SENTI_NUL_TERMINATED, &top, &top_score, NULL) == SENTI_OK && top == (size_t)i,
              "%s: got %zu (%.3f %.3f %.3f)", probes[i], top, scores[0], scores[1], scores[2]);
        CHECK("top score is that class's score", top < 3 && top_score == scores[top], "%f vs %f", top_score, top < 3 ? scores[top] : -1);
    }
    CHECK("batch scores", senti_predict_scores_batch(m, probes, NULL, 3, batch, 9, NULL) == SENTI_OK, "refused");
    CHECK("batch rows are the single scores", fabsf(batch[6] - scores[0]) < 1e-5f && fabsf(batch[8] - scores[2]) < 1e-5f, "row 2 differs");
    err = NULL;
    expect("scores buffer too small", senti_predict_scores(m, probes[0], SENTI_NUL_TERMINATED, scores, 2, &err), &err, SENTI_ERR_BUFFER_TOO_SMALL, "3 floats");
    err = NULL;
    expect("batch buffer too small", senti_predict_scores_batch(m, probes, NULL, 3, batch, 8, &err), &err, SENTI_ERR_BUFFER_TOO_SMALL, "9 floats");
    err = NULL;
    float p = -1;
    expect("senti_predict needs two labels", senti_predict(m, probes[0], SENTI_NUL_TERMINATED, &p, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "3 labels");
    CHECK("no probability written", p == -1, "%f", p);
    err = NULL;
    expect("NULL scores", senti_predict_scores(m, probes[0], SENTI_NUL_TERMINATED, NULL, 3, &err), &err, SENTI_ERR_NULL_POINTER, "scores_out");
}

static void write_text(const char *path, const char *content) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(content, f);
    fclose(f);
}

static void test_reports(senti_model *m, const char *dir) {
    senti_dataset *test = NULL;
    senti_dataset_new(&test, NULL);
    senti_dataset_add_batch(test, texts, NULL, names_of, 90, NULL);
    senti_report *r = NULL;
    CHECK("evaluate a dataset", senti_evaluate_dataset(m, test, &r, NULL) == SENTI_OK && r, "refused");
    const char *json = senti_report_json(r);
    CHECK("report has the K x K confusion", json && strstr(json, "\"confusion\":[[") && strstr(json, "\"macro_f1\"") &&
                                               strstr(json, "\"labels\":[\"sports\",\"business\",\"politics\"]"),
          "%s", json ? json : "(null)");
    CHECK("report counts every text", json && strstr(json, "\"count\":90"), "%s", json ? json : "");
    senti_report_free(r);
    senti_report_free(r);
    CHECK("a freed report has no JSON", senti_report_json(r) == NULL, "still readable");
    senti_dataset_free(test);

    /* A JSONL file whose third line has a label the model does not know. */
    char path[1024], spec[1200];
    snprintf(path, sizeof path, "%s/unknown-label.jsonl", dir);
    write_text(path, "{\"text\": \"the goal\", \"label\": \"sports\"}\n{\"text\": \"the vote\", \"label\": 2}\n{\"text\": \"rain\", \"label\": \"weather\"}\n");
    snprintf(spec, sizeof spec, "{\"path\": \"%s\"}", path);
    senti_error *err = NULL;
    expect("an unknown label names the file and line", senti_evaluate_report(m, spec, &r, &err), &err, SENTI_ERR_DATA, "unknown-label.jsonl: line 3: label \"weather\"");
    /* Integer labels are indices when no label has that name: line 2's 2 is "politics". */
    write_text(path, "{\"text\": \"the goal of the team\", \"label\": \"sports\"}\n{\"text\": \"the vote of the party\", \"label\": 2}\n");
    CHECK("names and indices evaluate", senti_evaluate_report(m, spec, &r, NULL) == SENTI_OK, "refused");
    senti_report_free(r);
    senti_evaluation e;
    CHECK("the fixed struct holds count and accuracy", senti_evaluate(m, spec, &e, NULL) == SENTI_OK && e.count == 2 && e.true_positive == 0, "count %llu", (unsigned long long)e.count);
}

static void test_round_trip(senti_model *m, const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/three.safetensors", dir);
    CHECK("save", senti_save(m, path, NULL) == SENTI_OK, "refused");
    senti_model *back = NULL;
    CHECK("load", senti_load(path, &back, NULL) == SENTI_OK, "refused");
    test_scores(back, "a loaded model keeps three labels");
    float a[3], b[3];
    senti_predict_scores(m, "the market and the vote", SENTI_NUL_TERMINATED, a, 3, NULL);
    senti_predict_scores(back, "the market and the vote", SENTI_NUL_TERMINATED, b, 3, NULL);
    CHECK("same scores after load", a[0] == b[0] && a[1] == b[1] && a[2] == b[2], "%f %f", a[0], b[0]);
    char info[1 << 16];
    CHECK("info lists the labels", senti_model_info(back, info, sizeof info, NULL, NULL) == SENTI_OK && strstr(info, "\"labels\":[\"sports\",\"business\",\"politics\"]"), "no labels");
    senti_free(back);
}

static void test_folders(const char *dir) {
    char path[1200];
    const char *classes[] = {"neg", "neu", "pos"};
    const char *words[3][4] = {{"awful", "dull", "boring", "bad"}, {"okay", "average", "fine", "plain"}, {"great", "superb", "lovely", "good"}};
    snprintf(path, sizeof path, "%s/folders", dir);
    mkdir(path, 0755);
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/folders/%s", dir, classes[k]);
        mkdir(path, 0755);
        for (int i = 0; i < 20; i++) {
            char file[1300], text[128];
            snprintf(file, sizeof file, "%s/%d.txt", path, i);
            snprintf(text, sizeof text, "it was %s and %s", words[k][i % 4], words[k][(i + 1) % 4]);
            write_text(file, text);
        }
    }
    senti_params *p = small_params();
    snprintf(path, sizeof path, "%s/folders", dir);
    senti_params_set_string(p, "data_path", path, NULL);
    senti_model *m = NULL;
    senti_error *err = NULL;
    senti_status st = senti_train_params(p, NULL, NULL, &m, &err);
    CHECK("train from class folders", st == SENTI_OK, "%s: %s", senti_status_name(st), err ? senti_error_message(err) : "");
    senti_error_free(err);
    size_t k = 0;
    char name[16] = "";
    if (m) {
        senti_label_count(m, &k, NULL);
        senti_label_name(m, 1, name, sizeof name, NULL, NULL);
    }
    CHECK("folder names are the labels", k == 3 && !strcmp(name, "neu"), "%zu labels, second %s", k, name);
    senti_free(m);
    senti_params_free(p);
}

static void test_binary_from_memory(void) {
    const char *t[8] = {"great fun", "superb film", "lovely story", "a delight", "awful mess", "dull film", "boring story", "a waste"};
    const char *l[8] = {"positive", "positive", "positive", "positive", "negative", "negative", "negative", "negative"};
    senti_dataset *d = NULL;
    senti_dataset_new(&d, NULL);
    for (int r = 0; r < 10; r++) senti_dataset_add_batch(d, t, NULL, l, 8, NULL);
    senti_params *p = small_params();
    senti_model *m = NULL;
    CHECK("two labels from memory", senti_train_dataset(p, d, NULL, NULL, NULL, &m, NULL) == SENTI_OK, "refused");
    float prob = -1, scores[2] = {0, 0};
    if (m) {
        senti_predict(m, "great fun", SENTI_NUL_TERMINATED, &prob, NULL);
        senti_predict_scores(m, "great fun", SENTI_NUL_TERMINATED, scores, 2, NULL);
    }
    CHECK("senti_predict is the second label's score", fabsf(prob - scores[1]) < 1e-6f && fabsf(scores[0] + scores[1] - 1) < 1e-6f, "%f vs %f", prob, scores[1]);
    senti_free(m);
    senti_params_free(p);
    senti_dataset_free(d);
}

/* Explanations: ranges into the caller's bytes, contributions that add up to the logit, the
 * predicted class by default, and every call's errors. */
static void test_explanations(senti_model *m) {
    /* A text with explicit length whose first bytes are not the text: ranges are into `text`. */
    const char *text = "The MATCH and the league!";
    senti_explanation *e = NULL;
    senti_error *err = NULL;
    senti_status st = senti_explain(m, text, strlen(text), SENTI_PREDICTED_CLASS, 0, &e, &err);
    CHECK("explain the predicted class", st == SENTI_OK && e, "%s: %s", senti_status_name(st), err ? senti_error_message(err) : "");
    size_t cls = 99, top = 98, n = 0;
    float score = -1, logit = 0, reference = 0, top_score = 0;
    CHECK("explained class", senti_explanation_class(e, &cls, &score, &logit, &reference, NULL) == SENTI_OK, "refused");
    senti_predict_label(m, text, SENTI_NUL_TERMINATED, &top, &top_score, NULL);
    CHECK("the predicted class and its score", cls == top && score == top_score && cls == 0, "class %zu score %f vs %zu %f", cls, score, top, top_score);
    CHECK("token count", senti_explanation_token_count(e, &n, NULL) == SENTI_OK && n == 6, "%zu tokens", n);
    float sum = 0;
    size_t start = 0, end = 0;
    float c = 0;
    for (size_t i = 0; i < n; i++) {
        senti_explanation_token(e, i, &start, &end, &c, NULL);
        sum += c;
    }
    senti_explanation_token(e, 1, &start, &end, NULL, NULL);
    CHECK("byte range of a token", start == 4 && end == 9 && !strncmp(text + start, "MATCH", 5), "%zu..%zu", start, end);
    senti_explanation_token(e, 5, &start, &end, NULL, NULL);
    CHECK("byte range of the last token", start == 24 && end == 25, "%zu..%zu", start, end);
    const char *json = senti_explanation_json(e);
    CHECK("json", json && strstr(json, "\"method\":\"integrated_gradients\"") && strstr(json, "\"token\":\"match\""), "%s", json ? json : "NULL");
    const char *u = json ? strstr(json, "\"unexplained\":") : NULL;
    float unexplained = u ? strtof(u + strlen("\"unexplained\":"), NULL) : 1e9f;
    CHECK("reference + contributions + unexplained = logit", fabsf(reference + sum + unexplained - logit) < 1e-3f, "%f + %f + %f vs %f", reference,
          sum, unexplained, logit);
    float best = -1e9f;
    size_t best_at = 0;
    for (size_t i = 0; i < n; i++) {
        senti_explanation_token(e, i, NULL, NULL, &c, NULL);
        if (c > best) best = c, best_at = i;
    }
    CHECK("a topic word carries the class", best_at == 1 || best_at == 4, "strongest token %zu", best_at);
    err = NULL;
    expect("token past the last", senti_explanation_token(e, n, &start, NULL, NULL, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "has 6 tokens");
    err = NULL;
    expect("NULL class_out", senti_explanation_class(e, NULL, NULL, NULL, NULL, &err), &err, SENTI_ERR_NULL_POINTER, "class_out");
    senti_explanation_free(e);
    senti_explanation_free(e); /* twice is harmless */
    CHECK("a freed explanation has no JSON", senti_explanation_json(e) == NULL, "JSON after free");
    err = NULL;
    expect("a freed explanation", senti_explanation_token_count(e, &n, &err), &err, SENTI_ERR_INVALID_HANDLE, "explanation");
    err = NULL;
    expect("a model is not an explanation", senti_explanation_token_count((senti_explanation *)m, &n, &err), &err, SENTI_ERR_INVALID_HANDLE,
           "got a model handle");

    /* Another class, chosen by index; errors of senti_explain itself. */
    e = NULL;
    CHECK("explain class 2", senti_explain(m, text, SENTI_NUL_TERMINATED, 2, 4, &e, NULL) == SENTI_OK, "refused");
    senti_explanation_class(e, &cls, NULL, NULL, NULL, NULL);
    CHECK("the chosen class", cls == 2, "class %zu", cls);
    senti_explanation_free(e);
    e = NULL;
    err = NULL;
    expect("class past the labels", senti_explain(m, text, SENTI_NUL_TERMINATED, 3, 0, &e, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "3 labels");
    err = NULL;
    expect("too many steps", senti_explain(m, text, SENTI_NUL_TERMINATED, 0, 257, &e, &err), &err, SENTI_ERR_INVALID_ARGUMENT, "256");
    err = NULL;
    expect("NULL explanation_out", senti_explain(m, text, SENTI_NUL_TERMINATED, 0, 0, NULL, &err), &err, SENTI_ERR_NULL_POINTER, "explanation_out");
    const char bad_utf8[] = {'a', (char)0xff, 0};
    err = NULL;
    expect("invalid UTF-8", senti_explain(m, bad_utf8, 2, 0, 0, &e, &err), &err, SENTI_ERR_INVALID_UTF8, "text");
    CHECK("no explanation after refusals", e == NULL, "written");
    CHECK("empty text", senti_explain(m, NULL, 0, SENTI_PREDICTED_CLASS, 0, &e, NULL) == SENTI_OK, "refused");
    CHECK("no tokens", senti_explanation_token_count(e, &n, NULL) == SENTI_OK && n == 0, "%zu", n);
    senti_explanation_free(e);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s [reviews.json] <scratch-dir>\n", argv[0]);
        return 2;
    }
    const char *scratch = argv[argc - 1];
    make_texts();
    test_dataset_errors();
    senti_model *m = train_three();
    test_scores(m, "three labels");
    test_prediction_threads(m);
    test_prediction_precision(m);
    test_explanations(m);
    test_reports(m, scratch);
    test_round_trip(m, scratch);
    senti_free(m);
    test_folders(scratch);
    test_binary_from_memory();
    printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed == 0 ? 0 : 1;
}
