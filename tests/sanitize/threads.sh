#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The C concurrency stress test (tests/c/test_stress.c) under ThreadSanitizer, with libsenti.so
# itself instrumented (-Zsanitizer=thread), so races in the library's own code (the handle
# registry, the caching allocator, prediction on a shared model) and in candle, gemm and rayon
# are checked, not only the C caller's.
#
# First, canaries, run by the same runtime with the same options (suppressions included), so a
# checker that is silently off, or a suppression that swallows everything, cannot pass:
#   - a C program with a deliberate data race between two pthreads must be reported;
#   - a Rust cdylib built like libsenti.so (tsan_canary.rs) must have its race between holders of
#     two different std Mutexes reported, and must not have reported the accesses that only std's
#     contended Mutex, RwLock and Condvar paths order (which shows the annotations below live).
# The build is checked too: libsenti.so must call the TSan runtime and carry the annotations.
#
# How it is built, and why (tests/sanitize/README.md has the longer story):
#   - libsenti.so: cargo rustc with RUSTFLAGS=-Zsanitizer=thread (RUSTC_BOOTSTRAP=1: stable
#     rustc, unstable flag) and --target, so build scripts and proc macros stay plain. Its own
#     target dir, target/tsan. Only the cdylib, without the CLI's dependencies (the library's
#     code is the same: the cli feature only adds the senti binary).
#   - Rust's std is precompiled without instrumentation and cannot be rebuilt here (no
#     rust-src, so no -Zbuild-std; -Cunsafe-allow-abi-mismatch=sanitizer accepts the mix). The
#     fast paths of std's locks are inlined into the instrumented crates, the contended paths
#     are not: tsan_std_sync.c, linked in with -Wl,--wrap, tells TSan the happens-before edges
#     of std's Mutex, RwLock, Condvar and Once slow paths. The symbols are looked up in this
#     toolchain's std; if std's synchronisation changes shape, the script fails rather than
#     run a checker that would drown in false reports or miss edges.
#   - Arc's last drop synchronises with a fence TSan does not model: tsan.supp, one entry,
#     reasoned there. No libsenti frame is suppressed.
#   - The runtime is the Rust toolchain's (compiler-rt of rustc's LLVM), linked whole into the
#     test executable and exported (-rdynamic) so libsenti.so's __tsan_* calls bind to it.
#     gcc instruments the C files (-fsanitize=thread at compile time only); gcc's own libtsan is
#     older than rustc's LLVM and lacks entry points the Rust code calls (__tsan_memcpy ...).
#
# Usage: tests/sanitize/threads.sh   (after examples/fetch-imdb.sh; SENTI_REVIEWS=path overrides
# data/imdb/reviews.json; SENTI_TEST_QUICK=1 runs the stress test's quick mode)
# Needs: rustup's toolchain (x86_64 Linux), gcc, binutils. Prints the tool, versions, times and
# the count of reports; exits nonzero on a build failure, a failed test or any unsuppressed report.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
here="$root/tests/sanitize"
data="${SENTI_REVIEWS:-$root/data/imdb/reviews.json}"
triple=x86_64-unknown-linux-gnu
tdir="$root/target/tsan"
libdir="$tdir/$triple/release"
out="$tdir/check"
logs="$out/logs"
mkdir -p "$logs"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
t_start=$SECONDS

die() { echo "threads: $*" >&2; exit 2; }
[ "$(uname -sm)" = "Linux x86_64" ] || die "needs x86_64 Linux (the runtime and the std annotations are for $triple)"
[ -e "$data" ] || die "$data is missing (examples/fetch-imdb.sh, or SENTI_REVIEWS=path)"
command -v gcc >/dev/null || die "gcc is not installed"

sysroot="$(rustc --print sysroot)"
rtlib="$(ls "$sysroot/lib/rustlib/$triple/lib/"librustc-*_rt.tsan.a 2>/dev/null | head -n 1)"
[ -n "$rtlib" ] || die "no ThreadSanitizer runtime in $sysroot (librustc-*_rt.tsan.a)"
llvm="$(rustc -vV | sed -n 's/^LLVM version: //p')"
echo "threads: tool ThreadSanitizer (compiler-rt of rustc's LLVM $llvm, $(basename "$rtlib")); $(rustc -V); $(gcc --version | head -n 1)"

