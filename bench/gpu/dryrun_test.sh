#!/usr/bin/env bash
# Tests bench/gpu/run.sh and bench/gpu/tutorial.sh without a GPU: both in their dry run
# (DRY_RUN=1: the CPU, a tiny model, two steps or two epochs), then checks that every job
# left a record, that the tables have their rows with numbers where the CPU can give them,
# and that torch.compile, missing from PyTorch 1.x, is recorded as failed with its reason
# (with PyTorch 2.x it must have numbers). About a minute on 2 quiet cores.
#   bench/gpu/dryrun_test.sh                  (PYTHON: a Python with PyTorch and torchvision;
#                                              default $VGGKIT_REFS_PYTHON, else python3)
# Builds bin/vggkit and bin/vggkit-dump into a temporary folder (needs scripts/go-xla-patch.sh
# run once, as scripts/test.sh does); VGGKIT_BIN and SHAPES10DUMP_BIN use given ones instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-${VGGKIT_REFS_PYTHON:-python3}}
export PYTHON DRY_RUN=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)
if [ -z "${VGGKIT_BIN:-}" ]; then
  CGO_ENABLED=1 GOEXPERIMENT=simd go build -o "$tmp/vggkit" ./cmd/vggkit
  VGGKIT_BIN=$tmp/vggkit
fi
if [ -z "${SHAPES10DUMP_BIN:-}" ]; then
  CGO_ENABLED=1 GOEXPERIMENT=simd go build -o "$tmp/vggkit-dump" ./bench/dump
  SHAPES10DUMP_BIN=$tmp/vggkit-dump
fi
export VGGKIT_BIN SHAPES10DUMP_BIN
t1=$(date +%s)
bench/gpu/run.sh "$tmp/out" >"$tmp/run.out" 2>&1 || { tail -40 "$tmp/run.out"; echo "FAIL: run.sh exited $?"; exit 1; }
t2=$(date +%s)
bench/gpu/tutorial.sh "$tmp/out" >"$tmp/tutorial.out" 2>&1 || { tail -40 "$tmp/tutorial.out"; echo "FAIL: tutorial.sh exited $?"; exit 1; }
t3=$(date +%s)

"$PYTHON" - "$tmp/out" <<'EOF'
import glob, json, sys

import torch

out = sys.argv[1]
has_compile = hasattr(torch, "compile")
fails = []


def check(cond, what):
    if not cond:
        fails.append(what)


def one(pattern):
    m = sorted(glob.glob(f"{out}/{pattern}"))
    check(len(m) == 1, f"want one file {pattern}, found {m}")
    return m[0] if m else None


def rows_of(md):
    """Markdown table rows as lists of cells."""
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in open(md)
            if line.startswith("| ") and not line.startswith("| mode") and not line.startswith("| run")]


def number(cell):
    try:
        return float(cell.split()[0].rstrip("x%"))
    except (ValueError, IndexError):
        return None


# run.sh: the files, every job's record, the table's five rows.
jl, md = one("*-cpu-dryrun.jsonl"), one("*-cpu-dryrun.md")
for ext in (".log",):
    one("*-cpu-dryrun" + ext)
