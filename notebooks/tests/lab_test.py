"""JupyterLab as scripts/lab.sh starts it, headless (no browser): the token and the port.

Usage: lab_test.py (after scripts/lab.sh --setup-only; about 15 s). Asserts:
  1. a token that is short or holds blanks (VGGKIT_LAB_TOKEN="a", " ", 15 characters, ...)
     is refused: exit 2, a message naming VGGKIT_LAB_TOKEN, no URL, no server;
  2. a port in use (a socket listening on it first, then --port that port) is refused:
     exit 1, a message naming the port and --port, no URL (JupyterLab does not move to
     another port behind a printed URL);
  3. a started server: the token is in no process's command line (every /proc/*/cmdline,
     scanned every 50 ms from the start, and again with a GoNB kernel running), JupyterLab
     runs with port_retries=0, it answers with the token (?token= and an Authorization
     header) and refuses without it or with a wrong one, the URL printed is for its port,
     files in its runtime folder that hold the token are readable by their owner only;
     and it is stopped at the end (its port free again);
  4. --ip 0.0.0.0: a warning names the address it listens on and the loopback-only
     publishing (docker run -p 127.0.0.1:P:P), and the URL printed uses 127.0.0.1.
$LAB_SH runs another copy of the script (it must sit in scripts/), e.g. an older version.
Uses only the standard library. Exit 1 when any check fails.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAB = os.path.join(ROOT, os.environ.get("LAB_SH", "scripts/lab.sh"))
STARTED = []  # (lab.sh run, its Tree): all stopped on exit


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procs():
    """{pid: (ppid, session, start time)} of every process now."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(pid)] = (int(fields[1]), int(fields[3]), int(fields[19]))
        except (OSError, IndexError, ValueError):
            pass
    return out


class Tree:
    """The processes a lab.sh run started, followed while it runs: its session, and every
    descendant even in a session of its own (Jupyter starts kernels so) or orphaned (GoNB's
    gopls, in a process group of its own, can outlive its kernel)."""

    def __init__(self, root):
        self.root, self.known = root, {}  # pid -> start time

    def update(self):
        now = procs()
        ours = {pid for pid, (_, sid, _) in now.items() if sid == self.root or pid == self.root}
        ours |= {pid for pid in self.known if pid in now and now[pid][2] == self.known[pid]}
        grew = True
        while grew:
            more = {pid for pid, (ppid, _, _) in now.items() if ppid in ours} - ours
            ours |= more
            grew = bool(more)
        for pid in ours:
            self.known[pid] = now[pid][2]
        return now

    def alive(self):
        now = self.update()
        return sorted(pid for pid, start in self.known.items() if pid in now and now[pid][2] == start)


def stop(proc, tree, timeout=20):
    """Stops a lab.sh run and everything it started; returns what would not stop."""
    tree.update()
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass
    # What outlived the server (a kernel, its language server).
    left = tree.alive()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.time() + 5
        while left and time.time() < deadline:
            time.sleep(0.1)
            left = tree.alive()
        if not left:
            break
    return left


def start(args, env, work):
    out = open(os.path.join(work, "stdout"), "w+")
    err = open(os.path.join(work, "stderr"), "w+")
    proc = subprocess.Popen([LAB, *args], env=env, stdout=out, stderr=err, cwd=ROOT,
                            start_new_session=True)
    tree = Tree(proc.pid)
    STARTED.append((proc, tree))
    return proc, tree, out, err


def read(f):
    f.flush()
    with open(f.name) as g:
        return g.read()


def run_refused(args, env, timeout=60):
    """Runs lab.sh expecting it to refuse; returns (exit code or None if it went on to
    start JupyterLab, stdout, stderr). A run that prints a URL is stopped at once."""
    work = tempfile.mkdtemp(prefix="vggkit-labtest-")
    try:
        proc, tree, out, err = start(args, env, work)
        deadline = time.time() + timeout
        while proc.poll() is None and time.time() < deadline:
            tree.update()
            if "token=" in read(out) or "token=" in read(err):
                break
            time.sleep(0.1)
        rc = proc.poll()
        stop(proc, tree)
        return rc, read(out), read(err)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def cmdlines():
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                yield int(pid), f.read()
        except OSError:
            pass


class Scanner(threading.Thread):
    """Reads every process's command line every 50 ms; keeps those holding the token."""

    def __init__(self, token):
        super().__init__(daemon=True)
        self.token, self.found, self.scans, self.tree = token.encode(), {}, 0, None
        self.t_ready = None
        self.done = threading.Event()

    def scan(self):
        if self.tree:
            self.tree.update()
        for pid, line in cmdlines():
            if self.token in line:
                shown = line.replace(self.token, b"<TOKEN>").replace(b"\0", b" ")
                self.found[pid] = shown.decode(errors="replace")[:300]
        self.scans += 1

    def run(self):
        while not self.done.is_set():
            self.scan()
            self.done.wait(0.05)


