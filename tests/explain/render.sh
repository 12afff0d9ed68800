#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The explanation page in a real browser: trains a tiny model with the senti CLI, writes the
# page for one review with `senti explain --html`, renders it in headless Chromium (a screenshot
# and the DOM it built), and checks what a reader would see: every token of the JSON
# explanation shaded in the DOM, the strongest token towards the class green and the strongest
# against it red, and both colours present in the rendered pixels.
#
#   tests/explain/render.sh [OUT_DIR]     (the page and screenshot are kept there; default a scratch dir)
#
# SENTI_MODEL=FILE explains with that model instead of training one (the README's picture uses the
# main job's reports/lstm.safetensors); SENTI_EXPLAIN_TEXT replaces the review.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$browser" ] || { echo "render.sh: no Chromium (apt-get install chromium)" >&2; exit 1; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
out="${1:-$scratch}"
mkdir -p "$out"
senti=target/release/senti
[ -x "$senti" ] || { echo "render.sh: build first (cargo build --release)" >&2; exit 1; }

model="${SENTI_MODEL:-}"
if [ -z "$model" ]; then
  model="$scratch/model.safetensors"
  "$senti" train --data data/imdb/reviews.json --output "$model" --train-limit 3000 --epochs 2 \
    --embedding-dim 32 --hidden-size 32 --max-len 200 --vocab-size 10000 --cell gru --seed 5 --quiet >/dev/null
fi
review="${SENTI_EXPLAIN_TEXT:-I expected a dull remake, but this was a wonderful surprise.<br /><br />The acting is superb and the story is moving; only the ending felt rushed and a little boring. Still, one of the best films of the year: 9/10.}"
"$senti" explain "$model" "$review" --json --html "$out/explanation.html" >"$scratch/explanation.json"

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$scratch/profile")
"$browser" "${flags[@]}" --window-size="${SENTI_WINDOW:-980,420}" --screenshot="$out/explanation.png" "file://$out/explanation.html" 2>"$scratch/browser.log" ||
  { cat "$scratch/browser.log" >&2; exit 1; }
"$browser" "${flags[@]}" --dump-dom "file://$out/explanation.html" >"$scratch/dom.html" 2>>"$scratch/browser.log"

python3 - "$scratch/explanation.json" "$scratch/dom.html" "$out/explanation.png" "$review" <<'PY'
import json, re, struct, sys, zlib

explanation = json.load(open(sys.argv[1]))
dom = open(sys.argv[2], encoding="utf-8").read()
png = open(sys.argv[3], "rb").read()
review = sys.argv[4].encode()
failures = []

def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(name)

tokens = explanation["tokens"]
spans = re.findall(r'<span class="t" style="background: rgba\((\d+), (\d+), (\d+), ([\d.]+)\)" title="([^"]+)">(.*?)</span>', dom)
check("the browser built one shaded span per token", len(spans) == len(tokens), f"{len(spans)} spans, {len(tokens)} tokens")
words = [review[t["start"]:t["end"]].decode() for t in tokens]
shown = [s[5].replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") for s in spans]
check("each span shows its token's bytes of the review", shown == words, f"{shown[:5]} vs {words[:5]}")
check("line breaks became real ones", "<br><br>" in dom.replace("<br/>", "<br>"))
best = max(range(len(tokens)), key=lambda i: tokens[i]["contribution"])
worst = min(range(len(tokens)), key=lambda i: tokens[i]["contribution"])
check("the strongest token towards the class is green and opaque", spans[best][:3] == ("34", "160", "80") and float(spans[best][3]) > 0.8, str(spans[best]))
check("the strongest token against it is red", tokens[worst]["contribution"] >= 0 or spans[worst][:3] == ("214", "48", "49"), str(spans[worst]))
print(f"     strongest towards {explanation['label']}: {words[best]!r} {tokens[best]['contribution']:+.3f}; against: {words[worst]!r} {tokens[worst]['contribution']:+.3f}")

# Decode the screenshot (8-bit RGB or RGBA, non-interlaced, as Chromium writes it).
assert png[:8] == b"\x89PNG\r\n\x1a\n"
at, chunks, header = 8, [], None
while at < len(png):
    n, kind = struct.unpack(">I4s", png[at:at + 8])
    data = png[at + 8:at + 8 + n]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", data)
    elif kind == b"IDAT":
        chunks.append(data)
    at += 12 + n
width, height, depth, colour = header[:4]
channels = {2: 3, 6: 4}[colour]
raw = zlib.decompress(b"".join(chunks))
stride = width * channels
rows, prev = [], bytearray(stride)
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - channels] if i >= channels else 0
        b, c = prev[i], prev[i - channels] if i >= channels else 0
        p = {0: 0, 1: a, 2: b, 3: (a + b) // 2}.get(f)
        if p is None:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        line[i] = (line[i] + p) & 255
    rows.append(bytes(line))
    prev = line
greenish = reddish = 0
for line in rows:
    for x in range(0, stride, channels):
        r, g, b = line[x], line[x + 1], line[x + 2]
        greenish += g > r + 40 and g > b + 20
        reddish += r > g + 60 and r > b + 60
check("the screenshot shows green shading", greenish > 200, f"{greenish} green pixels")
check("the screenshot shows red shading", reddish > 100, f"{reddish} red pixels")
print(f"     screenshot {width}x{height}: {greenish} green and {reddish} red pixels")
sys.exit(1 if failures else 0)
PY
