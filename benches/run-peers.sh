#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The peer benchmark: the same models in TensorFlow/Keras (CPU), PyTorch (CPU) and ONNX Runtime
# (PyTorch's models), and fastText with bigrams, measured the way benches/bench.rs measures
# libsenti, written to reports/peers.json.
#
#   benches/run-peers.sh [--quick] [--framework tf|torch|ort|fasttext|both|all] [--out reports/peers.json]
#
# The first run creates a virtual environment in build/peers-venv and installs tensorflow-cpu,
# torch (the default wheel, which brings several GB of CUDA libraries that stay unused), onnx,
# onnxruntime, fastText's binding (fasttext-numpy2: the original package breaks on numpy 2) and
# numpy. A venv made before ONNX Runtime and fastText joined gets them on its next run.
# Set PEERS_PYTHON to choose the interpreter that creates it (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=build/peers-venv
if [ ! -f "$venv/.installed" ]; then
  "${PEERS_PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet tensorflow-cpu torch numpy
  touch "$venv/.installed"
fi
if [ ! -f "$venv/.installed-ort-fasttext" ]; then
  "$venv/bin/python" -m pip install --quiet onnx onnxruntime fasttext-numpy2
  touch "$venv/.installed-ort-fasttext"
fi
if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi
[ -f data/imdb/reviews.json ] || examples/fetch-imdb.sh

# Two threads for both frameworks, as libsenti's benchmark uses (threads: 2). peers.py also sets
# the frameworks' own thread counts; these cover the OpenMP/MKL/oneDNN pools underneath.
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
export TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=1
export TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES=""
exec "$venv/bin/python" benches/peers.py "$@"
