#!/usr/bin/env python3
"""The tutorial's own PyTorch training loop (VGG16 on STL-10), timed, for the headline
comparison with `vggkit train` (bench/gpu/tutorial.sh).

The tutorial: VGG16 with LeakyReLU 0.2 and a global-average-pool head (AdaptiveAvgPool2d(1)
+ Linear(512, 10)), PyTorch's default initialisation, images through
transforms.Compose([Resize(224), ToTensor(), Normalize((0.5,)*3, (0.5,)*3)]) in a
DataLoader (shuffle, 2 workers), Adam lr 1e-5, CrossEntropyLoss, a loop that calls
loss.item() every batch and prints the running loss every N batches, then the test
accuracy. Here at batch 64 (the tutorial's is 4), with its evaluation fixed: model.eval(),
torch.no_grad(), and every test image counted (the tutorial counted 4 per batch).

Variants:
  eager  as written (f32; PyTorch's TF32 defaults: cuDNN convolutions TF32, matmul not).
  fast   the same loop with AMP autocast bf16, channels_last, torch.compile, and a loader
         that keeps up (8 workers, pinned memory, persistent workers); every batch of one
         shape, as vggkit's (the last partial batch dropped in training, padded in
         evaluation), so torch.compile compiles one training and one evaluation graph.

The data: the raw uint8 files bench/dump writes (STL-10's size and count: 5000
train images of 96x96x3, 500 per class), read without numpy; as PIL images through
torchvision's transforms when torchvision is there (as the tutorial), else the same
resize + normalise with torch ops per image (the "pipeline" field says which).

Trains --epochs epochs (or stops after the epoch that passes --max-seconds), evaluates
once, prints ONE JSON line: per-epoch seconds, steady epoch time, final accuracy.

    python3 bench/torch/tutorial_loop.py --data /tmp/shapes10 --variant eager --epochs 10
"""
import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vgg_bench import VGG, gpu_process_mib, n_params, tf32_state  # noqa: E402

try:
    import numpy  # noqa: F401
    import torchvision.transforms as T
    from PIL import Image

    HAVE_TV = True
except ImportError:
    HAVE_TV = False


def read_split(d, split, meta):
    m = meta[split]
    n, h, w, c = m["n"], m["h"], m["w"], m["c"]
    with open(os.path.join(d, f"{split}_x.u8"), "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).view(n, h, w, c)
    with open(os.path.join(d, f"{split}_y.u8"), "rb") as f:
        y = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).to(torch.int64)
    assert y.numel() == n, f"{split}: {y.numel()} labels for {n} images"
    return x, y


