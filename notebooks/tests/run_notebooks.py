"""Executes vggkit's notebooks headless with the GoNB kernel and checks their outputs.

Usage: run_notebooks.py [--inplace] [--timeout S] NOTEBOOK...
       run_notebooks.py --validate NOTEBOOK...

Every notebook file is first validated against nbformat's schema (what JupyterLab checks
when it opens one: a cell tag with a comma, a missing field): an invalid file fails the
run (exit 1) before any kernel starts. --validate does only that.

Fails (exit 1) on any error output, and on a cell whose tags promise an output that is
missing: check:image (an image/png output), check:html (a text/html output), and
check:text:SOMETHING (SOMETHING in the cell's text output). With --inplace the executed
notebooks (with their outputs) replace the originals; otherwise they go to $OUT_DIR
(default: a temporary directory) so a failing run never overwrites a good notebook.

The notebooks run in one fresh working folder (so their runs/ checkpoints start empty and
04-evaluation finds what 03-training saved), never in notebooks/ itself.
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient


def cell_text(cell):
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        parts.append(o.get("data", {}).get("text/plain", "") if "data" in o else "")
    return "".join(parts)


def check(path, nb):
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                problems.append(f"cell {i}: error {o.get('ename')}: {o.get('evalue')}")
            if o.get("output_type") == "stream" and o.get("name") == "stderr" and "panic" in o.get("text", ""):
                problems.append(f"cell {i}: panic on stderr: {o.get('text')[:500]}")
        kinds = set()
        for o in cell.get("outputs", []):
            kinds.update(o.get("data", {}).keys())
            html = o.get("data", {}).get("text/html", "")
            if "<img" in html:
                kinds.add("image/png")  # a live view embeds its PNGs in HTML
        for tag in cell.metadata.get("tags", []):
            if tag == "check:image" and "image/png" not in kinds:
                problems.append(f"cell {i}: no image output")
            elif tag == "check:html" and "text/html" not in kinds:
                problems.append(f"cell {i}: no HTML output")
            elif tag.startswith("check:text:") and tag[len("check:text:"):] not in cell_text(cell):
                problems.append(f"cell {i}: text output lacks {tag[len('check:text:'):]!r}")
    return [f"{path}: {p}" for p in problems]


def invalid(path):
    """Why the file on disk is not a valid notebook (nbformat's schema), or None. Reads
    the JSON as it is: nbformat.read would upgrade or repair some things, and only log."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        return f"{path}: not a notebook: {e}"
    if not isinstance(raw, dict):
        return f"{path}: not a notebook: the JSON is not an object"
    if raw.get("nbformat") not in (3, 4):
        return f"{path}: not a notebook nbformat reads: nbformat version {raw.get('nbformat')!r}"
    try:
        nbformat.validate(nbformat.from_dict(raw))
    except nbformat.ValidationError as e:
        where = re.search(r"On instance(\S*):", str(e))
        return (f"{path}: invalid nbformat {raw.get('nbformat')}.{raw.get('nbformat_minor')}: "
                f"{e.message}" + (f" (at {where.group(1)})" if where else ""))
    except Exception as e:  # e.g. no nbformat version in it
        return f"{path}: invalid notebook: {e}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--inplace", action="store_true")
    ap.add_argument("--timeout", type=int, default=1200, help="per cell, seconds")
    ap.add_argument("--validate", action="store_true", help="only validate the files (nbformat)")
    args = ap.parse_args()
    bad = [msg for msg in map(invalid, args.notebooks) if msg]
    for msg in bad:
        print(msg, file=sys.stderr)
    if bad or args.validate:
        print(f"nbformat: {len(args.notebooks) - len(bad)} valid, {len(bad)} invalid")
        sys.exit(1 if bad else 0)
    out_dir = os.environ.get("OUT_DIR") or tempfile.mkdtemp(prefix="vggkit-nb-")
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="vggkit-nb-work-")
    failures = []
    passed = 0
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        start = time.time()
        client = NotebookClient(nb, timeout=args.timeout, kernel_name="gonb",
                                resources={"metadata": {"path": work}})
        # The kernel's own log (GoNB logs every build and run) goes to a file, not the console.
        klog = open(os.path.join(out_dir, os.path.basename(path) + ".kernel.log"), "w")
        try:
            client.execute(stderr=klog)
        except Exception as e:  # an error output stops execution; report and check what ran
            failures.append(f"{path}: execution stopped: {str(e)[-1500:]}")
        klog.close()
        problems = check(path, nb)
        failures += problems
        secs = time.time() - start
        target = path if args.inplace and not problems else os.path.join(out_dir, os.path.basename(path))
        nbformat.write(nb, target)
        status = "ok" if not problems else "FAILED"
        print(f"{status}: {path} ({secs:.0f} s) -> {target}", flush=True)
        passed += not problems
    shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print(f, file=sys.stderr)
    print(f"notebooks: {passed} passed, {len(args.notebooks) - passed} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
