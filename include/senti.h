/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * senti.h — libsenti: train and serve LSTM/GRU text classifiers (K >= 2 labels: sentiment,
 * topics, stars, intents) through a C ABI.
 *
 * OVERVIEW
 *   senti_params_new / _set_* / _free    training parameters, typed, field by field (see
 *                                         TRAINING PARAMETERS below)        -> senti_params *
 *   senti_train_params                    trains a model from labeled data on disk -> senti_model *
 *   senti_train   the same, with the parameters as a JSON object           -> senti_model *
 *   senti_dataset_new / _add* / _free     labeled texts in memory           -> senti_dataset *
 *   senti_train_dataset                   trains from datasets; nothing read from disk
 *   senti_load    reads a model file                                       -> senti_model *
 *   senti_save    writes a model file (atomically)
 *   senti_label_count / senti_label_name  the model's classes, in score order
 *   senti_predict_scores(_batch)          every class's score (K floats summing to 1)
 *   senti_predict_label                   the most likely class
 *   senti_predict / senti_predict_batch   two-label models: probability of the second label
 *   senti_evaluate_report / senti_evaluate_dataset
 *                                         accuracy, loss, macro-F1, per-class figures and the
 *                                         K x K confusion matrix             -> senti_report *
 *   senti_evaluate / senti_evaluate_texts loss, accuracy (and two-label counts) in a struct
 *   senti_explain / senti_explanation_*   why a text got its score: each token's byte range and
 *                                         signed contribution to a class     -> senti_explanation *
 *   senti_model_info                      the model's configuration, labels and training history (JSON)
 *   senti_free    releases a model
 *
 * OWNERSHIP
 *   - Every handle the library returns through an out-parameter (senti_model *, senti_params *,
 *     senti_dataset *, senti_report *, senti_explanation *, senti_error *) is owned by the caller
 *     and released with its free function (senti_free, senti_params_free, senti_dataset_free,
 *     senti_report_free, senti_explanation_free, senti_error_free). Nothing else the library
 *     returns needs freeing: strings from senti_version and senti_status_name are static;
 *     senti_error_message points into its error, senti_report_json into its report and
 *     senti_explanation_json into its explanation.
 *   - Every pointer the caller passes in (texts, paths, JSON, arrays) is borrowed for the
 *     duration of the call only; the library keeps no reference to it.
 *   - Handles are opaque tokens, not addresses: the library never dereferences them. A NULL,
 *     freed, never-issued or wrong-kind handle yields SENTI_ERR_NULL_POINTER or
 *     SENTI_ERR_INVALID_HANDLE, never undefined behaviour. Freeing NULL or freeing twice is
 *     harmless, so an explicit close and a finalizer may both run.
 *
 * ERRORS
 *   - Every fallible function returns a senti_status: SENTI_OK (0) or a stable nonzero code.
 *   - For the full message, pass the address of a senti_error * (initialised to NULL) as the
 *     last argument: on failure it receives an error object carrying the code and message
 *     (senti_error_code, senti_error_message), which the caller frees with senti_error_free.
 *     Pass NULL when the code is enough. There is no thread-local "last error": the error
 *     travels with the call, which is safe for goroutines that move between OS threads.
 *   - Out-parameters are written only on success (exception: senti_model_info,
 *     senti_params_to_json and senti_label_name report the needed length with
 *     SENTI_ERR_BUFFER_TOO_SMALL). Arrays the caller allocates (scores) come with their
 *     capacity, which is checked.
 *   - No panic crosses the boundary: an internal failure is SENTI_ERR_INTERNAL.
 *
 * TEXT
 *   All text is UTF-8. Review texts take an explicit byte length, or SENTI_NUL_TERMINATED;
 *   paths and JSON are NUL-terminated. Invalid UTF-8 is SENTI_ERR_INVALID_UTF8.
 *
 * THREADS
 *   - Prediction (senti_predict*, senti_label_*), explanation (senti_explain*), evaluation
 *     (senti_evaluate*), senti_save and senti_model_info may run on one model from many threads
 *     at once. senti_free may race with them: calls in flight finish, later calls get
 *     SENTI_ERR_INVALID_HANDLE.
 *   - senti_train, senti_train_params and senti_train_dataset run on the calling thread plus a pool of worker
 *     threads of their own ("threads" parameter); the progress callback runs on the calling
 *     thread.
 *   - Any number of threads may set, reset and read fields of one senti_params, or add to one
 *     senti_dataset, at once. Training copies both at its start.
 *   - The library sets CANDLE_NUM_THREADS=1 in its process on first use unless the host set it
 *     (the tensor library's own elementwise pool slows small operations).
 *
 * VERSIONS
 *   SENTI_VERSION_* macros describe this header; senti_version_number() the linked library.
 */


#ifndef SENTI_H
#define SENTI_H

/* Generated by cbindgen from src/ffi (build.rs). Do not edit: change the Rust source. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pass as a text length to mean "the text is NUL-terminated". */
#define SENTI_NUL_TERMINATED SIZE_MAX

/* Pass as the class index to senti_explain to explain the predicted class. */
#define SENTI_PREDICTED_CLASS SIZE_MAX

/*
 * TRAINING PARAMETERS
 *   The fields of a senti_params object (senti_params_set_int, _float, _bool, _string) and
 *   of the JSON object of senti_train and senti_params_from_json, with their type, values
 *   and default. "or null" fields are optional: absent (their default; senti_params_reset
 *   or JSON null) lets the library decide. A float field also takes an integer. Generated
 *   from src/config/fields.rs by build.rs.
 *
 *   data_path: string, any path; default "data/imdb/reviews.json"
 *       Training data: a file or folder in one of the data_format formats (see Data
 *       sources).
 *   data_format: string, one of "auto", "imdb-json", "aclimdb", "jsonl", "csv", "folders";
 *     default "auto"
 *       How data_path is read; auto chooses from the path: an aclImdb folder is aclimdb, any
 *       other folder folders (one folder of .txt files per class), .json is imdb-json,
 *       .jsonl is jsonl, .csv is csv.
 *   train_limit: integer or null, ≥ 1; default absent
 *       Train on a seeded, class-balanced sample of this many training examples; absent or
 *       null: all of them.
 *   validation_fraction: float, [0, 0.9); default 0.1
 *       Share of the training examples held out for validation (a stratified slice: about
 *       this share of every class).
 *   cell: string, one of "lstm", "gru", "transformer"; default "lstm"
 *       The recurrent cell, or transformer: an encoder of self-attention layers (pre-norm,
 *       sinusoidal positions, padding masked) in place of the recurrent layers, hidden_size
 *       wide.
 *   embedding_dim: integer, 1 to 4096; default 128
 *       Embedding width.
 *   hidden_size: integer, 1 to 4096; default 128
 *       Recurrent state width per direction; for a transformer, the model width.
 *   layers: integer, 0 to 8; default 1
 *       Stacked recurrent (or transformer) layers. 0: no network; the model is its wide path
 *       alone (needs wide_ngrams above 0), which trains in seconds and predicts a review in
 *       tens of microseconds (the fast recipe).
 *   bidirectional: bool, true or false; default true
 *       Add a backward direction to every recurrent layer (a transformer ignores it: its
 *       attention sees both sides).
 *   heads: integer, 1 to 64; default 4
 *       Attention heads per transformer layer; they must divide hidden_size. Transformer
 *       only.
 *   ff_size: integer, 1 to 16384; default 256
 *       Width of each transformer layer's feed-forward block. Transformer only.
 *   pooling: string, one of "last", "max", "mean", "max_mean", "attention"; default "max_mean"
 *       How the states over time become one vector: the state after the last real token,
 *       their elementwise maximum or mean, maximum and mean concatenated, or their sum
 *       weighted by additive attention (weights learnt; explanations report them).
 *   dropout: float, [0, 1); default 0.3
 *       Dropout on the pooled features and between layers.
 *   embedding_dropout: float, [0, 1); default 0.1
 *       Share of a batch's distinct words whose embedding is dropped whole (every occurrence
 *       alike).
 *   embedding_pretrain_epochs: integer or null, 0 to 100; default absent
 *       Passes of skip-gram word vectors over the training texts that start the embedding
 *       (see Models); 0 starts it at random. Absent or null: 5 when the training texts hold
 *       at least 2 million tokens, else 0.
 *   vocab_size: integer, 3 to 2000000; default 30000
 *       Vocabulary entries, padding and unknown included.
 *   max_len: integer, 1 to 100000; default 800
 *       Tokens kept per text.
 *   truncation: string, one of "keep_end", "keep_start"; default "keep_end"
 *       Which tokens of a longer text are kept: the last max_len (reviews tend to conclude)
 *       or the first.
 *   epochs: integer, 1 to 10000; default 3
 *       Passes over the training examples.
 *   batch_size: integer, 1 to 65536; default 64
 *       Reviews per step.
 *   optimizer: string, one of "adam", "adamw"; default "adam"
 *       Adam, or AdamW with decoupled weight decay (weight_decay).
 *   learning_rate: float, (0, 10]; default 0.002
 *       Initial learning rate.
 *   lr_schedule: string, one of "constant", "linear", "cosine"; default "cosine"
 *       Learning-rate schedule over the whole run; linear and cosine decay to 10% of the
 *       initial rate.
 *   weight_decay: float, [0, 1]; default 0.0
 *       Decoupled weight decay; above 0 it needs optimizer adamw.
 *   clip_norm: float, ≥ 0; default 1.0
 *       Global gradient-norm clip; 0 disables clipping.
 *   restore_best: bool, true or false; default true
 *       Keep the weights of the epoch with the best validation accuracy.
 *   seed: integer, ≥ 0; default 42
 *       Seed for sampling, initialisation, shuffling and dropout.
 *   threads: integer, 0 to 1024; default 0
 *       Worker threads; 0 means one per available core.
 *   wide_ngrams: integer, 0 (no wide path) or 1 to 3; default 2
 *       Longest word n-gram of the wide path beside the recurrent network; 0 trains a pure
 *       recurrent model.
 *   wide_buckets: integer, 0 (automatic) or 1024 to 2^26; default 0
 *       Hash slots of the wide path; 0 means twice the distinct n-grams of the training
 *       texts, at most 2^21 (and at most 2^24 weights in all: slots × labels beyond two
 *       labels).
 *   wide_epochs: integer, 1 to 1000; default 3
 *       Passes of the wide path's logistic regression.
 *   wide_learning_rate: float, (0, 10]; default 0.03
 *       The wide path's AdaGrad learning rate.
 *   wide_l2: float, [0, 1]; default 1e-6
 *       The wide path's L2 penalty.
 */


/**
 * The most threads one call may be given: training's `threads` and a model's prediction
 * threads alike. Far above any core count, low enough that a typo (or a negative number cast to
 * unsigned) is refused instead of spawning threads.
 */
#define SENTI_MAX_THREADS 1024

/**
 * Library version, as macros (compile time) and through `senti_version_number()` (run time).
 */
#define SENTI_VERSION_MAJOR 0

#define SENTI_VERSION_MINOR 2

#define SENTI_VERSION_PATCH 0

/**
 * MAJOR * 10000 + MINOR * 100 + PATCH.
 */
#define SENTI_VERSION_NUMBER (((SENTI_VERSION_MAJOR * 10000) + (SENTI_VERSION_MINOR * 100)) + SENTI_VERSION_PATCH)

/**
 * `senti_progress.phase` after each training batch.
 */
#define SENTI_PHASE_BATCH 0

/**
 * `senti_progress.phase` after each epoch's validation.
 */
#define SENTI_PHASE_EPOCH 1

/**
 * `senti_progress.phase` while word vectors are learned before the first epoch
 * (`embedding_pretrain_epochs`): `epoch`/`epochs` count their passes, `batch`/`batches` chunks
 * of reviews, and the loss and accuracy fields are NaN. Returning nonzero cancels here too.
 */
#define SENTI_PHASE_PRETRAIN 2

/**
 * Integration steps when the caller does not choose. On the default IMDB model 8 steps leave
 * 0.4% of the logit unexplained (median) and rank tokens as 16 do (benches/explain.rs), at
 * about 15 times the cost of a prediction.
 */
#define SENTI_EXPLAIN_DEFAULT_STEPS 8

/**
 * The most integration steps one call may ask for.
 */
#define SENTI_EXPLAIN_MAX_STEPS 256

/**
 * Status of every fallible call. The numeric values are stable: new codes may be added,
 * existing ones never change meaning.
 */
enum senti_status
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Success.
   */
  SENTI_OK = 0,
  /**
   * An argument is unusable (empty batch, bad length, oversized text, bad data spec).
   */
  SENTI_ERR_INVALID_ARGUMENT = 1,
  /**
   * A required pointer argument is NULL.
   */
  SENTI_ERR_NULL_POINTER = 2,
  /**
   * A handle that was freed, never issued by this library, or of the wrong kind.
   */
  SENTI_ERR_INVALID_HANDLE = 3,
  /**
   * Text that is not valid UTF-8.
   */
  SENTI_ERR_INVALID_UTF8 = 4,
  /**
   * Training parameters: malformed JSON, unknown field, wrong type or out-of-range value.
   */
  SENTI_ERR_CONFIG = 5,
  /**
   * The operating system refused a read or a write (missing file, permissions, full disk).
   */
  SENTI_ERR_IO = 6,
  /**
   * Labeled data is malformed or unusable (a bad line, an unknown label, one class); the message names the file and the line or entry.
   */
  SENTI_ERR_DATA = 7,
  /**
   * A model file is damaged, truncated, foreign or of an unsupported version.
   */
  SENTI_ERR_MODEL_FILE = 8,
  /**
   * The progress callback returned nonzero; no model was produced.
   */
  SENTI_ERR_CANCELLED = 9,
  /**
   * Training diverged (the loss became NaN or infinite); no model was produced.
   */
  SENTI_ERR_DIVERGED = 10,
  /**
   * The request would need more memory than the library allows itself.
   */
  SENTI_ERR_RESOURCE_LIMIT = 11,
  /**
   * A caller-supplied buffer is too small; the needed length was reported.
   */
  SENTI_ERR_BUFFER_TOO_SMALL = 12,
  /**
   * A bug in the library, including a caught panic. Please report it.
   */
  SENTI_ERR_INTERNAL = 13,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum senti_status senti_status;
#else
typedef int32_t senti_status;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Labeled texts in memory. Opaque; made by `senti_dataset_new`, released with
 * `senti_dataset_free`.
 */
typedef struct senti_dataset senti_dataset;

/**
 * A failure's status code and full message. Opaque; owned by the caller, released with
 * `senti_error_free`.
 */
typedef struct senti_error senti_error;

/**
 * An explanation of one prediction. Opaque; owned by the caller, released with
 * `senti_explanation_free`.
 */
typedef struct senti_explanation senti_explanation;

/**
 * A trained model. Opaque; obtained from `senti_train` or `senti_load`, released with
 * `senti_free`.
 */
typedef struct senti_model senti_model;

/**
 * A set of training parameters: every field of the TRAINING PARAMETERS block above, each
 * holding its default until set. Opaque; obtained from `senti_params_new` or
 * `senti_params_from_json`, owned by the caller and released with `senti_params_free`. Any
 * number of threads may set and read fields of one object at once (a lock orders them).
 */
typedef struct senti_params senti_params;

/**
 * An evaluation report. Opaque; owned by the caller, released with `senti_report_free`.
 */
typedef struct senti_report senti_report;

/**
 * Training progress, passed to the progress callback. Owned by the library and valid only
 * during the callback. Later versions may append fields, never reorder them.
 */
typedef struct senti_progress {
  /**
   * `SENTI_PHASE_BATCH`, `SENTI_PHASE_EPOCH` or `SENTI_PHASE_PRETRAIN`.
   */
  int32_t phase;
  /**
   * 1-based epoch and total epochs.
   */
  uint32_t epoch;
  uint32_t epochs;
  /**
   * 1-based batch within the epoch and batches per epoch.
   */
  uint32_t batch;
  uint32_t batches;
  /**
   * Running mean training loss and accuracy of the current epoch.
   */
  double loss;
  double accuracy;
  /**
   * Validation loss and accuracy after the epoch; NaN in batch updates and without validation.
   */
  double val_loss;
  double val_accuracy;
} senti_progress;

/**
 * Called on the thread that called `senti_train`. Return 0 to continue, nonzero to cancel
 * (`senti_train` then returns `SENTI_ERR_CANCELLED`).
 */
typedef int32_t (*senti_progress_fn)(const struct senti_progress *progress, void *user_data);

/**
 * Result of `senti_evaluate`. Caller-allocated; its layout is fixed for this major version. The
 * four counts are a two-label model's (the second label positive); 0 for more labels, whose
 * figures `senti_evaluate_report` gives.
 */
typedef struct senti_evaluation {
  /**
   * Number of labeled texts evaluated.
   */
  uint64_t count;
  uint64_t true_positive;
  uint64_t true_negative;
  uint64_t false_positive;
  uint64_t false_negative;
  /**
   * Mean cross-entropy (binary for two labels).
   */
  double loss;
  /**
   * Fraction classified correctly (the top label; for two labels, probability > 0.5 means
   * the second).
   */
  double accuracy;
} senti_evaluation;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The number of classes the model tells apart (2 for IMDB models), into `count_out`.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_label_count(const struct senti_model *model,
                               size_t *count_out,
                               struct senti_error **error_out);

/**
 * The name of class `index` (0-based, in score order), copied with a NUL into `buffer` by the
 * capacity protocol of `senti_model_info` (`length_out`, optional, gets the length without
 * the NUL, also on `SENTI_ERR_BUFFER_TOO_SMALL`). An index past the last class is
 * `SENTI_ERR_INVALID_ARGUMENT`.
 *
 * # Safety
 * `buffer` must be valid for `capacity` bytes (or NULL with capacity 0).
 */
senti_status senti_label_name(const struct senti_model *model,
                              size_t index,
                              char *buffer,
                              size_t capacity,
                              size_t *length_out,
                              struct senti_error **error_out);

/**
 * Every class's score for one text: `senti_label_count` floats that sum to 1, in label order,
 * written to `scores_out` (caller-allocated, `capacity` floats; fewer than the label count is
 * `SENTI_ERR_BUFFER_TOO_SMALL`). `text` and `text_len` as for `senti_predict`. Thread-safe.
 *
 * # Safety
 * Pointers must be NULL or valid as described; `scores_out` valid for `capacity` floats.
 */
senti_status senti_predict_scores(const struct senti_model *model,
                                  const char *text,
                                  size_t text_len,
                                  float *scores_out,
                                  size_t capacity,
                                  struct senti_error **error_out);

/**
 * Every class's score for `count` texts: row by row, text `i`'s scores at
 * `scores_out[i * K .. (i + 1) * K]` for K labels. `capacity` is in floats and must be at least
 * `count * K`. `texts` and `text_lens` as for `senti_predict_batch`. Thread-safe.
 *
 * # Safety
 * Pointers must be NULL or valid as described; `scores_out` valid for `capacity` floats.
 */
senti_status senti_predict_scores_batch(const struct senti_model *model,
                                        const char *const *texts,
                                        const size_t *text_lens,
                                        size_t count,
                                        float *scores_out,
                                        size_t capacity,
                                        struct senti_error **error_out);

/**
 * The most likely class of one text: its index into `label_out` and, when `score_out` is not
 * NULL, its score. Ties go to the lower index. Thread-safe.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_predict_label(const struct senti_model *model,
                                 const char *text,
                                 size_t text_len,
                                 size_t *label_out,
                                 float *score_out,
                                 struct senti_error **error_out);

/**
 * Creates an empty dataset. `dataset_out` receives the handle; the caller releases it with
 * `senti_dataset_free`. Several threads may add to one dataset at once (calls are serialised).
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_dataset_new(struct senti_dataset **dataset_out, struct senti_error **error_out);

/**
 * Declares the class names in index order (`count` NUL-terminated UTF-8 names, at least two,
 * distinct). Optional for labels added by name (they are then inferred and ordered: by number
 * when every name is a number, else by bytes); required before `senti_dataset_add_indexed`.
 * May be called once, before any example is added.
 *
 * # Safety
 * `names` must hold `count` pointers to NUL-terminated strings.
 */
senti_status senti_dataset_set_labels(struct senti_dataset *dataset,
                                      const char *const *names,
                                      size_t count,
                                      struct senti_error **error_out);

/**
 * Adds one example: `text` (`text_len` bytes, or NUL-terminated with `SENTI_NUL_TERMINATED`)
 * with the class name `label` (NUL-terminated UTF-8). Both are copied. With declared labels,
 * `label` must be one of them.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_dataset_add(struct senti_dataset *dataset,
                               const char *text,
                               size_t text_len,
                               const char *label,
                               struct senti_error **error_out);

/**
 * Adds `count` examples: `texts` and `text_lens` as for `senti_predict_batch`, `labels` the
 * `count` class names. Nothing is added when any of them is refused.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_dataset_add_batch(struct senti_dataset *dataset,
                                     const char *const *texts,
                                     const size_t *text_lens,
                                     const char *const *labels,
                                     size_t count,
                                     struct senti_error **error_out);

/**
 * Adds `count` examples whose classes are indices into the labels declared with
 * `senti_dataset_set_labels` (which must come first).
 *
 * # Safety
 * Pointers must be NULL or valid as described; `label_indices` holds `count` values.
 */
senti_status senti_dataset_add_indexed(struct senti_dataset *dataset,
                                       const char *const *texts,
                                       const size_t *text_lens,
                                       const uint32_t *label_indices,
                                       size_t count,
                                       struct senti_error **error_out);

/**
 * The number of examples in the dataset, into `count_out`.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_dataset_count(const struct senti_dataset *dataset,
                                 size_t *count_out,
                                 struct senti_error **error_out);

/**
 * Releases a dataset. NULL, an already-freed handle or any other value is ignored.
 */
void senti_dataset_free(struct senti_dataset *dataset);

/**
 * Trains a model on `train` (a dataset), validating on `validation` when it is not NULL and
 * otherwise on `validation_fraction` of `train` (a stratified slice). `params` (NULL for all
 * defaults) gives every other training parameter; its `data_path` and `data_format` are not
 * read. The classes are the labels declared on `train`, or else inferred from its examples;
 * one class is `SENTI_ERR_DATA`, and so is a validation label the training set does not know.
 * `progress`, `user_data`, `model_out` and `error_out` as for `senti_train`. The datasets are
 * copied at the start, so they may be changed or freed while training runs.
 *
 * # Safety
 * Pointers must be NULL or valid as described; `progress` must be safe to call with `user_data`.
 */
senti_status senti_train_dataset(const struct senti_params *params,
                                 const struct senti_dataset *train,
                                 const struct senti_dataset *validation,
                                 senti_progress_fn progress,
                                 void *user_data,
                                 struct senti_model **model_out,
                                 struct senti_error **error_out);

/**
 * Evaluates `model` on a dataset's examples (whose labels must be the model's, by name) and
 * returns the full report (see `senti_report_json`). Thread-safe.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_evaluate_dataset(const struct senti_model *model,
                                    const struct senti_dataset *dataset,
                                    struct senti_report **report_out,
                                    struct senti_error **error_out);

/**
 * Explains the score `text` gets for class `class_index` (0-based, in label order), or for the
 * predicted class with `SENTI_PREDICTED_CLASS`, and returns the explanation in
 * `explanation_out`, released with `senti_explanation_free`.
 *
 * `text`, `text_len`: as for `senti_predict`; the byte ranges refer to these bytes.
 * `steps`: integration steps for the network's part, 1 to `SENTI_EXPLAIN_MAX_STEPS` (256); 0
 * picks `SENTI_EXPLAIN_DEFAULT_STEPS` (8). More steps leave less unexplained (`"unexplained"`
 * in the JSON) and cost proportionally more: an explanation costs about a prediction plus a
 * forward and a backward pass over `steps` copies of the text. A class index past the last class, or more than 256 steps, is
 * `SENTI_ERR_INVALID_ARGUMENT`. Thread-safe.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_explain(const struct senti_model *model,
                           const char *text,
                           size_t text_len,
                           size_t class_index,
                           uint32_t steps,
                           struct senti_explanation **explanation_out,
                           struct senti_error **error_out);

/**
 * The explained class's index into `class_out` and, when the pointers are not NULL, the
 * model's score for it (`score_out`, as `senti_predict_scores` gives it), its logit
 * (`logit_out`) and the logit with no words (`reference_out`). The contributions of all
 * tokens add up to `logit - reference`, up to the small part the JSON calls `"unexplained"`.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_explanation_class(const struct senti_explanation *explanation,
                                     size_t *class_out,
                                     float *score_out,
                                     float *logit_out,
                                     float *reference_out,
                                     struct senti_error **error_out);

/**
 * The number of tokens of the explained text, into `count_out` (0 for a text without words).
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_explanation_token_count(const struct senti_explanation *explanation,
                                           size_t *count_out,
                                           struct senti_error **error_out);

/**
 * Token `index` (0-based, in text order): its byte range `[*start_out, *end_out)` in the text
 * given to `senti_explain` and its contribution to the explained class's logit
 * (`contribution_out`; positive pushes towards the class). Any of the three pointers may be
 * NULL. An index past the last token is `SENTI_ERR_INVALID_ARGUMENT`.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_explanation_token(const struct senti_explanation *explanation,
                                     size_t index,
                                     size_t *start_out,
                                     size_t *end_out,
                                     float *contribution_out,
                                     struct senti_error **error_out);

/**
 * The whole explanation as NUL-terminated JSON, owned by the explanation and valid until
 * `senti_explanation_free(explanation)`; NULL if `explanation` is not a live explanation:
 * `{"class", "label", "score", "logit", "reference", "unexplained", "method":
 * "integrated_gradients", "steps", "tokens": [{"token", "start", "end", "contribution",
 * "network", "wide", "read_by_network", "attention"}, ...]}`. `contribution` is `network +
 * wide`: the network's part (0 for a token past `max_len`, which the network does not read) and
 * the wide n-gram path's (exact; 0 without a wide path). A model without a network (`layers` 0)
 * has method "wide_path", steps 0, and every token's part is the wide path's. `attention`, only for a model pooled by
 * attention, is the token's weight in the pooled vector (the weights of the tokens read sum to 1).
 */
const char *senti_explanation_json(const struct senti_explanation *explanation);

/**
 * Releases an explanation. NULL, an already-freed explanation or any other value is ignored.
 */
void senti_explanation_free(struct senti_explanation *explanation);

/**
 * The library version as a static NUL-terminated string, e.g. "0.1.0". Never free it.
 */
const char *senti_version(void);

/**
 * The instruction set the library's kernels chose for this CPU when first asked: "avx512",
 * "avx2" or "baseline" (portable code), at most the level the environment variable
 * SENTI_MAX_SIMD names when it is set before the first call. A static NUL-terminated string;
 * never free it. Speed figures hold for the level they were measured at.
 */
const char *senti_simd_level(void);

/**
 * The library version as MAJOR * 10000 + MINOR * 100 + PATCH; compare with
 * `SENTI_VERSION_NUMBER` to detect a header/library mismatch.
 */
uint32_t senti_version_number(void);

/**
 * The name of a status code as a static string ("SENTI_OK", "SENTI_ERR_IO", ...), or
 * "SENTI_UNKNOWN_STATUS" for a value this version does not define. Never free it.
 */
const char *senti_status_name(int32_t status);

/**
 * Trains a model.
 *
 * `params_json`: a JSON object of training parameters, or NULL / "" / "{}" for all defaults.
 * Every field is optional (the TRAINING PARAMETERS block lists fields and defaults; a
 * `senti_params` object and `senti_train_params` avoid building the JSON by hand); an unknown
 * field, a wrong type or an out-of-range value fails with `SENTI_ERR_CONFIG`. Borrowed for the call. By default
 * the model pairs the recurrent network with a wide path over hashed word n-grams, mixed on the
 * validation slice; `"wide_ngrams": 0` trains a pure LSTM/GRU, and `"layers": 0` the wide path
 * alone (no network, no epochs: `progress` is then never called). On a training set of IMDB's size
 * (2 million tokens or more) the embedding starts from word vectors learned from the reviews' text
 * first (`SENTI_PHASE_PRETRAIN` reports); `"embedding_pretrain_epochs": 0` starts it at random.
 * `progress`: optional callback, called on this thread after every batch and every epoch; a
 * nonzero return cancels training (`SENTI_ERR_CANCELLED`). `user_data` is passed to it untouched.
 * `model_out`: receives a new model handle on success; the caller owns it and releases it with
 * `senti_free`.
 * `error_out`: optional; on failure receives an error the caller releases with `senti_error_free`.
 *
 * # Safety
 * Pointers must be NULL or valid as described; `progress` must be safe to call with `user_data`.
 */
senti_status senti_train(const char *params_json,
                         senti_progress_fn progress,
                         void *user_data,
                         struct senti_model **model_out,
                         struct senti_error **error_out);

/**
 * Loads a model file written by `senti_save`.
 *
 * `path`: NUL-terminated UTF-8 path, borrowed. `model_out`: receives a new handle on success
 * (release with `senti_free`). A missing file fails with `SENTI_ERR_IO`; a damaged, truncated
 * or foreign file with `SENTI_ERR_MODEL_FILE`.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_load(const char *path,
                        struct senti_model **model_out,
                        struct senti_error **error_out);

/**
 * Saves a model to `path` (NUL-terminated UTF-8, borrowed) as one .safetensors file. The file is
 * written to a temporary name, synced and renamed over `path`, so a failed or interrupted save
 * leaves any previous file intact. Safe to call while other threads predict with the model.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_save(const struct senti_model *model,
                        const char *path,
                        struct senti_error **error_out);

/**
 * For a two-label model, the probability in [0, 1] of its second label (`positive` for IMDB
 * models); a model with more labels fails with `SENTI_ERR_INVALID_ARGUMENT` (use
 * `senti_predict_scores`).
 *
 * `text`: UTF-8 bytes, borrowed; `text_len` bytes long, or NUL-terminated when `text_len` is
 * `SENTI_NUL_TERMINATED`. With an explicit length the text may contain NUL bytes (they separate
 * words). Invalid UTF-8 fails with `SENTI_ERR_INVALID_UTF8`. A text without words (empty or
 * only spaces) gets the model's prior for an unknown word. NULL with length 0 is the empty text.
 * `probability_out`: written on success only. Thread-safe: any number of threads may predict
 * with the same model at once.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_predict(const struct senti_model *model,
                           const char *text,
                           size_t text_len,
                           float *probability_out,
                           struct senti_error **error_out);

/**
 * `senti_predict` for `count` texts at once (faster than one call per text); two-label models
 * only.
 *
 * `texts`: `count` pointers to UTF-8 texts, borrowed. `text_lens`: NULL when every text is
 * NUL-terminated, else `count` lengths (each may be `SENTI_NUL_TERMINATED`). `probabilities_out`:
 * caller-allocated array of `count` floats, written on success only, in input order. `count`
 * of 0 fails with `SENTI_ERR_INVALID_ARGUMENT`. Thread-safe like `senti_predict`.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_predict_batch(const struct senti_model *model,
                                 const char *const *texts,
                                 const size_t *text_lens,
                                 size_t count,
                                 float *probabilities_out,
                                 struct senti_error **error_out);

/**
 * Evaluates the model on labeled data described by `data_json` (borrowed):
 * `{"path": "...", "format": "auto|imdb-json|aclimdb|jsonl|csv|folders", "split": "test|train",
 * "limit": N, "part": "model|recurrent|wide"}`. Only `path` is required; sources with splits
 * default to the test split; labels are the model's names (for a model none of whose labels is
 * a number, an integer is also taken as an index), and an unknown one is `SENTI_ERR_DATA`
 * naming the file and line; `limit` takes a fixed class-balanced sample; `part` scores the whole model
 * (default) or, for a model with a wide path, its recurrent network or its wide path alone
 * (`"wide"` on a model without one, and `"recurrent"` on a model without a network, trained
 * with `"layers": 0`, are `SENTI_ERR_CONFIG`). `result_out` is written on success
 * only. For every class's figures and the confusion matrix use `senti_evaluate_report`.
 * Thread-safe.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_evaluate(const struct senti_model *model,
                            const char *data_json,
                            struct senti_evaluation *result_out,
                            struct senti_error **error_out);

/**
 * Evaluates the model on `count` texts held in memory with their `labels`, each a class index
 * below the model's label count (0 or 1 for a two-label model).
 * `texts` and `text_lens` as for `senti_predict_batch`. `result_out` is written on success only.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_evaluate_texts(const struct senti_model *model,
                                  const char *const *texts,
                                  const size_t *text_lens,
                                  const uint8_t *labels,
                                  size_t count,
                                  struct senti_evaluation *result_out,
                                  struct senti_error **error_out);

/**
 * Describes the model as JSON: library version, model and text configuration, vocabulary
 * size, and the training record (parameters, per-epoch history, best epoch, wall time).
 * `"model_config"` is null for a model without a network (trained with `layers` 0).
 *
 * Copies the JSON and a terminating NUL into `buffer` when `capacity` exceeds its length.
 * `length_out` (optional) receives the JSON's length without the NUL, on success and on
 * `SENTI_ERR_BUFFER_TOO_SMALL` alike, so a caller can ask with capacity 0 (buffer may then be
 * NULL), allocate, and ask again.
 *
 * # Safety
 * `buffer` must be valid for `capacity` bytes (or NULL with capacity 0).
 */
senti_status senti_model_info(const struct senti_model *model,
                              char *buffer,
                              size_t capacity,
                              size_t *length_out,
                              struct senti_error **error_out);

/**
 * Sets between how many threads the recurrent network of each later prediction, batch
 * prediction and evaluation with `model` splits its reviews: `threads` from 0 (the default: one
 * per available core) to `SENTI_MAX_THREADS` (1024). The setting belongs to the model, is safe to change while other
 * threads predict, and takes effect for calls that start after it returns; scores do not
 * depend on it.
 *
 * A service that predicts from many threads at once usually gets more throughput from 1 (each
 * request on its own core); a program that makes one call at a time gets lower latency from
 * the default. Returns `SENTI_ERR_INVALID_ARGUMENT` above `SENTI_MAX_THREADS`.
 */
senti_status senti_set_prediction_threads(const struct senti_model *model,
                                          size_t threads,
                                          struct senti_error **error_out);

/**
 * Sets the precision at which each later prediction, batch prediction and evaluation with
 * `model` stores the network's weights: `precision` is "f32" (the default after `senti_load`:
 * the weights as trained; a model builds what prediction reads at its first prediction, so one
 * switched before it predicts never holds f32's tables), "f16" (IEEE half floats, widened to f32 as they are read) or "i16"
 * (the recurrent matrices as 16-bit integers with a scale per row, multiplied by the state
 * rounded to 16-bit integers at every step; the per-word input table one byte a value with a
 * scale per row, half of "f16"'s memory).
 *
 * "f16" halves the bytes a single review's recurrence reads at every step, which is what limits
 * a single review's latency: on an AVX-512 CPU the default BiLSTM's review took 0.56 to 0.66 of its f32
 * time (README, Models). It also stores the first layer's per-word input table at half size,
 * so the default bidirectional model keeps one at all (61 MB; its f32 table is over the 64 MB
 * limit and each review's words are projected instead): its serving process peaked 41 MB higher
 * in the benchmark. On IMDB's test split probabilities moved by at most 1.1e-4 and one review in 25,000
 * changed class. Arithmetic and state stay f32, and a review scores the same alone and in a
 * batch; where the kernels have no F16C product (the baseline level) the rounded weights are
 * held as f32, with the same scores. The wide path and a transformer's layers are unaffected;
 * explanations integrate their gradients at f32, so at f16 the rounding shows in their
 * unexplained part.
 *
 * "i16" reads the same bytes as "f16" without widening them, which is what limits "f16" on
 * AVX2-only CPUs: held to AVX2 on an AVX-512 Xeon the default BiLSTM's review took 0.57 to
 * 0.59 ms at i16 against 0.67 to 0.74 at f16 and 0.88 to 0.92 at f32, and 0.39 ms at AVX-512
 * (README, Models). On IMDB's test split its accuracy equalled f32's for both default
 * models and probabilities moved by at most 1.1e-4. Its integer sums are exact, so every
 * instruction set gives the same scores, and a batch multiplies the same integers, so a review
 * scores the same alone and in a batch. For a model without a network the call changes nothing. Switching builds
 * the new weights first (tens of milliseconds for the default model; one switch at a time), is
 * safe while other threads predict, and takes effect for calls that start after it returns:
 * a call already running finishes with the weights it started with. `precision` must be a
 * NUL-terminated string, borrowed for the call; any other value is
 * `SENTI_ERR_INVALID_ARGUMENT` and changes nothing.
 */
senti_status senti_set_prediction_precision(const struct senti_model *model,
                                            const char *precision,
                                            struct senti_error **error_out);

/**
 * Releases a model handle. NULL, an already-freed handle or any other value is ignored, so an
 * explicit close and a finalizer may both call it. Calls already running with the model on
 * other threads finish normally; later calls with the handle fail with `SENTI_ERR_INVALID_HANDLE`.
 */
void senti_free(struct senti_model *model);

/**
 * The status code of an error; `SENTI_ERR_INVALID_HANDLE` if `error` is not a live error.
 */
senti_status senti_error_code(const struct senti_error *error);

/**
 * The full message of an error as NUL-terminated UTF-8, owned by the error and valid until
 * `senti_error_free(error)`; NULL if `error` is not a live error.
 */
const char *senti_error_message(const struct senti_error *error);

/**
 * Releases an error. NULL or an already-freed error is ignored.
 */
void senti_error_free(struct senti_error *error);

/**
 * Creates a params object holding every field's default (the TRAINING PARAMETERS block lists
 * them); training from it unchanged is training with `senti_train(NULL, ...)`.
 *
 * `params_out`: receives the new object on success; the caller owns it and releases it with
 * `senti_params_free`. `error_out`: optional; on failure receives an error the caller releases
 * with `senti_error_free`.
 *
 * # Safety
 * Pointers must be NULL or valid for a write.
 */
senti_status senti_params_new(struct senti_params **params_out, struct senti_error **error_out);

/**
 * Creates a params object from the JSON object `senti_train` takes (NUL-terminated UTF-8,
 * borrowed): the fields it names, defaults for the rest. NULL, "", "null" and "{}" give all
 * defaults. Malformed JSON, an unknown field, a wrong type or an out-of-range value fails with
 * `SENTI_ERR_CONFIG` (the message names the field), as in `senti_train`.
 *
 * `params_out`: receives the new object on success; the caller owns it and releases it with
 * `senti_params_free`. `error_out`: optional, as everywhere.
 *
 * # Safety
 * `json` must be NULL or NUL-terminated; the other pointers NULL or valid for a write.
 */
senti_status senti_params_from_json(const char *json,
                                    struct senti_params **params_out,
                                    struct senti_error **error_out);

/**
 * Sets an integer field (`epochs`, `hidden_size`, `seed`, ...) of `params`.
 *
 * `field`: the field's name, NUL-terminated UTF-8, borrowed. A float field takes an integer
 * too (converted, as JSON takes `1` for `1.0`). The value is checked at once: an unknown field,
 * a field of another type or a value out of the field's range fails with `SENTI_ERR_CONFIG`,
 * a message naming the field (and its type or range), and no change.
 * Checks that involve several fields (`weight_decay` needs `optimizer` `adamw`, the model and
 * batch size limits) run in `senti_train_params`, so fields may be set in any order.
 * Thread-safe. Seeds above 2^63 - 1 can only be given as JSON (`senti_params_from_json`).
 *
 * # Safety
 * `field` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
 */
senti_status senti_params_set_int(struct senti_params *params,
                                  const char *field,
                                  int64_t value,
                                  struct senti_error **error_out);

/**
 * Sets a float field (`learning_rate`, `dropout`, ...) of `params`; checked at once like
 * `senti_params_set_int`. A float is refused for an integer field (`SENTI_ERR_CONFIG`, as JSON
 * refuses `2.0` for `epochs`), and NaN and infinities are out of every range.
 *
 * # Safety
 * `field` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
 */
senti_status senti_params_set_float(struct senti_params *params,
                                    const char *field,
                                    double value,
                                    struct senti_error **error_out);

/**
 * Sets a bool field (`bidirectional`, `restore_best`) of `params`; checked at once like
 * `senti_params_set_int`.
 *
 * # Safety
 * `field` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
 */
senti_status senti_params_set_bool(struct senti_params *params,
                                   const char *field,
                                   bool value,
                                   struct senti_error **error_out);

/**
 * Sets a string field of `params`: `data_path` (any path, taken as it is: quotes, backslashes
 * and spaces need no escaping) or one of the named choices (`cell`, `pooling`, `optimizer`,
 * `lr_schedule`, `truncation`, `data_format`), whose allowed values the TRAINING PARAMETERS
 * block lists; checked at once like `senti_params_set_int`.
 *
 * `value`: NUL-terminated UTF-8, borrowed (the object keeps a copy). NULL fails with
 * `SENTI_ERR_NULL_POINTER`, invalid UTF-8 with `SENTI_ERR_INVALID_UTF8`.
 *
 * # Safety
 * `field` and `value` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
 */
senti_status senti_params_set_string(struct senti_params *params,
                                     const char *field,
                                     const char *value,
                                     struct senti_error **error_out);

/**
 * Sets `field` of `params` back to its default. For the optional fields (`train_limit`,
 * `embedding_pretrain_epochs`) that is absent: the library decides. An unknown field fails with
 * `SENTI_ERR_CONFIG`. Thread-safe.
 *
 * # Safety
 * `field` must be NULL or NUL-terminated; `error_out` NULL or valid for a write.
 */
senti_status senti_params_reset(struct senti_params *params,
                                const char *field,
                                struct senti_error **error_out);

/**
 * Writes every field of `params` as the JSON object `senti_train` and `senti_params_from_json`
 * take (absent optional fields as `null`), so that a run can be logged and repeated.
 *
 * Copies the JSON and a terminating NUL into `buffer` when `capacity` exceeds its length.
 * `length_out` (optional) receives the JSON's length without the NUL, on success and on
 * `SENTI_ERR_BUFFER_TOO_SMALL` alike, so a caller can ask with capacity 0 (buffer may then be
 * NULL), allocate, and ask again. Thread-safe.
 *
 * # Safety
 * `buffer` must be valid for `capacity` bytes (or NULL with capacity 0); `length_out` and
 * `error_out` NULL or valid for a write.
 */
senti_status senti_params_to_json(const struct senti_params *params,
                                  char *buffer,
                                  size_t capacity,
                                  size_t *length_out,
                                  struct senti_error **error_out);

/**
 * Trains a model with the fields of `params`, as `senti_train` does with JSON (see there for
 * the model, `progress`, `user_data` and the errors). The fields are read once, at the start:
 * setting them while training runs affects only later calls. Checks that involve several
 * fields fail here with `SENTI_ERR_CONFIG` before any data is read. `params` stays owned by the
 * caller and may train again.
 *
 * `model_out`: receives a new model handle on success; the caller owns it and releases it with
 * `senti_free`. `error_out`: optional; on failure receives an error the caller releases with
 * `senti_error_free`.
 *
 * # Safety
 * Pointers must be NULL or valid as described; `progress` must be safe to call with `user_data`.
 */
senti_status senti_train_params(const struct senti_params *params,
                                senti_progress_fn progress,
                                void *user_data,
                                struct senti_model **model_out,
                                struct senti_error **error_out);

/**
 * Releases a params object. NULL, an already-freed object or any other value (a model or
 * error handle included) is ignored, so an explicit close and a finalizer may both call it.
 * Calls already running with the object on other threads finish normally; later calls with the
 * handle fail with `SENTI_ERR_INVALID_HANDLE`.
 */
void senti_params_free(struct senti_params *params);

/**
 * Evaluates `model` on the labeled data `data_json` describes (as for `senti_evaluate`:
 * `{"path", "format", "split", "limit", "part"}`) and returns the full report in
 * `report_out`, released with `senti_report_free`. A label the model does not know is
 * `SENTI_ERR_DATA` naming the file and line. Thread-safe.
 *
 * # Safety
 * Pointers must be NULL or valid as described.
 */
senti_status senti_evaluate_report(const struct senti_model *model,
                                   const char *data_json,
                                   struct senti_report **report_out,
                                   struct senti_error **error_out);

/**
 * The report as NUL-terminated JSON, owned by the report and valid until
 * `senti_report_free(report)`; NULL if `report` is not a live report:
 * `{"count": N, "accuracy": a, "loss": l, "macro_f1": f, "labels": [names in class order],
 * "per_class": [{"label", "precision", "recall", "f1", "support"}, ...],
 * "confusion": [[...], ...]}` where `confusion[actual][predicted]` counts examples. Precision is
 * 0 for a class never predicted, recall 0 for a class without examples.
 */
const char *senti_report_json(const struct senti_report *report);

/**
 * Releases a report. NULL, an already-freed report or any other value is ignored.
 */
void senti_report_free(struct senti_report *report);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* SENTI_H */
