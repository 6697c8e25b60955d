#!/usr/bin/env python3
"""torchvision reference for the vggkit input-pipeline benchmark (bench/pipeline/run.sh).

An STL-10-like dataset held in memory as torchvision.datasets.STL10 holds it (uint8
N x 3 x 96 x 96, one PIL image made per __getitem__), fed through a DataLoader
(num_workers=2, batch 64, shuffle, drop_last, persistent workers). Prints ONE JSON line.

  --mode host224: Resize(224), RandomCrop(224, padding=28), RandomHorizontalFlip(),
                  ToTensor(), Normalize(0.5, 0.5): what vggkit's loader does on the host
                  with Size 224 + Crop + Flip (vggkit stays uint8: normalising is in its graph).
  --mode host224u8: the same without ToTensor + Normalize (PILToTensor: uint8 CHW out),
                  the like-for-like output of vggkit's host path.
  --mode raw96:   PILToTensor() only: uint8 96 px batches, like vggkit's default path.

    /usr/bin/python3 bench/pipeline/torchvision_loader.py --mode host224 --batches 150
"""

import argparse
import json
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T


class InMemorySTL10(Dataset):
    """torchvision.datasets.STL10's __getitem__ on random pixels (no files)."""

    def __init__(self, n, size, transform, seed=1):
        rng = np.random.default_rng(seed)
        self.data = rng.integers(0, 256, size=(n, 3, size, size), dtype=np.uint8)
        self.labels = (np.arange(n) % 10).astype(np.int64)
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        img = Image.fromarray(np.transpose(self.data[i], (1, 2, 0)))
        return self.transform(img), int(self.labels[i])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["host224", "host224u8", "raw96"], default="host224")
    p.add_argument("--images", type=int, default=5000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batches", type=int, default=150, help="timed batches (after the first)")
    a = p.parse_args()
    if a.mode == "host224":
        tf = T.Compose([T.Resize(224), T.RandomCrop(224, padding=28), T.RandomHorizontalFlip(),
                        T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    elif a.mode == "host224u8":
        tf = T.Compose([T.Resize(224), T.RandomCrop(224, padding=28), T.RandomHorizontalFlip(),
                        T.PILToTensor()])
    else:
        tf = T.PILToTensor()
    ds = InMemorySTL10(a.images, 96, tf)
    dl = DataLoader(ds, batch_size=a.batch, shuffle=True, drop_last=True, num_workers=a.workers,
                    persistent_workers=a.workers > 0)
    n, t0, shape = 0, None, None
    while n <= a.batches:
        for x, _ in dl:
            if t0 is None:
                t0 = time.perf_counter()  # the first batch pays for starting the workers.
                shape = list(x.shape)
            n += 1
            if n > a.batches:
                break
    secs = time.perf_counter() - t0
    print(json.dumps({"mode": a.mode, "batch": a.batch, "workers": a.workers, "batches": a.batches,
                      "shape": shape, "dtype": str(x.dtype), "seconds": secs,
                      "images_per_s": a.batches * a.batch / secs,
                      "torch": torch.__version__, "torchvision": __import__("torchvision").__version__}))


if __name__ == "__main__":
    main()
