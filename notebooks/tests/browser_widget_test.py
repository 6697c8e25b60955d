"""Browser test of 05-hyperparameters' interactive parts: JupyterLab from scripts/lab.sh,
the notebook run in headless Chromium (VGGKIT_FAST=1 unless set: the sweep's trials train
for real, in under a minute), then:
  - the sortable table: a click on a column's header reorders its rows;
  - the explorer (GoNB widgets): choosing another selection in its menu redraws the
    picture (new image, new title) without training; "Done" ends the cell, the menu
    goes, and the saved notebook keeps the last picture and no menu.
Keeps a screenshot and the saved notebook in $ARTIFACTS (default notebooks/tests/artifacts/).

Usage: browser_widget_test.py
"""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

from browser_test import CHROMIUM, FLAGS, ROOT, free_port, wait_kernel_idle, wait_ready

NAME = "05-hyperparameters.ipynb"
CHOICE = "optimizer: adam"


def fresh_copy(work):
    """The notebook without outputs, so what is checked is what this run made."""
    nb = json.load(open(os.path.join(ROOT, "notebooks", NAME)))
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            c["outputs"], c["execution_count"] = [], None
    json.dump(nb, open(os.path.join(work, NAME), "w"))
    return nb


def check_sort(page, problems):
    """Clicks the sortable table's "trial" header: the rows must change order."""
    table = page.locator("table.sortable").nth(1)  # the first is the sweep cell's progress table.
    first = lambda: table.locator("tr").nth(1).locator("td").first.inner_text()
    before = first()
    table.locator("th", has_text="trial").click()
    after = first()
    if after != "trial-1" or before == after:
        problems.append(f"sorting by trial: first row {before!r} then {after!r}, want trial-1 after the click")


def check_explorer(page, port, token, problems):
    """Picks CHOICE in the explorer's menu, waits for the picture to change, clicks Done."""
    # JupyterLab draws only the cells in view, and runs an output's scripts (the widgets')
    # only once drawn: keep the last cell in view while the sweep runs.
    deadline = time.time() + 600
    while not page.locator(".jp-OutputArea-output select").count():
        if time.time() > deadline:
            raise TimeoutError("the explorer's menu did not appear in 10 minutes")
        page.locator(".jp-Notebook .jp-Cell").last.scroll_into_view_if_needed()
        time.sleep(1)
    img = page.locator("img.vggkit-sweep").first
    before = img.get_attribute("src")
    title = page.locator(".jp-OutputArea-output b", has_text="trials").last
    if "all trials" not in title.inner_text():
        problems.append(f"explorer starts with {title.inner_text()!r}, want all trials")
    select = page.locator(".jp-OutputArea-output select")
    select.select_option(label=CHOICE)
    try:
        page.wait_for_function("""([c, b]) => {
            const t = [...document.querySelectorAll('.jp-OutputArea-output b')].map(e => e.textContent);
            const i = document.querySelector('img.vggkit-sweep');
            return t.includes(c) && i && i.src !== b; }""", arg=[CHOICE, before], timeout=60_000)
    except Exception as e:
        problems.append(f"the picture did not redraw for {CHOICE!r}: {e}")
    page.locator(".jp-OutputArea-output button", has_text="Done").click()
    wait_kernel_idle(port, token)
    if page.locator(".jp-OutputArea-output select").count():
        problems.append("the menu is still there after Done")


def run(page, port, token, nb, artifacts):
    problems = []
    page.goto(f"http://127.0.0.1:{port}/lab/tree/{NAME}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_kernel_idle(port, token)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator("li[data-command='runmenu:run-all']").click()
    check_explorer(page, port, token, problems)
    check_sort(page, problems)
    page.keyboard.press("Control+s")
    time.sleep(2)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    if errors:
        problems.append("error outputs: " + " | ".join(e[:300] for e in errors))
    page.screenshot(path=os.path.join(artifacts, "browser-05-widget.png"), full_page=True)
    return problems


def check_saved(path, problems):
    last = json.load(open(path))["cells"][-1]
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in last.get("outputs", []))
    if CHOICE not in html or "<img" not in html:
        problems.append(f"saved explorer cell lacks the picture of {CHOICE!r}")
    if "<select" in html:
        problems.append("saved explorer cell keeps the menu")


def main():
    artifacts = os.environ.get("ARTIFACTS", os.path.join(ROOT, "notebooks", "tests", "artifacts"))
    os.makedirs(artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="vggkit-widget-")
    nb = fresh_copy(work)
    token, port = secrets.token_hex(16), free_port()
    # Workspaces of its own: JupyterLab keeps them per user (~/.jupyter/lab/workspaces) and
    # would reopen an earlier run's notebooks in hidden tabs.
    env = dict(os.environ, VGGKIT_LAB_TOKEN=token, VGGKIT_FAST=os.environ.get("VGGKIT_FAST", "1"),
               JUPYTERLAB_WORKSPACES_DIR=os.path.join(work, ".workspaces"))
    log = open(os.path.join(artifacts, "jupyterlab-widget.log"), "w")
    lab = subprocess.Popen([os.path.join(ROOT, "scripts", "lab.sh"), "--port", str(port), "--dir", work],
                           env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    problems = []
    try:
        wait_ready(port, token, lab)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                problems += run(page, port, token, nb, artifacts)
            except Exception:
                page.screenshot(path=os.path.join(artifacts, "browser-05-widget-failure.png"))
                raise
            browser.close()
        check_saved(os.path.join(work, NAME), problems)
        shutil.copy(os.path.join(work, NAME), os.path.join(artifacts, "widget-" + NAME))
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
            lab.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    for pr in problems:
        print("FAILED:", pr, file=sys.stderr)
    print(f"browser widget: {0 if problems else 1} passed, {1 if problems else 0} failed")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
