"""Browser test: JupyterLab started by the project's own command (scripts/lab.sh), a
notebook opened in headless Chromium (Debian's, driven by playwright), Run All, Save.
Asserts no error output and that the plot images rendered; keeps a screenshot.

Usage: browser_test.py [NOTEBOOK] (default 01-data.ipynb). Works on a copy of notebooks/
in a temporary folder, so the committed notebooks are never touched. The screenshot and
the saved notebook go to $ARTIFACTS (default notebooks/tests/artifacts/).
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from playwright.sync_api import sync_playwright

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"scripts/lab.sh exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab not ready at {url} after {timeout} s")


def wait_kernel_idle(port, token, timeout=180):
    """Waits until the notebook's kernel runs and is idle, asking the server (the UI's
    status indicators differ between JupyterLab versions)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernels?token={token}", timeout=5) as r:
                kernels = json.load(r)
            if kernels and all(k.get("execution_state") == "idle" for k in kernels):
                return
        except Exception:
            pass
        time.sleep(1)
    raise RuntimeError(f"kernel not idle after {timeout} s")


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "01-data.ipynb"
    artifacts = os.environ.get("ARTIFACTS", os.path.join(ROOT, "notebooks", "tests", "artifacts"))
    os.makedirs(artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="vggkit-browser-")
    shutil.copy(os.path.join(ROOT, "notebooks", name), work)
    # Start from a notebook with no outputs, so what is checked is what this run made.
    nb = json.load(open(os.path.join(work, name)))
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
    json.dump(nb, open(os.path.join(work, name), "w"))

    token, port = secrets.token_hex(16), free_port()
    env = dict(os.environ, VGGKIT_LAB_TOKEN=token, VGGKIT_FAST=os.environ.get("VGGKIT_FAST", "1"))
    log = open(os.path.join(artifacts, "jupyterlab.log"), "w")
    lab = subprocess.Popen([os.path.join(ROOT, "scripts", "lab.sh"), "--port", str(port), "--dir", work],
                           env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    problems = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/api/status?token={token}", lab)
        # Token authentication is on: without the token the API refuses.
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5)
            problems.append("JupyterLab answered /api/contents without a token")
        except urllib.error.HTTPError as e:
            if e.code != 403:
                problems.append(f"without a token: HTTP {e.code}, want 403")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                problems += run_notebook(page, port, token, name, nb, artifacts)
            except Exception:
                page.screenshot(path=os.path.join(artifacts, "browser-failure.png"))
                raise
            browser.close()
        saved = json.load(open(os.path.join(work, name)))
        saved_imgs = sum(1 for c in saved["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
        want = sum(1 for c in nb["cells"] if "check:image" in c.get("metadata", {}).get("tags", []))
        if saved_imgs < want:
            problems.append(f"saved notebook holds {saved_imgs} images, want {want}")
        shutil.copy(os.path.join(work, name), os.path.join(artifacts, name))
        print(f"{name}: {saved_imgs} images saved")
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
            lab.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    for pr in problems:
        print("FAILED:", pr, file=sys.stderr)
    print(f"browser: {0 if problems else 1} passed, {1 if problems else 0} failed")
    sys.exit(1 if problems else 0)


def run_notebook(page, port, token, name, nb, artifacts):
    """Opens the notebook, runs all cells, saves; returns the problems seen."""
    problems = []
    page.goto(f"http://127.0.0.1:{port}/lab/tree/{name}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_kernel_idle(port, token)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator("li[data-command='runmenu:run-all']").click()
    n_code = sum(1 for c in nb["cells"] if c["cell_type"] == "code")
    # Done when every code cell shows an execution count and none is queued or running.
    page.wait_for_function(
        """n => {
            const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent);
            return ps.length === n && ps.every(t => /\\[\\d+\\]/.test(t));
        }""", arg=n_code, timeout=900_000)
    page.keyboard.press("Control+s")
    time.sleep(2)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    errors += [t for t in page.locator(".jp-OutputArea-output").all_inner_texts() if "panic:" in t or "ERROR" in t]
    if errors:
        problems.append("error outputs: " + " | ".join(e[:300] for e in errors))
    imgs = page.locator(".jp-OutputArea-output img")
    rendered = sum(1 for i in range(imgs.count())
                   if imgs.nth(i).evaluate("e => e.complete && e.naturalWidth > 0"))
    want = sum(1 for c in nb["cells"] if "check:image" in c.get("metadata", {}).get("tags", []))
    if rendered < want:
        problems.append(f"{rendered} images rendered, want at least {want}")
    shot = os.path.join(artifacts, f"browser-{name.replace('.ipynb', '')}.png")
    page.screenshot(path=shot, full_page=True)
    print(f"{name}: {rendered} images rendered; screenshot {shot}")
    return problems


if __name__ == "__main__":
    main()
