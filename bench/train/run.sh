#!/usr/bin/env bash
# Whole-run benchmark (issue 15): `vggkit train` end to end against a PyTorch script doing
# the same run (bench/train/README.md). Rows: VGG16-GAP at width 1/4 and full, 32 px from
# 28 px grey (Fashion-MNIST IDX), 32 px colour (CIFAR-10 binary batches, synthetic),
# 96 px (Shapes10), batch 32 and 128; pairs of runs alternate vggkit and PyTorch
# (Debian's python3-torch 1.13 and, with --pip, torch 2.15 from a venv; each a DataLoader
# variant and a pre-resized in-memory variant). Writes bench/train/results/<date>.jsonl
# and prints a markdown table.
#
# Usage: bench/train/run.sh [--force] [--pip] [--no-pip]
#   --force   run even when the load average is above 0.5; results are marked unquiet
#   --pip     create .build/bench-train/venv-torch (pip: torch==2.15.0 with its NVIDIA
#             wheels, about 4 GB) if absent, and run it too; without --pip an existing
#             venv is used, an absent one skipped
#   --no-pip  skip the venv even when it exists
# Environment: PAIRS (default 3), EPOCHS (3), ROWS (comma-separated substrings of row
#   names, e.g. ROWS=w1/4-b32,cifar), VARIANTS (dataloader,memory), FULL_RUN=1 (let vggkit
#   finish: final test evaluation and report), DRY_RUN=1 (tiny rows, 1 pair, 2 epochs:
#   checks the tooling end to end in about 2 minutes; bench/train/dryrun_test.sh),
#   RESULTS (the JSONL file runs are appended to; default results/<date>.jsonl).
# The table of a results file that several invocations wrote:
#   python3 bench/train/bench.py --table-from bench/train/results/<file>.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
force=0 pip=auto
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --pip) pip=1 ;;
    --no-pip) pip=0 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "bench/train/run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

load=$(cut -d' ' -f1 /proc/loadavg)
unquiet=()
if awk "BEGIN{exit !($load > 0.5)}"; then
  if [ "$force" = 1 ]; then
    echo "WARNING: load average $load > 0.5: the machine is not quiet; PyTorch's OpenMP threads collapse" >&2
    echo "WARNING: under shared cores, which flatters vggkit. Results are marked unquiet." >&2
    unquiet=(--unquiet)
  else
    echo "bench/train/run.sh: load average $load > 0.5: the machine is not quiet (PyTorch's OpenMP threads" >&2
    echo "collapse under shared cores, which flatters vggkit). Wait, or pass --force to run anyway (marked unquiet)." >&2
    exit 1
  fi
fi

py=/usr/bin/python3 # Debian's python3-torch (bench/torch/README.md)
if ! "$py" -c 'import torch, numpy' 2>/dev/null; then
  echo "bench/train/run.sh: $py cannot import torch and numpy:" >&2
  echo "  apt-get install python3-torch python3-numpy libopenblas0-openmp" >&2
  exit 1
fi
torches=(--torch "torch$("$py" -c 'import torch; print(torch.__version__.split("a")[0].rsplit(".", 1)[0])')=$py")

venv=.build/bench-train/venv-torch
if [ "$pip" = 1 ] && [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv: pip install torch==2.15.0 numpy (with its NVIDIA wheels: about 4 GB)" >&2
  "$py" -m venv "$venv.part"
  "$venv.part/bin/pip" install -q --disable-pip-version-check "torch==2.15.0" numpy
  mv "$venv.part" "$venv"
fi
if [ "$pip" != 0 ] && [ -x "$venv/bin/python" ]; then
  torches+=(--torch "torch$("$venv/bin/python" -c 'import torch; print(".".join(torch.__version__.split("+")[0].split(".")[:2]))')=$venv/bin/python")
elif [ "$pip" != 0 ]; then
  echo "note: no pip PyTorch ($venv absent): only Debian's torch runs. bench/train/run.sh --pip creates it." >&2
fi

mkdir -p bin bench/train/results
GOEXPERIMENT=simd go build -o bin/vggkit ./cmd/vggkit
GOEXPERIMENT=simd go build -o bin/vggkit-dump ./bench/dump
bin/vggkit doctor 2>/dev/null | grep -i -m3 "backend\|xla\|patched" >&2 || true

args=(--vggkit bin/vggkit "${torches[@]}" --pairs "${PAIRS:-3}" --epochs "${EPOCHS:-3}"
  --variants "${VARIANTS:-dataloader,memory}" --rows "${ROWS:-}" "${unquiet[@]}")
results=${RESULTS:-bench/train/results/$(date +%Y-%m-%d).jsonl}
if [ "${DRY_RUN:-0}" = 1 ]; then
  results=.build/bench-train/dryrun.jsonl # dry runs stay out of results/; each starts afresh
  rm -f "$results"
  args=(--vggkit bin/vggkit "${torches[@]}" --pairs "${PAIRS:-1}" --epochs "${EPOCHS:-2}"
    --variants "${VARIANTS:-dataloader,memory}" --rows "${ROWS:-}" --dry-run "${unquiet[@]}")
fi
[ "${FULL_RUN:-0}" = 1 ] && args+=(--full-run)
mkdir -p "$(dirname "$results")"
echo "results: $results" >&2
"$py" bench/train/bench.py --results "$results" "${args[@]}"
