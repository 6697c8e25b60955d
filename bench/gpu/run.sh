#!/usr/bin/env bash
# The GPU check: one call on a machine with an NVIDIA GPU, under 8 minutes.
#   vggkit (the binary bin/vggkit, built beforehand: CGO_ENABLED=1 GOEXPERIMENT=simd go build
#   -o bin/vggkit ./cmd/vggkit) on XLA CUDA with the plugin it finds on the machine (a Python
#   environment's jax-cuda13-pjrt, or vggkit's cache), beside the PyTorch reference
#   (bench/torch/vgg_bench.py: eager with AMP bf16 and channels_last, and torch.compile), on
#   VGG16 (the tutorial's: GAP head, LeakyReLU 0.2, 10 classes) at 224 px, Adam, batch 64
#   and 128, f32 and bf16. Prints one table (bench/gpu/table.py) with img/s, TFLOP/s
#   (92 GFLOP per image per training step), first-step (compile) time, GPU memory, and
#   the ratio vggkit/PyTorch.
# Usage: bench/gpu/run.sh [OUTDIR]   (default bench/gpu/out; results.jsonl and log there)
# BUDGET_S (default 470) stops starting new jobs once that many seconds have passed.
# DRY_RUN=1 runs the same logic on the CPU with a tiny model (tests the script itself).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench/gpu/out}
mkdir -p "$out"
results=$out/results.jsonl
: >"$results"
budget=${BUDGET_S:-470}
start=$(date +%s)
py=${PYTHON:-python3}
vgg=${VGGKIT_BIN:-bin/vggkit}
log() { echo "== $(($(date +%s) - start))s: $*" >&2; }
left() { echo $((budget - ($(date +%s) - start))); }

if [ "${DRY_RUN:-}" = 1 ]; then
  device=cpu size=32 model="-width 0.25" tdiv=4 steps=2 rounds=2 batches="8 16"
else
  device=cuda size=224 model="" tdiv=1 steps=10 rounds=3 batches="128 64"
fi

# job NAME TIMEOUT CMD...: runs CMD (which prints one JSON line last) if time is left,
# appends {"job": NAME, ...result} to results.jsonl, or a failure record.
job() {
  local name=$1 limit=$2
  shift 2
  local l
  l=$(left)
  if [ "$l" -lt 20 ]; then
    log "skip $name: ${l}s of the budget left"
    echo "{\"job\": \"$name\", \"skipped\": true}" >>"$results"
    return
  fi
  [ "$limit" -gt "$l" ] && limit=$l
  log "$name (limit ${limit}s): $*"
  local o
  o=$(timeout -k 5 "$limit" "$@" 2>"$out/$name.err")
  local rc=$?
  local last
  last=$(printf '%s\n' "$o" | grep '^{' | tail -1)
  if [ $rc -eq 0 ] && [ -n "$last" ]; then
    echo "$last" | "$py" -c 'import json,sys; d=json.load(sys.stdin); d["job"]=sys.argv[1]; print(json.dumps(d))' "$name" >>"$results"
    echo "$last" >&2
  else
    log "$name failed (exit $rc); last lines of its stderr:"
    tail -5 "$out/$name.err" >&2
    echo "{\"job\": \"$name\", \"failed\": $rc}" >>"$results"
  fi
}

log "machine"
nvidia-smi -L 2>&1 || true
"$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")' 2>&1 || true
"$py" -c 'import jax_plugins.xla_cuda13 as m, importlib.metadata as md; print("jax plugin", m.__file__, md.version("jax-cuda13-pjrt"))' 2>&1 | tail -1 || true
log "vggkit doctor"
timeout 120 "$vgg" doctor 2>&1 | tail -12

# The two sides, with what every job shares (timeout runs commands, not functions: arrays).
# shellcheck disable=SC2206
vg=("$vgg" bench -json -size "$size" $model -steps "$steps" -rounds "$rounds")
pt=("$py" bench/torch/vgg_bench.py --device "$device" --size "$size" --width-div "$tdiv" --steps "$steps"
  --rounds "$rounds" --warmup 2 --channels-last)

# A small model first: a broken plugin shows in seconds, not after a long compile.
job smoke 120 "$vgg" bench -json -size 64 -width 0.25 -batch 8 -steps 2 -rounds 1
if [ "$device" = cuda ] && ! grep -q '"job": "smoke", "failed"' "$results" && ! grep -q '"xla:[^"]*cuda' "$results"; then
  echo '{"job": "smoke", "failed": "not on CUDA"}' >>"$results"
fi
if grep -q '"job": "smoke", "failed"' "$results" && [ "$device" = cuda ]; then
  # vggkit's own discovery did not give CUDA: name the plugin and its libraries by hand,
  # so the numbers still come, and the log says what the discovery missed.
  plugin=$("$py" -c 'import jax_plugins.xla_cuda13 as m, os; print(os.path.dirname(m.__file__))')/xla_cuda_plugin.so
  site=$(dirname "$(dirname "$(dirname "$plugin")")")
  LD_LIBRARY_PATH=$(find "$site/nvidia" -maxdepth 3 -type d -name lib | paste -sd:):${LD_LIBRARY_PATH:-}
  export LD_LIBRARY_PATH GOMLX_BACKEND="xla:$plugin"
  [ -d /usr/local/cuda ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=/usr/local/cuda"
  log "retrying with GOMLX_BACKEND=$GOMLX_BACKEND and LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  job smoke-by-hand 120 "$vgg" bench -json -size 64 -width 0.25 -batch 8 -steps 2 -rounds 1
fi
for bs in $batches; do
  for prec in bf16 f32; do
    job "vggkit-train-b$bs-$prec" 150 "${vg[@]}" -batch "$bs" -precision "$prec"
    job "torch-eager-train-b$bs-$prec" 90 "${pt[@]}" --batch "$bs" --precision "$prec"
    if [ "$prec" = bf16 ]; then
      job "torch-compile-train-b$bs-$prec" 150 "${pt[@]}" --batch "$bs" --precision "$prec" --compile
    fi
  done
done
bs=${batches%% *}
job "vggkit-eval-b$bs-bf16" 90 "${vg[@]}" -batch "$bs" -precision bf16 -mode eval
job "torch-eager-eval-b$bs-bf16" 60 "${pt[@]}" --batch "$bs" --precision bf16 --mode eval
if [ "$device" = cuda ]; then
  # Compile time on a re-run: XLA's autotuning results cached on disk (as a notebook cell
  # that runs again would find them). First run fills the cache, second reads it.
  cache=$(mktemp -d)
  XLA_FLAGS="--xla_gpu_per_fusion_autotune_cache_dir=$cache" job "vggkit-train-b$bs-bf16-cache1" 120 "${vg[@]}" -batch "$bs" -precision bf16 -rounds 1
  XLA_FLAGS="--xla_gpu_per_fusion_autotune_cache_dir=$cache" job "vggkit-train-b$bs-bf16-cache2" 120 "${vg[@]}" -batch "$bs" -precision bf16 -rounds 1
fi
if [ "$device" = cuda ] && [ "$(left)" -gt 60 ]; then
  # The journey itself on the GPU: Shapes10 (embedded) at 224 px, bf16, a few epochs.
  log "vggkit train on the GPU"
  timeout -k 5 "$(left)" "$vgg" train -dataset shapes10 -size 224 -precision bf16 -batch 64 -epochs 3 \
    -out "$out/train-run" -ckpt "" 2>&1 | grep -v '^epoch .*ETA' | tail -8
fi
log "done"
"$py" bench/gpu/table.py "$results" | tee "$out/table.md"
