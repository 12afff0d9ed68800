/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Concurrency stress for libsenti: 8 threads predict on one shared model (single and batch
 * calls over real reviews), every answer compared with a sequential run made first, while 2
 * other threads keep loading, predicting with, saving (each to its own path), reloading and
 * freeing OTHER models. Inference is deterministic, so answers must be bit-identical; answers
 * that differ are also counted against a 1e-6 tolerance and reported.
 *
 * Usage: test_stress <reviews.json> <scratch-dir>. Bounded by passes and by a 60 s deadline
 * (normally 5-15 s). SENTI_TEST_QUICK=1 runs 2 passes instead of 40.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "testutil.h"

#define PREDICTORS 8
#define CHURNERS 2
#define BATCH 16
#define N_REVIEWS 320
#define N_PROBES 4

static const char *reviews[N_REVIEWS];
static size_t n_reviews;
static float want_single[N_REVIEWS], want_batch[N_REVIEWS];
static senti_model *shared;
static double deadline;
static atomic_int predictors_running;

static const char *probes[N_PROBES] = {
    "An absolute masterpiece, moving and beautifully acted.",
    "Terrible. Boring plot and wooden acting.",
    "",
    "caf\xc3\xa9 \xf0\x9f\x98\x80 it was fine",
};

struct predictor {
    int id, passes;
    long calls, failed_calls, exact_mismatch, tol_mismatch, done_passes;
    double max_diff;
    senti_status last_failure;
};

static void compare(struct predictor *p, float got, float want) {
    if (got == want) return;
    p->exact_mismatch++;
    double d = fabs((double)got - (double)want);
    if (d > p->max_diff) p->max_diff = d;
    if (d > 1e-6) p->tol_mismatch++;
}

static void *predict_loop(void *arg) {
    struct predictor *p = arg;
    size_t start = (size_t)p->id * n_reviews / PREDICTORS;
    start -= start % BATCH; /* batches must have the reference's composition */
    for (int pass = 0; pass < p->passes && now_s() < deadline; pass++) {
        if ((pass + p->id) % 2 == 0) {
            for (size_t k = 0; k < n_reviews; k++) {
                size_t i = (start + k) % n_reviews;
                float got = -1.0f;
                senti_status st = senti_predict(shared, reviews[i], SENTI_NUL_TERMINATED, &got, NULL);
                p->calls++;
                if (st != SENTI_OK) { p->failed_calls++; p->last_failure = st; continue; }
                compare(p, got, want_single[i]);
            }
        } else {
            for (size_t k = 0; k < n_reviews; k += BATCH) {
                size_t i = (start + k) % n_reviews;
                size_t n = n_reviews - i < BATCH ? n_reviews - i : BATCH;
                float got[BATCH];
                senti_status st = senti_predict_batch(shared, &reviews[i], NULL, n, got, NULL);
                p->calls++;
                if (st != SENTI_OK) { p->failed_calls++; p->last_failure = st; continue; }
                for (size_t j = 0; j < n; j++) compare(p, got[j], want_batch[i + j]);
            }
        }
        if (p->id % 4 == 3) {
            size_t len = 0;
            senti_status st = senti_model_info(shared, NULL, 0, &len, NULL);
            p->calls++;
            if (st != SENTI_ERR_BUFFER_TOO_SMALL || len == 0) { p->failed_calls++; p->last_failure = st; }
        }
        p->done_passes++;
    }
    atomic_fetch_sub(&predictors_running, 1);
    return NULL;
}

struct churner {
    int id;
    const char *source; /* a model file of another model */
    char save_path[1024];
    float want[N_PROBES];
    long iterations, failures, mismatches;
    char last_error[512];
};

static int probe_model(senti_model *m, const float *want) {
    float got[N_PROBES];
    if (senti_predict_batch(m, probes, NULL, N_PROBES, got, NULL) != SENTI_OK) return -1;
    for (int i = 0; i < N_PROBES; i++)
        if (got[i] != want[i]) return 1;
    return 0;
}

