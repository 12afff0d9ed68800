/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Trains a classifier for any labeled task through the C API with typed parameters, then
 * evaluates it on a test file and prints accuracy, macro-F1, each class's figures and the
 * confusion matrix. Usage:
 *   train_task <train.jsonl|.csv|folder> <test file> <output-dir> [field=value ...]
 * Each field=value sets a training parameter by its type (integers, decimals, true/false, or
 * text), e.g. cell=gru epochs=2. Writes <output-dir>/model.safetensors and model_test.json (the
 * evaluation report plus the training time), which examples/report.rs draws.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "senti.h"

static int fail(const char *what, senti_status st, senti_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, senti_status_name(st), err ? senti_error_message(err) : "");
    senti_error_free(err);
    return 1;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int32_t on_progress(const senti_progress *p, void *user_data) {
    double *start = user_data;
    if (p->phase == SENTI_PHASE_EPOCH)
        printf("  epoch %u/%u  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f  (%.0f s)\n", p->epoch, p->epochs, p->loss, p->accuracy,
               p->val_loss, p->val_accuracy, now() - *start);
    else if (p->phase == SENTI_PHASE_PRETRAIN && p->batch == p->batches)
        printf("  word vectors: pass %u/%u  (%.0f s)\n", p->epoch, p->epochs, now() - *start);
    fflush(stdout);
    return 0;
}

/* Sets one "field=value" by the value's look: an integer, a decimal, true/false, else text. */
static senti_status set_field(senti_params *params, const char *arg, senti_error **err) {
    char field[128];
    const char *eq = strchr(arg, '=');
    if (!eq || (size_t)(eq - arg) >= sizeof field) return senti_params_set_string(params, arg, "", err);
    memcpy(field, arg, (size_t)(eq - arg));
    field[eq - arg] = 0;
    const char *value = eq + 1;
    char *end = NULL;
    errno = 0;
    long long i = strtoll(value, &end, 10);
    if (*value && !*end && !errno) return senti_params_set_int(params, field, i, err);
    double d = strtod(value, &end);
    if (*value && !*end) return senti_params_set_float(params, field, d, err);
    if (!strcmp(value, "true") || !strcmp(value, "false")) return senti_params_set_bool(params, field, !strcmp(value, "true"), err);
    return senti_params_set_string(params, field, value, err);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s <train> <test> <output-dir> [field=value ...]\n", argv[0]);
        return 2;
    }
    senti_error *err = NULL;
    senti_status st;
    senti_params *params = NULL;
    if ((st = senti_params_new(&params, &err)) != SENTI_OK) return fail("senti_params_new", st, err);
    if ((st = senti_params_set_string(params, "data_path", argv[1], &err)) != SENTI_OK) return fail("data_path", st, err);
    for (int a = 4; a < argc; a++)
        if ((st = set_field(params, argv[a], &err)) != SENTI_OK) return fail(argv[a], st, err);

    double start = now();
    senti_model *model = NULL;
    printf("== training on %s\n", argv[1]);
    if ((st = senti_train_params(params, on_progress, &start, &model, &err)) != SENTI_OK) return fail("senti_train_params", st, err);
    double seconds = now() - start;
    senti_params_free(params);

    char path[4096], spec[8192 + 64];
    snprintf(path, sizeof path, "%s/model.safetensors", argv[3]);
    if ((st = senti_save(model, path, &err)) != SENTI_OK) return fail("senti_save", st, err);

    /* The data specification is JSON; the path is escaped here, not spliced raw. */
    char escaped[4096 * 2];
    size_t o = 0;
    for (const char *c = argv[2]; *c && o + 2 < sizeof escaped; c++) {
        if (*c == '"' || *c == '\\') escaped[o++] = '\\';
        escaped[o++] = *c;
    }
    escaped[o] = 0;
    snprintf(spec, sizeof spec, "{\"path\": \"%s\"}", escaped);
    senti_report *report = NULL;
    if ((st = senti_evaluate_report(model, spec, &report, &err)) != SENTI_OK) return fail("senti_evaluate_report", st, err);
    const char *json = senti_report_json(report);
    snprintf(path, sizeof path, "%s/model_test.json", argv[3]);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    /* The report's own fields, with the training time added at the front. */
    fprintf(f, "{\"train_seconds\": %.1f, %s\n", seconds, json + 1);
    fclose(f);

    senti_evaluation e;
    if ((st = senti_evaluate(model, spec, &e, &err)) != SENTI_OK) return fail("senti_evaluate", st, err);
    size_t k = 0;
    senti_label_count(model, &k, NULL);
    printf("== %zu labels, trained in %.0f s; test: %llu texts, accuracy %.4f, loss %.4f\n", k, seconds, (unsigned long long)e.count,
           e.accuracy, e.loss);
    printf("   full report (macro-F1, per class, confusion matrix): %s\n", path);
    senti_report_free(report);
    senti_free(model);
    return 0;
}
