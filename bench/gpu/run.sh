#!/usr/bin/env bash
# The GPU check: one call on a machine with an NVIDIA GPU, under 8 minutes.
#   vggkit (the binary bin/vggkit, built beforehand: CGO_ENABLED=1 GOEXPERIMENT=simd go build
#   -o bin/vggkit ./cmd/vggkit) on XLA CUDA with the plugin it finds on the machine (a Python
#   environment's jax-cuda13-pjrt, or vggkit's cache), beside the PyTorch reference
#   (bench/torch/vgg_bench.py: eager with channels_last, AMP bf16 autocast for bf16, TF32 on
#   for f32; and torch.compile of the same), on VGG16 (the tutorial's: GAP head, LeakyReLU
#   0.2, 10 classes) at 224 px, Adam: training at batch 128 and 64 in bf16 and f32, and
#   evaluation at batch 128 in bf16; first the card's bf16 matmul rate, measured
#   (bench/gpu/matmul.py). Prints ONE table (bench/gpu/table.py): img/s, TFLOP/s as a share
#   of the measured and of the datasheet bf16 rate, first-step (compile) time, GPU memory,
#   and the ratios vggkit/eager and vggkit/compile.
# Usage: bench/gpu/run.sh [OUTDIR]   (default bench/gpu/results; dry runs: /tmp/vggkit-gpu-dryrun). Writes
#   OUTDIR/<date>-<gpu>.jsonl (one JSON object per job), .log (all it printed), .md (the
#   table) and .err/ (each job's stderr). On the device machine: bench/gpu/run.sh "$OUT".
# BUDGET_S (default 450) stops starting new jobs once that many seconds have passed; every
# job has its own time limit too, cut to what is left. The jobs run most wanted first.
# DRY_RUN=1 runs the same logic on the CPU with a tiny model (tests the script itself);
# PYTHON picks the Python with PyTorch (default python3), VGGKIT_BIN the binary.
# The tutorial's whole run, side by side, is the second call: bench/gpu/tutorial.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench/gpu/results}
[ -z "${1:-}" ] && [ "${DRY_RUN:-}" = 1 ] && out=${TMPDIR:-/tmp}/vggkit-gpu-dryrun # not into the repo
kind=
budget=${BUDGET_S:-450}
# shellcheck source=bench/gpu/lib.sh
. bench/gpu/lib.sh

if [ "$device" = cpu ]; then
  size=32 model="-width 0.25" tdiv=4 steps=2 rounds=2 batches="8 16" mm=(--device cpu --n 512 --dtype f32)
else
  size=224 model="" tdiv=1 steps=10 rounds=3 batches="128 64" mm=(--device cuda --n 8192 --dtype bf16)
fi
b1=${batches%% *} b2=${batches##* }

body() {
machine
# The two sides, with what every job shares (timeout runs commands, not functions: arrays).
# shellcheck disable=SC2206
vg=("$vgg" bench -json -size "$size" $model -steps "$steps" -rounds "$rounds")
pt=("$py" bench/torch/vgg_bench.py --device "$device" --size "$size" --width-div "$tdiv" --steps "$steps"
  --rounds "$rounds" --warmup 2 --channels-last)

# The card's bf16 matrix rate, in this run: what the TFLOP/s columns are a share of.
job matmul 60 "$py" bench/gpu/matmul.py "${mm[@]}"
smoke
# trio MODE BATCH PRECISION: vggkit, PyTorch eager, torch.compile.
trio() {
  local tag=$1-b$2-$3 lim=150
  [ "$1" = eval ] && lim=90
  job "vggkit-$tag" "$lim" "${vg[@]}" -batch "$2" -precision "$3" -mode "$1"
  job "torch-eager-$tag" 90 "${pt[@]}" --batch "$2" --precision "$3" --mode "$1"
  job "torch-compile-$tag" "$lim" "${pt[@]}" --batch "$2" --precision "$3" --mode "$1" --compile
}
trio train "$b1" bf16
trio train "$b1" f32
trio eval "$b1" bf16
trio train "$b2" bf16
trio train "$b2" f32
if [ "$device" = cuda ]; then
  # Compile time on a re-run: XLA's autotuning results cached on disk (as a notebook cell
  # that runs again would find them). First run fills the cache, second reads it.
  cache=$(mktemp -d)
  XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }--xla_gpu_per_fusion_autotune_cache_dir=$cache" \
    job "vggkit-train-b$b1-bf16-cache1" 60 "${vg[@]}" -batch "$b1" -precision bf16 -rounds 1
  XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }--xla_gpu_per_fusion_autotune_cache_dir=$cache" \
    job "vggkit-train-b$b1-bf16-cache2" 60 "${vg[@]}" -batch "$b1" -precision bf16 -rounds 1
fi
log "done; results in $results"
"$py" bench/gpu/table.py "$results" | tee "$stem.md"
echo "table: $stem.md, log: $stem.log"
}
body 2>&1 | tee -a "$stem.log"
