"""The notebooks on disk: valid nbformat, and what Jupyter writes beside them git-ignored.

Usage: validate_test.py (seconds; no kernel). Asserts:
  1. run_notebooks.py --validate passes on every committed notebook (notebooks/*.ipynb);
  2. it fails (exit 1, the file and the fault named) on broken copies in a temporary
     folder: a cell tag with commas (what 02-model once held), a cell without its source,
     an unknown nbformat, a file cut short; and a plain run of run_notebooks.py on a broken
     copy fails the same way at once, before any kernel starts;
  3. in a git checkout: .ipynb_checkpoints/ (anywhere), the notebooks' run folders
     (notebooks/runs/) and Python's __pycache__/ are git-ignored, and none of them is
     tracked.
Uses the venv's nbformat (through run_notebooks.py) and the standard library.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
RUN = os.environ.get("RUN_NOTEBOOKS") or os.path.join(HERE, "run_notebooks.py")  # another copy: $RUN_NOTEBOOKS


def run(*args, timeout=60):
    try:
        r = subprocess.run([sys.executable, RUN, *args], capture_output=True, text=True,
                           timeout=timeout, cwd=ROOT)
        return r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        return None, f"still running after {timeout} s: {e.stdout or ''}{e.stderr or ''}"


def broken_copies(work):
    """(name, path, a fragment the error must hold) for each broken copy of 01-data."""
    src = json.load(open(os.path.join(ROOT, "notebooks", "01-data.ipynb"), encoding="utf-8"))
    code = next(i for i, c in enumerate(src["cells"]) if c["cell_type"] == "code")

    def write(name, nb=None, text=None):
        path = os.path.join(work, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text if text is not None else json.dumps(nb, indent=1))
        return path

    out = []
    nb = json.loads(json.dumps(src))
    nb["cells"][code].setdefault("metadata", {})["tags"] = ["check:text:14,719,818"]
    out.append(("tag with commas", write("comma-tag.ipynb", nb), "check:text:14,719,818"))
    nb = json.loads(json.dumps(src))
    del nb["cells"][code]["source"]
    out.append(("cell without source", write("no-source.ipynb", nb), "'source' is a required property"))
    nb = json.loads(json.dumps(src))
    nb["nbformat"] = 99
    out.append(("unknown nbformat", write("nbformat-99.ipynb", nb), "nbformat version 99"))
    text = json.dumps(src, indent=1)
    out.append(("file cut short", write("cut.ipynb", text=text[: len(text) // 2]), "not a notebook"))
    return out


def check_committed(problems):
    notebooks = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    if not notebooks:
        problems.append("no notebooks found in notebooks/")
        return
    rc, out = run("--validate", *notebooks)
    if rc != 0:
        problems.append(f"committed notebooks: run_notebooks.py --validate exit {rc}: {out.strip()[-1500:]}")


def check_broken(problems):
    work = tempfile.mkdtemp(prefix="vggkit-nbvalid-")
    try:
        copies = broken_copies(work)
        rc, out = run("--validate", *[path for _, path, _ in copies])
        if rc != 1:
            problems.append(f"broken copies: --validate exit {rc}, want 1: {out.strip()[-800:]}")
        lines = out.splitlines()
        for name, path, fragment in copies:
            if not any(path in line and fragment in line for line in lines):
                problems.append(f"{name}: no message naming {os.path.basename(path)} and {fragment!r}: "
                                f"{out.strip()[-800:]}")
        # Executing a broken notebook fails on the file, before a kernel starts.
        name, path, fragment = copies[0]
        t0 = time.time()
        rc, out = run(path, timeout=120)
        if rc != 1 or fragment not in out:
            problems.append(f"run_notebooks.py on a {name}: exit {rc}, want 1 naming the tag: {out.strip()[-500:]}")
        elif time.time() - t0 > 20:
            problems.append(f"run_notebooks.py on a {name}: failed only after {time.time() - t0:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_ignored(problems):
    try:
        inside = subprocess.run(["git", "-C", ROOT, "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        inside = ""
    if inside != "true":
        print("  (not a git checkout: the .gitignore check is skipped)")
        return
    paths = ["notebooks/.ipynb_checkpoints/01-data-checkpoint.ipynb",
             ".ipynb_checkpoints/x-checkpoint.ipynb",
             "notebooks/tests/.ipynb_checkpoints/x-checkpoint.ipynb",
             "notebooks/runs/shapes10-vgg11-bn-gap-w0.125--32/checkpoint",
             "notebooks/tests/__pycache__/run_notebooks.cpython-311.pyc"]
    for p in paths:
        r = subprocess.run(["git", "-C", ROOT, "check-ignore", "-q", "--no-index", p], timeout=30)
        if r.returncode != 0:
            problems.append(f"{p} is not git-ignored")
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "--", "*.ipynb_checkpoints*",
                              "notebooks/runs", "*__pycache__*"],
                             capture_output=True, text=True, timeout=30).stdout.split()
    if tracked:
        problems.append(f"tracked though they should be ignored: {tracked}")


def main():
    checks = [("committed notebooks are valid nbformat", check_committed),
              ("broken notebooks are refused", check_broken),
              ("checkpoints, runs and caches are git-ignored", check_ignored)]
    failed = 0
    for name, check in checks:
        problems, t0 = [], time.time()
        check(problems)
        print(f"{'ok' if not problems else 'FAILED'}: {name} ({time.time() - t0:.1f} s)", flush=True)
        for p in problems:
            print(f"  {p}", flush=True)
        failed += bool(problems)
    print(f"validate: {len(checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