class Images(torch.utils.data.Dataset):
    """uint8 HWC images -> the tutorial's transform, one image at a time (as STL10 + transforms)."""

    def __init__(self, x, y, size, tv):
        self.x, self.y, self.size, self.tv = x, y, size, tv
        if tv:
            self.transform = T.Compose([T.Resize(size), T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        if self.tv:
            img = Image.fromarray(self.x[i].numpy())  # what torchvision's STL10 hands the transform
            return self.transform(img), self.y[i]
        # Without torchvision: the same bilinear resize and normalisation with torch ops.
        t = self.x[i].permute(2, 0, 1).unsqueeze(0).float().div_(255)
        t = F.interpolate(t, size=(self.size, self.size), mode="bilinear", align_corners=False)[0]
        return t.sub_(0.5).div_(0.5), self.y[i]


def worker_init(_):
    torch.set_num_threads(1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder written by bench/dump")
    p.add_argument("--variant", default="eager", choices=["eager", "fast"])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--max-seconds", type=float, default=0, help="stop after the epoch that passes this much training time (0: never)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--width-div", type=int, default=1, help="divide channel counts (dry runs)")
    p.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: 2 eager, 8 fast)")
    p.add_argument("--print-every", type=int, default=20, help="print the running loss every N batches")
    p.add_argument("--init", default="torch", choices=["torch", "he"], help="torch: PyTorch's default (the tutorial's); he: vggkit's")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-torchvision", action="store_true", help="use the torch-ops transform even when torchvision is there")
    p.add_argument("--no-compile", action="store_true", help="fast without torch.compile (tests the rest of its path on PyTorch 1.x)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    fast = a.variant == "fast"
    use_compile = fast and not a.no_compile
    if use_compile and not hasattr(torch, "compile"):
        print(json.dumps({"error": f"torch.compile needs PyTorch 2.0 or newer; this is {torch.__version__}"}))
        sys.exit(3)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    if a.device == "cuda" and fast:
        torch.backends.cudnn.benchmark = True
    tv = HAVE_TV and not a.no_torchvision
    workers = a.workers if a.workers is not None else (8 if fast else 2)

    with open(os.path.join(a.data, "meta.json")) as f:
        meta = json.load(f)
    xtr, ytr = read_split(a.data, "train", meta)
    xte, yte = read_split(a.data, "test", meta)
    classes = meta["classes"]
    kw = dict(num_workers=workers, worker_init_fn=worker_init if workers else None)
    if fast:
        kw.update(pin_memory=a.device == "cuda", persistent_workers=workers > 0)
    # fast: every batch of one shape, as vggkit (a last partial batch would be another
    # torch.compile): training drops it, evaluation pads it (and counts the real images).
    trainloader = torch.utils.data.DataLoader(Images(xtr, ytr, a.size, tv), batch_size=a.batch, shuffle=True,
                                              drop_last=fast, **kw)
    testloader = torch.utils.data.DataLoader(Images(xte, yte, a.size, tv), batch_size=a.batch, shuffle=False, **kw)

    net = VGG("vgg16", act="leaky", slope=0.2, head="gap", width_div=a.width_div, classes=len(classes))
    if a.init == "torch":  # the tutorial's model is built from nn layers as they come
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.reset_parameters()
    fmt = torch.channels_last if fast else torch.contiguous_format
    net = net.to(dev, memory_format=fmt)
    model = torch.compile(net) if use_compile else net
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=a.lr)
    amp = torch.autocast(a.device, dtype=torch.bfloat16, enabled=fast)
    setup_s = time.perf_counter() - T_START

    epoch_s, losses = [], []
    t_train = time.perf_counter()
    for epoch in range(a.epochs):
        net.train()
        t0 = time.perf_counter()
        running_loss, epoch_loss, nb = 0.0, 0.0, 0
        for i, (inputs, labels) in enumerate(trainloader, 0):
            inputs = inputs.to(dev, non_blocking=fast, memory_format=fmt)
            labels = labels.to(dev, non_blocking=fast)
            optimizer.zero_grad()
            with amp:
                outputs = model(inputs)
                loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            li = loss.item()
            running_loss += li
            epoch_loss += li
            nb += 1
            if i % a.print_every == a.print_every - 1:
                print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / a.print_every:.3f}", file=sys.stderr)
                running_loss = 0.0
        epoch_s.append(time.perf_counter() - t0)
        losses.append(epoch_loss / max(nb, 1))
        print(f"epoch {epoch + 1}: {epoch_s[-1]:.2f}s, mean loss {losses[-1]:.4f}", file=sys.stderr)
        if a.max_seconds and time.perf_counter() - t_train > a.max_seconds:
            break
    train_s = time.perf_counter() - t_train

    # The tutorial's evaluation, fixed: eval mode, no gradients, every image counted.
    t0 = time.perf_counter()
    net.eval()
    correct = total = 0
    with torch.no_grad(), amp:
        for images, labels in testloader:
            images = images.to(dev, non_blocking=fast, memory_format=fmt)
            labels = labels.to(dev, non_blocking=fast)
            n = labels.size(0)
            if fast and n < a.batch:
                images = torch.cat([images, images.new_zeros((a.batch - n,) + images.shape[1:])])
                images = images.contiguous(memory_format=fmt)
            outputs = model(images)[:n]
            _, predicted = torch.max(outputs, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    eval_s = time.perf_counter() - t0
    acc = correct / total
    print(f"Accuracy of the network on the {total} test images: {100 * acc:.2f} %", file=sys.stderr)

    n = len(epoch_s)
    steady = statistics.median(epoch_s[1:]) if n > 1 else epoch_s[0]
    print(json.dumps({
        "framework": "pytorch", "torch": torch.__version__, "variant": a.variant,
        "device": torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu",
        "precision": "bf16 (autocast)" if fast else "f32", "compile": use_compile, "channels_last": fast,
        "tf32": tf32_state() if a.device == "cuda" else None,
        "pipeline": "torchvision PIL Resize+ToTensor+Normalize" if tv else "torch ops per image (no torchvision)",
        "workers": workers, "batch": a.batch, "lr": a.lr, "size": a.size, "width_div": a.width_div, "init": a.init,
        "params": n_params(net), "train_images": len(ytr), "test_images": total,
        "epochs": n, "epochs_asked": a.epochs, "epoch_s": [round(t, 3) for t in epoch_s],
        "first_epoch_s": round(epoch_s[0], 3), "steady_epoch_s": round(steady, 3),
        "steady_from": "median of epochs 2.." if n > 1 else "epoch 1 (only one)",
        "images_per_s": round(len(ytr) / steady, 1),
        "setup_s": round(setup_s, 3), "train_s": round(train_s, 3), "eval_s": round(eval_s, 3),
        "wall_s": round(time.perf_counter() - T_START, 3),
        "train_loss": round(losses[-1], 4), "accuracy": acc,
        "gpu_process_mib": gpu_process_mib() if a.device == "cuda" else None,
    }))


if __name__ == "__main__":
    main()
