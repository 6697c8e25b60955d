#!/usr/bin/env python3
"""The table of bench/gpu/tutorial.sh's results (JSONL): the tutorial's recipe trained by
`vggkit train` and by the tutorial's own PyTorch loop, minutes for its 100 epochs
(extrapolated from the epochs measured) and the final test accuracy, as markdown.

    python3 bench/gpu/tutorial_table.py bench/gpu/results/2026-12-01-h200-tutorial.jsonl
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import problems  # noqa: E402

RUNS = [
    ("tutorial-torch-eager", "tutorial's PyTorch loop, eager, as written (eval fixed)", "f32"),
    ("tutorial-vggkit-f32", "vggkit train", "f32"),
    ("tutorial-vggkit-bf16", "vggkit train", "bf16"),
    ("tutorial-torch-fast", "tutorial's loop + AMP bf16, channels_last, torch.compile", "bf16"),
    ("tutorial-torch-fast-nocompile", "tutorial's loop + AMP bf16, channels_last (no compile: dry run only)", "bf16"),
]
EPOCHS = 100  # the tutorial's


def minutes100(r):
    """The tutorial's 100 epochs: the measured wall (start-up, compiles, the measured
    epochs, the evaluation) plus the remaining epochs at the steady epoch time."""
    if not r.get("epochs") or r.get("steady_epoch_s") is None or r.get("wall_s") is None:
        return None
    return (r["wall_s"] + (EPOCHS - r["epochs"]) * r["steady_epoch_s"]) / 60


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    jobs = {r["job"]: r for r in rows}
    dev = next((r.get("device") for r in rows if r.get("framework") == "pytorch" and r.get("device")), "?")
    torch_v = next((r.get("torch") for r in rows if r.get("torch")), "?")
    eager = jobs.get("tutorial-torch-eager", {})
    vk = next((r for r in rows if r.get("framework") == "vggkit"), {})
    n_train = eager.get("train_images") or "?"
    n_test = eager.get("test_images") or "?"
    size = eager.get("size") or "?"
    batch = eager.get("batch") or "?"
    backend = (vk.get("backend") or "?").removeprefix("backend ").split(" (")[0]
    small = f" (dry run: width/{eager['width_div']})" if (eager.get("width_div") or 1) > 1 else ""
    print(f"Device: {dev}; PyTorch {torch_v}; vggkit on {backend}.")
    print(f"The tutorial's recipe{small}: VGG16, LeakyReLU 0.2, GAP head, {size} px input, Normalize(0.5, 0.5), Adam"
          f" lr 1e-5 constant, no augmentation, batch {batch} (vggkit: -arch vgg16 -act leaky -head gap -size {size}"
          f" -batch {batch} -lr 1e-5 -schedule constant -augment none). Data: vggkit's Shapes10 at 96 px standing in"
          " for STL-10, which cannot be downloaded on the device machine, resized to the input size (vggkit in the"
          " graph; PyTorch with the tutorial's transforms on each image, in its DataLoader):"
          f" {n_train} train images (STL-10: 5000, 500 per class), {n_test} test images (STL-10: 8000)."
          " Initialisation: PyTorch's default in the tutorial's loop (as written), He in vggkit. f32: TF32"
          " convolutions on both sides (cuDNN's and XLA's defaults).")
    print("Minutes for 100 epochs are EXTRAPOLATED: the measured wall time (start-up, compiles, the epochs run,"
          " the one evaluation) plus the remaining epochs at the median epoch time after the first. Accuracy: the"
          " test set after the epochs measured, not after 100.\n")
    print("| run | precision | epochs measured | first epoch s | steady epoch s | img/s | wall s "
          "| 100 epochs, min (extrapolated) | test accuracy after the measured epochs | 100-epoch time / vggkit's |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    m = {k: minutes100(jobs.get(k, {})) for k, _, _ in RUNS}
    for key, what, prec in RUNS:
        r = jobs.get(key)
        if r is None:
            continue
        if r.get("failed") is not None or r.get("skipped"):
            print(f"| {what} | {prec} | - | - | - | - | - | - | - | - |")
            continue
        acc = r.get("accuracy")
        accs = "-" if acc is None else f"{100 * acc:.2f} %"
        if r.get("stopped_at_limit"):
            accs += " (stopped at its time limit)"
        vs = "-"
        if key.startswith("tutorial-torch") and m[key]:
            parts = []
            for vkey in (f"tutorial-vggkit-{prec}",) + (("tutorial-vggkit-bf16",) if prec == "f32" else ()):
                if m.get(vkey):
                    parts.append(f"{m[key] / m[vkey]:.2f}x vggkit {vkey.rsplit('-', 1)[1]}")
            vs = "; ".join(parts) or "-"
        print(f"| {what} | {prec} | {r['epochs']} | {r['first_epoch_s']:.1f} | {r['steady_epoch_s']:.2f} "
              f"| {r['images_per_s'] or 0:.0f} | {r['wall_s']:.0f} | {m[key]:.1f} | {accs} | {vs} |")
    p = problems(rows)
    if p:
        print("\nJobs without a result:")
        print("\n".join(p))


if __name__ == "__main__":
    main(sys.argv[1])
