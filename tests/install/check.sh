#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Installs libsenti into a scratch prefix, then builds against the installed tree only:
# the C example with pkg-config (shared and static), the C++ example with find_package(senti),
# and the Go package and web service with `#cgo pkg-config: senti`. Runs each of them, and the
# installed `senti` command-line tool.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
# Only the server, if it started: `kill 0` would signal this script's whole process group.
trap 'if [ -n "${server_pid:-}" ]; then kill "$server_pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
prefix="$work/prefix"
bindings/install.sh "$prefix" >"$work/install.log"

libdir="$(dirname "$(find "$prefix" -name libsenti.so -print -quit)")"
echo "installed into $prefix (libdir ${libdir#"$prefix"/})"
for f in include/senti.h include/senti.hpp; do test -f "$prefix/$f" || { echo "missing $f" >&2; exit 1; }; done
test "$(readlink "$libdir/libsenti.so")" = libsenti.so.0
test -L "$libdir/libsenti.so.0"
readelf -d "$libdir/libsenti.so.0" | grep -q 'SONAME.*\[libsenti.so.0\]' || { echo "no SONAME libsenti.so.0" >&2; exit 1; }
test -f "$libdir/libsenti.a" && test -f "$libdir/pkgconfig/senti.pc" && test -f "$libdir/cmake/senti/senti-config.cmake"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
export LD_LIBRARY_PATH="$libdir"   # a scratch prefix is not on the loader's path

# C, shared, with pkg-config.
cc -std=c11 -Wall -Wextra -Werror examples/c/classify.c $(pkg-config --cflags --libs senti) -o "$work/classify"
"$work/classify" --train data/imdb/reviews.json "$work/tiny.safetensors"
"$work/classify" "$work/tiny.safetensors" "A delightful, moving film." "Awful. Just awful." | tee "$work/c.out"
test "$(wc -l <"$work/c.out")" -eq 2

# C, static: libsenti.a plus the private libraries pkg-config lists.
static_libs="$(pkg-config --static --libs senti | sed "s#-lsenti#$libdir/libsenti.a#")"
cc -std=c11 -Wall -Wextra -Werror examples/c/classify.c $(pkg-config --cflags senti) $static_libs -o "$work/classify-static"
if ldd "$work/classify-static" | grep -q libsenti; then echo "static build links libsenti.so" >&2; exit 1; fi
env -u LD_LIBRARY_PATH "$work/classify-static" "$work/tiny.safetensors" "Great acting." >/dev/null

# C++ with find_package(senti).
cmake -S examples/cpp -B "$work/cpp" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cpp" -j2 >/dev/null
cpp_exe="$(find "$work/cpp" -maxdepth 1 -type f -perm -u+x -name 'classify*' -print -quit)"
echo "I loved this movie." | "$cpp_exe" "$work/tiny.safetensors"

# The command-line tool in <prefix>/bin: it carries the library inside, so it runs without
# libsenti on the loader's path; it reads the model the C example trained and golden files.
cli="$prefix/bin/senti"
test -x "$cli" || { echo "missing bin/senti" >&2; exit 1; }
if ldd "$cli" | grep -q libsenti; then echo "bin/senti links libsenti.so" >&2; exit 1; fi
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
test "$(env -u LD_LIBRARY_PATH "$cli" --version)" = "senti $version" || { echo "senti --version is not senti $version" >&2; exit 1; }
env -u LD_LIBRARY_PATH "$cli" info "$work/tiny.safetensors" | tee "$work/info.out"
# The format this library writes, from the one place it is set.
format="$(sed -n 's/^const FORMAT_VERSION: &str = "\(.*\)";$/\1/p' src/model_file/mod.rs)"
test -n "$format" || { echo "no FORMAT_VERSION in src/model_file/mod.rs" >&2; exit 1; }
grep -q '^labels        2: negative, positive$' "$work/info.out" || { echo "senti info: wrong labels" >&2; exit 1; }
grep -q "^format        senti-model version $format, written by libsenti $version$" "$work/info.out" ||
  { echo "senti info: not format $format by libsenti $version" >&2; exit 1; }
"$cli" info tests/golden/v1/gru-mean-pure.safetensors | grep -q '^format        senti-model version 1,'
"$cli" info tests/golden/v2/gru-mean-pure.safetensors | grep -q '^format        senti-model version 2,'
"$cli" info tests/golden/v2/newsgroups20-gru-wide.safetensors | grep -q '^labels        20: alt.atheism, '
printf 'A delightful, moving film.\nAwful. Just awful.\n' | "$cli" predict -k 2 "$work/tiny.safetensors" | tee "$work/predict.out"
test "$(grep -cE '^(negative|positive)	[0-9.]+	(negative|positive)	[0-9.]+$' "$work/predict.out")" -eq 2
if "$cli" info "$work/missing.safetensors" 2>/dev/null; then echo "senti info on a missing file succeeded" >&2; exit 1; else test $? -eq 4; fi

# Go with `#cgo pkg-config: senti`, against the installed tree. Go's build cache does not key
# on pkg-config's output (Go issue 24544): a second run would link with the -L of the previous
# run's scratch prefix, long deleted. CGO_LDFLAGS is part of the key, so it names this prefix.
export CGO_LDFLAGS="${CGO_LDFLAGS:--O2 -g} -L$libdir"
(cd bindings/go && go vet ./... && go build ./...)
(cd examples/go/sentiserver && go build -o "$work/sentiserver" .)
port=$((20000 + RANDOM % 20000))
"$work/sentiserver" -model "$work/tiny.safetensors" -addr "127.0.0.1:$port" &
server_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz"; echo
curl -sf -X POST -d '{"text": "What a great film"}' "http://127.0.0.1:$port/v1/sentiment" | tee "$work/go.out"; echo
grep -q '"label"' "$work/go.out"
echo "install: 5 passed, 0 failed"
