/*
 * A small C consumer of libsenti, the one to copy:
 *   classify --train <reviews.json|aclImdb|file.jsonl|file.csv> <model.safetensors> [params JSON]
 *       trains a model (a quick, small one unless params are given) and saves it;
 *   classify <model.safetensors> [text ...]
 *       prints the probability that each text (or each line of stdin) is positive.
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

static int classify(senti_model *model, const char *text, size_t len) {
    float p;
    senti_error *err = NULL;
    senti_status st = senti_predict(model, text, len, &p, &err);
    if (st != SENTI_OK) return report("senti_predict", st, err);
    printf("%.4f\t%s\t%.*s\n", p, p > 0.5f ? "positive" : "negative", (int)(len > 60 ? 60 : len), text);
    return 0;
}

int main(int argc, char **argv) {
    senti_error *err = NULL;
    senti_status st;
    if (argc >= 4 && strcmp(argv[1], "--train") == 0) {
        char params[4096];
        if (argc > 4)
            snprintf(params, sizeof params, "%s", argv[4]);
        else
            snprintf(params, sizeof params,
                     "{\"data_path\": \"%s\", \"train_limit\": 2000, \"epochs\": 2, \"max_len\": 120, \"vocab_size\": 6000,"
                     " \"embedding_dim\": 32, \"hidden_size\": 32}", argv[2]);
        if (argc > 4 && strstr(params, "data_path") == NULL) {
            fprintf(stderr, "params JSON must name data_path\n");
            return 2;
        }
        senti_model *model = NULL;
        if ((st = senti_train(params, NULL, NULL, &model, &err)) != SENTI_OK) return report("senti_train", st, err);
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
