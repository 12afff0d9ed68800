#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Fuzzes every target (or the ones named) for SECONDS each (default 30) with libFuzzer through
# cargo-fuzz, on a copy of the committed corpus so that the tree stays clean:
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Limits: 2 GB of RSS, 1 GB for a single allocation, 10 s for a single input; one job, one
# worker, at low priority (nice 15, or SENTI_FUZZ_NICE). Prints each target's executions and crashes and ends with
# `fuzz: N passed, M failed`; exits nonzero if any target crashed, leaked, ran out of memory or
# timed out. What a failing target found is kept under tests/fuzz/artifacts/<target>/ (ignored)
# with its log. The first build compiles Candle with sanitizer instrumentation (minutes);
# tests/fuzz/target is kept between runs.
#
# SENTI_FUZZ_GROW=1 is for the long runs that are committed: after a target passes, the inputs
# that reached new coverage are merged into its committed corpus (libFuzzer -merge=1), and a row
# (date, target, seconds, executions, coverage, features, crashes, CPU model, CPU seconds) is
# appended to tests/fuzz/ledger.tsv, which tests/fuzz/README.md sums up. The seconds are wall
# time (libFuzzer's -max_total_time); the CPU seconds are what the fuzzer processes were actually
# given (user + system, from /usr/bin/time), which is less when the machine is busy.
set -uo pipefail

secs="${1:-30}"
niceness="${SENTI_FUZZ_NICE:-15}"
shift || true
case "$secs" in '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$fuzz_dir/../.." && pwd)"
cd "$root"
# cargo-fuzz needs nightly-only flags (-Zsanitizer and friends); this lets a stable toolchain
# accept them.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  nice -n 15 cargo install cargo-fuzz --locked || nice -n 15 cargo install cargo-fuzz || exit 1
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list --fuzz-dir tests/fuzz)
fi
[ "${#targets[@]}" -gt 0 ] || { echo "no fuzz targets found" >&2; exit 1; }

echo "building the fuzz targets (tests/fuzz/target)"
build_start=$(date +%s)
if ! nice -n 15 cargo fuzz build --fuzz-dir tests/fuzz; then
  echo "the fuzz build failed"
  echo "fuzz: 0 passed, ${#targets[@]} failed"
  exit 1
fi
echo "built in $(( $(date +%s) - build_start )) s"

triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="$fuzz_dir/target/$triple/release"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# /usr/bin/time counts the CPU time of the children it waits for, libFuzzer's job process included.
timer=()

passed=0
failed=0
for t in "${targets[@]}"; do
  if [ ! -x "$bin_dir/$t" ]; then
    echo "$t: no such fuzz target"
    failed=$((failed + 1))
    continue
  fi
  work="$scratch/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -f '%U %S' -o "$work/cpu-time"); fi
  if [ -d "$fuzz_dir/corpus/$t" ]; then cp -R "$fuzz_dir/corpus/$t/." "$work/corpus/"; fi
  # With -jobs/-workers libFuzzer runs the target in a child process that logs to fuzz-0.log in
  # the current directory: run it inside the scratch folder. The options are those cargo fuzz
  # run passes (ASan without the ODR check Rust trips).
  (
    cd "$work" &&
      ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0" "${timer[@]}" nice -n "$niceness" "$bin_dir/$t" \
        -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
        -jobs=1 -workers=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
        "$work/corpus" >"$work/driver.log" 2>&1
  )
  rc=$?
  log="$work/fuzz-0.log"
  [ -f "$log" ] || log="$work/driver.log"
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')"
  crashes="$(find "$work/artifacts" -type f | wc -l)"
  if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ] && [ -n "$execs" ]; then
    printf '%-18s ok      %10s executions, 0 crashes\n' "$t" "$execs"
    passed=$((passed + 1))
    if [ "${SENTI_FUZZ_GROW:-0}" = 1 ]; then
      cov="$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)"
      mkdir -p "$fuzz_dir/corpus/$t"
      (cd "$work" && ASAN_OPTIONS="detect_odr_violation=0" nice -n 15 "$bin_dir/$t" -merge=1 -rss_limit_mb=2048 \
        -malloc_limit_mb=1024 -timeout=10 "$fuzz_dir/corpus/$t" "$work/corpus" >"$work/merge.log" 2>&1) ||
        echo "    the corpus merge failed: see $work/merge.log"
      cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
      cpu_secs="$(awk '{printf "%.0f", $1 + $2}' "$work/cpu-time" 2>/dev/null)"
      [ -f "$fuzz_dir/ledger.tsv" ] || printf 'date\ttarget\tseconds\texecutions\tcoverage\tfeatures\tcrashes\tcpu\tcpu_seconds\n' >"$fuzz_dir/ledger.tsv"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t0\t%s\t%s\n' "$(date -u +%Y-%m-%d)" "$t" "$secs" "$execs" \
        "$(echo "$cov" | awk '{print $2}')" "$(echo "$cov" | awk '{print $4}')" "$cpu" "$cpu_secs" >>"$fuzz_dir/ledger.tsv"
      echo "    corpus: $(find "$fuzz_dir/corpus/$t" -type f | wc -l) inputs; $cov"
    fi
  else
    keep="$fuzz_dir/artifacts/$t"
    mkdir -p "$keep"
    cp -R "$work/artifacts/." "$keep/" 2>/dev/null
    cp "$log" "$keep/fuzz.log"
    printf '%-18s FAILED  %10s executions, %s crashes (exit %s); inputs and log in %s\n' \
      "$t" "${execs:-?}" "$crashes" "$rc" "${keep#"$root"/}"
    grep -m 3 -E '^(==[0-9]+==ERROR|thread .* panicked|SUMMARY)' "$log" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
