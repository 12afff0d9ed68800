#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Sanitizer and leak checks of the C API, against the built target/release/libsenti.so:
#   (a) the C tests (test_capi, test_params, test_classes, test_misuse, test_stress, test_crash_safe) built
#       with -fsanitize=address,undefined and run with LeakSanitizer on;
#   (b) the C++ wrapper tests (tests/cpp) built with -DSENTI_SANITIZE=ON (ASan + UBSan);
#   (c) test_capi, test_params, test_classes and test_misuse under valgrind memcheck (no invalid access, no
#       definite leak), with SENTI_TEST_QUICK=1 so that they train tiny models.
# First, canaries: a program with a deliberate leak must fail under LeakSanitizer and under
# valgrind with the same options, so a silently disabled checker cannot pass the suite.
#
# The library is Rust and is not instrumented: ASan/LSan see its heap through the malloc
# interceptors (leaks, frees of foreign pointers) and check the C and C++ callers fully;
# memcheck checks every instruction of the library too.
#
# Usage: tests/sanitize/run.sh   (after cargo build --release and examples/fetch-imdb.sh)
# Needs gcc/g++ (libasan, libubsan), cmake, GoogleTest and valgrind. Prints
# "sanitize: N passed, M failed" and exits nonzero on any failure. No suppression files are
# needed today; if one becomes necessary it goes in tests/sanitize/ with a reason per entry.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
data="$root/data/imdb/reviews.json"
lib="$root/target/release"
out="$root/build/sanitize"
mkdir -p "$out/logs"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

passed=0
failed=0
fail() { echo "sanitize: FAIL $1"; failed=$((failed + 1)); }
pass() { echo "sanitize: ok   $1"; passed=$((passed + 1)); }

for f in "$lib/libsenti.so" "$data"; do
  [ -e "$f" ] || { echo "sanitize: $f is missing (cargo build --release; examples/fetch-imdb.sh)" >&2; exit 2; }
done
if ! command -v valgrind >/dev/null; then
  echo "sanitize: valgrind is not installed (apt-get install valgrind)" >&2
  exit 2
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
san_flags=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
c_flags=(-std=c11 -Wall -Wextra -Werror -O1 -g -pthread -Iinclude)
link=(-L"$lib" -lsenti -Wl,-rpath,"$lib" -lm)
# --fair-sched=yes: memcheck runs one thread at a time, and its default lock is unfair; in the
# free race of test_misuse, four busy callers starved the freeing thread past the test's 60 s
# limit on a loaded 2-core CI machine. A fair ticket lock hands the CPU round-robin.
vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --fair-sched=yes)

# Reports of the sanitizers and memcheck in a log, for the summary lines below.
summarize() {
  local log="$1"
  grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|^SUMMARY: |ERROR SUMMARY:|definitely lost:|All heap blocks were freed" "$log" | sed 's/^/    /' | sort -u | head -20
}

# run NAME LOG CMD...: runs a check, keeps its output in LOG, prints the last line the test
# printed and the checkers' summary lines.
run() {
  local name="$1" log="$2"; shift 2
  local start=$SECONDS
  if "$@" >"$log" 2>&1; then
    if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
      fail "$name (exit 0 but a sanitizer report in $log)"
    else
      pass "$name ($((SECONDS - start)) s)"
    fi
  else
    fail "$name (exit $?, $((SECONDS - start)) s; log $log)"
    # The failing checks first (CI keeps only this output, not the log).
    grep -E "^FAIL " "$log" | head -n 20 | sed 's/^/    /'
    tail -n 40 "$log" | sed 's/^/    /'
  fi
  grep -E "^(c-[a-z-]+: |[0-9]+% tests passed)" "$log" | tail -n 3 | sed 's/^/    /'
  summarize "$log"
}

# ---- canaries: the checkers are live ------------------------------------------------------
# LeakSanitizer scans conservatively: a stale copy of the one leaked pointer left in a register
# or on the stack made a single-block canary pass now and then. 64 blocks, each lost in its own
# call, cannot all survive that way.
cat >"$out/canary_leak.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) static void leak(void) {
    char *p = malloc(4242);
    memset(p, 1, 4242);
    __asm__ volatile("" : : "r"(p) : "memory");
}
int main(void) {
    for (int i = 0; i < 64; i++) leak();
    volatile char scrub[8192];
    memset((char *)scrub, 0, sizeof scrub);
    return 0;
}
EOF
gcc -O0 -g "${san_flags[@]}" "$out/canary_leak.c" -o "$out/canary_asan" &&
  gcc -O0 -g "$out/canary_leak.c" -o "$out/canary_plain" || { fail "build canaries"; }
# (In a subshell, so that the shell's "Aborted" notice goes to the log too.)
if (exec "$out/canary_asan") >"$out/logs/canary_asan.log" 2>&1; then
  fail "canary: LeakSanitizer missed a deliberate leak (is it disabled, or running under ptrace?)"
elif grep -q "Direct leak of" "$out/logs/canary_asan.log"; then
  pass "canary: LeakSanitizer reports a deliberate leak"
else
  fail "canary: LeakSanitizer failed without reporting the leak"; tail -5 "$out/logs/canary_asan.log"
fi
if "${vg[@]}" "$out/canary_plain" >"$out/logs/canary_valgrind.log" 2>&1; then
  fail "canary: valgrind missed a deliberate definite leak"
else
  pass "canary: valgrind reports a deliberate definite leak"
fi

# ---- (a) C tests under ASan + UBSan + LSan --------------------------------------------------
for t in capi params classes misuse stress crash_safe; do
  if gcc "${c_flags[@]}" "${san_flags[@]}" "tests/c/test_$t.c" "${link[@]}" -o "$out/asan_$t" 2>"$out/logs/build_asan_$t.log"; then
    mkdir -p "$scratch/asan_$t"
    run "asan: test_$t" "$out/logs/asan_$t.log" "$out/asan_$t" "$data" "$scratch/asan_$t"
  else
    fail "asan: build test_$t"; cat "$out/logs/build_asan_$t.log"
  fi
done

# ---- (b) C++ wrapper tests under ASan + UBSan -----------------------------------------------
run "asan: c++ wrapper tests (tests/cpp, SENTI_SANITIZE=ON)" "$out/logs/asan_cpp.log" \
  env CMAKE_ARGS="-DSENTI_SANITIZE=ON" CMAKE_BUILD_TYPE=Debug tests/cpp/run.sh "$out/cpp"

# ---- (c) valgrind memcheck ------------------------------------------------------------------
for t in capi params classes misuse; do
  if gcc "${c_flags[@]}" "tests/c/test_$t.c" "${link[@]}" -o "$out/plain_$t" 2>"$out/logs/build_plain_$t.log"; then
    mkdir -p "$scratch/valgrind_$t"
    run "valgrind: test_$t (SENTI_TEST_QUICK=1)" "$out/logs/valgrind_$t.log" \
      env SENTI_TEST_QUICK=1 "${vg[@]}" "$out/plain_$t" "$data" "$scratch/valgrind_$t"
  else
    fail "valgrind: build test_$t"; cat "$out/logs/build_plain_$t.log"
  fi
done

echo "sanitize: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
