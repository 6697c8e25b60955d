"""Browser test: JupyterLab started by the project's own command (scripts/lab.sh), each
notebook opened in headless Chromium (Debian's, driven by playwright), Run All, Save.
Asserts, per notebook: no error output, every <img> of the outputs rendered
(naturalWidth > 0) and at least one per cell tagged check:image, and the saved file holds
those images. Keeps a screenshot of each whole notebook and the saved notebooks.

Usage: browser_test.py [NOTEBOOK...] (default: every notebooks/*.ipynb), in one JupyterLab.
VGGKIT_FAST=1 (the default here, as scripts/test.sh runs it) gives the short runs; set
VGGKIT_FAST= (empty) for the full ones. Works on a copy of notebooks/ in a temporary
folder, so the committed notebooks are never touched. Screenshots
(browser-NAME.png) and saved notebooks go to $ARTIFACTS (default notebooks/tests/artifacts/).
"""
import glob
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
WIDTH, MAX_HEIGHT = 1400, 20000  # screenshots: the notebook's whole height, up to 20,000 px
RUN_TIMEOUT_MS = 1_200_000  # one notebook's Run All


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port, token, path, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}?token={token}", method=method)
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body else None


def wait_ready(port, token, proc, timeout=600):
    """Waits for JupyterLab; lab.sh may first have to set up (minutes on a fresh machine)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"scripts/lab.sh exited with {proc.returncode}")
        try:
            api(port, token, "/api/status")
            return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab not ready on port {port} after {timeout} s")


def wait_kernel_idle(port, token, timeout=180):
    """Waits until the notebook's kernel runs and is idle, asking the server (the UI's
    status indicators differ between JupyterLab versions)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            kernels = api(port, token, "/api/kernels")
            if kernels and all(k.get("execution_state") == "idle" for k in kernels):
                return
        except Exception:
            pass
        time.sleep(1)
    raise RuntimeError(f"kernel not idle after {timeout} s")


def stop_sessions(port, token):
    """Shuts down every notebook's kernel, so the next notebook runs alone."""
    for s in api(port, token, "/api/sessions"):
        api(port, token, f"/api/sessions/{s['id']}", method="DELETE")


def cleared_copy(names, work):
    """Copies the notebooks without outputs, so what is checked is what this run made."""
    nbs = {}
    for name in names:
        nb = json.load(open(os.path.join(ROOT, "notebooks", name)))
        for c in nb["cells"]:
            if c["cell_type"] == "code":
                c["outputs"], c["execution_count"] = [], None
        json.dump(nb, open(os.path.join(work, name), "w"))
        nbs[name] = nb
    return nbs


def tagged_images(nb):
    return sum(1 for c in nb["cells"] if "check:image" in c.get("metadata", {}).get("tags", []))


