#!/usr/bin/env bash
# Per-operation view of a VGG16 training step: each 3x3 convolution's forward, gradient wrt
# input (dgrad) and gradient wrt kernel (wgrad), vggkit (default backend) against PyTorch on
# this machine, ROUNDS alternating rounds, medians. Prints a markdown table in ms and the
# ratio PyTorch time / vggkit time (above 1: vggkit faster).
# Usage: bench/convops/run.sh [ROUNDS] [SIZE] [WIDTH_DIV]   (defaults 3 96 4)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3} size=${2:-96} div=${3:-4} batch=${BATCH:-32}
py=/usr/bin/python3 # Debian's python3-torch, as bench/run.sh
mkdir -p bin
GOEXPERIMENT=simd go build -o bin/convops ./bench/convops
results=$(mktemp)
width=$(awk "BEGIN{print 1/$div}")
for round in $(seq "$rounds"); do
  go=$(bin/convops -size "$size" -width "$width" -batch "$batch")
  pt=$("$py" bench/convops/torch_convops.py --size "$size" --width-div "$div" --batch "$batch" --threads "$(nproc)")
  echo "{\"vggkit\": $go, \"torch\": $pt}" | tee -a "$results" >&2
done
"$py" - "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
med = statistics.median
first = runs[0]
print(f"vggkit backend: {first['vggkit']['backend']}; PyTorch {first['torch']['torch']}, "
      f"{first['torch']['threads']} threads; {first['vggkit']['size']} px, width {first['vggkit']['width']}, "
      f"batch {first['vggkit']['batch']}; medians of {len(runs)} rounds, ms.\n")
print("| map | Cin→Cout | fwd vggkit / PyTorch | dgrad vggkit / PyTorch | wgrad vggkit / PyTorch |")
print("|---|---|---|---|---|")
tot = {k: [0.0, 0.0] for k in ("Fwd", "DGrad", "WGrad")}
for i, row in enumerate(first["vggkit"]["rows"]):
    cells = []
    for k in ("Fwd", "DGrad", "WGrad"):
        g = med(r["vggkit"]["rows"][i].get(k, 0) for r in runs)
        t = med(r["torch"]["rows"][i].get(k, 0) for r in runs)
        tot[k][0] += g
        tot[k][1] += t
        cells.append(f"{g:.1f} / {t:.1f}" if g else "-")
    print(f"| {row['H']}x{row['H']} | {row['Cin']}→{row['Cout']} | " + " | ".join(cells) + " |")
print("| **sum** | | " + " | ".join(f"**{g:.0f} / {t:.0f}** ({t/g:.2f}x)" for g, t in tot.values()) + " |")
g, t = sum(v[0] for v in tot.values()), sum(v[1] for v in tot.values())
print(f"\nAll convolutions of a training step: vggkit {g:.0f} ms, PyTorch {t:.0f} ms ({t/g:.2f}x).")
PY