# ---- std's synchronisation slow paths, as this toolchain names them ----------------------------
# name in tsan_std_sync.c => the end of the v0-mangled symbol in std::sys::sync
declare -A want=(
  [SYM_MUTEX_LOCK_CONTENDED]='5mutex5futexNtB2_5Mutex14lock_contended'
  [SYM_RWLOCK_READ_CONTENDED]='6rwlock5futexNtB2_6RwLock14read_contended'
  [SYM_RWLOCK_WRITE_CONTENDED]='6rwlock5futexNtB2_6RwLock15write_contended'
  [SYM_CONDVAR_WAIT]='7condvar5futexNtB2_7Condvar4wait'
  [SYM_ONCE_CALL]='4once5futexNtB5_4Once4call'
)
stdlib="$(ls "$sysroot/lib/rustlib/$triple/lib/"libstd-*.rlib | head -n 1)"
std_syms="$out/std-symbols.txt"
(
  cd "$scratch" && ar x "$stdlib" && for o in *.o; do readelf -sW "$o"; done
) 2>/dev/null | awk '$4 == "FUNC" && $5 == "GLOBAL" && $7 != "UND" { print $8 }' | grep '3std3sys4sync' | sort -u >"$std_syms"
rm -f "$scratch"/*.o "$scratch"/lib.rmeta
defs=()
wraps=()
for key in "${!want[@]}"; do
  sym="$(grep -E "3std3sys4sync${want[$key]}\$" "$std_syms" || true)"
  [ "$(printf '%s\n' "$sym" | grep -c .)" = 1 ] ||
    die "std's ${want[$key]} not found once in $stdlib; tsan_std_sync.c models a different std (found: ${sym:-nothing})"
  defs+=("-D$key=$sym")
  wraps+=("-Clink-arg=-Wl,--wrap=$sym")
done

# ---- build ----------------------------------------------------------------------------------------
t_build=$SECONDS
gcc -O1 -g -fPIC -funwind-tables -Wall -Wextra -Werror "${defs[@]}" -c "$here/tsan_std_sync.c" -o "$out/tsan_std_sync.o" ||
  die "building tsan_std_sync.c failed"
echo "threads: building libsenti.so with -Zsanitizer=thread in $tdir (log $logs/cargo.log)"
if ! RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" \
  CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_TARGET_DIR="$tdir" \
  nice -n 10 cargo rustc --quiet --release --target "$triple" --lib --crate-type cdylib \
  --no-default-features --features allocator -- "-Clink-arg=$out/tsan_std_sync.o" "${wraps[@]}" >"$logs/cargo.log" 2>&1; then
  tail -n 30 "$logs/cargo.log"
  die "cargo build failed"
fi
so="$libdir/libsenti.so"
# The library must be instrumented and carry the annotations, and must not use a std slow path
# the annotations do not model (a new toolchain's std may).
[ "$(nm -D --undefined-only "$so" | grep -c ' __tsan_func_entry$')" -gt 0 ] || die "$so calls no ThreadSanitizer entry point: not instrumented"
[ "$(nm "$so" | grep -c ' __wrap__R')" = "${#want[@]}" ] || die "$so lacks the std annotations (__wrap_ symbols)"
known='5Mutex14lock_contended$|5Mutex4wake$|6RwLock14read_contended$|6RwLock15write_contended$|6RwLock22wake_writer_or_readers$|7Condvar4wait$|4Once4call$|CompletionGuard'
unmodelled="$(nm "$so" | awk '{ print $NF }' | grep -E '^_R.*3std3sys4sync' | grep -vE "$known|^__wrap_" || true)"
[ -z "$unmodelled" ] || die "libsenti.so uses std synchronisation that tsan_std_sync.c does not model: $unmodelled"

c_flags=(-std=c11 -Wall -Wextra -Werror -O1 -g -pthread -fsanitize=thread -Iinclude)
link_rt=(-pthread -Wl,--whole-archive "$rtlib" -Wl,--no-whole-archive -rdynamic -lm -ldl -lrt)
cat >"$out/canary_race.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
static int shared; /* written by two threads without synchronisation: a data race */
static void *writer(void *arg) {
    for (int i = 0; i < 1000; i++) shared += (int)(long)arg;
    return NULL;
}
int main(void) {
    pthread_t a, b;
    pthread_create(&a, NULL, writer, (void *)1L);
    pthread_create(&b, NULL, writer, (void *)2L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("%d\n", shared);
    return 0;
}
EOF
cat >"$out/canary_std.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <string.h>
uint64_t canary_racy(void);
uint64_t canary_ordered(void);
int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "racy") == 0) {
        printf("racy: counter %llu\n", (unsigned long long)canary_racy());
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "ordered") == 0) {
        uint64_t wrong = canary_ordered();
        printf("ordered: %llu wrong counts\n", (unsigned long long)wrong);
        return wrong != 0;
    }
    fprintf(stderr, "usage: %s racy|ordered\n", argv[0]);
    return 2;
}
EOF
# The std canaries: a Rust cdylib built with the flags and link arguments of libsenti.so.
RUSTC_BOOTSTRAP=1 rustc --edition 2024 --crate-type cdylib -O -g -Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer \
  "-Clink-arg=$out/tsan_std_sync.o" "${wraps[@]}" "$here/tsan_canary.rs" -o "$out/libtsan_canary.so" 2>"$logs/canary_rustc.log" ||
  { cat "$logs/canary_rustc.log"; die "building tsan_canary.rs failed"; }