def main():
    names = [os.path.basename(a) for a in sys.argv[1:]] or \
        sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
    artifacts = os.environ.get("ARTIFACTS", os.path.join(ROOT, "notebooks", "tests", "artifacts"))
    os.makedirs(artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="vggkit-browser-")
    nbs = cleared_copy(names, work)
    token, port = secrets.token_hex(16), free_port()
    # Workspaces of its own: JupyterLab keeps them per user (~/.jupyter/lab/workspaces) and
    # would reopen an earlier run's notebooks in hidden tabs.
    env = dict(os.environ, VGGKIT_LAB_TOKEN=token, VGGKIT_FAST=os.environ.get("VGGKIT_FAST", "1"),
               JUPYTERLAB_WORKSPACES_DIR=os.path.join(work, ".workspaces"))
    log = open(os.path.join(artifacts, "jupyterlab.log"), "w")
    lab = subprocess.Popen([os.path.join(ROOT, "scripts", "lab.sh"), "--port", str(port), "--dir", work],
                           env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    results = {}
    try:
        wait_ready(port, token, lab)
        if unauthenticated_answer(port):
            results["(token)"] = [unauthenticated_answer(port)]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for i, name in enumerate(names):
                results[name] = test_notebook(browser, port, token, i, name, nbs[name], work, artifacts)
            browser.close()
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
            lab.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    failed = [n for n, pr in results.items() if pr]
    for n in failed:
        for pr in results[n]:
            print(f"FAILED {n}: {pr}", file=sys.stderr)
    print(f"browser: {len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def unauthenticated_answer(port):
    """Token authentication is on: without the token the API refuses. Returns a problem or ''."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5)
        return "JupyterLab answered /api/contents without a token"
    except urllib.error.HTTPError as e:
        return "" if e.code == 403 else f"without a token: HTTP {e.code}, want 403"


def test_notebook(browser, port, token, i, name, nb, work, artifacts):
    """Runs one notebook in its own page and workspace; returns its problems."""
    t = time.time()
    page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
    stem = name.removesuffix(".ipynb")
    try:
        problems = run_notebook(page, port, token, i, name, nb)
        problems += screenshot(page, os.path.join(artifacts, f"browser-{stem}.png"))
    except Exception as e:
        page.screenshot(path=os.path.join(artifacts, f"browser-{stem}-failure.png"))
        problems = [f"{type(e).__name__}: {e}"]
    finally:
        page.close()
        stop_sessions(port, token)
    saved = json.load(open(os.path.join(work, name)))
    saved_imgs = sum(1 for c in saved["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    if saved_imgs < tagged_images(nb):
        problems.append(f"saved notebook holds {saved_imgs} images, want {tagged_images(nb)}")
    shutil.copy(os.path.join(work, name), os.path.join(artifacts, name))
    print(f"{name}: {'ok' if not problems else 'FAILED'} in {time.time() - t:.0f} s, {saved_imgs} images saved", flush=True)
    return problems


def run_notebook(page, port, token, i, name, nb):
    """Opens the notebook (a workspace of its own, so no other notebook reopens), runs all
    cells, saves; returns the problems seen."""
    problems = []
    page.goto(f"http://127.0.0.1:{port}/lab/workspaces/test{i}/tree/{name}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_kernel_idle(port, token)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator("li[data-command='runmenu:run-all']").click()
    n_code = sum(1 for c in nb["cells"] if c["cell_type"] == "code")
    # Done when every code cell shows an execution count and none is queued or running. An
    # interactive cell (05's explorer) waits for its Done button, as a user would press it.
    finished = """n => {
            const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent);
            return ps.length === n && ps.every(t => /\\[\\d+\\]/.test(t));
        }"""
    deadline = time.time() + RUN_TIMEOUT_MS / 1000
    while not page.evaluate(finished, n_code):
        if time.time() > deadline:
            raise RuntimeError(f"{name}: Run All not finished after {RUN_TIMEOUT_MS // 1000} s")
        done = page.locator(".jp-OutputArea-output button:visible", has_text="Done")
        if done.count() > 0:
            done.first.click()
        page.wait_for_timeout(1000)
    page.keyboard.press("Control+s")
    wait_saved(page)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    errors += [t for t in page.locator(".jp-OutputArea-output").all_inner_texts() if "panic:" in t or "ERROR" in t]
    if errors:
        problems.append("error outputs: " + " | ".join(e[:300] for e in errors))
    page.wait_for_timeout(500)  # let the last images decode
    sizes = page.locator(".jp-OutputArea-output img").evaluate_all(
        "imgs => imgs.map(e => e.complete ? e.naturalWidth : 0)")
    broken = sum(1 for w in sizes if w == 0)
    if broken:
        problems.append(f"{broken} of {len(sizes)} images did not render")
    if len(sizes) < tagged_images(nb):
        problems.append(f"{len(sizes)} images in the outputs, want at least {tagged_images(nb)}")
    return problems


def wait_saved(page, timeout=30):
    """Waits until the notebook's tab no longer shows unsaved changes."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if page.locator(".jp-mod-current.jp-mod-dirty").count() == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"not saved after {timeout} s")


def screenshot(page, path):
    """The whole notebook in one picture: JupyterLab scrolls inside the notebook panel, so
    the viewport is grown by what the panel hides (up to MAX_HEIGHT), then shot."""
    scroller = """document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')
                  || document.querySelector('.jp-NotebookPanel-notebook')"""
    hidden = page.evaluate(f"() => {{ const s = {scroller}; return s ? s.scrollHeight - s.clientHeight : 0; }}")
    height = min(MAX_HEIGHT, 1000 + max(0, hidden))
    page.set_viewport_size({"width": WIDTH, "height": height})
    page.wait_for_timeout(1000)  # relayout
    # Run All left the panel scrolled to the last cell: back to the top, so the picture
    # starts at the first cell.
    page.evaluate(f"() => {{ const s = {scroller}; if (s) s.scrollTop = 0; }}")
    page.wait_for_timeout(500)
    page.screenshot(path=path)
    print(f"  screenshot {path}: {WIDTH}x{height} px" + (" (cut at the cap)" if 1000 + hidden > MAX_HEIGHT else ""))
    return []


if __name__ == "__main__":
    main()
