#!/usr/bin/env python3
"""Driver of the whole-run benchmark (bench/train/README.md); bench/train/run.sh calls it.

Runs each row's sides in pairs (vggkit, then each PyTorch side; every other pair in the
reverse order), timestamps each side's "epoch k/E:" lines from outside the process
(the same clock for both: epoch 1 runs from the process's start, so it holds start-up,
data loading and, for vggkit, the graph's compilation; epoch k > 1 runs from line k-1 to
line k), takes the peak RSS from wait4, appends one JSON line per side to the results
file and prints the markdown table. Needs only the standard library.

  bench.py --results FILE --vggkit bin/vggkit --torch NAME=PYTHON [--torch ...]
           [--dry-run] [--pairs N] [--epochs E] [--rows NAME,...] [--unquiet]
"""
import argparse
import collections
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, ".build", "bench-train")
EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+): .*\(([\d.]+)s, ([\d.]+) img/s\)")

# name, dataset, size, width divisor, batch, images per epoch (a multiple of the batch).
# Images per epoch give about 5 s per epoch on a quiet 2-core machine.
ROWS = [
    ("grey28-32px-w1/4-b32", "grey28", 32, 4, 32, 4096),
    ("grey28-32px-w1/4-b128", "grey28", 32, 4, 128, 4096),
    ("grey28-32px-full-b32", "grey28", 32, 1, 32, 384),
    ("grey28-32px-full-b128", "grey28", 32, 1, 128, 384),
    ("cifar-32px-w1/4-b32", "cifar", 32, 4, 32, 4096),
    ("cifar-32px-w1/4-b128", "cifar", 32, 4, 128, 4096),
    ("cifar-32px-full-b32", "cifar", 32, 1, 32, 384),
    ("cifar-32px-full-b128", "cifar", 32, 1, 128, 384),
    ("shapes-96px-w1/4-b32", "shapes", 96, 4, 32, 384),
    ("shapes-96px-w1/4-b128", "shapes", 96, 4, 128, 384),
    ("shapes-96px-full-b32", "shapes", 96, 1, 32, 128),
    ("shapes-96px-full-b128", "shapes", 96, 1, 128, 128),
]
DRY_ROWS = [
    ("dry-grey28-32px-w1/16-b16", "grey28", 32, 16, 16, 32),
    ("dry-cifar-32px-w1/16-b16", "cifar", 32, 16, 16, 32),
    ("dry-shapes-96px-w1/16-b8", "shapes", 96, 16, 8, 16),
]
LR = 1e-4


def datasets():
    """Where each dataset is, for vggkit and for torch_train.py; writes what is missing."""
    fm = "/usr/share/datasets/fashion-mnist"
    if os.path.exists(os.path.join(fm, "train-images-idx3-ubyte.gz")):
        grey = {"vggkit": ["-dataset", "fashion-mnist", "-data-dir", fm], "torch": ["--format", "idx", "--data", fm],
                "what": "Fashion-MNIST (Debian's dataset-fashion-mnist, IDX)"}
    else:
        d = os.path.join(DATA, "mnist-synth")
        subprocess.run([sys.executable, os.path.join(HERE, "make_data.py"), "mnist", d], check=True)
        grey = {"vggkit": ["-dataset", "mnist", "-data-dir", d], "torch": ["--format", "idx", "--data", d],
                "what": "synthetic MNIST-format IDX (make_data.py)"}
    c = os.path.join(DATA, "cifar10")
    subprocess.run([sys.executable, os.path.join(HERE, "make_data.py"), "cifar", c], check=True)
    cifar = {"vggkit": ["-dataset", "cifar10", "-data-dir", c], "torch": ["--format", "cifar", "--data", c],
             "what": "synthetic CIFAR-10 binary batches (make_data.py)"}
    return {"grey28": grey, "cifar": cifar}