gcc "${c_flags[@]}" -c "$out/canary_race.c" -o "$out/canary_race.o" &&
  gcc "$out/canary_race.o" "${link_rt[@]}" -o "$out/canary_race" &&
  gcc "${c_flags[@]}" -c "$out/canary_std.c" -o "$out/canary_std.o" &&
  gcc "$out/canary_std.o" "${link_rt[@]}" -L"$out" -ltsan_canary -Wl,-rpath,"$out" -o "$out/canary_std" &&
  gcc "${c_flags[@]}" -c tests/c/test_stress.c -o "$out/test_stress.o" &&
  gcc "$out/test_stress.o" "${link_rt[@]}" -L"$libdir" -lsenti -Wl,-rpath,"$libdir" -o "$out/test_stress" ||
  die "building the C programs failed"
build_s=$((SECONDS - t_build))

# ---- run ------------------------------------------------------------------------------------------
export TSAN_OPTIONS="suppressions=$here/tsan.supp print_suppressions=1 halt_on_error=0 exitcode=66"
failed=0
reports() { grep -c '^WARNING: ThreadSanitizer:' "$1"; }

"$out/canary_race" >"$logs/canary.log" 2>&1
rc=$?
if [ "$rc" = 66 ] && grep -q 'WARNING: ThreadSanitizer: data race' "$logs/canary.log" && grep -q 'canary_race.c' "$logs/canary.log"; then
  echo "threads: ok   canary: the deliberate race is reported ($(reports "$logs/canary.log") report, exit $rc)"
else
  echo "threads: FAIL canary: the deliberate race was not reported (exit $rc; log $logs/canary.log)"
  tail -n 20 "$logs/canary.log"
  failed=1
fi

# The annotations order a std lock only with itself: a race between two locks' holders is reported.
"$out/canary_std" racy >"$logs/canary_racy.log" 2>&1
rc=$?
if [ "$rc" = 66 ] && grep -q 'SUMMARY: ThreadSanitizer: data race .*tsan_canary.rs' "$logs/canary_racy.log"; then
  echo "threads: ok   canary: a race between holders of two different std Mutexes is reported"
else
  echo "threads: FAIL canary: the race between holders of two std Mutexes was not reported (exit $rc; log $logs/canary_racy.log)"
  tail -n 20 "$logs/canary_racy.log"
  failed=1
fi
# ... and they are live: accesses ordered only by std's contended Mutex and RwLock paths and by a
# Condvar wait (three false reports without the annotations) are not reported.
"$out/canary_std" ordered >"$logs/canary_ordered.log" 2>&1
rc=$?
if [ "$rc" = 0 ] && [ "$(reports "$logs/canary_ordered.log")" = 0 ]; then
  echo "threads: ok   canary: accesses ordered by std's Mutex, RwLock and Condvar slow paths are not reported"
else
  echo "threads: FAIL canary: std-ordered accesses reported or miscounted (exit $rc; log $logs/canary_ordered.log): are the annotations live?"
  grep -E '^SUMMARY: ThreadSanitizer' "$logs/canary_ordered.log" | head -n 5 | sed 's/^/    /'
  failed=1
fi

mkdir -p "$scratch/stress"
t_run=$SECONDS
timeout 900 "$out/test_stress" "$data" "$scratch/stress" >"$logs/stress.log" 2>&1
rc=$?
run_s=$((SECONDS - t_run))
n="$(reports "$logs/stress.log")"
supp="$(sed -n 's/^ThreadSanitizer: Matched \([0-9]*\) suppressions.*/\1/p' "$logs/stress.log")"
grep -E '^(c-stress: |  [0-9]+ predictor threads|  note: )' "$logs/stress.log" | sed 's/^ */    /'
grep -E '^[0-9]+ race:' "$logs/stress.log" | sed 's/^/    suppressed: /'
if [ "$rc" = 0 ] && [ "$n" = 0 ]; then
  echo "threads: ok   test_stress under ThreadSanitizer: 0 reports, ${supp:-0} suppressed (${run_s} s)"
else
  echo "threads: FAIL test_stress under ThreadSanitizer: exit $rc, $n reports, ${supp:-0} suppressed (${run_s} s; log $logs/stress.log)"
  grep -E '^FAIL ' "$logs/stress.log" | head -n 20 | sed 's/^/    /'
  grep -E '^SUMMARY: ThreadSanitizer' "$logs/stress.log" | sort | uniq -c | sort -rn | head -n 20 | sed 's/^/    /'
  failed=1
fi
echo "threads: build ${build_s} s, stress run ${run_s} s, total $((SECONDS - t_start)) s; $n unsuppressed reports"
exit "$failed"
