#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""A classical baseline for multi-class text classification: TF-IDF on word unigrams and bigrams
(sublinear tf, min_df 2) and a multinomial logistic regression (scikit-learn, L2; newton-cg,
about three times faster here than lbfgs with 20 classes x 335k features), so that a libsenti
model on the same data has a number to beat.

    python3 benches/multiclass_baseline.py --train data/20newsgroups/train.jsonl \
        --test data/20newsgroups/test.jsonl --json-out reports/20newsgroups-baseline.json

Input: JSON lines {"text": "...", "label": "<class name>"} (examples/fetch-20newsgroups.sh writes
them). Needs scikit-learn, which is not installed by default; for example
    python3 -m venv build/baseline-venv && build/baseline-venv/bin/pip install scikit-learn
and run this file with build/baseline-venv/bin/python.

Protocol, all seeded (--seed, default 0):
  1. A stratified 10% of the training file is held out as validation (StratifiedShuffleSplit).
  2. For each C in --c-grid the vectorizer and the classifier are fitted on the other 90% and
     scored on the validation slice; the C with the best validation accuracy wins (ties: higher
     macro-F1, then the smaller C).
  3. Vectorizer and classifier are refitted with that C on the whole training file and evaluated
     once on the test file: accuracy, macro-F1, per-class precision/recall/F1 and the confusion
     matrix (rows: true class, columns: predicted), printed and written to --json-out.
The test file is never seen before step 3.

