#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Configures, builds and runs the C++ wrapper tests (GoogleTest + CTest).
# Usage: tests/cpp/run.sh [build-dir]   (default: build/cpp-tests in the repository root)
# Needs target/release/libsenti.so (cargo build --release) and data/imdb/reviews.json
# (examples/fetch-imdb.sh). Extra CMake cache settings can go in CMAKE_ARGS, e.g.
# CMAKE_ARGS="-DSENTI_LIBRARY=/opt/senti/lib/libsenti.so" tests/cpp/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build/cpp-tests}"

# shellcheck disable=SC2086 # CMAKE_ARGS is a list of arguments
cmake -S "$root/tests/cpp" -B "$build" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Debug}" ${CMAKE_ARGS:-}
cmake --build "$build" -j 2
cd "$build"
ctest --output-on-failure
