/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The main job, through the C API only: trains an LSTM and a GRU (or a transformer) on the IMDB training split,
 * evaluates each on the standard 25,000-review test split, saves the models and writes the
 * per-epoch curves. Usage: train_imdb <reviews.json or aclImdb/> <output-dir> [extra JSON fields]
 * The optional third argument holds extra training fields as the members of a JSON object, e.g.
 * "\"epochs\": 2"; the data path and the cell are set with the typed setters, so the path needs
 * no escaping for them (it is escaped for the evaluation's JSON data specification).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "senti.h"

struct curves {
    int epochs;
    double loss[256], accuracy[256], val_loss[256], val_accuracy[256];
    struct timespec start;
};

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int32_t on_progress(const senti_progress *p, void *user_data) {
    struct curves *c = user_data;
    if (p->phase == SENTI_PHASE_EPOCH) {
        if (c->epochs < 256) {
            c->loss[c->epochs] = p->loss;
            c->accuracy[c->epochs] = p->accuracy;
            c->val_loss[c->epochs] = p->val_loss;
            c->val_accuracy[c->epochs] = p->val_accuracy;
            c->epochs++;
        }
        printf("  epoch %u/%u  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f  (%.0f s)\n", p->epoch, p->epochs, p->loss,
               p->accuracy, p->val_loss, p->val_accuracy, seconds_since(&c->start));
    } else if (p->phase == SENTI_PHASE_PRETRAIN) {
        if (p->batch == p->batches) printf("  word vectors: pass %u/%u  (%.0f s)\n", p->epoch, p->epochs, seconds_since(&c->start));
    } else if (p->batch % 100 == 0) {
        printf("  epoch %u batch %u/%u  loss %.4f  acc %.4f\n", p->epoch, p->batch, p->batches, p->loss, p->accuracy);
    }
    fflush(stdout);
    return 0;
}

/* `s` as the contents of a JSON string: quotes and backslashes escaped, control bytes as \u00XX. */
static void json_escape(char *out, size_t cap, const char *s) {
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = 0;
}

static int fail(const char *what, senti_status st, senti_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, senti_status_name(st), err ? senti_error_message(err) : "");
    senti_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <reviews.json|aclImdb> <output-dir> [extra JSON fields] [lstm,gru,transformer,wide: models to train]\n", argv[0]);
        return 2;
    }
    const char *data = argv[1], *out = argv[2], *extra = argc > 3 ? argv[3] : "";
    /* "wide" is the fast recipe: no network ("layers": 0), the wide n-gram path alone. */
    const char *only = argc > 4 ? argv[4] : "lstm,gru,wide";
    const char *cells[] = {"lstm", "gru", "transformer", "wide"};
    enum { CELLS = sizeof cells / sizeof cells[0] };
    char summary[CELLS][1200] = {"", "", "", ""};
    printf("libsenti %s\n", senti_version());
    for (int i = 0; i < CELLS; i++) {
        if (strstr(only, cells[i]) == NULL) continue;
        char extras[2048], path[1024], shown[4096];
        snprintf(extras, sizeof extras, "{%s}", extra);
        senti_error *err = NULL;
        senti_params *params = NULL;
        senti_status st = senti_params_from_json(extras, &params, &err);
        if (st != SENTI_OK) return fail("senti_params_from_json (extra fields)", st, err);
        if ((st = senti_params_set_string(params, "data_path", data, &err)) != SENTI_OK) return fail("data_path", st, err);
        int wide_alone = strcmp(cells[i], "wide") == 0;
        if (wide_alone) {
            if ((st = senti_params_set_int(params, "layers", 0, &err)) != SENTI_OK) return fail("layers", st, err);
        } else if ((st = senti_params_set_string(params, "cell", cells[i], &err)) != SENTI_OK) {
            return fail("cell", st, err);
        }
        size_t shown_len = 0;
        if (senti_params_to_json(params, shown, sizeof shown, &shown_len, NULL) != SENTI_OK) snprintf(shown, sizeof shown, "(%zu bytes)", shown_len);
        printf("\n== %s: senti_train_params(%s)\n", cells[i], shown);
        struct curves curves = {0};
        clock_gettime(CLOCK_MONOTONIC, &curves.start);
        senti_model *model = NULL;
        st = senti_train_params(params, on_progress, &curves, &model, &err);
        senti_params_free(params);
        if (st == SENTI_ERR_CONFIG && wide_alone) {
            /* The extra fields turned the wide path off ("wide_ngrams": 0): no fast recipe to train. */
            printf("wide: skipped: %s\n", senti_error_message(err));
            senti_error_free(err);
            continue;
        }
        if (st != SENTI_OK) return fail("senti_train_params", st, err);
        double train_seconds = seconds_since(&curves.start);

        snprintf(path, sizeof path, "%s/%s.safetensors", out, cells[i]);
        if ((st = senti_save(model, path, &err)) != SENTI_OK) return fail("senti_save", st, err);

        char spec[8192], escaped[6144];
        json_escape(escaped, sizeof escaped, data);
        snprintf(spec, sizeof spec, "{\"path\": \"%s\", \"split\": \"test\"}", escaped);
        senti_evaluation ev;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if ((st = senti_evaluate(model, spec, &ev, &err)) != SENTI_OK) return fail("senti_evaluate", st, err);
        double eval_seconds = seconds_since(&t0);
        /* The parts alone: the recurrent network (the pure LSTM/GRU inside the model) and, when
         * the model has one, the wide n-gram path. */
        senti_evaluation ev_rnn, ev_wide;
        char rnn_json[64] = "null", rnn_loss_json[64] = "null", rnn_cell[32] = "-";
        if (!wide_alone) {
            snprintf(spec, sizeof spec, "{\"path\": \"%s\", \"split\": \"test\", \"part\": \"recurrent\"}", escaped);
            if ((st = senti_evaluate(model, spec, &ev_rnn, &err)) != SENTI_OK) return fail("senti_evaluate (recurrent part)", st, err);
            snprintf(rnn_json, sizeof rnn_json, "%.6f", ev_rnn.accuracy);
            snprintf(rnn_loss_json, sizeof rnn_loss_json, "%.6f", ev_rnn.loss);
            snprintf(rnn_cell, sizeof rnn_cell, "%.2f%%", 100.0 * ev_rnn.accuracy);
        }
        snprintf(spec, sizeof spec, "{\"path\": \"%s\", \"split\": \"test\", \"part\": \"wide\"}", escaped);
        int has_wide = (st = senti_evaluate(model, spec, &ev_wide, &err)) == SENTI_OK;
        if (!has_wide) {
            if (st != SENTI_ERR_CONFIG) return fail("senti_evaluate (wide part)", st, err);
            senti_error_free(err);
            err = NULL;
        }
        char wide_json[64] = "null", wide_cell[32] = "-";
        if (has_wide) {
            snprintf(wide_json, sizeof wide_json, "%.6f", ev_wide.accuracy);
            snprintf(wide_cell, sizeof wide_cell, "%.2f%%", 100.0 * ev_wide.accuracy);
        }

        char csv[1024];
        snprintf(csv, sizeof csv, "%s/%s_history.csv", out, cells[i]);
        FILE *f = fopen(csv, "w");
        if (!f) { perror(csv); return 1; }
        fprintf(f, "epoch,train_loss,train_accuracy,val_loss,val_accuracy\n");
        for (int e = 0; e < curves.epochs; e++)
            fprintf(f, "%d,%.6f,%.6f,%.6f,%.6f\n", e + 1, curves.loss[e], curves.accuracy[e], curves.val_loss[e], curves.val_accuracy[e]);
        fclose(f);

        char result_path[1024];
        snprintf(result_path, sizeof result_path, "%s/%s_test.json", out, cells[i]);
        FILE *rf = fopen(result_path, "w");
        if (!rf) { perror(result_path); return 1; }
        fprintf(rf,
                "{\"cell\": \"%s\", \"count\": %llu, \"accuracy\": %.6f, \"loss\": %.6f, \"true_positive\": %llu,"
                " \"true_negative\": %llu, \"false_positive\": %llu, \"false_negative\": %llu,"
                " \"train_seconds\": %.1f, \"eval_seconds\": %.2f, \"recurrent_accuracy\": %s,"
                " \"recurrent_loss\": %s, \"wide_accuracy\": %s}\n",
                cells[i], (unsigned long long)ev.count, ev.accuracy, ev.loss, (unsigned long long)ev.true_positive,
                (unsigned long long)ev.true_negative, (unsigned long long)ev.false_positive,
                (unsigned long long)ev.false_negative, train_seconds, eval_seconds, rnn_json, rnn_loss_json, wide_json);
        fclose(rf);

        printf("%s: test accuracy %.2f%%  loss %.4f  (%llu reviews; TP %llu TN %llu FP %llu FN %llu)\n", cells[i],
               100.0 * ev.accuracy, ev.loss, (unsigned long long)ev.count, (unsigned long long)ev.true_positive,
               (unsigned long long)ev.true_negative, (unsigned long long)ev.false_positive, (unsigned long long)ev.false_negative);
        printf("%s: the recurrent network alone %s; the wide path alone %s\n", cells[i], rnn_cell, wide_cell);
        printf("%s: trained in %.0f s, evaluated in %.1f s, model %s, curves %s\n", cells[i], train_seconds, eval_seconds, path, csv);
        snprintf(summary[i], sizeof summary[i], "| %s | %.2f%% | %.4f | %s | %s | %.0f s | %s |", cells[i], 100.0 * ev.accuracy,
                 ev.loss, rnn_cell, wide_cell, train_seconds, path);
        senti_free(model);
    }
    printf("\n| model | test accuracy | test loss | recurrent alone | wide alone | training time | model file |\n"
           "|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < CELLS; i++)
        if (*summary[i]) printf("%s\n", summary[i]);
    return 0;
}