20 Newsgroups, default grid, one thread, on a 2-core machine busy with a build: 741 s in all
(choosing C 484 s, of which C=100 alone 249 s; the final fit 246 s), 0.8 GB of memory. A larger C
takes longer to fit; a shorter --c-grid is quicker. Result (scikit-learn 1.9.1, seed 0): C=100
chosen (validation accuracy 0.9265, the top of the grid; C=30 had 0.9257), test accuracy 0.8518,
macro-F1 0.8447.
"""
import argparse
import collections
import json
import os
import platform
import sys
import time

VECTORIZER = dict(
    lowercase=True,
    analyzer="word",
    ngram_range=(1, 2),
    sublinear_tf=True,
    min_df=2,
)


def read_jsonl(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row.get("text"), str) or not isinstance(row.get("label"), str):
                sys.exit(f"{path}:{n}: want {{\"text\": str, \"label\": str}}")
            texts.append(row["text"])
            labels.append(row["label"])
    return texts, labels


def vectorize(texts):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(**VECTORIZER, dtype=np.float32)
    return vec, vec.fit_transform(texts)


def fit(x, labels, c, seed, max_iter):
    """The classifier on an already vectorized matrix; also says whether it converged."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, solver="newton-cg", max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(x, labels)
    return clf, not any(issubclass(w.category, ConvergenceWarning) for w in caught)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", required=True, help="training JSON lines")
    ap.add_argument("--test", required=True, help="test JSON lines")
    ap.add_argument("--json-out", required=True, help="where to write the results as JSON")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--c-grid", default="1,3,10,30,100",
                    help="comma-separated inverse regularisation strengths to choose from")
    ap.add_argument("--validation-fraction", type=float, default=0.1)
    ap.add_argument("--max-iter", type=int, default=1000)
    args = ap.parse_args()

    import numpy as np
    import scipy
    import sklearn
    from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score,
                                 precision_recall_fscore_support)
    from sklearn.model_selection import StratifiedShuffleSplit

    t_start = time.perf_counter()
    train_x, train_y = read_jsonl(args.train)
    test_x, test_y = read_jsonl(args.test)
    classes = sorted(set(train_y))
    unseen = sorted(set(test_y) - set(classes))
    if unseen:
        sys.exit(f"test labels missing from training: {unseen}")
    t_loaded = time.perf_counter()

    grid = [float(c) for c in args.c_grid.split(",")]
    split = StratifiedShuffleSplit(n_splits=1, test_size=args.validation_fraction,
                                   random_state=args.seed)
    fit_idx, val_idx = next(split.split(np.zeros(len(train_y)), train_y))
    part_x = [train_x[i] for i in fit_idx]
    part_y = [train_y[i] for i in fit_idx]
    val_x = [train_x[i] for i in val_idx]
    val_y = [train_y[i] for i in val_idx]

    candidates = []
    warned = []
    print(f"choosing C on a stratified {args.validation_fraction:.0%} validation slice "
          f"({len(val_y)} of {len(train_y)} training documents)")
    # The vectorizer does not depend on C: fitted once on the 90%, as the final one is on all.
    vec, part_m = vectorize(part_x)
    val_m = vec.transform(val_x)
    for c in grid:
        t0 = time.perf_counter()
        clf, converged = fit(part_m, part_y, c, args.seed, args.max_iter)
        pred = clf.predict(val_m)
        row = dict(C=c, accuracy=float(accuracy_score(val_y, pred)),
                   macro_f1=float(f1_score(val_y, pred, average="macro")),
                   features=int(part_m.shape[1]), iterations=int(np.max(clf.n_iter_)),
                   converged=converged, seconds=round(time.perf_counter() - t0, 2))
        if not converged:
            warned.append(c)
        candidates.append(row)
        print(f"  C={c:<7g} accuracy {row['accuracy']:.4f}  macro-F1 {row['macro_f1']:.4f}  "
              f"({row['iterations']} iterations{'' if converged else ', NOT converged'}, "
              f"{row['seconds']:.1f} s)")
    best = max(candidates, key=lambda r: (r["accuracy"], r["macro_f1"], -r["C"]))
    chosen = best["C"]
    t_selected = time.perf_counter()
    print(f"chosen C = {chosen:g}")

    vec, train_m = vectorize(train_x)
    n_features = train_m.shape[1]
    clf, final_converged = fit(train_m, train_y, chosen, args.seed, args.max_iter)
    t_fitted = time.perf_counter()
    pred = clf.predict(vec.transform(test_x))
    t_predicted = time.perf_counter()

    acc = float(accuracy_score(test_y, pred))
    macro = float(f1_score(test_y, pred, labels=classes, average="macro"))
    p, r, f, s = precision_recall_fscore_support(test_y, pred, labels=classes, zero_division=0)
    cm = confusion_matrix(test_y, pred, labels=classes)
    train_counts = collections.Counter(train_y)
    test_counts = collections.Counter(test_y)

    print()
    print(f"test: {len(test_y)} documents, {len(classes)} classes; trained on {len(train_y)} "
          f"({n_features} features, C={chosen:g}, "
          f"{int(np.max(clf.n_iter_))} iterations{'' if final_converged else ', NOT converged'})")
    print(f"accuracy  {acc:.4f}")
    print(f"macro-F1  {macro:.4f}")
    print()
    width = max(len(c) for c in classes)
    print(f"{'#':>2} {'class':<{width}} {'train':>6} {'test':>5} "
          f"{'prec':>6} {'recall':>6} {'F1':>6}")
    for i, c in enumerate(classes):
        print(f"{i:>2} {c:<{width}} {train_counts[c]:>6} {test_counts[c]:>5} "
              f"{p[i]:>6.3f} {r[i]:>6.3f} {f[i]:>6.3f}")
    print()
    print("confusion matrix (rows: true class #, columns: predicted class #)")
    print("   " + "".join(f"{j:>5}" for j in range(len(classes))))
    for i in range(len(classes)):
        print(f"{i:>2} " + "".join(f"{v:>5}" for v in cm[i]))
    t_end = time.perf_counter()
    timing = dict(load_seconds=round(t_loaded - t_start, 2),
                  selection_seconds=round(t_selected - t_loaded, 2),
                  final_fit_seconds=round(t_fitted - t_selected, 2),
                  test_predict_seconds=round(t_predicted - t_fitted, 2),
                  total_seconds=round(t_end - t_start, 2))
    print()
    print(f"time: {timing['total_seconds']:.1f} s in all (choosing C "
          f"{timing['selection_seconds']:.1f} s, final fit {timing['final_fit_seconds']:.1f} s)")

    result = dict(
        train=os.path.abspath(args.train), test=os.path.abspath(args.test),
        train_size=len(train_y), test_size=len(test_y), classes=classes,
        train_counts={c: train_counts[c] for c in classes},
        test_counts={c: test_counts[c] for c in classes},
        model=dict(vectorizer=dict(VECTORIZER, ngram_range=list(VECTORIZER["ngram_range"]),
                                   dtype="float32", name="TfidfVectorizer"),
                   classifier="LogisticRegression", solver="newton-cg", max_iter=args.max_iter,
                   features=int(n_features), iterations=int(np.max(clf.n_iter_)),
                   converged=final_converged),
        seed=args.seed,
        selection=dict(validation_fraction=args.validation_fraction,
                       fit_size=len(part_y), validation_size=len(val_y),
                       criterion="validation accuracy, then macro-F1, then smaller C",
                       candidates=candidates, chosen_C=chosen),
        test_metrics=dict(
            accuracy=acc, macro_f1=macro,
            per_class={c: dict(precision=float(p[i]), recall=float(r[i]), f1=float(f[i]),
                               support=int(s[i])) for i, c in enumerate(classes)},
            confusion_matrix=dict(labels=classes, rows="true", columns="predicted",
                                  matrix=cm.tolist())),
        timing=timing,
        versions={"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                  "numpy": np.__version__, "scipy": scipy.__version__},
        cpus=os.cpu_count(),
    )
    out_dir = os.path.dirname(os.path.abspath(args.json_out))
    os.makedirs(out_dir, exist_ok=True)
    with open(args.json_out, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=2)
        out.write("\n")
    print(f"wrote {args.json_out}")
    if warned or not final_converged:
        print(f"warning: newton-cg did not converge within {args.max_iter} iterations for "
              f"C in {warned + ([] if final_converged else [chosen])}", file=sys.stderr)


if __name__ == "__main__":
    main()
