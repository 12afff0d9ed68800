#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Fails when a tracked source file lacks the project's SPDX line, or when the license texts or
# the package metadata are missing: whoever copies a file out of the tree must see its license.
set -uo pipefail
cd "$(dirname "$0")/../.."
tag='SPDX-License-Identifier: MIT OR Apache-2.0'
missing=0
while IFS= read -r f; do
  case "$f" in
    tests/golden/* | tests/fixtures/* | tests/fuzz/corpus/*) continue ;;
  esac
  if ! head -c 400 "$f" | grep -qF "$tag"; then
    echo "license: $f has no '$tag' line"
    missing=$((missing + 1))
  fi
done < <(git ls-files -- '*.rs' '*.c' '*.h' '*.hpp' '*.cpp' '*.go' '*.py' '*.sh' '*CMakeLists.txt' '*.cmake' '*.cmake.in' '.ci/run')
for f in LICENSE-MIT LICENSE-APACHE; do
  [ -s "$f" ] || { echo "license: $f is missing"; missing=$((missing + 1)); }
done
grep -q '^license = "MIT OR Apache-2.0"' Cargo.toml || { echo "license: Cargo.toml lacks the license field"; missing=$((missing + 1)); }
grep -q 'MIT OR Apache-2.0' bindings/python/pyproject.toml || { echo "license: bindings/python/pyproject.toml lacks the license"; missing=$((missing + 1)); }
if [ "$missing" -gt 0 ]; then
  echo "license: $missing problems"
  exit 1
fi
echo "license: every source file carries the SPDX line"
