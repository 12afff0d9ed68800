#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The web service under load (benches/load; not part of CI): builds the sentiserver example and
# the load program against the library in this tree, gets a model, runs the phases over
# loopback and writes the output to reports/load/load-<time>.txt (the servers' logs next to it).
# Exits nonzero when a check fails (errors, overload, steady latency, soak RSS).
#
#   benches/run-load.sh                 # the full run: about 14 minutes (see benches/README.md)
#   benches/run-load.sh --quick         # about 40 s once built, to check that it all works
#   benches/run-load.sh -soak 0 ...     # other arguments go to the load program (-help lists them)
#
# MODEL=path.safetensors serves that two-label (IMDB) model; without it the first run trains
# build/load/model.safetensors (the library's default architecture, one epoch on TRAIN_LIMIT=5000
# reviews, a few minutes on 2 cores) and later runs reuse it. SENTI_DATA=/path/to/reviews.json
# (default data/imdb/reviews.json, examples/fetch-imdb.sh). Needs target/release/libsenti.so
# (cargo build --release) and Go.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "run-load.sh: no go toolchain in PATH" >&2; exit 1; }
[ -e target/release/libsenti.so ] || { echo "run-load.sh: build the library first: cargo build --release" >&2; exit 1; }
# Programs linked in-tree ask for the SONAME, libsenti.so.0; cargo's build script makes this
# link, a copied target/release may lack it.
[ -e target/release/libsenti.so.0 ] || ln -s libsenti.so target/release/libsenti.so.0
data="${SENTI_DATA:-$root/data/imdb/reviews.json}"
[ -e "$data" ] || { echo "run-load.sh: no IMDB data at $data (examples/fetch-imdb.sh or SENTI_DATA)" >&2; exit 1; }

args=()
for a in "$@"; do
  if [ "$a" = --quick ]; then
    # Checks that everything works, not the figures: a soak this short says nothing about RSS,
    # so its bound is loosened to doubling.
    args+=(-single 3s -batch 3s -overload 3s -warmup 1s -soak 15s -soak-warmup 5s -soak-sample 2500ms -rss-growth 1)
  else
    args+=("$a")
  fi
done

# shellcheck source=../bindings/go/intree-env.sh
source bindings/go/intree-env.sh 2>/dev/null || exit 1
export CGO_ENABLED=1
bin="$root/build/load"
mkdir -p "$bin"
(cd examples/go/sentiserver && go build -o "$bin/sentiserver" .)
(cd benches/load && go build -o "$bin/load" .)

model="${MODEL:-}"
if [ -z "$model" ]; then
  model="$bin/model.safetensors"
  if [ ! -e "$model" ]; then
    "$bin/load" -train "$model" -train-limit "${TRAIN_LIMIT:-5000}" -data "$data"
  fi
fi

out="$root/reports/load"
mkdir -p "$out"
stamp="$(date -u +%Y%m%d-%H%M%S)"
report="$out/load-$stamp.txt"
status=0
"$bin/load" -server "$bin/sentiserver" -model "$model" -data "$data" -server-log "$out/server-$stamp.log" \
  ${args[@]+"${args[@]}"} 2>&1 | tee "$report" || status=$?
echo "run-load.sh: wrote $report"
exit "$status"
