#!/usr/bin/env python3
"""PyTorch reference (CPU or CUDA) for the vggkit side-by-side benchmarks.

Builds the VGG family exactly as torchvision's `cfgs` (A=vgg11, B=vgg13, D=vgg16,
E=vgg19), times training or inference steps on random data, and prints ONE JSON line.

    /usr/bin/python3 bench/torch/vgg_bench.py --arch vgg16 --head gap --width-div 4 \
        --size 32 --batch 8 --mode train --warmup 3 --steps 20 --threads 2
    python3 bench/torch/vgg_bench.py --device cuda --size 224 --batch 128 \
        --precision bf16 --channels-last --compile --rounds 3 --steps 10
    /usr/bin/python3 bench/torch/vgg_bench.py --check-params

Each timed step ends with loss.item() (eval: a copy of the logits to the host), as a
tutorial's loop does and as vggkit's Fit does: both wait for the step each time.
"""

import argparse
import json
import os
import resource
import subprocess
import statistics
import sys
import time

import torch
import torch.nn as nn

M = "M"

# torchvision.models.vgg.cfgs
CFGS = {
    "vgg11": [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],  # A
    "vgg13": [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],  # B
    "vgg16": [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M],  # D
    "vgg19": [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M,
              512, 512, 512, 512, M],  # E
}


def scaled(n, width_div):
    """Channel count n divided by width_div (same rounding as vggkit's Config.Channels)."""
    return max(1, int(n / width_div + 0.5))


def make_act(act, slope):
    if act == "leaky":
        return nn.LeakyReLU(slope, inplace=True)
    return nn.ReLU(inplace=True)


class VGG(nn.Module):
    def __init__(self, arch="vgg16", bn=False, act="relu", slope=0.2, head="gap",
                 width_div=1, classes=10, dropout=0.5):
        super().__init__()
        layers = []
        cin = 3
        for v in CFGS[arch]:
            if v == M:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            cout = scaled(v, width_div)
            layers.append(nn.Conv2d(cin, cout, kernel_size=3, padding=1))
            if bn:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(make_act(act, slope))
            cin = cout
        self.features = nn.Sequential(*layers)
        if head == "gap":
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.classifier = nn.Linear(cin, classes)
        elif head == "classic":
            # torchvision's classifier; the hidden width scales with width_div as in vggkit.
            hidden = scaled(4096, width_div)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(cin * 7 * 7, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                nn.Linear(hidden, classes),
            )
        else:
            raise ValueError(f"unknown head {head!r}")
        self._init_weights()

    def _init_weights(self):
        # torchvision's VGG init: He (kaiming normal, fan_out) for convs.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


# Known counts (torchvision docs for the classic 1000-class models).
EXPECTED = [
    (dict(arch="vgg16", head="classic", classes=1000), 138_357_544),
    (dict(arch="vgg16", head="gap", classes=10), 14_719_818),
    (dict(arch="vgg11", head="classic", classes=1000), 132_863_336),
    (dict(arch="vgg13", head="classic", classes=1000), 133_047_848),
    (dict(arch="vgg19", head="classic", classes=1000), 143_667_240),
    (dict(arch="vgg11", head="classic", classes=1000, bn=True), 132_868_840),
    (dict(arch="vgg13", head="classic", classes=1000, bn=True), 133_053_736),
    (dict(arch="vgg16", head="classic", classes=1000, bn=True), 138_365_992),
    (dict(arch="vgg19", head="classic", classes=1000, bn=True), 143_678_248),
]


def check_params():
    ok = True
    for kw, want in EXPECTED:
        got = n_params(VGG(**kw))
        good = got == want
        ok &= good
        print(json.dumps({**kw, "params": got, "expected": want, "ok": good}))
    assert ok, "parameter counts differ from torchvision"
    print("check-params: all OK")


