#!/usr/bin/env python3
"""The table of bench/gpu/run.sh's results (JSONL): vggkit beside PyTorch eager and
torch.compile, as markdown on stdout.

    python3 bench/gpu/table.py bench/gpu/results/2026-12-01-h200.jsonl
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peaks import datasheet_bf16  # noqa: E402

JOB = re.compile(r"^(vggkit|torch-eager|torch-compile)-(train|eval)-b(\d+)-(bf16|f32)$")


def fmt(x, d=1):
    return "-" if x is None else f"{x:.{d}f}"


def ratio(a, b):
    return "-" if not a or not b else f"{a / b:.2f}x"


def pct(x, of):
    return "-" if not x or not of else f"{100 * x / of:.0f}%"


def problems(rows):
    out = []
    for r in rows:
        if r.get("skipped"):
            out.append(f"- {r['job']}: skipped ({r['skipped']})")
        elif r.get("failed") is not None:
            why = r.get("reason") or ""
            out.append(f"- {r['job']}: failed, exit {r['failed']}{': ' + why if why else ''}")
    return out


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    jobs = {r["job"]: r for r in rows}
    mm = jobs.get("matmul", {})
    dev = mm.get("device") or next((r.get("device") for r in rows if r.get("framework") == "pytorch"), "?")
    measured = mm.get("tflop_per_s")
    sheet, source = datasheet_bf16(dev)
    torch_v = next((r.get("torch") for r in rows if r.get("torch")), "?")
    backend = next((r.get("backend") for r in rows if r["job"].startswith("vggkit-") and r.get("backend")), "?")
    tf32 = next((r.get("tf32") for r in rows if r.get("framework") == "pytorch" and r.get("precision") == "f32"
                 and r.get("tf32")), None)

    # Rows: every (mode, batch, precision) any job was meant for, in the order they ran.
    keys = []
    for r in rows:
        m = JOB.match(r["job"])
        if m:
            k = (m.group(2), int(m.group(3)), m.group(4))
            if k not in keys:
                keys.append(k)

    print(f"Device: {dev}; PyTorch {torch_v}; vggkit on {backend}.")
    if measured:
        print(f"{mm.get('dtype')} matmul measured in this run: {fmt(measured, 0 if measured >= 10 else 3)} TFLOP/s "
              f"({mm.get('n')}^3, torch.matmul, median of {mm.get('repeats')} x {mm.get('iters')}"
              f"{'; the dry run times f32 on the CPU' if mm.get('dtype') != 'bf16' else ''}).")
    else:
        print("bf16 matmul measured in this run: - (the matmul job did not run).")
    print(f"Datasheet dense bf16: {fmt(sheet, 1)} TFLOP/s"
          f"{' (' + source + ')' if source else ' (card not in bench/gpu/peaks.py)'}.")
    print("VGG16 (GAP head, LeakyReLU 0.2, 10 classes), Adam, random inputs at the model size; img/s from the median of"
          " the rounds' median steps; vggkit TFLOP/s at 92.1 GFLOP per image per training step at 224 px (30.7 forward"
          " in eval), as a share of the measured (meas.) and datasheet (sheet) bf16 rates (f32 rows too: TF32's rate is"
          " half). f32 is TF32 on both sides: XLA's default for f32 convolutions and dots on the GPU, PyTorch's set by"
          f" vgg_bench.py ({tf32 or 'TF32 flags: see the JSON'}). bf16: vggkit's bf16 convolutions with f32 weights;"
          " PyTorch's AMP autocast. First step: the compile (vggkit: XLA compile + autotune; eager: cuDNN's"
          " autotuning; compile: torch.compile). GPU MiB: the process's memory as nvidia-smi reports it at the end"
          " (the allocator's high-water mark plus the CUDA context), same measure on both sides.\n")
    print("| mode | batch | precision | vggkit img/s | eager img/s | compile img/s | vggkit/eager | vggkit/compile "
          "| vggkit TFLOP/s (meas. / sheet) | first step s (vggkit / eager / compile) "
          "| GPU MiB (vggkit / eager / compile) | memory vggkit/eager, /compile |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for mode, bs, prec in keys:
        v = jobs.get(f"vggkit-{mode}-b{bs}-{prec}", {})
        e = jobs.get(f"torch-eager-{mode}-b{bs}-{prec}", {})
        c = jobs.get(f"torch-compile-{mode}-b{bs}-{prec}", {})
        vi, ei, ci = v.get("images_per_s"), e.get("images_per_s"), c.get("images_per_s")
        tf = v.get("tflop_per_s")
        vm = v.get("device_mb") or None
        em, cm = e.get("gpu_process_mib"), c.get("gpu_process_mib")
        print(f"| {mode} | {bs} | {prec} | {fmt(vi)} | {fmt(ei)} | {fmt(ci)} | {ratio(vi, ei)} | {ratio(vi, ci)} "
              f"| {fmt(tf, 0 if (tf or 0) >= 10 else 3)} ({pct(tf, measured)} / {pct(tf, sheet)}) "
              f"| {fmt(v.get('first_step_s'))} / {fmt(e.get('first_step_s'))} / {fmt(c.get('first_step_s'))} "
              f"| {fmt(vm, 0)} / {fmt(em, 0)} / {fmt(cm, 0)} | {ratio(vm, em)}, {ratio(vm, cm)} |")
    c1 = [r for r in rows if r["job"].endswith("-cache1") and r.get("first_step_s")]
    c2 = [r for r in rows if r["job"].endswith("-cache2") and r.get("first_step_s")]
    if c1 and c2:
        print(f"\nvggkit first step with XLA's autotune cache on disk: {c1[0]['first_step_s']:.1f}s cold,"
              f" {c2[0]['first_step_s']:.1f}s warm (batch {c2[0]['batch']}, {c2[0]['precision']}).")
    p = problems(rows)
    if p:
        print("\nJobs without a result:")
        print("\n".join(p))


if __name__ == "__main__":
    main(sys.argv[1])
