#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Writes the small committed 20 Newsgroups fixture for unit tests from the full training split
that examples/fetch-20newsgroups.sh fetches:

    python3 examples/make-20newsgroups-fixture.py \
        [--train data/20newsgroups/train.jsonl] [--out tests/fixtures/20newsgroups-small.jsonl]

Deterministic and stratified: reading train.jsonl in its (fixed) order, it keeps the first
--per-class documents (default 15, so 300 for the 20 classes) of each class among those of at
most --max-chars characters (default 500) and at least 5 words, whole and unchanged, in the order
they come. The length cap keeps the file small (about 110 KB) without cutting any document.
Standard library only.
"""
import argparse
import collections
import json
import os
import sys


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", default=os.path.join(root, "data/20newsgroups/train.jsonl"))
    ap.add_argument("--out", default=os.path.join(root, "tests/fixtures/20newsgroups-small.jsonl"))
    ap.add_argument("--per-class", type=int, default=15)
    ap.add_argument("--max-chars", type=int, default=500)
    args = ap.parse_args()

    kept, taken = [], collections.Counter()
    classes = set()
    with open(args.train, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            classes.add(row["label"])
            text = row["text"]
            if taken[row["label"]] >= args.per_class:
                continue
            if len(text) > args.max_chars or len(text.split()) < 5:
                continue
            taken[row["label"]] += 1
            kept.append({"text": text, "label": row["label"]})
    short = sorted(c for c in classes if taken[c] < args.per_class)
    if short:
        sys.exit(f"too few short documents for {short}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        for row in kept:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}: {len(kept)} documents, {len(classes)} classes, "
          f"{os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
