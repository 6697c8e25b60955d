#!/usr/bin/env python3
"""The card's matrix rate, measured: PyTorch bf16 matmul N x N x N (default 8192^3),
timed in the same run as the VGG jobs, so bench/gpu/table.py can state TFLOP/s as a share
of what this card does (beside the datasheet's figure, bench/gpu/peaks.py). Prints ONE
JSON line.

    python3 bench/gpu/matmul.py                                   # GPU: bf16 8192^3
    python3 bench/gpu/matmul.py --device cpu --n 512 --dtype f32  # the dry run
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peaks import datasheet_bf16  # noqa: E402

import torch  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--n", type=int, default=8192)
    p.add_argument("--dtype", default="bf16", choices=["bf16", "f32"])
    p.add_argument("--iters", type=int, default=20, help="matmuls per timed repeat")
    p.add_argument("--repeats", type=int, default=5, help="timed repeats; the rate is the median's")
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    dev = torch.device(a.device)
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    g = torch.Generator(device=dev).manual_seed(0) if a.device == "cuda" else torch.Generator().manual_seed(0)
    x = torch.randn(a.n, a.n, device=dev, generator=g).to(dtype)
    w = torch.randn(a.n, a.n, device=dev, generator=g).to(dtype)
    out = torch.empty(a.n, a.n, device=dev, dtype=dtype)
    for _ in range(a.warmup):
        torch.matmul(x, w, out=out)
    sync()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(a.iters):
            torch.matmul(x, w, out=out)
        sync()
        times.append((time.perf_counter() - t0) / a.iters)
    med = statistics.median(times)
    name = torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu"
    peak, source = datasheet_bf16(name)
    print(json.dumps({
        "framework": "pytorch", "torch": torch.__version__, "device": name, "what": "matmul",
        "n": a.n, "dtype": a.dtype, "iters": a.iters, "repeats": a.repeats,
        "ms_per_matmul": round(med * 1e3, 4),
        "tflop_per_s": round(2 * a.n ** 3 / med / 1e12, 3),
        "tflop_per_s_best": round(2 * a.n ** 3 / min(times) / 1e12, 3),
        "datasheet_bf16_tflops": peak, "datasheet_source": source,
    }))


if __name__ == "__main__":
    main()
