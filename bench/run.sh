#!/usr/bin/env bash
# Side-by-side CPU benchmark: vggkit (default backend) against PyTorch on this machine.
# VGG16, GAP head, LeakyReLU 0.2, Adam, batch 32, at 32 and 96 px, full width and
# width/4, train step and eval; the two alternate, ROUNDS rounds, medians and the
# ratio vggkit/PyTorch. Usage: bench/run.sh [ROUNDS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
py=/usr/bin/python3 # Debian's python3-torch (see bench/torch/README.md).
if ! "$py" -c 'import torch' 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-openmp
fi
mkdir -p bin
GOEXPERIMENT=simd go test -c -o bin/training.bench ./vggkit/training
threads=$(nproc)
results=$(mktemp)
# size width_div steps: fewer timed steps where one step takes seconds.
configs="32 1 4
32 4 10
96 1 2
96 4 4"
for round in $(seq "$rounds"); do
  while read -r size div steps; do
    width=$(awk "BEGIN{print 1/$div}")
    for mode in train eval; do
      go_ips=$(bin/training.bench -test.run '^$' -test.bench "VGG16/$mode/size=$size/width=$width/" \
        -test.benchtime "${steps}x" | awk '/img\/s/ {for (i=1;i<=NF;i++) if ($(i+1)=="img/s") print $i}')
      pt_ips=$("$py" bench/torch/vgg_bench.py --arch vgg16 --head gap --size "$size" --width-div "$div" \
        --batch 32 --mode "$mode" --optimizer adam --threads "$threads" --warmup 1 --steps "$steps" |
        "$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["images_per_s"])')
      echo "$round $mode $size $div $go_ips $pt_ips" | tee -a "$results" >&2
    done
  done <<<"$configs"
done
"$py" - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, mode, size, div, go, pt = line.split()
    rows.setdefault((mode, int(size), int(div)), []).append((float(go), float(pt)))
print("| mode | size | width | batch | vggkit img/s | PyTorch img/s | vggkit/PyTorch |")
print("|---|---|---|---|---|---|---|")
for (mode, size, div), v in sorted(rows.items()):
    go = statistics.median(x for x, _ in v); pt = statistics.median(y for _, y in v)
    print(f"| {mode} | {size} | {'full' if div == 1 else f'1/{div}'} | 32 | {go:.2f} | {pt:.2f} | {go/pt:.2f}x |")
PY
