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
#
# PEERS_MAX_ISA=avx2 holds the frameworks to AVX2 on an AVX-512 machine, for a comparison with
# libsenti held to AVX2 (SENTI_MAX_SIMD=avx2 and a build without the gemm-avx512 feature):
# oneDNN (TensorFlow, PyTorch) through ONEDNN_MAX_CPU_ISA, MKL through MKL_ENABLE_INSTRUCTIONS,
# PyTorch's own kernels through ATEN_CPU_CAPABILITY. ONNX Runtime and fastText have no such
# setting and choose by the CPU; the report records the cap.
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
case "${PEERS_MAX_ISA:-}" in
  "") ;;
  avx2) export ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2 ;;
  *) echo "PEERS_MAX_ISA: only avx2 is known, got ${PEERS_MAX_ISA}" >&2; exit 2 ;;
esac
exec "$venv/bin/python" benches/peers.py "$@"
