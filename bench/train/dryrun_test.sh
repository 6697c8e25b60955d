#!/usr/bin/env bash
# Checks the whole-run benchmark's tooling end to end with tiny sizes (DRY_RUN=1: three
# rows at width 1/16, 2 epochs, 1 pair; vggkit and Debian's torch, both PyTorch
# variants; about 2 minutes on 2 busy cores). Runs on a busy machine (--force), so the
# timings mean nothing; it checks that every side ran, the JSON lines and the table.
# Usage: bench/train/dryrun_test.sh   (exit 0: pass)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
DRY_RUN=1 bench/train/run.sh --force --no-pip | tee "$out"
results=.build/bench-train/dryrun.jsonl
/usr/bin/python3 - "$out" "$results" <<'PY'
import json, sys
table = open(sys.argv[1]).read()
recs = [json.loads(l) for l in open(sys.argv[2])]
fail = []
for row in ("dry-grey28-32px-w1/16-b16", "dry-cifar-32px-w1/16-b16", "dry-shapes-96px-w1/16-b8"):
    if f"| {row} |" not in table:
        fail.append(f"table lacks row {row}")
    for side in ("vggkit", "-dataloader", "-memory"):
        rs = [r for r in recs if r["row"] == row and r["side"].endswith(side) and r["dry_run"]]
        if not rs or not all(r.get("img_s", 0) > 0 and r["peak_rss_mb"] > 0 and len(r["epoch_s"]) == 2 for r in rs):
            fail.append(f"{row} {side}: no complete run")
if "DRY RUN" not in table or "vggkit / faster torch" not in table:
    fail.append("table lacks its header or ratio column")
if fail:
    sys.exit("dryrun_test: FAIL\n  " + "\n  ".join(fail))
print("dryrun_test: ok")
PY