def shapes(limit, vggkit):
    """Shapes10 with just enough images per class for limit, and its dump for torch."""
    per = max(1, math.ceil(limit / 10))
    d = os.path.join(DATA, f"shapes10-{per}")
    if not os.path.exists(os.path.join(d, "train_x.u8")):  # (dumps before bench/dump named their files train.u8)
        dump = os.path.join(os.path.dirname(vggkit), "vggkit-dump")
        subprocess.run([dump, "-dataset", "shapes10", "-per-class", str(per), "-out", d], check=True)
    return {"vggkit": ["-dataset", "shapes10", "-per-class", str(per)], "torch": ["--format", "raw", "--data", d],
            "what": "Shapes10 (embedded; bench/dump for torch)"}


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def measure(cmd, epochs, kill_after_last, env=None):
    """Runs cmd, timestamps its epoch lines; returns the measurements and its output."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    ends, own, out, result = {}, {}, [], None
    killed = False
    for line in p.stdout:
        now = time.time()
        out.append(line)
        m = EPOCH_LINE.match(line)
        if m:
            k = int(m.group(1))
            ends[k], own[k] = now - t0, float(m.group(4))
            if k == epochs and kill_after_last:
                p.send_signal(signal.SIGKILL)  # skip vggkit's final test evaluation and report
                killed = True
                break
        elif line.startswith("result: "):
            result = json.loads(line[len("result: "):])
    p.stdout.close()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = 0 if killed else os.waitstatus_to_exitcode(status)
    rec = {"rc": p.returncode, "process_s": time.time() - t0, "peak_rss_mb": ru.ru_maxrss / 1024}
    if p.returncode != 0 or len(ends) != epochs:
        rec["error"] = "".join(out[-30:])
        return rec
    ks = sorted(ends)
    rec["epoch_s"] = [ends[k] - (ends[k - 1] if k > 1 else 0.0) for k in ks]
    rec["first_epoch_s"] = rec["epoch_s"][0]
    rec["wall_s"] = ends[epochs]
    rec["own_img_s"] = [own[k] for k in ks]  # what the process itself printed per epoch
    if result:
        rec["torch_info"] = result
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results")
    ap.add_argument("--vggkit")
    ap.add_argument("--torch", action="append", default=[], help="NAME=PYTHON, e.g. torch1.13=/usr/bin/python3")
    ap.add_argument("--variants", default="dataloader,memory")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rows", default="", help="comma-separated row names or substrings (default: all)")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--unquiet", action="store_true", help="the machine was not quiet: mark the results")
    ap.add_argument("--full-run", action="store_true", help="let vggkit finish (final test evaluation, report)")
    ap.add_argument("--table-from", metavar="JSONL[,JSONL...]",
                    help="print the table of results files (runs of several invocations; the pairs of each "
                         "further file are numbered after the previous file's) and exit")
    ap.add_argument("--summary", action="store_true",
                    help="with --table-from: the short table README.md shows (ratio against the faster PyTorch)")
    a = ap.parse_args()
    if a.table_from:
        print(summary_from(a.table_from) if a.summary else table_from(a.table_from, a))
        return
    if not a.results or not a.vggkit:
        ap.error("--results and --vggkit are required (or --table-from)")
    if a.epochs < 2:
        sys.exit("--epochs must be >= 2 (the first epoch is reported apart)")
    rows = DRY_ROWS if a.dry_run else ROWS
    if a.rows:
        want = a.rows.split(",")
        rows = [r for r in rows if any(w in r[0] for w in want)]
    ds = datasets()
    threads = os.cpu_count()
    torches = [t.split("=", 1) for t in a.torch]
    variants = a.variants.split(",")
    sides = [("vggkit", None, None)] + [(f"{n}-{v}", py, v) for n, py in torches for v in variants]
    runs = []
    tmp = os.path.join(DATA, "out")
    with open(a.results, "a") as res:
        for pair in range(1, a.pairs + 1):
            for name, dsname, size, div, batch, limit in rows:
                d = shapes(limit, a.vggkit) if dsname == "shapes" else ds[dsname]
                order = sides if pair % 2 else sides[::-1]
                for side, py, variant in order:
                    if side == "vggkit":
                        cmd = [a.vggkit, "train", *d["vggkit"], "-limit", str(limit), "-arch", "vgg16", "-head", "gap",
                               "-act", "leaky", "-slope", "0.2", "-width", repr(1 / div), "-size", str(size),
                               "-augment", "none", "-optimizer", "adam", "-lr", str(LR), "-schedule", "constant",
                               "-batch", str(batch), "-epochs", str(a.epochs), "-log-every", "-1", "-eval-every", "-1",
                               "-ckpt", "", "-out", tmp, "-seed", "1"]
                    else:
                        cmd = [py, os.path.join(HERE, "torch_train.py"), *d["torch"], "--limit", str(limit),
                               "--size", str(size), "--width-div", str(div), "--batch", str(batch),
                               "--epochs", str(a.epochs), "--lr", str(LR), "--variant", variant,
                               "--threads", str(threads), "--seed", "1"]
                    la = loadavg()
                    rec = measure(cmd, a.epochs, side == "vggkit" and not a.full_run)
                    rec.update({"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "row": name, "data": d["what"],
                                "size": size, "width_div": div, "batch": batch, "images_per_epoch": limit,
                                "epochs": a.epochs, "pair": pair, "side": side, "quiet": not a.unquiet,
                                "dry_run": a.dry_run, "loadavg_before": la, "loadavg_after": loadavg(),
                                "cmd": cmd})
                    if "epoch_s" in rec:
                        rest = rec["epoch_s"][1:]
                        rec["img_s"] = limit * len(rest) / sum(rest)  # epochs 2+
                    res.write(json.dumps(rec) + "\n")
                    res.flush()
                    runs.append(rec)
                    status = f"{rec['img_s']:.1f} img/s (epochs 2+), first epoch {rec['first_epoch_s']:.1f}s, " \
                             f"peak RSS {rec['peak_rss_mb']:.0f} MB" if "img_s" in rec else f"FAILED rc {rec['rc']}"
                    print(f"pair {pair} {name} {side}: {status}", file=sys.stderr, flush=True)
                    if "error" in rec:
                        print(rec["error"], file=sys.stderr)
    failed = [r for r in runs if "img_s" not in r]
    print(table(runs, [n for n, _ in torches], variants, a))
    if failed:
        sys.exit(f"{len(failed)} run(s) failed; see {a.results}")


def read_runs(paths):
    """The runs of comma-separated results files, each file's pairs numbered after the
    previous file's (each invocation numbers its pairs from 1)."""
    runs, offset = [], 0
    for path in paths.split(","):
        rs = [json.loads(line) for line in open(path) if line.strip()]
        for r in rs:
            r["pair"] += offset
        offset = max([offset] + [r["pair"] for r in rs])
        runs += rs
    return runs


