#!/usr/bin/env python3
"""Table of bench/gpu/run.sh's results.jsonl: vggkit beside PyTorch eager and torch.compile."""
import json
import sys

PEAK_BF16_TFLOPS = 790  # dense bf16 matmul measured on the lent H100/H200 (PyTorch, 8192^3)


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    jobs = {r["job"]: r for r in rows}
    for r in rows:
        if r.get("failed") is not None or r.get("skipped"):
            print(f"- {r['job']}: {'skipped (time budget)' if r.get('skipped') else 'failed, exit %s' % r['failed']}")
    dev = next((r.get("device") for r in rows if r.get("framework") == "pytorch"), "?")
    print(f"\nDevice: {dev}. VGG16 (GAP head, LeakyReLU 0.2, 10 classes), Adam, random inputs at the model size.")
    print("img/s from the median of 3 rounds' median steps; TFLOP/s at 92.2 GFLOP per image per training step"
          " (30.7 forward); % of the bf16 matmul rate measured on this card type (~790 TFLOP/s).\n")
    print("| mode | batch | precision | vggkit img/s | TFLOP/s (% bf16 peak) | vggkit first step s | vggkit GPU MiB "
          "| torch eager img/s | torch.compile img/s | torch first step s (eager / compile) | torch GPU MiB "
          "| vggkit/eager | vggkit/compile |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    keys = []
    for r in rows:
        j = r["job"]
        if j.startswith("vggkit-") and "-cache" not in j and r.get("images_per_s"):
            keys.append((r["mode"], r["batch"], r["precision"]))
    for mode, bs, prec in keys:
        v = jobs.get(f"vggkit-{mode}-b{bs}-{prec}", {})
        e = jobs.get(f"torch-eager-{mode}-b{bs}-{prec}", {})
        c = jobs.get(f"torch-compile-{mode}-b{bs}-{prec}", {})
        vi, ei, ci = v.get("images_per_s"), e.get("images_per_s"), c.get("images_per_s")
        tf = v.get("tflop_per_s") or 0
        fmt = lambda x, d=1: "-" if x is None else f"{x:.{d}f}"
        ratio = lambda a, b: "-" if not a or not b else f"{a / b:.2f}x"
        print(f"| {mode} | {bs} | {prec} | {fmt(vi)} | {tf:.0f} ({100 * tf / PEAK_BF16_TFLOPS:.0f}%) "
              f"| {fmt(v.get('first_step_s'))} | {fmt(v.get('device_mb'), 0)} | {fmt(ei)} | {fmt(ci)} "
              f"| {fmt(e.get('first_step_s'))} / {fmt(c.get('first_step_s'))} | {fmt(e.get('gpu_process_mib'), 0)} "
              f"| {ratio(vi, ei)} | {ratio(vi, ci)} |")
    c1 = [r for r in rows if r["job"].endswith("-cache1") and r.get("first_step_s")]
    c2 = [r for r in rows if r["job"].endswith("-cache2") and r.get("first_step_s")]
    if c1 and c2:
        print(f"\nvggkit first step with XLA's autotune cache on disk: {c1[0]['first_step_s']:.1f}s cold,"
              f" {c2[0]['first_step_s']:.1f}s warm (batch {c2[0]['batch']}, {c2[0]['precision']}).")


if __name__ == "__main__":
    main(sys.argv[1])
