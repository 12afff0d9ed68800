/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * A small C consumer of libsenti, the one to copy:
 *   classify --train <reviews.json|aclImdb|file.jsonl|file.csv|folder> <model.safetensors> [params JSON]
 *       trains a model (a quick, small one unless params are given) and saves it;
 *   classify <model.safetensors> [text ...]
 *       prints the top label, its score and every label's score for each text (or each line of
 *       stdin), e.g. "positive 0.9312 negative=0.0688 positive=0.9312 <text>".
 * Build: cc classify.c $(pkg-config --cflags --libs senti)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <senti.h>

static int report(const char *what, senti_status st, senti_error *err) {
    fprintf(stderr, "%s: %s: %s\n", what, senti_status_name(st), err ? senti_error_message(err) : "");
    senti_error_free(err);
    return 1;
}

enum { MAX_LABELS = 64 };
static char names[MAX_LABELS][128];
static size_t label_count;

static int classify(senti_model *model, const char *text, size_t len) {
    float scores[MAX_LABELS];
    size_t top = 0;
    senti_error *err = NULL;
    senti_status st = senti_predict_scores(model, text, len, scores, MAX_LABELS, &err);
    if (st != SENTI_OK) return report("senti_predict_scores", st, err);
    for (size_t k = 1; k < label_count; k++)
        if (scores[k] > scores[top]) top = k;
    printf("%s %.4f", names[top], scores[top]);
    for (size_t k = 0; k < label_count; k++) printf(" %s=%.4f", names[k], scores[k]);
    printf("\t%.*s\n", (int)(len > 60 ? 60 : len), text);
    return 0;
}

int main(int argc, char **argv) {
    senti_error *err = NULL;
    senti_status st;
    if (argc >= 4 && strcmp(argv[1], "--train") == 0) {
        /* Extra parameters come as JSON; the data path is set by its typed setter, so any path
         * (quotes, backslashes, spaces) works. Without extras: a quick, small model. */
        senti_params *params = NULL;
        const char *json = argc > 4 ? argv[4] : "{\"train_limit\": 2000, \"epochs\": 2, \"max_len\": 120, \"vocab_size\": 6000,"
                                                " \"embedding_dim\": 32, \"hidden_size\": 32}";
        if ((st = senti_params_from_json(json, &params, &err)) != SENTI_OK) return report("senti_params_from_json", st, err);
        if ((st = senti_params_set_string(params, "data_path", argv[2], &err)) != SENTI_OK) {
            senti_params_free(params);
            return report("data_path", st, err);
        }
        senti_model *model = NULL;
        st = senti_train_params(params, NULL, NULL, &model, &err);
        senti_params_free(params);
        if (st != SENTI_OK) return report("senti_train_params", st, err);
        if ((st = senti_save(model, argv[3], &err)) != SENTI_OK) {
            senti_free(model);
            return report("senti_save", st, err);
        }
        senti_free(model);
        printf("saved %s\n", argv[3]);
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s <model> [text ...] | %s --train <data> <model> [params]\n", argv[0], argv[0]);
        return 2;
    }
    senti_model *model = NULL;
    if ((st = senti_load(argv[1], &model, &err)) != SENTI_OK) return report("senti_load", st, err);
    if ((st = senti_label_count(model, &label_count, &err)) != SENTI_OK) return report("senti_label_count", st, err);
    if (label_count > MAX_LABELS) {
        fprintf(stderr, "this example prints at most %d labels; the model has %zu\n", MAX_LABELS, label_count);
        return 1;
    }
    for (size_t k = 0; k < label_count; k++)
        if ((st = senti_label_name(model, k, names[k], sizeof names[k], NULL, &err)) != SENTI_OK) return report("senti_label_name", st, err);
    int rc = 0;
    if (argc > 2) {
        for (int i = 2; i < argc && rc == 0; i++) rc = classify(model, argv[i], strlen(argv[i]));
    } else {
        char line[65536];
        while (rc == 0 && fgets(line, sizeof line, stdin)) {
            size_t len = strcspn(line, "\n");
            rc = classify(model, line, len);
        }
    }
    senti_free(model);
    return rc;
}
