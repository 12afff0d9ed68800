#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Tests the Python binding (bindings/python) against the library built in this tree: makes (or
# reuses) a virtual environment in build/python-venv, installs pytest, numpy, setuptools, wheel
# and mypy 2.4.1 into it (from pip's configured index, only when one is missing or mypy is
# another version), type-checks bindings/python/senti with mypy --strict (its cache in
# build/mypy-cache; skipped on Python 3.9, which mypy 2.4.1 does not run on), installs the
# package from a copy of bindings/python (so the source tree is left clean), and runs the tests
# with SENTI_LIBRARY pointing at target/release/libsenti.so. Exits nonzero if anything fails, a
# type error included.
#
# Needs python3 (3.9 or later) with the venv module (Debian/Ubuntu: apt-get install python3-venv)
# and target/release/libsenti.so (cargo build --release). PYTHON chooses another interpreter;
# SENTI_LIBRARY another library; extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
venv="$root/build/python-venv"
lib="${SENTI_LIBRARY:-$root/target/release/libsenti.so}"

command -v "$python" >/dev/null 2>&1 || { echo "run-tests.sh: no $python in PATH" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
  { echo "run-tests.sh: $python is older than Python 3.9" >&2; exit 1; }
[ -e "$lib" ] || { echo "run-tests.sh: no library at $lib: build it first (cargo build --release)" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  rm -rf "$venv"
  mkdir -p "$root/build"
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    echo "run-tests.sh: $python -m venv failed (Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
vpy="$venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1
mypy_version=2.4.1
check='import pytest, numpy, setuptools, wheel'
want=(pytest numpy 'setuptools>=61' wheel)
typecheck=0
if "$vpy" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  typecheck=1
  check+="; import sys; from importlib.metadata import version"
  check+="; sys.exit(version('mypy') != '$mypy_version')"
  want+=("mypy==$mypy_version")
fi
if ! "$vpy" -c "$check" >/dev/null 2>&1; then
  "$vpy" -m pip install --quiet "${want[@]}"
fi

if [ "$typecheck" = 1 ]; then
  # 3.10 is the oldest Python mypy 2.4.1 checks for: the nearest it comes to the package's 3.9.
  "$vpy" -m mypy --strict --python-version 3.10 --cache-dir "$root/build/mypy-cache" "$here/senti" ||
    { echo "run-tests.sh: mypy --strict found type errors in $here/senti" >&2; exit 1; }
else
  echo "run-tests.sh: skipping mypy: mypy $mypy_version needs Python 3.10 or later" >&2
fi

# Install from a copy: an in-tree build would leave build/ and *.egg-info in bindings/python.
src="$root/build/python-src"
rm -rf "$src"
mkdir -p "$src"
trap 'rm -rf "$src"' EXIT
cp -R "$here/pyproject.toml" "$here/README.md" "$here/senti" "$src/"
find "$src" -name __pycache__ -prune -exec rm -rf {} +
"$vpy" -m pip install --quiet --no-deps --no-build-isolation --force-reinstall "$src"
rm -rf "$src"
trap - EXIT

export SENTI_LIBRARY="$lib"
export SENTI_REPO_ROOT="$root"
export PYTHONDONTWRITEBYTECODE=1
# Run outside bindings/python so that the installed package, not the source folder, is imported.
cd "$root/build"
exec "$venv/bin/pytest" -p no:cacheprovider -c "$here/pyproject.toml" --rootdir "$here" "$here/tests" "$@"
