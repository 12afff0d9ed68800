#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Runs every test: the SPDX check, Rust unit and integration tests (the senti CLI's among them), the C harness, the C typed-parameters and
# K-label tests (and the three-label example program),
# the C misuse, stress and crash-safety tests, the explanation page in headless Chromium, the C++ wrapper tests (GoogleTest), the Go binding
# and web service tests (-race, cgocheck), the Python binding tests (ctypes, pytest), builds against an installed tree (pkg-config,
# find_package, cgo), the sanitizer suite (ASan/UBSan/LSan, valgrind), the C stress test under ThreadSanitizer, and a bounded fuzzing run of every fuzz target
# (SENTI_FUZZ_SECONDS each, default 20; 0 skips it). Fetches IMDB first if needed: the tests
# train on small slices of it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
examples/fetch-imdb.sh
suites_passed=0
suites_failed=0
run_suite() {
  local name="$1"; shift
  echo "=== $name"
  if "$@"; then suites_passed=$((suites_passed + 1)); else suites_failed=$((suites_failed + 1)); echo "=== $name FAILED"; fi
}

cargo build --release --quiet
run_suite "license" tests/license/check.sh
run_suite "rust" cargo test --release --quiet

mkdir -p build
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cc -std=c11 -Wall -Wextra -Werror -O1 -g -Iinclude tests/c/test_capi.c -Ltarget/release -lsenti \
  -Wl,-rpath,"$root/target/release" -lm -o build/test_capi
run_suite "c-api" build/test_capi data/imdb/reviews.json "$scratch"
# Typed training parameters (senti_params_*); trains on a tiny file of its own in the scratch dir.
cc -std=c11 -Wall -Wextra -Werror -O1 -g -pthread -Iinclude tests/c/test_params.c -Ltarget/release -lsenti \
  -Wl,-rpath,"$root/target/release" -lm -o build/test_params
mkdir -p "$scratch/params"
run_suite "c-params" build/test_params "$scratch/params"
# K labels: datasets in memory, scores, label names, reports; and the three-label example program.
cc -std=c11 -Wall -Wextra -Werror -O1 -g -Iinclude tests/c/test_classes.c -Ltarget/release -lsenti \
  -Wl,-rpath,"$root/target/release" -lm -o build/test_classes
cc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude examples/c/train_memory.c -Ltarget/release -lsenti \
  -Wl,-rpath,"$root/target/release" -o build/train_memory
mkdir -p "$scratch/classes"
run_suite "c-classes" build/test_classes "$scratch/classes"
run_suite "example-train-memory" bash -c 'out="$(build/train_memory)" && echo "$out" && echo "$out" | grep -q "brilliant and moving.*=> positive" && echo "$out" | grep -q "terrible mess.*=> negative"'
# Misuse and bad input, concurrency stress, crash-safe saves (tests/c/testutil.h is shared).
for t in misuse stress crash_safe; do
  cc -std=c11 -Wall -Wextra -Werror -O1 -g -pthread -Iinclude "tests/c/test_$t.c" -Ltarget/release -lsenti \
    -Wl,-rpath,"$root/target/release" -lm -o "build/test_$t"
  mkdir -p "$scratch/$t"
done
run_suite "c-misuse" build/test_misuse data/imdb/reviews.json "$scratch/misuse"
run_suite "c-stress" build/test_stress data/imdb/reviews.json "$scratch/stress"
run_suite "c-crash-safe" build/test_crash_safe data/imdb/reviews.json "$scratch/crash_safe"
# The explanation page rendered in headless Chromium: DOM and pixels checked.
run_suite "explain-browser" tests/explain/render.sh
run_suite "c++" tests/cpp/run.sh
run_suite "go" bindings/go/run-tests.sh
run_suite "python" bindings/python/run-tests.sh
run_suite "install" tests/install/check.sh
# ASan/UBSan/LSan on the C and C++ tests, valgrind memcheck on the C harness and misuse test.
run_suite "sanitize" tests/sanitize/run.sh
# The C stress test under ThreadSanitizer with the library instrumented (tests/sanitize/README.md).
run_suite "threads" tests/sanitize/threads.sh
# A bounded libFuzzer run of every fuzz target (SENTI_FUZZ_SECONDS each; 0 skips it).
fuzz_seconds="${SENTI_FUZZ_SECONDS:-20}"
if [ "$fuzz_seconds" -gt 0 ]; then
  run_suite "fuzz" tests/fuzz/run.sh "$fuzz_seconds"
fi

echo "suites: $suites_passed passed, $suites_failed failed"
[ "$suites_failed" -eq 0 ]
