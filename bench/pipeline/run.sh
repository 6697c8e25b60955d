#!/usr/bin/env bash
# Input pipeline alone, side by side: vggkit's loader (BenchmarkLoader in vggkit/loader)
# against torchvision's DataLoader (bench/pipeline/torchvision_loader.py), on 5000
# STL-10-like 96x96 uint8 images in memory, batch 64, shuffled, 2 workers each:
#   host224: resize 224 + random crop (padding 28) + horizontal flip on the host
#            (torchvision adds ToTensor + Normalize: vggkit stays uint8, its graph normalises);
#   host224u8: the same, torchvision ending in PILToTensor (uint8 out, like vggkit);
#   raw96:   uint8 96 px batches (vggkit's default path: the graph resizes and augments).
# The two alternate, ROUNDS rounds, medians and the ratio vggkit/torchvision.
# Usage: bench/pipeline/run.sh [ROUNDS] [BATCHES]   (default 3 rounds of 150 timed batches)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
batches=${2:-150}
py=/usr/bin/python3 # Debian's python3-torch + python3-torchvision (see bench/pipeline/README.md).
if ! "$py" -c 'import torchvision' 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torchvision
fi
mkdir -p bin
GOEXPERIMENT=simd go test -c -o bin/loader.bench ./vggkit/loader
results=$(mktemp)
for round in $(seq "$rounds"); do
  for mode in host224 host224u8 raw96; do
    case $mode in
    host224 | host224u8) gobench='Loader/host224/batch=64$' ;;
    raw96) gobench='Loader/graph96/batch=64$' ;;
    esac
    # GOMAXPROCS defaults to the cores: 2 workers here, as torchvision's num_workers=2.
    go_ips=$(bin/loader.bench -test.run '^$' -test.bench "$gobench" -test.benchtime "${batches}x" |
      awk '/img\/s/ {for (i=1;i<=NF;i++) if ($(i+1)=="img/s") print $i}')
    tv_ips=$("$py" bench/pipeline/torchvision_loader.py --mode "$mode" --workers 2 --batch 64 --batches "$batches" |
      "$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["images_per_s"])')
    echo "$round $mode $go_ips $tv_ips" | tee -a "$results" >&2
  done
done
"$py" - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, mode, go, tv = line.split()
    rows.setdefault(mode, []).append((float(go), float(tv)))
print("| path | batch | workers | vggkit img/s | torchvision img/s | vggkit/torchvision |")
print("|---|---|---|---|---|---|")
for mode in ("host224", "host224u8", "raw96"):
    v = rows[mode]
    go = statistics.median(x for x, _ in v); tv = statistics.median(y for _, y in v)
    print(f"| {mode} | 64 | 2 | {go:.0f} | {tv:.0f} | {go/tv:.2f}x |")
PY
