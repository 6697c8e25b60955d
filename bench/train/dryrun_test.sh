#!/usr/bin/env bash
# Checks the whole-run benchmark's tooling end to end with tiny sizes (DRY_RUN=1: three
# rows at width 1/16, 2 epochs, 1 pair; vggkit and Debian's torch, both PyTorch
# variants; about 2 minutes on 2 busy cores). Runs on a busy machine (--force), so the
# timings mean nothing; it checks that every side ran, the JSON lines and the table.
# Usage: bench/train/dryrun_test.sh   (exit 0: pass)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out" "$out.summary"' EXIT
DRY_RUN=1 bench/train/run.sh --force --no-pip | tee "$out"
results=.build/bench-train/dryrun.jsonl
/usr/bin/python3 bench/train/bench.py --table-from "$results" --summary >"$out.summary"
/usr/bin/python3 - "$out" "$results" "$out.summary" <<'PY'
import json, re, sys
table = open(sys.argv[1]).read()
summary = open(sys.argv[3]).read().splitlines()
recs = [json.loads(l) for l in open(sys.argv[2])]
fail = []
for row in ("dry-grey28-32px-w1/16-b16", "dry-cifar-32px-w1/16-b16", "dry-shapes-96px-w1/16-b8"):
    if f"| {row} |" not in table:
        fail.append(f"table lacks row {row}")
    for side in ("vggkit", "-dataloader", "-memory"):
        rs = [r for r in recs if r["row"] == row and r["side"].endswith(side) and r["dry_run"]]
        if not rs or not all(r.get("img_s", 0) > 0 and r["peak_rss_mb"] > 0 and len(r["epoch_s"]) == 2 for r in rs):
            fail.append(f"{row} {side}: no complete run")
# README's short table: one line per row, each with a ratio and its spread.
lines = [l for l in summary if re.match(r"\| (32|96) px .*\| [\d.]+x \([\d.]+-[\d.]+\) \|", l)]
if len(lines) != 3:
    fail.append(f"--summary gave {len(lines)} rows with a ratio, want 3:\n" + "\n".join(summary))
if "DRY RUN" not in table or "vggkit / faster torch" not in table:
    fail.append("table lacks its header or ratio column")
if fail:
    sys.exit("dryrun_test: FAIL\n  " + "\n  ".join(fail))
print("dryrun_test: ok")
PY
