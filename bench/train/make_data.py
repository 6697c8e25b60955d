#!/usr/bin/env python3
"""Writes the whole-run benchmark's synthetic datasets, in the formats vggkit reads
(numpy only; any python3 with numpy):

  make_data.py cifar DIR   CIFAR-10 binary release layout: DIR/cifar-10-batches-bin/
                           data_batch_1..5.bin (10,000 records each), test_batch.bin,
                           batches.meta.txt; a record is 1 label byte + 3072 bytes
                           (R, G, B planes of 32x32). Content: a coloured square whose
                           colour and size follow the class, at a random place, on noise.
  make_data.py mnist DIR   MNIST IDX files (the official counts vggkit requires:
                           60,000 train and 10,000 test images of 28x28, grey), gzipped:
                           oriented stripes whose angle follows the class, plus noise.
                           Only used when Debian's fashion-mnist is absent.

Both are learnable (a small CNN separates the classes) and deterministic (seeded).
Skips the writing when DIR already holds a complete set.
"""
import gzip
import os
import struct
import sys

import numpy as np

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def cifar_images(rng, n):
    labels = rng.integers(0, 10, n).astype(np.uint8)
    colours = np.array([[230, 40, 40], [40, 200, 40], [40, 60, 230], [230, 230, 40], [230, 40, 230],
                        [40, 230, 230], [240, 140, 30], [140, 60, 200], [250, 250, 250], [120, 120, 120]], np.int16)
    yy, xx = np.mgrid[0:32, 0:32]
    half = 4 + (labels % 3) * 2  # 4, 6 or 8
    cx, cy = rng.integers(9, 23, n), rng.integers(9, 23, n)
    mask = (np.abs(xx[None] - cx[:, None, None]) < half[:, None, None]) & \
           (np.abs(yy[None] - cy[:, None, None]) < half[:, None, None])
    img = rng.integers(0, 90, (n, 32, 32, 3), dtype=np.int16)
    img = np.where(mask[..., None], colours[labels][:, None, None, :], img)
    return img.astype(np.uint8), labels


def write_cifar(root):
    d = os.path.join(root, "cifar-10-batches-bin")
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    if all(os.path.exists(os.path.join(d, n)) for n in names + ["batches.meta.txt"]):
        return
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(15)
    for name in names:
        img, labels = cifar_images(rng, 10000)
        rec = np.concatenate([labels[:, None], img.transpose(0, 3, 1, 2).reshape(10000, 3072)], axis=1)
        rec.tofile(os.path.join(d, name + ".part"))
        os.replace(os.path.join(d, name + ".part"), os.path.join(d, name))
    with open(os.path.join(d, "batches.meta.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")


def mnist_images(rng, n):
    labels = rng.integers(0, 10, n).astype(np.uint8)
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    theta = labels.astype(np.float32) * (np.pi / 10)
    phase = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
    u = xx[None] * np.cos(theta)[:, None, None] + yy[None] * np.sin(theta)[:, None, None]
    img = 128 + 90 * np.sin(2 * np.pi * u / 7 + phase[:, None, None]) + rng.normal(0, 25, (n, 28, 28))
    return np.clip(img, 0, 255).astype(np.uint8), labels


def write_idx(path, arr):
    header = struct.pack(">I", 0x0800 | arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    with gzip.open(path + ".part", "wb", compresslevel=1) as f:
        f.write(header + arr.tobytes())
    os.replace(path + ".part", path)


def write_mnist(d):
    files = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000),
             "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000)}
    if all(os.path.exists(os.path.join(d, f)) for im, lb, _ in files.values() for f in (im, lb)):
        return
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(28)
    for im, lb, n in files.values():
        img, labels = mnist_images(rng, n)
        write_idx(os.path.join(d, im), img)
        write_idx(os.path.join(d, lb), labels)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("cifar", "mnist"):
        sys.exit(__doc__)
    {"cifar": write_cifar, "mnist": write_mnist}[sys.argv[1]](sys.argv[2])
