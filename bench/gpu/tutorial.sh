#!/usr/bin/env bash
# The tutorial's whole run, side by side, on the GPU: one call, under 8 minutes (the second
# device call; bench/gpu/run.sh is the first). The recipe of the PyTorch tutorial (VGG16,
# LeakyReLU 0.2, GAP head, 224 px input resized from 96 px, Normalize(0.5, 0.5), Adam lr
# 1e-5 constant, no augmentation, batch 64) trained by:
#   vggkit train (f32 and bf16), the binary bin/vggkit built beforehand, flags
#     -arch vgg16 -act leaky -head gap -size 224 -batch 64 -lr 1e-5 -schedule constant
#     -augment none (vggkit's own defaults differ: vggkit/config Resolve);
#   the tutorial's PyTorch loop (bench/torch/tutorial_loop.py), eager f32 as written
#     (evaluation fixed), and with AMP bf16 + channels_last + torch.compile.
# STL-10 cannot be downloaded on the device machine: the data is vggkit's Shapes10 at 96 px,
# 500 per class (5000 train images, STL-10's size and count), 1000 test images, written for
# PyTorch by bin/vggkit-dump (built beforehand from bench/dump). Each run
# trains EPOCHS epochs (default 15; PyTorch's stop early if their time limit nears),
# evaluates once at the end; the table extrapolates to the tutorial's 100 epochs (labelled).
# Usage: bench/gpu/tutorial.sh [OUTDIR]   (default bench/gpu/results; dry runs: /tmp/vggkit-gpu-dryrun). Writes
#   OUTDIR/<date>-<gpu>-tutorial.jsonl, .log, .md, .err/. On the device: bench/gpu/tutorial.sh "$OUT".
# BUDGET_S (default 420) stops starting jobs after that many seconds; DRY_RUN=1 runs the same
# logic on the CPU with a tiny model (width/8, 32 px, 200 images, 2 epochs).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench/gpu/results}
[ -z "${1:-}" ] && [ "${DRY_RUN:-}" = 1 ] && out=${TMPDIR:-/tmp}/vggkit-gpu-dryrun # not into the repo
kind=tutorial
budget=${BUDGET_S:-420}
# shellcheck source=bench/gpu/lib.sh
. bench/gpu/lib.sh
dump=${SHAPES10DUMP_BIN:-bin/vggkit-dump}

if [ "$device" = cpu ]; then
  epochs=${EPOCHS:-2} size=32 batch=16 per=20 tper=20 vmodel=(-width 0.125 -per-class 20) tmodel=(--width-div 8)
else
  epochs=${EPOCHS:-15} size=224 batch=64 per=500 tper=100 vmodel=() tmodel=()
fi
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

body() {
machine
job shapes10dump 60 sh -c '"$0" -out "$1" -per-class "$2" -test-per-class "$3" && echo "{\"dir\": \"$1\"}"' \
  "$dump" "$data/shapes10" "$per" "$tper"
smoke

recipe=(-dataset shapes10 -arch vgg16 -act leaky -head gap -size "$size" -batch "$batch" -lr 1e-5 -schedule constant
  -augment none -epochs "$epochs" -eval-every -1 -ckpt "" -log-every 20 "${vmodel[@]}")
tl=("$py" bench/torch/tutorial_loop.py --data "$data/shapes10" --device "$device" --size "$size" --batch "$batch"
  --lr 1e-5 --epochs "$epochs" "${tmodel[@]}")
# limit SECONDS: the job's time limit cut to what is left of the budget (the scripts'
# own limits must stop them first, so they still report what they measured).
limit() { local l; l=$(left); echo $(($1 < l ? $1 : l)); }

# Most wanted first: the tutorial as written, then vggkit at the same recipe.
l=$(limit 130)
job tutorial-torch-eager "$l" "${tl[@]}" --variant eager --max-seconds $((l - 35))
for prec in f32 bf16; do
  l=$(limit 130)
  job "tutorial-vggkit-$prec" "$l" "$py" bench/gpu/vggkit_train.py --limit $((l - 8)) --out "$errs/vggkit-$prec" \
    --label "vggkit train $prec" -- "$vgg" train "${recipe[@]}" -precision "$prec" -out "$errs/vggkit-$prec"
done
l=$(limit 160)
job tutorial-torch-fast "$l" "${tl[@]}" --variant fast --max-seconds $((l - 70))
if [ "$device" = cpu ]; then
  # torch.compile is not in PyTorch 1.x: the rest of the fast path (AMP, channels_last,
  # drop_last, the padded last test batch), tested without it.
  job tutorial-torch-fast-nocompile 60 "${tl[@]}" --variant fast --no-compile --workers 2
fi
log "done; results in $results"
"$py" bench/gpu/tutorial_table.py "$results" | tee "$stem.md"
echo "table: $stem.md, log: $stem.log"
}
body 2>&1 | tee -a "$stem.log"