def http(url, token=None, header=None, method="GET", body=None, timeout=10):
    """Returns the HTTP status (and the body as JSON when there is one)."""
    if token is not None:
        url += ("&" if "?" in url else "?") + "token=" + token
    req = urllib.request.Request(url, method=method, data=body)
    if header:
        req.add_header("Authorization", "token " + header)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = r.read()
            return r.status, (json.loads(data) if data else None)
    except urllib.error.HTTPError as e:
        return e.code, None


def check_refused_tokens(problems):
    for token, why in [("a", "1 character"), (" ", "a blank"), (" " * 20, "20 blanks"),
                       ("abc def ghi jkl mno", "blanks inside"), ("x" * 15, "15 characters"),
                       ("abcdefghijklmnop\t", "a tab at the end")]:
        env = dict(os.environ, VGGKIT_LAB_TOKEN=token)
        rc, out, err = run_refused(["--port", str(free_port())], env)
        if rc is None:
            problems.append(f"token of {why}: accepted, JupyterLab was being started")
        elif rc != 2:
            problems.append(f"token of {why}: exit {rc}, want 2 ({err.strip()[-300:]})")
        elif "VGGKIT_LAB_TOKEN" not in err:
            problems.append(f"token of {why}: the message does not name VGGKIT_LAB_TOKEN: {err.strip()!r}")
        if "http://" in out + err:
            problems.append(f"token of {why}: a URL was printed")


def check_busy_port(problems):
    token = secrets.token_hex(24)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        env = dict(os.environ, VGGKIT_LAB_TOKEN=token)
        rc, out, err = run_refused(["--port", str(port)], env)
    if rc is None:
        urls = " ".join(re.findall(r"http://\S+", out)).replace(token, "<TOKEN>")
        problems.append(f"busy port {port}: JupyterLab was being started, URL printed: {urls}")
        return
    if rc == 0:
        problems.append(f"busy port {port}: exit 0, want a failure")
    if f"port {port}" not in err or "--port" not in err:
        problems.append(f"busy port {port}: the message does not name the port and --port: {err.strip()[-400:]!r}")
    if "http://" in out + err or token in out + err:
        problems.append(f"busy port {port}: a URL or the token was printed")


def check_server(problems):
    token, port = secrets.token_hex(24), free_port()
    work = tempfile.mkdtemp(prefix="vggkit-labtest-")
    nbdir, runtime = os.path.join(work, "notebooks"), os.path.join(work, "runtime")
    os.makedirs(nbdir)
    # TMPDIR: GoNB's own folders go into work/ and leave with it.
    env = dict(os.environ, VGGKIT_LAB_TOKEN=token, JUPYTER_RUNTIME_DIR=runtime, TMPDIR=work)
    scanner = Scanner(token)
    scanner.start()
    t_start = time.time()
    proc, tree, out, err = start(["--port", str(port), "--dir", nbdir], env, work)
    scanner.tree = tree
    base = f"http://127.0.0.1:{port}"
    try:
        not_up = wait_up(proc, base, token, err)
        if not_up:
            problems.append(not_up)
        else:
            exercise(problems, base, port, token, tree, runtime, scanner, out)
            print(f"lab: server up {scanner.t_ready - t_start:.1f} s after scripts/lab.sh started; "
                  f"{scanner.scans} scans of every process's command line")
    finally:
        scanner.done.set()
        scanner.join(timeout=5)
        left = stop(proc, tree)
        shutil.rmtree(work, ignore_errors=True)
    for pid, line in sorted(scanner.found.items()):
        problems.append(f"the token is on the command line of process {pid}: {line}")
    # Stopped: nothing answers on its port any more, no process of it is left.
    time.sleep(0.5)
    with socket.socket() as s:
        s.settimeout(2)
        if s.connect_ex(("127.0.0.1", port)) == 0:
            problems.append(f"something still listens on port {port} after the test stopped JupyterLab")
    left += [pid for pid, line in cmdlines() if f"--port={port}".encode() in line]
    if left:
        problems.append(f"processes left after stopping JupyterLab: {sorted(set(left))}")
    else:
        print(f"lab: {len(tree.known)} processes started by scripts/lab.sh, all stopped")


