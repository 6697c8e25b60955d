#!/usr/bin/env bash
# Sets up (once; seconds when already done) and starts JupyterLab with the GoNB kernel and
# vggkit's notebooks, on 127.0.0.1 with token authentication.
#
#   scripts/lab.sh                 set up, then start JupyterLab (prints the URL with its token)
#   scripts/lab.sh --setup-only    set up only: venv, GoNB + goimports + gopls, the kernel, the XLA CPU plugin
#   scripts/lab.sh --port 8899     another port (default 8888; a port in use is an error)
#   scripts/lab.sh --dir DIR       serve another folder of notebooks (default: notebooks/)
#   scripts/lab.sh --ip 0.0.0.0    listen on all interfaces (the Docker image; default 127.0.0.1)
#
# The token is $VGGKIT_LAB_TOKEN when set (at least 16 characters, no blanks), otherwise a
# fresh random one. It reaches JupyterLab in its environment (JUPYTER_TOKEN), never on a
# command line, where every local user could read it (ps, /proc/PID/cmdline); a token set
# in your own Jupyter config (~/.jupyter) would take precedence over it.
# Everything lives in the repo: .venv/ (JupyterLab, and the kernel spec in its data dir),
# bin/ (gonb, goimports, gopls, pinned by the tool directives in tools/go.mod), and
# .build/go-xla + go.work (vggkit's patched go-xla, from scripts/go-xla-patch.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
usage() { echo "scripts/lab.sh: $* (see --help)" >&2; exit 2; }
setup_only=0
port=8888
ip=127.0.0.1
nbdir="$root/notebooks"
while [ $# -gt 0 ]; do
  case "$1" in
    --setup-only) setup_only=1 ;;
    --port) [ $# -ge 2 ] || usage "--port needs a number"; port=$2; shift ;;
    --dir) [ $# -ge 2 ] || usage "--dir needs a folder"
      nbdir=$(cd "$2" 2>/dev/null && pwd) || usage "--dir $2: no such folder"; shift ;;
    --ip) [ $# -ge 2 ] || usage "--ip needs an address"; ip=$2; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) usage "unknown argument $1" ;;
  esac
  shift
done
[[ $port =~ ^[0-9]{1,5}$ ]] && [ "$((10#$port))" -ge 1 ] && [ "$((10#$port))" -le 65535 ] ||
  usage "--port $port: want a port number from 1 to 65535"
port=$((10#$port))

command -v go >/dev/null || { echo "scripts/lab.sh: Go 1.26+ is needed (https://go.dev/dl)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "scripts/lab.sh: python3 is needed for JupyterLab" >&2; exit 1; }

# The token and the address, checked before any set-up so that a mistake costs no time.
# The token never goes on a command line: the checks below are shell builtins, and the
# programs that see it read it from their environment or standard output.
if [ "$setup_only" = 0 ]; then
  if [ -n "${VGGKIT_LAB_TOKEN:-}" ]; then
    token=$VGGKIT_LAB_TOKEN
    pick="unset it for a random token, or make one with: python3 -c 'import secrets; print(secrets.token_hex(24))'"
    if [[ $token =~ [[:space:][:cntrl:]] ]]; then
      echo "scripts/lab.sh: VGGKIT_LAB_TOKEN holds blanks or control characters: refused; $pick" >&2
      exit 2
    fi
    if [ "${#token}" -lt 16 ]; then
      echo "scripts/lab.sh: VGGKIT_LAB_TOKEN is too short (length ${#token}; at least 16 characters): refused (whoever reaches the port could guess it); $pick" >&2
      exit 2
    fi
  else
    token=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
  fi
fi

# listen_check MODE: can JupyterLab listen on $ip:$port? Binds and listens on every address
# $ip stands for, the way Jupyter's server (tornado's bind_sockets) will, then lets go.
# Exits 1 with a message naming the port when it is in use (JupyterLab is started with
# port_retries=0, so it never moves to another port behind the printed URL), 2 when $ip is
# not an address of this machine. MODE announce also prints the host for the URL, and
# warns on standard error when the address is reachable from other machines.
listen_check() {
  python3 - "$ip" "$port" "$1" <<'PY'
import errno, fcntl, ipaddress, socket, struct, sys

ip, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
host = None if ip in ("", "*") else ip  # Jupyter: "" and "*" mean every interface


def fail(code, msg):
    print(f"scripts/lab.sh: {msg}", file=sys.stderr)
    sys.exit(code)


try:
    infos = sorted(set(socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
                                          socket.AI_PASSIVE)), key=lambda r: r[0])
except socket.gaierror as e:
    fail(2, f"--ip {ip}: not an address of this machine ({e.strerror})")
socks, addrs = [], []
try:
    for af, kind, proto, _, sockaddr in infos:
        try:
            s = socket.socket(af, kind, proto)
        except OSError as e:
            if e.errno == errno.EAFNOSUPPORT:
                continue
            raise
        socks.append(s)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if af == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            s.bind(sockaddr)
        except OSError as e:
            if e.errno == errno.EADDRNOTAVAIL and host == "localhost" and sockaddr[0] == "::1":
                continue  # no IPv6 loopback here; tornado skips it too
            raise
        s.listen(1)
        addrs.append(sockaddr[0])
except OSError as e:
    where = f"port {port} on {ip}" if ip not in ("", "*") else f"port {port}"
    if e.errno == errno.EADDRINUSE:
        other = 8899 if port != 8899 else 8900
        fail(1, f"port {port} is already in use ({ip or '*'}:{port}; `ss -ltnp 'sport = :{port}'` "
                f"names the process, perhaps another JupyterLab). JupyterLab was not started: "
                f"stop what holds the port, or choose another: scripts/lab.sh --port N (say {other})")
    if e.errno == errno.EACCES:
        fail(1, f"not allowed to listen on {where} (ports below 1024 need root): "
                f"choose another with --port N")
    if e.errno == errno.EADDRNOTAVAIL:
        fail(2, f"--ip {ip}: not an address of this machine")
    fail(1, f"cannot listen on {where}: {e.strerror}")
finally:
    for s in socks:
        s.close()
if mode != "announce":
    sys.exit(0)


def parse(a):
    return ipaddress.ip_address(a.split("%")[0])


def ipv4_interfaces():  # Linux: each interface's IPv4 address (SIOCGIFADDR)
    out = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                try:
                    r = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))
                    out.append(socket.inet_ntoa(r[20:24]))
                except OSError:
                    pass
    except OSError:
        pass
    return out


wildcard = any(parse(a).is_unspecified for a in addrs)
if wildcard:
    url_host = "127.0.0.1" if any(":" not in a for a in addrs) else "[::1]"
else:
    url_host = f"[{ip}]" if ":" in ip else ip
print(url_host)
if all(parse(a).is_loopback for a in addrs):
    sys.exit(0)
listening = ", ".join(f"[{a}]:{port}" if ":" in a else f"{a}:{port}" for a in addrs)
if wildcard:
    seen = ipv4_interfaces() if any(":" not in a for a in addrs) else []
    where = "every network interface of this machine" + (f" ({', '.join(seen)})" if seen else "")
else:
    where = f"a network address of this machine ({ip})"
print(f"""
warning: JupyterLab listens on {listening}, {where}: other machines can reach it.
  Whoever has the token can run any code as this user, and plain HTTP carries the token
  unencrypted. To keep it local, leave --ip at its default (127.0.0.1); in Docker, publish
  the port on the host's loopback only: docker run -p 127.0.0.1:{port}:{port} ...
  To serve other machines, put a TLS proxy in front (README.md, "Run it").""", file=sys.stderr)
PY
}
[ "$setup_only" = 1 ] || listen_check check

# Set-up, phase by phase, each line stamped with the time since the start. On a fresh
# machine the work is downloads (pip, the Go module proxy) and compiling; what JupyterLab
# needs (the venv, GoNB, goimports) runs in parallel, and what it can do without (the XLA
# CPU plugin, gopls) follows in the background once it is up (--setup-only: before exit).
t0=$SECONDS
say() { local s=$((SECONDS - t0)); printf '[%d:%02d] %s\n' $((s / 60)) $((s % 60)) "$*"; }
mkdir -p .build
: "${VGGKIT_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/vggkit}" # where vggkit doctor puts the plugin
cpu_plugin=$VGGKIT_CACHE/pjrt/pjrt_c_api_cpu_plugin.so

# 0. vggkit's patched go-xla and the go.work that uses it (the fast CPU path; seconds).
scripts/go-xla-patch.sh

# 1a. Python venv with JupyterLab and the headless-execution tools, pinned. --no-compile:
# Python compiles what it imports when it first imports it, not all 420 MB up front.
pip_setup() {
  python3 -m venv .venv &&
    .venv/bin/pip install -q --no-compile --disable-pip-version-check -r notebooks/requirements.txt &&
    echo "$1" > .venv/.requirements.sha256
}
want_py=$(sha256sum notebooks/requirements.txt | cut -d' ' -f1)
pip_pid=
if [ ! -x .venv/bin/jupyter ] || [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want_py" ]; then
  say "1. Python venv: JupyterLab, nbclient, playwright from PyPI (about 420 MB installed; 30 s to 2 min) -> .venv/, log .build/pip.log"
  pip_setup "$want_py" > .build/pip.log 2>&1 &
  pip_pid=$!
fi

# 1b. GoNB and goimports at the versions tools/go.mod pins (its own module, so they stay
# out of vggkit's module graph), built into bin/; gopls comes later (step 3): GoNB needs
# it only for completion and inspection, and starts without it. GOWORK=off: tools/ is not
# in go.work. One `go install` for both shares the packages they have in common.
want_tools=$(sha256sum tools/go.mod tools/go.sum | sha256sum | cut -d' ' -f1)
if [ ! -x bin/gonb ] || [ ! -x bin/goimports ] || [ "$(cat bin/.tools.sha256 2>/dev/null)" != "$want_tools" ]; then
  say "2. GoNB and goimports: Go modules (about 100 MB, GoNB's own 70 MB) and compiling (30 s to 2 min on 2 cores) -> bin/"
  GOWORK=off GOBIN="$root/bin" go -C tools install github.com/janpfeifer/gonb golang.org/x/tools/cmd/goimports
  mkdir -p bin && echo "$want_tools" > bin/.tools.sha256
  say "   GoNB and goimports built"
fi
if [ -n "$pip_pid" ]; then
  wait "$pip_pid" || { tail -20 .build/pip.log >&2; echo "scripts/lab.sh: pip failed (log above, whole in .build/pip.log)" >&2; exit 1; }
  say "   .venv ready ($(du -sh .venv | cut -f1))"
fi

# 3 and 4. What notebooks can start without, one after the other (both compile Go): the XLA
# CPU plugin (from PyPI, with pip) into vggkit's cache, so notebooks train on XLA rather
# than the slower pure-Go backend (offline, they fall back to the latter); building
# `vggkit doctor` for it compiles the vggkit packages the notebooks import, so their
# first cell reuses that build. Then gopls, for completion in notebooks opened after it.
late_setup() {
  if [ ! -f "$cpu_plugin" ]; then
    say "3. XLA CPU plugin: vggkit's Go modules (about 90 MB), compiling vggkit doctor, and the plugin's wheel from PyPI (250 MB unpacked): 1.5-3 min on 2 cores, once -> $cpu_plugin; log .venv/doctor.log"
    if GOEXPERIMENT=simd go run ./cmd/vggkit doctor -install cpu >/dev/null 2>.venv/doctor.log; then
      say "   XLA CPU plugin installed"
    else
      say "note: XLA CPU plugin not installed (see .venv/doctor.log); notebooks use GoMLX's pure-Go backend"
    fi
  fi
  if [ ! -x bin/gopls ] || [ "$(cat bin/.gopls.sha256 2>/dev/null)" != "$want_tools" ]; then
    say "4. gopls (completion and inspection in notebooks): 6 MB of Go modules and compiling (1-2 min on 2 cores, once) -> bin/gopls"
    if GOWORK=off GOBIN="$root/bin" go -C tools install golang.org/x/tools/gopls; then
      echo "$want_tools" > bin/.gopls.sha256
      say "   gopls built: kernels started from now on complete and inspect code (Tab, Shift+Tab)"
    fi
  fi
}

# 5. The kernel spec, in the venv's Jupyter data dir (not the user's home). Its argv gives
# every notebook a go.work that uses this repo and .build/go-xla-replace (a module that
# only replaces go-xla with the patched copy: GoNB writes its own go.work from these paths
# and does not read the repo's), so `import "github.com/vggkit/vggkit/..."` uses the local
# code with the fast CPU path, at the versions go.mod pins, and GoNB never resolves a
# module version by itself; its env carries what vggkit's builds need.
kdir=.venv/share/jupyter/kernels/gonb
mkdir -p "$kdir"
gobin=$(dirname "$(command -v go)")
python3 - "$kdir/kernel.json" "$root" "$gobin" <<'PY'
import json, os, sys
path, root, gobin = sys.argv[1:]
env = {
    "GOEXPERIMENT": "simd",
    "PATH": os.pathsep.join([os.path.join(root, "bin"), gobin, os.environ.get("PATH", "")]),
}
for key in ("PJRT_PLUGIN_LIBRARY_PATH", "GOMLX_BACKEND", "VGGKIT_CACHE", "GOPROXY", "GOFLAGS"):
    if os.environ.get(key):
        env[key] = os.environ[key]
spec = {
    # GoNB logs at info level to standard error, where JupyterLab's terminal shows it:
    # a stack trace each time a kernel stops (GoNB's own goplsclient.stopLocked logs one
    # on purpose). Everything goes to .venv/gonb-kernel.log instead, nothing to the
    # terminal; klog's own log files (log_file) are not wanted.
    "argv": [os.path.join(root, "bin", "gonb"), "--logtostderr=false", "--stderrthreshold=FATAL",
             "--log_file=/dev/null", "--extra_log=" + os.path.join(root, ".venv", "gonb-kernel.log"),
             "--kernel", "{connection_file}",
             "--go_work=" + root + "," + os.path.join(root, ".build", "go-xla-replace")],
    "display_name": "Go (gonb)",
    "language": "go",
    "interrupt_mode": "message",
    "env": env,
}
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(spec, f, indent=1)
os.replace(tmp, path)
PY
say "GoNB kernel: $root/$kdir/kernel.json (its log: .venv/gonb-kernel.log)"

# 6. JupyterLab settings: render every cell (no windowing, so the browser test sees all
# outputs), and nothing that reaches the network (extension manager, news, update checks).
mkdir -p .venv/share/jupyter/lab/settings
cat > .venv/share/jupyter/lab/settings/overrides.json <<'JSON'
{
  "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
  "@jupyterlab/extensionmanager-extension:plugin": {"enabled": false},
  "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}
}
JSON

# No jpserver-*-open.html (it holds the token): set in the venv's config, since on the
# command line every server extension warns that it does not know the option.
mkdir -p .venv/etc/jupyter/jupyter_server_config.d
echo '{"ServerApp": {"no_browser_open_file": true}}' > .venv/etc/jupyter/jupyter_server_config.d/vggkit.json

if [ "$setup_only" = 1 ]; then
  late_setup
  exit 0
fi
# The kernel log starts afresh with each JupyterLab (it grows by a few lines per kernel).
[ ! -f .venv/gonb-kernel.log ] || mv .venv/gonb-kernel.log .venv/gonb-kernel.log.old

# Checked again just before the start (set-up takes a while); and JupyterLab fails rather
# than move to another port (port_retries=0), so the URL printed is the one it serves.
url_host=$(listen_check announce)
page=lab/tree/01-data.ipynb
[ -f "$nbdir/01-data.ipynb" ] || page=lab
url_token=$(TOKEN=$token python3 -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ["TOKEN"], safe=""))')
# The rest of the set-up runs beside JupyterLab, its lines among JupyterLab's.
late_setup &
say "starting JupyterLab"
echo
echo "JupyterLab: http://$url_host:$port/$page?token=$url_token"
echo
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root) # containers and CI run as root
unset VGGKIT_LAB_TOKEN JUPYTER_TOKEN_FILE
export JUPYTER_TOKEN=$token
exec .venv/bin/jupyter lab "${extra[@]}" --no-browser --ip="$ip" --port="$port" \
  --ServerApp.port_retries=0 --ServerApp.root_dir="$nbdir" --ServerApp.open_browser=False
