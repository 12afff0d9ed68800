#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Tests the Go binding (bindings/go) and the Go web service example (examples/go/sentiserver)
# against the library built in this tree: gofmt, go vet, then the tests with the race detector
# and cgo pointer checks. Exits nonzero if anything fails.
#
# Needs target/release/libsenti.so (cargo build --release) and the IMDB data
# (examples/fetch-imdb.sh, or SENTI_DATA=/path/to/reviews.json).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "run-tests.sh: no go toolchain in PATH" >&2; exit 1; }
[ -e "$root/target/release/libsenti.so" ] || { echo "run-tests.sh: build the library first: cargo build --release" >&2; exit 1; }
data="${SENTI_DATA:-$root/data/imdb/reviews.json}"
[ -e "$data" ] || { echo "run-tests.sh: no IMDB data at $data (examples/fetch-imdb.sh or SENTI_DATA)" >&2; exit 1; }

# shellcheck source=intree-env.sh
source "$here/intree-env.sh" || exit 1
export CGO_ENABLED=1

passed=0
failed=0
step() {
  local dir="$1" name="$2"; shift 2
  echo "=== go: $name ($dir)"
  if (cd "$root/$dir" && "$@"); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "=== go: $name ($dir) FAILED"
  fi
}
gofmt_clean() {
  local unformatted
  unformatted="$(gofmt -l .)" || return 1
  [ -z "$unformatted" ] || { echo "not gofmt-formatted:" $unformatted; return 1; }
}

for dir in bindings/go examples/go/sentiserver; do
  step "$dir" gofmt gofmt_clean
  step "$dir" vet go vet ./...
  step "$dir" test env GODEBUG=cgocheck=1 go test -race -count=1 ./...
done

echo "go: $passed steps passed, $failed failed"
[ "$failed" -eq 0 ]