if jl and md:
    jobs = {r["job"]: r for r in map(json.loads, open(jl))}
    want = ["matmul", "smoke"] + [f"{side}-{m}-b{b}-{p}" for side in ("vggkit", "torch-eager", "torch-compile")
                                  for m, b, p in (("train", 8, "bf16"), ("train", 8, "f32"), ("eval", 8, "bf16"),
                                                  ("train", 16, "bf16"), ("train", 16, "f32"))]
    for j in want:
        check(j in jobs, f"run.sh: no record of job {j}")
    for j, r in jobs.items():
        compile_job = j.startswith("torch-compile")
        if compile_job and not has_compile:
            check(r.get("failed") == 3 and "torch.compile needs PyTorch 2.0" in r.get("reason", ""),
                  f"run.sh: {j} should be recorded as failed for want of torch.compile: {r}")
        else:
            check(r.get("failed") is None and not r.get("skipped"), f"run.sh: job {j} failed or was skipped: {r}")
    text = open(md).read()
    check("matmul measured in this run:" in text and "Datasheet dense bf16:" in text, "run.sh: table header lines missing")
    rows = rows_of(md)
    keys = [tuple(r[:3]) for r in rows]
    check(keys == [("train", "8", "bf16"), ("train", "8", "f32"), ("eval", "8", "bf16"), ("train", "16", "bf16"),
                   ("train", "16", "f32")], f"run.sh: table rows {keys}")
    for r in rows:
        check(len(r) == 12, f"run.sh: row with {len(r)} cells: {r}")
        vi, ei, ci, ve = number(r[3]), number(r[4]), number(r[5]), number(r[6])
        check(vi and ei and ve, f"run.sh: row without vggkit/eager numbers: {r}")
        check((ci is not None) == has_compile, f"run.sh: compile cell {r[5]!r} (torch.compile available: {has_compile})")
        check("%" in r[8], f"run.sh: no share of the measured rate: {r[8]!r}")

# tutorial.sh: the files, the four runs (five in the dry run), numbers and extrapolation.
jl, md = one("*-cpu-dryrun-tutorial.jsonl"), one("*-cpu-dryrun-tutorial.md")
one("*-cpu-dryrun-tutorial.log")
if jl and md:
    jobs = {r["job"]: r for r in map(json.loads, open(jl))}
    for j in ("shapes10dump", "smoke", "tutorial-torch-eager", "tutorial-vggkit-f32", "tutorial-vggkit-bf16",
              "tutorial-torch-fast", "tutorial-torch-fast-nocompile"):
        check(j in jobs, f"tutorial.sh: no record of job {j}")
        r = jobs.get(j, {})
        if j == "tutorial-torch-fast" and not has_compile:
            check(r.get("failed") == 3 and "torch.compile" in r.get("reason", ""), f"tutorial.sh: {j}: {r}")
        else:
            check(r.get("failed") is None and not r.get("skipped"), f"tutorial.sh: job {j} failed or was skipped: {r}")
    for j in ("tutorial-torch-eager", "tutorial-vggkit-f32", "tutorial-vggkit-bf16", "tutorial-torch-fast-nocompile"):
        r = jobs.get(j, {})
        check(r.get("epochs") == 2 and r.get("accuracy") is not None and r.get("steady_epoch_s"),
              f"tutorial.sh: {j}: want 2 epochs, an accuracy and a steady epoch time: {r}")
    text = open(md).read()
    check("EXTRAPOLATED" in text and "Shapes10" in text, "tutorial.sh: table notes missing")
    rows = rows_of(md)
    names = [(r[0], r[1]) for r in rows]
    check([n[1] for n in names] == ["f32", "f32", "bf16", "bf16", "bf16"] and names[1][0] == "vggkit train"
          and "as written" in names[0][0] and "torch.compile" in names[3][0], f"tutorial.sh: table rows {names}")
    for r in rows:
        check(len(r) == 10, f"tutorial.sh: row with {len(r)} cells: {r}")
        if "torch.compile" in r[0] and not has_compile:
            continue
        check(number(r[2]) == 2 and number(r[7]) and number(r[8]) is not None,
              f"tutorial.sh: row without epochs, minutes or accuracy: {r}")
    check("x vggkit f32" in rows[0][9], f"tutorial.sh: no ratio to vggkit in {rows[0]}")

if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
print("dry-run tables: all rows present")
EOF
echo "run.sh:"
sed -n '/^| mode/,$p' "$tmp"/out/*-cpu-dryrun.md
echo "tutorial.sh:"
sed -n '/^| run/,$p' "$tmp"/out/*-cpu-dryrun-tutorial.md
echo "PASS bench/gpu/dryrun_test.sh: build $((t1 - t0))s, run.sh $((t2 - t1))s, tutorial.sh $((t3 - t2))s"