def table_from(path, a):
    """The table of every run in results files, rows in ROWS' order."""
    runs = read_runs(path)
    order = {name: i for i, (name, *_rest) in enumerate(ROWS + DRY_ROWS)}
    runs.sort(key=lambda r: order.get(r["row"], len(order)))
    sides = [r["side"] for r in runs if r["side"] != "vggkit"]
    torch_names = list(dict.fromkeys(s.rsplit("-", 1)[0] for s in sides))
    variants = list(dict.fromkeys(s.rsplit("-", 1)[1] for s in sides))
    per_row = collections.Counter(r["row"] for r in runs if r["side"] == "vggkit")
    lo, hi = min(per_row.values(), default=0), max(per_row.values(), default=0)
    a.pairs = f"{lo}" if lo == hi else f"{lo}-{hi}"
    a.epochs = max((r["epochs"] for r in runs), default=0)
    a.unquiet = any(not r.get("quiet", True) for r in runs)
    a.dry_run = any(r.get("dry_run") for r in runs)
    a.results = path
    return table(runs, torch_names, variants, a)


def pair_ratios(runs):
    """Per pair, vggkit's img/s over the fastest PyTorch side's, from one row's completed runs."""
    ratios = []
    for pair in sorted({r["pair"] for r in runs if r["side"] == "vggkit"}):
        g = [r["img_s"] for r in runs if r["pair"] == pair and r["side"] == "vggkit"]
        t = [r["img_s"] for r in runs if r["pair"] == pair and r["side"] != "vggkit"]
        if g and t:
            ratios.append(g[0] / max(t))
    return ratios


LABELS = {"grey28": "32 px from 28 px grey", "cifar": "32 px colour", "shapes": "96 px"}


