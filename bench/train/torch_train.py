#!/usr/bin/env python3
"""PyTorch side of the whole-run benchmark (bench/train/README.md).

The same run as `vggkit train` with the flags bench/train/bench.py gives it: VGG16 (or
--arch) with the GAP head, LeakyReLU 0.2, He-normal init (fan_in, as GoMLX's default
initializer: std sqrt(2/fan_in) for conv kernels and the Linear weight, zero biases),
Adam (betas 0.9, 0.999; epsilon 1e-7 as GoMLX's, torch's default is 1e-8), constant
learning rate, cross-entropy, no augmentation, the first --limit training images,
shuffled each epoch, last partial batch dropped, no evaluation. It reads the same files vggkit reads:

  --format idx    MNIST-format IDX files (train-images-idx3-ubyte[.gz], ...) in --data
  --format cifar  CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin) in --data
  --format raw    bench/dump's Shapes10 dump (train_x.u8, train_y.u8, meta.json)

Both splits are read, as vggkit reads both. Grey images are given 3 channels at load
(vggkit's default for MNIST-format sets). Preprocessing as vggkit's graph: bilinear
resize with half-pixel centres (F.interpolate(mode="bilinear", align_corners=False,
antialias=False), which is what torchvision.transforms.functional.resize does for
tensors with antialias=False; only upsampling happens here, where antialiasing would
not apply anyway), then (x/255 - 0.5)/0.5.

  --variant dataloader  a Dataset over the uint8 images, converted, resized and
                        normalised per image in __getitem__, batched by a DataLoader
                        (shuffle, drop_last, --workers processes; 0: in the main one)
  --variant memory      every training image converted and resized once, before the
                        first epoch, into one float tensor; batches are index_select
                        of a random permutation (PyTorch at its fastest)

It prints one line per epoch, "epoch k/E: train loss L, train acc A% (S s, R img/s)",
the format of vggkit's, which bench.py timestamps, and at the end one JSON line
("result": {...}) with its own timings.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

T0 = time.time()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
from vgg_bench import VGG  # noqa: E402  bench/torch: the same models as vggkit

IMPORT_S = time.time() - T0


def open_maybe_gz(path):
    if os.path.exists(path):
        return open(path, "rb")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    raise FileNotFoundError(path + "[.gz]")


def read_idx(path):
    with open_maybe_gz(path) as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_idx(d, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(d, f"{prefix}-images-idx3-ubyte"))  # [N,28,28]
    y = read_idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte"))
    x = np.repeat(x[:, None, :, :], 3, axis=1)  # grey -> RGB at load, as vggkit
    return x, y.astype(np.int64)


def load_cifar(d, split):
    if os.path.isdir(os.path.join(d, "cifar-10-batches-bin")):
        d = os.path.join(d, "cifar-10-batches-bin")
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    recs = np.concatenate([np.fromfile(os.path.join(d, n), np.uint8).reshape(-1, 3073) for n in names])
    return recs[:, 1:].reshape(-1, 3, 32, 32), recs[:, 0].astype(np.int64)


def load_raw(d, split):
    meta = json.load(open(os.path.join(d, "meta.json")))[split]
    x = np.fromfile(os.path.join(d, f"{split}_x.u8"), np.uint8).reshape(meta["n"], meta["h"], meta["w"], meta["c"])
    y = np.fromfile(os.path.join(d, f"{split}_y.u8"), np.uint8).astype(np.int64)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)), y


LOADERS = {"idx": load_idx, "cifar": load_cifar, "raw": load_raw}


def preprocess(x, size):
    """uint8 [B,C,H,W] -> normalised float [B,C,size,size], as vggkit's graph."""
    x = x.float()
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return (x / 255.0 - 0.5) / 0.5


class Images(torch.utils.data.Dataset):
    def __init__(self, x, y, size):
        self.x, self.y, self.size = torch.from_numpy(x), torch.from_numpy(y), size

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return preprocess(self.x[i][None], self.size)[0], self.y[i]


def he_init(model):
    """GoMLX's default initializer: normal with std sqrt(2/fan_in) for every weight of
    rank >= 2, zero biases."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(m.bias)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", required=True, choices=sorted(LOADERS))
    p.add_argument("--data", required=True, help="folder with the dataset's files")
    p.add_argument("--limit", type=int, required=True, help="train on the first N training images")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--arch", default="vgg16")
    p.add_argument("--width-div", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--variant", default="memory", choices=["memory", "dataloader"])
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: all cores)")
    p.add_argument("--channels-last", action="store_true", help="NHWC memory format for model and input")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads or os.cpu_count())
    torch.manual_seed(a.seed)
    load = LOADERS[a.format]
    t = time.time()
    x, y = load(a.data, "train")
    load(a.data, "test")  # vggkit loads the test split too
    x, y = x[:a.limit], y[:a.limit]
    classes = 10
    model = VGG(arch=a.arch, head="gap", act="leaky", slope=0.2, width_div=a.width_div, classes=classes)
    he_init(model)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, eps=1e-7)  # GoMLX Adam's epsilon
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    steps = len(y) // a.batch
    if steps == 0:
        sys.exit(f"--limit {a.limit} holds no full batch of {a.batch}")
    if a.variant == "memory":
        xs, ys = preprocess(torch.from_numpy(x), a.size).contiguous(memory_format=fmt), torch.from_numpy(y)

        def batches():
            perm = torch.randperm(len(ys), generator=gen)
            for s in range(steps):
                idx = perm[s * a.batch:(s + 1) * a.batch]
                yield xs.index_select(0, idx), ys.index_select(0, idx)
    else:
        dl = torch.utils.data.DataLoader(Images(x, y, a.size), batch_size=a.batch, shuffle=True, drop_last=True,
                                         num_workers=a.workers, generator=gen, persistent_workers=a.workers > 0)

        def batches():
            for xb, yb in dl:
                yield xb.contiguous(memory_format=fmt), yb
    setup_s = time.time() - t
    epochs = []
    model.train()
    for e in range(1, a.epochs + 1):
        t = time.time()
        loss_sum, acc = 0.0, 0.0
        for xb, yb in batches():
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item()  # vggkit brings each step's loss and accuracy back too
            acc = (logits.argmax(1) == yb).float().mean().item()
        sec = time.time() - t
        epochs.append({"epoch": e, "seconds": sec, "images_per_sec": steps * a.batch / sec})
        print(f"epoch {e}/{a.epochs}: train loss {loss_sum / steps:.4f}, train acc {100 * acc:.2f}% "
              f"({sec:.1f}s, {steps * a.batch / sec:.1f} img/s)", flush=True)
    print("result: " + json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                                   "variant": a.variant, "workers": a.workers, "import_s": IMPORT_S,
                                   "setup_s": setup_s, "steps_per_epoch": steps, "epochs": epochs}), flush=True)


if __name__ == "__main__":
    main()
