#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Accuracy over seeds: trains the LSTM and the GRU through the C API (examples/c/train_imdb.c)
# once per seed, on the standard split, and prints a markdown table of test accuracy per seed
# and the mean: the whole model, and for a model with a wide path each part alone.
# Usage: examples/seeds.sh OUT_DIR ['extra JSON training fields'] [seeds...]
#   examples/seeds.sh reports/seeds                           # the defaults, seeds 42 1 2
#   examples/seeds.sh reports/keras '"pooling": "last", "max_len": 200, "wide_ngrams": 0'
# CELLS=lstm or CELLS=gru trains one cell only (default both); CELLS=transformer trains the encoder.
# Each run's files (models, curves, <cell>_test.json, log) go to OUT_DIR/seed-N/; a seed whose
# results are already there is not trained again, so an interrupted run resumes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR ['extra JSON fields'] [seeds...]" >&2; exit 2; }
out="$1"
extra="${2:-}"
shift $(($# < 2 ? $# : 2))
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(42 1 2)
cells="${CELLS:-lstm,gru}"
read -ra cell_list <<<"${cells//,/ }"

examples/fetch-imdb.sh
cargo build --release --quiet
mkdir -p build "$out"
cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude examples/c/train_imdb.c -Ltarget/release -lsenti \
  -Wl,-rpath,"$root/target/release" -o build/train_imdb

for seed in "${seeds[@]}"; do
  dir="$out/seed-$seed"
  mkdir -p "$dir"
  fields="\"seed\": $seed${extra:+, $extra}"
  done_before=1
  for cell in "${cell_list[@]}"; do [ -s "$dir/${cell}_test.json" ] || done_before=0; done
  if [ "$done_before" = 1 ]; then
    echo "== seed $seed: done before ($dir)"
    continue
  fi
  echo "== seed $seed: $fields (log: $dir/run.log)"
  build/train_imdb data/imdb/reviews.json "$dir" "$fields" "$cells" >"$dir/run.log"
  grep -E "^(lstm|gru|transformer): " "$dir/run.log"
done

# One value of a flat JSON object written by train_imdb ("null" when absent).
field() { sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p" "$1"; }

echo
echo "Test accuracy (%) on the 25,000 test reviews; extra fields: ${extra:-none}"
echo
header="| model | part |"
rule="|---|---|"
for seed in "${seeds[@]}"; do header+=" seed $seed |"; rule+="---|"; done
echo "$header mean | training time (mean) |"
echo "$rule---|---|"
for cell in "${cell_list[@]}"; do
  for part in accuracy recurrent_accuracy wide_accuracy; do
    row="| ${cell^^} | $part |"
    values=()
    for seed in "${seeds[@]}"; do
      v="$(field "$out/seed-$seed/${cell}_test.json" "$part")"
      values+=("$v")
      if [ "$v" = "null" ] || [ -z "$v" ]; then row+=" - |"; else row+=" $(awk -v v="$v" 'BEGIN { printf "%.2f", 100 * v }') |"; fi
    done
    [ "${values[0]}" = "null" ] && continue
    mean="$(printf '%s\n' "${values[@]}" | awk '{ s += $1 } END { printf "%.2f", 100 * s / NR }')"
    secs="$(for seed in "${seeds[@]}"; do field "$out/seed-$seed/${cell}_test.json" train_seconds; done | awk '{ s += $1 } END { printf "%.0f s", s / NR }')"
    echo "$row **$mean** | $secs |"
  done
done | sed -e 's/| accuracy |/| the model |/' -e 's/| recurrent_accuracy |/| the recurrent network alone |/' -e 's/| wide_accuracy |/| the wide path alone |/'
