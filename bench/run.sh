#!/usr/bin/env bash
# Side-by-side CPU benchmark: vggkit (default backend: XLA CPU once `vggkit doctor -install
# cpu` ran) against PyTorch on this machine. VGG16, GAP head, LeakyReLU 0.2, Adam, batch 32
# (unless CONFIGS says),
# no augmentation on either side,
# at 32 and 96 px, full width and width/4, train step and eval; the two alternate, ROUNDS
# rounds; the table gives medians: img/s, first step (vggkit: graph build + XLA compile;
# PyTorch: its first step), peak RSS, and the ratio vggkit/PyTorch.
# Usage: bench/run.sh [ROUNDS]   (default 3; MODES="train" runs only the training rows;
# CONFIGS="SIZE WIDTH_DIV STEPS [BATCH]" lines replace the rows below, e.g. the step rows of
# bench/train/README.md: CONFIGS=$'32 1 4\n32 4 10\n32 4 10 128\n96 4 4' MODES=train)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
py=/usr/bin/python3 # Debian's python3-torch (see bench/torch/README.md).
if ! "$py" -c 'import torch' 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-openmp
fi
mkdir -p bin
GOEXPERIMENT=simd go build -o bin/vggkit ./cmd/vggkit
threads=$(nproc)
results=${RESULTS:-$(mktemp)} # RESULTS=FILE keeps the rounds (JSON lines, appended)
# size width_div steps: fewer timed steps where one step takes seconds.
configs=${CONFIGS:-"32 1 4
32 4 10
96 1 2
96 4 4"}
for round in $(seq "$rounds"); do
  while read -r size div steps batch; do
    batch=${batch:-32}
    width=$(awk "BEGIN{print 1/$div}")
    for mode in ${MODES:-train eval}; do
      # -augment none: the PyTorch reference trains on a fixed float batch, without crop/flip.
      go=$(bin/vggkit bench -json -augment none -size "$size" -width "$width" -batch "$batch" -mode "$mode" -rounds 1 -steps "$steps")
      pt=$("$py" bench/torch/vgg_bench.py --arch vgg16 --head gap --size "$size" --width-div "$div" \
        --batch "$batch" --mode "$mode" --optimizer adam --threads "$threads" --warmup 1 --steps "$steps")
      echo "{\"round\": $round, \"mode\": \"$mode\", \"size\": $size, \"div\": $div, \"batch\": $batch, \"vggkit\": $go, \"torch\": $pt}" | tee -a "$results" >&2
    done
  done <<<"$configs"
done
"$py" - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault((r["mode"], r["size"], r["div"], r.get("batch", 32)), []).append(r)
med = lambda v: statistics.median(v)
backend = next(iter(rows.values()))[0]["vggkit"]["backend"]
print(f"vggkit backend: {backend}; PyTorch {next(iter(rows.values()))[0]['torch']['torch']}, "
      f"{next(iter(rows.values()))[0]['torch']['threads']} threads. Medians of {len(next(iter(rows.values())))} rounds.\n")
print("| mode | size | width | batch | vggkit img/s | PyTorch img/s | vggkit/PyTorch (rounds) | first step s (vggkit / PyTorch) | peak RSS MB (vggkit / PyTorch) |")
print("|---|---|---|---|---|---|---|---|---|")
for (mode, size, div, batch), v in sorted(rows.items()):
    go = med(x["vggkit"]["images_per_s"] for x in v)
    pt = med(x["torch"]["images_per_s"] for x in v)
    gf = med(x["vggkit"]["first_step_s"] for x in v)
    pf = med(x["torch"]["first_step_s"] + x["torch"]["warmup_s"] for x in v)
    gm = med(x["vggkit"]["peak_host_rss_mb"] for x in v)
    pm = med(x["torch"]["peak_rss_mib"] for x in v)
    width = "full" if div == 1 else f"1/{div}"
    each = ", ".join(f"{x['vggkit']['images_per_s'] / x['torch']['images_per_s']:.2f}" for x in v)
    print(f"| {mode} | {size} | {width} | {batch} | {go:.1f} | {pt:.1f} | {go/pt:.2f}x ({each}) | {gf:.1f} / {pf:.1f} | {gm:.0f} / {pm:.0f} |")
PY
