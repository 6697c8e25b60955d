#!/usr/bin/env bash
# Where a steady CPU training step's time goes, native code included: runs `vggkit bench`
# (training steps on one batch, as long as it takes), samples it with perf for SECONDS
# once compiled, names XLA's JIT-compiled fusions through gdb (XLA registers them with
# gdb's JIT interface; perf alone sees anonymous addresses), and prints the share of each
# kind of code and of the top symbols. Needs perf and gdb (apt-get install linux-perf gdb).
#
# Usage: bench/train/profile.sh [BATCH] [SIZE] [WIDTH] [SECONDS]   (defaults 32 32 0.25 8)
# CMD="bin/vggkit train ..." samples that command instead (long enough to outlast WARMUP
# and SECONDS; BATCH, SIZE and WIDTH then only label the output).
# Categories: vggkit's kernels (cpukernels), oneDNN (its JIT code has no symbols: the
# unnamed part of the JIT region), XLA's fusions (by name), Eigen's thread pool and GEMM,
# the kernel (scheduling, page faults), libc (malloc, memcpy), vggkit's Go code.
set -euo pipefail
cd "$(dirname "$0")/../.."
batch=${1:-32} size=${2:-32} width=${3:-0.25} seconds=${4:-8}
for tool in perf gdb; do
  command -v "$tool" >/dev/null || { echo "profile.sh: $tool not found (apt-get install linux-perf gdb)" >&2; exit 1; }
done
GOEXPERIMENT=simd go build -o bin/vggkit ./cmd/vggkit
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -n "${CMD:-}" ]; then # another command to sample (a whole run: CMD="bin/vggkit train ...")
  $CMD >"$work/bench.out" 2>&1 &
else
  bin/vggkit bench -augment none -size "$size" -width "$width" -batch "$batch" -mode train -rounds 1 \
    -steps 1000000 >"$work/bench.out" 2>&1 &
fi
pid=$!
# Wait for the compile: the first step's line is printed only at the end, so wait on time.
sleep "${WARMUP:-10}"
kill -0 "$pid" 2>/dev/null || { cat "$work/bench.out" >&2; exit 1; }
# -p follows only the threads alive now: vggkit's kernel threads are kept, so all are.
perf record -F 1999 -p "$pid" -o "$work/perf.data" -- sleep "$seconds" >/dev/null 2>&1
perf script -i "$work/perf.data" -F ip,sym,dso 2>/dev/null >"$work/samples.txt"
grep "perf-$pid.map" "$work/samples.txt" | awk '{print $1}' | sort | uniq -c | sort -rn >"$work/jit.txt" || true
awk '{print "echo @@" $1 " " $2 "\\n"; print "info symbol 0x" $2}' "$work/jit.txt" >"$work/gdb.cmds"
timeout 600 gdb -q -batch -p "$pid" -x "$work/gdb.cmds" >"$work/gdb.out" 2>/dev/null || true
python3 - "$work" "$batch" "$size" "$width" <<'PY'
import collections, re, sys
work, batch, size, width = sys.argv[1:]
total, cat, sym = 0, collections.Counter(), collections.Counter()
for line in open(f"{work}/samples.txt"):
    m = re.match(r"\s*(\S+) (.*) \((\S+)\)$", line.rstrip())
    if not m:
        continue
    total += 1
    _, s, dso = m.groups()
    if "perf-" in dso:
        continue  # named below
    d = dso.rsplit("/", 1)[-1]
    if d == "vggkit":
        c = "vggkit's kernels" if re.match(r"(cf_|tile|kg_|transpose)", s) else "vggkit (Go)"
    elif "pjrt" in d:
        c = ("oneDNN" if "dnnl" in s else "Eigen thread pool" if re.search(r"ThreadPoolTempl|RunQueue|EventCount", s)
             else "Eigen GEMM" if "Eigen" in s else "XLA runtime")
    else:
        c = {"[kernel.kallsyms]": "kernel"}.get(d, d)
    cat[c] += 1
    sym[f"{c}: {s[:80]}"] += 1
count = None
for line in open(f"{work}/gdb.out"):
    line = line.rstrip("\n")
    if line.startswith("@@"):
        count = int(line[2:].split()[0])
        continue
    if count is None:
        continue
    m = re.match(r"(\S+) \+ \d+ in section", line)
    if m:
        cat["XLA fusions"] += count
        sym["XLA fusion: " + re.sub(r"[._]\d+$", "", m.group(1))] += count
        count = None
    elif line.startswith("No symbol"):
        cat["oneDNN"] += count  # oneDNN's JIT kernels are not registered with gdb
        sym["oneDNN: JIT kernels"] += count
        count = None
print(f"vggkit bench, batch {batch}, {size} px, width {width}: {total} samples")
print("\n| share | code |\n|---|---|")
for k, v in cat.most_common():
    print(f"| {100 * v / total:.1f} % | {k} |")
print("\n| share | symbol |\n|---|---|")
for k, v in sym.most_common(20):
    print(f"| {100 * v / total:.1f} % | {k} |")
PY