def summary_from(path):
    """README's table: per row, vggkit's median img/s, the fastest PyTorch side's (by
    median), and the median and spread of the per-pair ratio against that pair's fastest."""
    med = statistics.median
    runs = [r for r in read_runs(path) if "img_s" in r]
    lines = ["| images | width | batch | vggkit img/s | faster PyTorch img/s | vggkit / faster torch (spread over pairs) "
             "| wall s, vggkit / that torch |", "|---|---|---|---|---|---|---|"]
    for name, dsname, _size, div, batch, _limit in ROWS + DRY_ROWS:
        v = [r for r in runs if r["row"] == name]
        go = [r for r in v if r["side"] == "vggkit"]
        tsides, twall = {}, {}
        for r in v:
            if r["side"] != "vggkit":
                tsides.setdefault(r["side"], []).append(r["img_s"])
                twall.setdefault(r["side"], []).append(r["wall_s"])
        if not go or not tsides:
            continue
        best = max(tsides, key=lambda k: med(tsides[k]))
        version, variant = best.removeprefix("torch").rsplit("-", 1)
        ratios = pair_ratios(v)
        width = "full" if div == 1 else f"1/{div}"
        where = "in memory" if variant == "memory" else "DataLoader"
        lines.append(f"| {LABELS[dsname]} | {width} | {batch} | {med(r['img_s'] for r in go):,.0f} | "
                     f"{med(tsides[best]):,.0f} ({version}, {where}) | "
                     f"{med(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) | "
                     f"{med(r['wall_s'] for r in go):.1f} / {med(twall[best]):.1f} |")
    return "\n".join(lines)


def table(runs, torch_names, variants, a):
    med = statistics.median
    rows = {}
    for r in runs:
        rows.setdefault(r["row"], []).append(r)
    torch_info = next((r["torch_info"] for r in runs if "torch_info" in r), {})
    head = [f"Whole-run benchmark, {time.strftime('%Y-%m-%d')}: `vggkit train` against PyTorch "
            f"({', '.join(torch_names) or 'no PyTorch'}; {torch_info.get('threads', '?')} threads), "
            f"{a.epochs} epochs, medians over {a.pairs} pair(s)."]
    if a.unquiet:
        head.append("**UNQUIET: the load average was above 0.5 (--force); these timings are not valid.**")
    if a.dry_run:
        head.append("**DRY RUN: tiny sizes, a check of the tooling, not a measurement.**")
    cols = ["row", "vggkit img/s (epochs 2+)", "first epoch s", "wall s", "peak RSS MB"]
    if torch_names:
        cols[2:] = [c + " (vggkit / fastest torch)" for c in cols[2:]]
    cols += [f"{n} img/s ({'/'.join('DL' if v == 'dataloader' else 'mem' for v in variants)})" for n in torch_names]
    cols += ["vggkit / faster torch", "spread (min-max over pairs)"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for name, v in rows.items():
        ok = [r for r in v if "img_s" in r]
        go = [r for r in ok if r["side"] == "vggkit"]
        if not go:
            lines.append(f"| {name} | failed |")
            continue
        # first epoch, wall and RSS: vggkit / the PyTorch side with the best median img/s
        tsides = {}
        for r in ok:
            if r["side"] != "vggkit":
                tsides.setdefault(r["side"], []).append(r)
        best = max(tsides.values(), key=lambda rs: med(r["img_s"] for r in rs), default=[])

        def both(key, f):
            s = f"{med(r[key] for r in go):{f}}"
            return s + (f" / {med(r[key] for r in best):{f}}" if best else "")
        cells = [name, f"{med(r['img_s'] for r in go):.1f}", both("first_epoch_s", ".1f"), both("wall_s", ".1f"),
                 both("peak_rss_mb", ".0f")]
        for n in torch_names:
            per = []
            for var in variants:
                rs = [r for r in ok if r["side"] == f"{n}-{var}"]
                per.append(f"{med(r['img_s'] for r in rs):.1f}" if rs else "-")
            cells.append(" / ".join(per))
        ratios = pair_ratios(ok)
        cells.append(f"{med(ratios):.2f}x" if ratios else "-")
        cells.append(f"{min(ratios):.2f}-{max(ratios):.2f}x" if ratios else "-")
        lines.append("| " + " | ".join(cells) + " |")
    foot = ["", "wall s: process start to the end of the last epoch (start-up, data loading, compilation, "
                "all epochs; vggkit's final test evaluation and report are left out). "
                "PyTorch sides: DL = DataLoader over the uint8 images with per-image resize, "
                "mem = pre-resized float tensors in memory. Per-side wall, first epoch and RSS: "
                + os.path.relpath(a.results, ROOT) + "."]
    return "\n".join(head + [""] + lines + foot)


if __name__ == "__main__":
    main()
