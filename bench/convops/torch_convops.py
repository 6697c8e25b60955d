"""PyTorch counterpart of convops/main.go: median ms per VGG16 3x3 convolution (no bias, as
there), forward, gradient wrt input and gradient wrt weight (aten.convolution_backward),
channels-first as in bench/torch/vgg_bench.py. Usage: torch_convops.py [--size 96] [--width-div 4] [--batch 32]"""
import argparse, json, statistics, time
import torch

CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

def timeit(reps, f):
    f(); f()
    t = []
    for _ in range(reps):
        s = time.perf_counter(); f(); t.append((time.perf_counter() - s) * 1e3)
    return statistics.median(t)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=96)
    p.add_argument("--width-div", type=int, default=4)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    h, cin, rows = a.size, 3, []
    for v in CFG:
        if v == "M":
            h //= 2
            continue
        cout = v // a.width_div
        x = torch.randn(a.batch, cin, h, h)
        w = torch.randn(cout, cin, 3, 3)
        g = torch.randn(a.batch, cout, h, h)
        conv = lambda: torch.nn.functional.conv2d(x, w, None, padding=1)
        def back(mask):
            return lambda: torch.ops.aten.convolution_backward(
                g, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)
        with torch.no_grad():
            r = {"H": h, "Cin": cin, "Cout": cout, "Fwd": timeit(a.reps, conv),
                 "WGrad": timeit(a.reps, back([False, True, False]))}
            if cin != 3:
                r["DGrad"] = timeit(a.reps, back([True, False, False]))
        rows.append(r)
        cin = cout
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))

main()
