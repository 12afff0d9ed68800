/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Trains a three-label model (negative / neutral / positive) from texts held in memory, with
 * typed parameters, then prints every class's score and the top label for a few new texts.
 * Nothing is read from disk. Usage: train_memory [model-path-to-save]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "senti.h"

static int fail(const char *what, senti_status st, senti_error *err) {
    fprintf(stderr, "%s failed: %s: %s\n", what, senti_status_name(st), err ? senti_error_message(err) : "");
    senti_error_free(err);
    return 1;
}

#define CHECK(what, call)                                \
    do {                                                 \
        senti_error *err_ = NULL;                        \
        senti_status st_ = (call);                       \
        if (st_ != SENTI_OK) return fail(what, st_, err_); \
    } while (0)
/* CHECK passes &err_ as the error argument: */
#define E (&err_)

static const char *OPENINGS[] = {"The film", "This movie", "The story", "Overall it", "The cast", "The ending"};
static const char *WORDS[3][6] = {
    {"was awful", "felt dull and boring", "was a terrible mess", "was painfully slow", "made me angry", "was a waste of time"},
    {"was okay", "was average", "was fine, nothing more", "had some good and some bad parts", "was neither good nor bad", "was watchable"},
    {"was wonderful", "was brilliant and moving", "was a delight", "was superb", "made me smile", "was a masterpiece"},
};
static const char *LABELS[3] = {"negative", "neutral", "positive"};

int main(int argc, char **argv) {
    enum { N = 600 };
    static char storage[N][96];
    const char *texts[N];
    uint32_t labels[N];
    for (int i = 0; i < N; i++) {
        int k = i % 3;
        snprintf(storage[i], sizeof storage[i], "%s %s.", OPENINGS[(i / 3) % 6], WORDS[k][(i / 18 + i) % 6]);
        texts[i] = storage[i];
        labels[i] = (uint32_t)k;
    }

    senti_params *params = NULL;
    CHECK("senti_params_new", senti_params_new(&params, E));
    CHECK("epochs", senti_params_set_int(params, "epochs", 4, E));
    CHECK("embedding_dim", senti_params_set_int(params, "embedding_dim", 16, E));
    CHECK("hidden_size", senti_params_set_int(params, "hidden_size", 16, E));
    CHECK("vocab_size", senti_params_set_int(params, "vocab_size", 200, E));
    CHECK("max_len", senti_params_set_int(params, "max_len", 24, E));
    CHECK("learning_rate", senti_params_set_float(params, "learning_rate", 0.01, E));
    CHECK("bidirectional", senti_params_set_bool(params, "bidirectional", false, E));
    CHECK("cell", senti_params_set_string(params, "cell", "gru", E));
    CHECK("embedding_pretrain_epochs", senti_params_set_int(params, "embedding_pretrain_epochs", 0, E));
    CHECK("threads", senti_params_set_int(params, "threads", 1, E));

    senti_dataset *train = NULL;
    CHECK("senti_dataset_new", senti_dataset_new(&train, E));
    CHECK("senti_dataset_set_labels", senti_dataset_set_labels(train, LABELS, 3, E));
    CHECK("senti_dataset_add_indexed", senti_dataset_add_indexed(train, texts, NULL, labels, N, E));

    senti_model *model = NULL;
    CHECK("senti_train_dataset", senti_train_dataset(params, train, NULL, NULL, NULL, &model, E));
    senti_params_free(params);
    senti_dataset_free(train);

    size_t k = 0;
    CHECK("senti_label_count", senti_label_count(model, &k, E));
    char names[8][64];
    for (size_t i = 0; i < k && i < 8; i++) CHECK("senti_label_name", senti_label_name(model, i, names[i], sizeof names[i], NULL, E));
    printf("labels:");
    for (size_t i = 0; i < k; i++) printf(" %s", names[i]);
    printf("\n");

    const char *probes[] = {"The film was brilliant and moving.", "The story was a terrible mess.", "The cast was average."};
    for (size_t p = 0; p < sizeof probes / sizeof *probes; p++) {
        float scores[8];
        size_t top = 0;
        float top_score = 0;
        CHECK("senti_predict_scores", senti_predict_scores(model, probes[p], SENTI_NUL_TERMINATED, scores, 8, E));
        CHECK("senti_predict_label", senti_predict_label(model, probes[p], SENTI_NUL_TERMINATED, &top, &top_score, E));
        printf("%-40s ->", probes[p]);
        for (size_t i = 0; i < k; i++) printf(" %s %.3f", names[i], scores[i]);
        printf("  => %s (%.3f)\n", names[top], top_score);
    }
    if (argc > 1) CHECK("senti_save", senti_save(model, argv[1], E));
    senti_free(model);
    return 0;
}