def wait_up(proc, base, token, err, timeout=90):
    """None once JupyterLab answers with the token, else what went wrong."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return f"scripts/lab.sh exited with {proc.returncode} before JupyterLab answered: {read(err)[-1500:]}"
        try:
            if http(f"{base}/api/status", header=token, timeout=2)[0] == 200:
                return None
        except OSError:
            pass
        time.sleep(0.2)
    return f"JupyterLab did not answer at {base} within {timeout} s"


def exercise(problems, base, port, token, tree, runtime, scanner, out):
    """The checks on a running server."""
    scanner.t_ready = time.time()
    # Token authentication: the token opens it, nothing else does.
    for what, args, want in [("?token=", dict(token=token), 200),
                             ("Authorization header", dict(header=token), 200),
                             ("no token", {}, 403),
                             ("a wrong token", dict(token=secrets.token_hex(24)), 403),
                             ("a wrong header", dict(header=secrets.token_hex(24)), 403)]:
        for path in ("/api/status", "/api/contents"):
            got = http(base + path, **args)[0]
            if got != want:
                problems.append(f"GET {path} with {what}: HTTP {got}, want {want}")

    # The URL printed is this server's, with its token.
    urls = re.findall(r"^JupyterLab: (\S+)$", read(out), re.M)
    want_url = f"{base}/lab?token={token}"
    if urls != [want_url]:
        shown = [u.replace(token, "<TOKEN>") for u in urls]
        problems.append(f"printed URL(s) {shown}, want [{want_url.replace(token, '<TOKEN>')}]")

    # The server process: port_retries=0, so it never moves to another port.
    server = [line for _, line in cmdlines() if f"--port={port}".encode() in line and b"jupyter" in line]
    if not server:
        problems.append(f"no JupyterLab process with --port={port} found")
    elif not any(b"--ServerApp.port_retries=0" in line for line in server):
        problems.append("JupyterLab runs without --ServerApp.port_retries=0")

    # A kernel too: the whole process tree, GoNB included, is scanned.
    code, kernel = http(f"{base}/api/kernels", header=token, method="POST",
                        body=json.dumps({"name": "gonb"}).encode(), timeout=60)
    if code != 201 or not kernel:
        problems.append(f"starting a GoNB kernel: HTTP {code}, want 201")
    else:
        deadline, seen = time.time() + 30, False
        while not seen and time.time() < deadline:
            seen = any(b"gonb" in cmdline(pid) and b"--kernel" in cmdline(pid) for pid in tree.alive())
            time.sleep(0.2)
        if not seen:
            problems.append("the GoNB kernel's process did not appear within 30 s")
        scanner.scan()
        if http(f"{base}/api/kernels/{kernel['id']}", header=token, method="DELETE")[0] != 204:
            problems.append("stopping the kernel failed")

    # Jupyter's runtime files that hold the token are private.
    for dirpath, _, files in os.walk(runtime):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                holds = token in open(path, errors="replace").read()
            except OSError:
                continue
            # Private: the file itself, or the folder it is in (Jupyter makes its
            # runtime folder 0700), is closed to group and others.
            fmode, dmode = os.stat(path).st_mode, os.stat(dirpath).st_mode
            if holds and fmode & 0o077 and dmode & 0o077:
                problems.append(f"{name} holds the token and others can read it "
                                f"(file {oct(fmode & 0o777)}, folder {oct(dmode & 0o777)})")


def check_all_interfaces(problems):
    """--ip 0.0.0.0: the warning and the URL. Stopped as soon as the URL is printed."""
    token, port = secrets.token_hex(24), free_port()
    env = dict(os.environ, VGGKIT_LAB_TOKEN=token)
    rc, out, err = run_refused(["--ip", "0.0.0.0", "--port", str(port)], env)
    if rc is not None:
        problems.append(f"--ip 0.0.0.0: exit {rc} before the URL: {err.strip()[-400:]}")
        return
    for want in (f"0.0.0.0:{port}", "other machines", f"-p 127.0.0.1:{port}:{port}", "TLS"):
        if want not in err:
            problems.append(f"--ip 0.0.0.0: the warning lacks {want!r}: {err.strip()[-600:]!r}")
    if f"JupyterLab: http://127.0.0.1:{port}/" not in out:
        problems.append(f"--ip 0.0.0.0: no URL on 127.0.0.1:{port} printed")


def main():
    # A test stopped from outside still stops the servers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if not os.access(LAB, os.X_OK):
        sys.exit(f"lab_test.py: {LAB} is not there or not executable")
    checks = [("short or blank tokens are refused", check_refused_tokens),
              ("a busy port is refused, no URL", check_busy_port),
              ("server: token off command lines, required, right URL", check_server),
              ("--ip 0.0.0.0 warns and prints the address", check_all_interfaces)]
    failed = 0
    try:
        for name, check in checks:
            problems, t0 = [], time.time()
            check(problems)
            status = "ok" if not problems else "FAILED"
            print(f"{status}: {name} ({time.time() - t0:.1f} s)", flush=True)
            for p in problems:
                print(f"  {p}", flush=True)
            failed += bool(problems)
    finally:
        for proc, tree in STARTED:
            stop(proc, tree)
    print(f"lab: {len(checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