def gpu_process_mib():
    """This process's GPU memory as nvidia-smi reports it (what vggkit's bench reports too)."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        f = [v.strip() for v in line.split(",")]
        if len(f) == 2 and f[0] == str(os.getpid()):
            return float(f[1])
    return None


def new_tf32_api():
    """Whether this PyTorch has the fp32_precision flags (2.9+). Older ones raise
    AssertionError, not AttributeError, for unknown attributes of torch.backends.cuda.matmul."""
    try:
        torch.backends.cuda.matmul.fp32_precision  # noqa: B018
        torch.backends.cudnn.conv.fp32_precision  # noqa: B018
        return True
    except (AttributeError, AssertionError):
        return False


def enable_tf32():
    """TF32 for f32 matmuls and cuDNN convolutions; returns what was set (for the record).

    PyTorch 2.9 and later have fp32_precision and raise when the legacy allow_tf32 flags
    and the new API are mixed (Inductor reads the new one), so there only the new API is
    used; older versions (1.13 .. 2.8) get the allow_tf32 flags."""
    matmul = torch.backends.cuda.matmul
    conv = getattr(torch.backends.cudnn, "conv", None)
    if new_tf32_api():
        matmul.fp32_precision = "tf32"
        conv.fp32_precision = "tf32"
        return "fp32_precision=tf32 (cuda.matmul, cudnn.conv)"
    matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    return "allow_tf32=True (cuda.matmul, cudnn)"


def tf32_state():
    """The TF32 settings as PyTorch reports them (nothing set: its defaults)."""
    try:
        matmul = torch.backends.cuda.matmul
        conv = getattr(torch.backends.cudnn, "conv", None)
        if new_tf32_api():
            return f"matmul {matmul.fp32_precision}, cudnn.conv {conv.fp32_precision}"
        return f"matmul allow_tf32={matmul.allow_tf32}, cudnn allow_tf32={torch.backends.cudnn.allow_tf32}"
    except Exception as e:  # noqa: BLE001 - only a record
        return f"unknown ({e})"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="vgg16", choices=sorted(CFGS))
    p.add_argument("--bn", action="store_true", help="batch norm after each conv (the _bn variants)")
    p.add_argument("--act", default="leaky", choices=["leaky", "relu"])
    p.add_argument("--slope", type=float, default=0.2, help="LeakyReLU negative slope")
    p.add_argument("--head", default="gap", choices=["gap", "classic"])
    p.add_argument("--dropout", type=float, default=0.5, help="classic head only")
    p.add_argument("--width-div", type=int, default=1, help="divide all channel counts by N")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--size", type=int, default=32, help="input height = width")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    p.add_argument("--lr", type=float, default=None, help="default 1e-3 (adam) / 1e-2 (sgd)")
    p.add_argument("--momentum", type=float, default=0.9, help="sgd only")
    p.add_argument("--mode", default="train", choices=["train", "eval"])
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before measuring")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format for model and input")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--precision", default="f32", choices=["f32", "bf16"],
                   help="bf16: autocast (AMP) to bfloat16, f32 weights and loss")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (and the train step's backward)")
    p.add_argument("--rounds", type=int, default=1, help="timed rounds of --steps steps; img/s from the median round")
    p.add_argument("--check-params", action="store_true", help="verify parameter counts and exit")
    a = p.parse_args(argv)
    if a.size < 32:
        p.error("--size must be >= 32 (five 2x2 max-pools)")
    if a.width_div < 1 or a.batch < 1 or a.steps < 1 or a.warmup < 0 or a.rounds < 1:
        p.error("--width-div, --batch, --steps must be >= 1 and --warmup >= 0")
    if a.lr is None:
        a.lr = 1e-3 if a.optimizer == "adam" else 1e-2
    return a


def main(argv=None):
    a = parse_args(argv)
    if a.check_params:
        check_params()
        return
    if a.threads is not None:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    dev = torch.device(a.device)
    tf32 = None
    if a.device == "cuda":
        # PyTorch's defaults on Ampere and later: TF32 for convolutions (cuDNN) is on; XLA
        # uses TF32 for f32 convolutions and matmuls too, so allow it for matmuls as well
        # (what torch.compile's f32 comparisons want: Inductor warns without it).
        tf32 = enable_tf32()
        torch.backends.cudnn.benchmark = True
    if a.compile and not hasattr(torch, "compile"):
        print(json.dumps({"error": f"torch.compile needs PyTorch 2.0 or newer; this is {torch.__version__}"}))
        sys.exit(3)
    model = VGG(a.arch, a.bn, a.act, a.slope, a.head, a.width_div, a.classes, a.dropout)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(dev, memory_format=fmt)
    x = torch.randn(a.batch, 3, a.size, a.size, dtype=torch.float32, device=dev).contiguous(memory_format=fmt)
    y = torch.randint(0, a.classes, (a.batch,), device=dev)
    run = torch.compile(model) if a.compile else model
    amp = torch.autocast(a.device, dtype=torch.bfloat16, enabled=a.precision == "bf16")

    if a.mode == "train":
        model.train()
        loss_fn = nn.CrossEntropyLoss()
        if a.optimizer == "adam":
            opt = torch.optim.Adam(model.parameters(), lr=a.lr)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)

        def step():
            opt.zero_grad(set_to_none=True)
            with amp:
                loss = loss_fn(run(x), y)
            loss.backward()
            opt.step()
            return loss.item()
    else:
        model.eval()

        def step():
            with torch.no_grad(), amp:
                return run(x).float().cpu()

    # The first step holds torch.compile's compile (or cuDNN's autotuning): timed apart.
    t0 = time.perf_counter()
    step()
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(a.warmup):
        step()
    warmup_s = time.perf_counter() - t0

    round_medians = []
    times = []
    last = None
    for _ in range(a.rounds):
        rt = []
        for _ in range(a.steps):
            t = time.perf_counter()
            last = step()
            rt.append(time.perf_counter() - t)
        round_medians.append(statistics.median(rt))
        times += rt
    if a.mode == "train" and not (last == last and abs(last) != float("inf")):
        print("warning: non-finite loss", file=sys.stderr)

    med = statistics.median(round_medians)
    out = {
        "framework": "pytorch",
        "torch": torch.__version__,
        "arch": a.arch + ("_bn" if a.bn else ""),
        "head": a.head,
        "width_div": a.width_div,
        "size": a.size,
        "batch": a.batch,
        "mode": a.mode,
        "optimizer": a.optimizer if a.mode == "train" else None,
        "images_per_s": round(a.batch / med, 3),
        "step_ms_median": round(med * 1e3, 3),
        "warmup_s": round(warmup_s, 3),
        "first_step_s": round(first_s, 3),
        "step_ms_per_round": [round(t * 1e3, 3) for t in round_medians],
        "device": torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu",
        "precision": a.precision,
        "compile": a.compile,
        "tf32": tf32_state() if a.device == "cuda" else None,
        "tf32_set": tf32,
        "gpu_max_reserved_mib": round(torch.cuda.max_memory_reserved() / 2**20, 1) if a.device == "cuda" else None,
        "gpu_process_mib": gpu_process_mib() if a.device == "cuda" else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": torch.get_num_threads(),
        "params": n_params(model),
        # extras
        "act": a.act if a.act == "relu" else f"leaky{a.slope:g}",
        "classes": a.classes,
        "channels_last": a.channels_last,
        "lr": a.lr if a.mode == "train" else None,
        "warmup": a.warmup,
        "steps": a.steps,
        "step_ms_min": round(min(times) * 1e3, 3),
        "step_ms_max": round(max(times) * 1e3, 3),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
