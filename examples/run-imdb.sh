#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The main job: fetch IMDB, build libsenti, and train an LSTM, a GRU and the fast recipe (the wide
# n-gram path alone) through the C API on the
# full training split, reporting test accuracy and loss on the standard test split, training
# time and the model files. Results go to reports/: models, per-epoch curves (CSV and
# curves.png), confusion matrices (confusion_<cell>.png) and summary.md.
# Usage: examples/run-imdb.sh [extra JSON training fields, e.g. '"epochs": 2']
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
examples/fetch-imdb.sh
cargo build --release --quiet
mkdir -p build reports
cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude examples/c/train_imdb.c -Ltarget/release -lsenti \
  -Wl,-rpath,"$root/target/release" -o build/train_imdb
build/train_imdb data/imdb/reviews.json reports "${1:-}" | tee reports/run.log
# Charts (accuracy/loss curves, confusion matrices) and reports/summary.md.
cargo run --release --quiet --example report -- reports
