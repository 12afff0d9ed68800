#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Installs libsenti into a prefix (default /usr/local):
#   <prefix>/include/senti.h, senti.hpp
#   <prefix>/bin/senti (the command-line tool)
#   <libdir>/libsenti.so.X.Y.Z, libsenti.so.X, libsenti.so, libsenti.a on Linux; libsenti.X.dylib,
#     libsenti.dylib, libsenti.a on macOS; on Windows senti.dll in <prefix>/bin and cargo's import
#     and static libraries in <libdir> (see bindings/cmake/CMakeLists.txt)
#   <libdir>/pkgconfig/senti.pc, <libdir>/cmake/senti/senti-config*.cmake
# <libdir> is the platform's (GNUInstallDirs): lib, lib64, or lib/<multiarch> under /usr on Debian.
# Usage: bindings/install.sh [prefix] [extra cmake -D options, e.g. -DCMAKE_INSTALL_LIBDIR=lib]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${1:-/usr/local}"
shift || true
cd "$root"
cargo build --release --quiet
build="$root/build/install-cmake"
rm -rf "$build"
cmake -S bindings/cmake -B "$build" -DCMAKE_INSTALL_PREFIX="$prefix" "$@" >/dev/null
cmake --install "$build"