static void *churn_loop(void *arg) {
    struct churner *c = arg;
    /* At least a few rounds, then as long as the predictors run (and within a cap). */
    while ((c->iterations < 3 || atomic_load(&predictors_running) > 0) && c->iterations < 2000 && now_s() < deadline) {
        senti_model *m = NULL, *again = NULL;
        senti_error *err = NULL;
        senti_status st = senti_load(c->source, &m, &err);
        if (st != SENTI_OK) { c->failures++; describe(st, err, c->last_error, sizeof c->last_error); continue; }
        int r = probe_model(m, c->want);
        if (r < 0) c->failures++;
        if (r > 0) c->mismatches++;
        err = NULL;
        st = senti_save(m, c->save_path, &err);
        if (st != SENTI_OK) { c->failures++; describe(st, err, c->last_error, sizeof c->last_error); }
        senti_free(m);
        err = NULL;
        st = senti_load(c->save_path, &again, &err);
        if (st != SENTI_OK) { c->failures++; describe(st, err, c->last_error, sizeof c->last_error); }
        else {
            r = probe_model(again, c->want);
            if (r < 0) c->failures++;
            if (r > 0) c->mismatches++;
            senti_free(again);
        }
        c->iterations++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <reviews.json> <scratch-dir>\n", argv[0]);
        return 2;
    }
    const char *data = argv[1], *dir = argv[2];
    char slice[1024], other[CHURNERS][1024];
    snprintf(slice, sizeof slice, "%s/stress-slice.jsonl", dir);
    write_slice(data, slice, 400);

    shared = train_tiny(slice, 1, 2000, 16);
    /* Real reviews the models were not trained on (from a quarter into the file). */
    FILE *f = fopen(data, "rb");
    if (!f) { perror(data); return 2; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    size_t got_reviews;
    char **loaded = load_reviews(data, size / 4, N_REVIEWS - 3, NULL, &got_reviews);
    for (size_t i = 0; i < got_reviews; i++) reviews[n_reviews++] = loaded[i];
    reviews[n_reviews++] = "";
    reviews[n_reviews++] = "   ";
    reviews[n_reviews++] = "caf\xc3\xa9 \xf0\x9f\x98\x80 great\n";
    CHECK("setup: enough reviews", n_reviews == N_REVIEWS, "%zu reviews", n_reviews);

    /* The sequential reference. */
    for (size_t i = 0; i < n_reviews; i++)
        if (senti_predict(shared, reviews[i], SENTI_NUL_TERMINATED, &want_single[i], NULL) != SENTI_OK) { fprintf(stderr, "predict failed\n"); return 2; }
    for (size_t i = 0; i < n_reviews; i += BATCH) {
        size_t n = n_reviews - i < BATCH ? n_reviews - i : BATCH;
        if (senti_predict_batch(shared, &reviews[i], NULL, n, &want_batch[i], NULL) != SENTI_OK) { fprintf(stderr, "batch failed\n"); return 2; }
    }
    double batch_vs_single = 0;
    for (size_t i = 0; i < n_reviews; i++) batch_vs_single = fmax(batch_vs_single, fabs((double)want_batch[i] - want_single[i]));
    printf("  sequential reference: %zu reviews; batch vs single max difference %.3g\n", n_reviews, batch_vs_single);
    CHECK("reference: batch answers match single answers within 1e-5", batch_vs_single <= 1e-5, "%.3g", batch_vs_single);

    struct churner churners[CHURNERS];
    for (int k = 0; k < CHURNERS; k++) {
        senti_model *m = train_tiny(slice, 2 + (unsigned)k, 2000, 16);
        snprintf(other[k], sizeof other[k], "%s/other%d.safetensors", dir, k);
        save_or_die(m, other[k]);
        memset(&churners[k], 0, sizeof churners[k]);
        churners[k].id = k;
        churners[k].source = other[k];
        snprintf(churners[k].save_path, sizeof churners[k].save_path, "%s/churn%d.safetensors", dir, k);
        if (senti_predict_batch(m, probes, NULL, N_PROBES, churners[k].want, NULL) != SENTI_OK) return 2;
        senti_free(m);
    }

    int passes = quick_mode() ? 2 : 40;
    deadline = now_s() + 60;
    atomic_store(&predictors_running, PREDICTORS);
    struct predictor preds[PREDICTORS];
    pthread_t tp[PREDICTORS], tc[CHURNERS];
    double t0 = now_s();
    for (int k = 0; k < CHURNERS; k++) pthread_create(&tc[k], NULL, churn_loop, &churners[k]);
    for (int t = 0; t < PREDICTORS; t++) {
        memset(&preds[t], 0, sizeof preds[t]);
        preds[t].id = t;
        preds[t].passes = passes;
        pthread_create(&tp[t], NULL, predict_loop, &preds[t]);
    }
    long calls = 0, failed = 0, exact = 0, tol = 0, done = 0;
    double max_diff = 0;
    senti_status last_failure = SENTI_OK;
    for (int t = 0; t < PREDICTORS; t++) {
        pthread_join(tp[t], NULL);
        calls += preds[t].calls;
        failed += preds[t].failed_calls;
        exact += preds[t].exact_mismatch;
        tol += preds[t].tol_mismatch;
        done += preds[t].done_passes;
        if (preds[t].max_diff > max_diff) max_diff = preds[t].max_diff;
        if (preds[t].failed_calls) last_failure = preds[t].last_failure;
    }
    long churn_iters = 0, churn_fail = 0, churn_mismatch = 0;
    for (int k = 0; k < CHURNERS; k++) {
        pthread_join(tc[k], NULL);
        churn_iters += churners[k].iterations;
        churn_fail += churners[k].failures;
        churn_mismatch += churners[k].mismatches;
        if (churners[k].failures) printf("  churner %d: %s\n", k, churners[k].last_error);
    }
    double secs = now_s() - t0;
    printf("  %d predictor threads: %ld calls, %ld of %d passes in %.1f s; %d churn threads: %ld load/save/reload/free rounds\n",
           PREDICTORS, calls, done, PREDICTORS * passes, secs, CHURNERS, churn_iters);
    printf("  answers differing from the sequential run: %ld exactly, %ld beyond 1e-6 (max difference %.3g)\n", exact, tol, max_diff);

    CHECK("stress: every predictor call succeeded", failed == 0, "%ld failed (last %s)", failed, senti_status_name(last_failure));
    /* Not a timing assertion: on a loaded machine the deadline may cut the passes short. */
    if (done < (long)PREDICTORS * passes) printf("  note: the 60 s deadline stopped the predictors after %ld of %d passes\n", done, PREDICTORS * passes);
    CHECK("stress: every predictor thread completed at least one pass", done >= PREDICTORS, "%ld passes", done);
    CHECK("stress: answers equal the sequential run within 1e-6", tol == 0, "%ld beyond 1e-6, max %.3g", tol, max_diff);
    CHECK("stress: answers are bit-identical to the sequential run", exact == 0, "%ld differ, max %.3g", exact, max_diff);
    CHECK("stress: churn threads ran", churn_iters >= CHURNERS, "%ld rounds", churn_iters);
    CHECK("stress: every load/save/reload of other models succeeded", churn_fail == 0, "%ld failures", churn_fail);
    CHECK("stress: other models answered as before their save/reload", churn_mismatch == 0, "%ld mismatches", churn_mismatch);

    /* The shared model is unharmed. */
    int same = 1;
    for (size_t i = 0; i < n_reviews; i++) {
        float p;
        if (senti_predict(shared, reviews[i], SENTI_NUL_TERMINATED, &p, NULL) != SENTI_OK || p != want_single[i]) same = 0;
    }
    CHECK("stress: the shared model answers as before afterwards", same, "differs");

    senti_free(shared);
    free_reviews(loaded, got_reviews);
    printf("c-stress: %d passed, %d failed\n", t_passed, t_failed);
    return t_failed == 0 ? 0 : 1;
}
