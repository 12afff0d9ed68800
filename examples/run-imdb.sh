#!/usr/bin/env bash
# The main job: fetch IMDB, build libsenti, and train an LSTM and a GRU through the C API on the
# full training split, reporting test accuracy and loss on the standard test split, training
# time and the model files. Results go to reports/ (models, per-epoch curves, summary.md).
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
{
  echo "# libsenti on IMDB ($(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
  echo
  sed -n '/^| model |/,$p' reports/run.log
} > reports/summary.md
echo "wrote reports/summary.md"
