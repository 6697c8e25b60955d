#!/usr/bin/env python3
"""Runs `vggkit train` for bench/gpu/tutorial.sh and prints ONE JSON line in the shape
bench/torch/tutorial_loop.py prints: per-epoch seconds, steady epoch time, wall time and
the final test accuracy (from the run's metrics.json). Its own time limit (--limit) stops
vggkit before the job's: a run stopped early still reports the epochs it finished (from
its epoch lines), without an accuracy.

    python3 bench/gpu/vggkit_train.py --limit 120 --out /tmp/run -- bin/vggkit train -epochs 10 ...
"""
import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time

EPOCH = re.compile(r"^epoch (\d+)/(\d+): .*\(([\d.]+)s, ([\d.]+) img/s\)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=float, required=True, help="seconds before vggkit is stopped")
    p.add_argument("--out", required=True, help="the -out folder given to vggkit train (metrics.json there)")
    p.add_argument("--label", default="", help="a name for the record")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            start_new_session=True)
    epochs, killed = [], False

    def stop(*_):
        nonlocal killed
        killed = True
        os.killpg(proc.pid, signal.SIGKILL)

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, a.limit)
    for line in proc.stdout:
        if "ETA" not in line:  # progress lines: too many for the log
            sys.stderr.write(line)
        m = EPOCH.match(line)
        if m:
            epochs.append((int(m.group(1)), float(m.group(3)), float(m.group(4))))
    rc = proc.wait()
    signal.setitimer(signal.ITIMER_REAL, 0)
    wall = time.perf_counter() - t0
    metrics = {}
    mpath = os.path.join(a.out, "metrics.json")
    if rc == 0 and os.path.exists(mpath):
        with open(mpath) as f:
            metrics = json.load(f)
    hist = (metrics.get("history") or {}).get("epochs") or []
    epoch_s = [e["seconds"] for e in hist] if hist else [e[1] for e in epochs]
    if not epoch_s:
        print(json.dumps({"error": f"vggkit train finished no epoch (exit {rc}{', stopped at the limit' if killed else ''})"}))
        sys.exit(1)
    n = len(epoch_s)
    steady = statistics.median(epoch_s[1:]) if n > 1 else epoch_s[0]
    cfg = metrics.get("config") or {}
    train_images = round(epochs[-1][2] * epoch_s[-1]) if epochs and not hist else None
    if hist and hist[-1].get("images_per_sec"):
        train_images = round(hist[-1]["images_per_sec"] * hist[-1]["seconds"])
    print(json.dumps({
        "framework": "vggkit", "label": a.label, "model": metrics.get("model"), "backend": metrics.get("backend"),
        "precision": (cfg.get("model") or {}).get("precision"), "dataset": metrics.get("dataset"),
        "params": metrics.get("params"), "train_images": train_images,
        "epochs": n, "epoch_s": [round(t, 3) for t in epoch_s], "first_epoch_s": round(epoch_s[0], 3),
        "steady_epoch_s": round(steady, 3), "steady_from": "median of epochs 2.." if n > 1 else "epoch 1 (only one)",
        "images_per_s": round(train_images / steady, 1) if train_images else None,
        "wall_s": round(wall, 3), "vggkit_wall_s": metrics.get("wall_seconds"),
        "accuracy": metrics.get("accuracy"), "stopped_at_limit": killed, "exit": rc,
        "cmd": shlex.join(cmd),
    }))
    sys.exit(0 if (rc == 0 or killed) else 1)


if __name__ == "__main__":
    main()
