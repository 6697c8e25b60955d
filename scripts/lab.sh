#!/usr/bin/env bash
# Sets up (once; seconds when already done) and starts JupyterLab with the GoNB kernel and
# vggkit's notebooks, on 127.0.0.1 with token authentication.
#
#   scripts/lab.sh                 set up, then start JupyterLab (prints the URL with its token)
#   scripts/lab.sh --setup-only    set up only: venv, GoNB + goimports + gopls, the kernel
#   scripts/lab.sh --port 8899     another port (default 8888)
#   scripts/lab.sh --dir DIR       serve another folder of notebooks (default: notebooks/)
#   scripts/lab.sh --ip 0.0.0.0    listen on all interfaces (the Docker image; default 127.0.0.1)
#
# The token is $VGGKIT_LAB_TOKEN when set, otherwise a fresh random one; it is never empty.
# Everything lives in the repo: .venv/ (JupyterLab, and the kernel spec in its data dir),
# bin/ (gonb, goimports, gopls, pinned by the tool directives in tools/go.mod), and
# .build/go-xla + go.work (vggkit's patched go-xla, from scripts/go-xla-patch.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
setup_only=0
port=8888
ip=127.0.0.1
nbdir="$root/notebooks"
while [ $# -gt 0 ]; do
  case "$1" in
    --setup-only) setup_only=1 ;;
    --port) port=$2; shift ;;
    --dir) nbdir=$(cd "$2" && pwd); shift ;;
    --ip) ip=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "scripts/lab.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

command -v go >/dev/null || { echo "scripts/lab.sh: Go 1.26+ is needed (https://go.dev/dl)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "scripts/lab.sh: python3 is needed for JupyterLab" >&2; exit 1; }

# 0. vggkit's patched go-xla and the go.work that uses it (the fast CPU path; seconds).
scripts/go-xla-patch.sh

# 1. Python venv with JupyterLab and the headless-execution tools, pinned.
want=$(sha256sum notebooks/requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/jupyter ] || [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "setting up .venv (JupyterLab) ..."
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r notebooks/requirements.txt
  echo "$want" > .venv/.requirements.sha256
fi

# 2. GoNB, goimports and gopls at the versions tools/go.mod pins (its own module, so they
# stay out of vggkit's module graph), built into bin/. GOWORK=off: tools/ is not in go.work.
want=$(sha256sum tools/go.mod tools/go.sum | sha256sum | cut -d' ' -f1)
if [ ! -x bin/gonb ] || [ ! -x bin/goimports ] || [ ! -x bin/gopls ] || [ "$(cat bin/.tools.sha256 2>/dev/null)" != "$want" ]; then
  echo "building gonb, goimports, gopls into bin/ ..."
  GOWORK=off GOBIN="$root/bin" go -C tools install tool
  echo "$want" > bin/.tools.sha256
fi

# 3. The XLA CPU plugin (from PyPI, with pip) into vggkit's cache, so notebooks train on
# XLA rather than the slower pure-Go backend; offline, they fall back to the latter.
if ! GOEXPERIMENT=simd go run ./cmd/vggkit doctor -install cpu >/dev/null 2>.venv/doctor.log; then
  echo "note: XLA CPU plugin not installed (see .venv/doctor.log); notebooks use GoMLX's pure-Go backend"
fi

# 4. The kernel spec, in the venv's Jupyter data dir (not the user's home). Its argv gives
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
    "argv": [os.path.join(root, "bin", "gonb"), "--kernel", "{connection_file}",
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
echo "GoNB kernel: $root/$kdir/kernel.json"

# 5. JupyterLab settings: render every cell (no windowing, so the browser test sees all
# outputs), and nothing that reaches the network (extension manager, news, update checks).
mkdir -p .venv/share/jupyter/lab/settings
cat > .venv/share/jupyter/lab/settings/overrides.json <<'JSON'
{
  "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
  "@jupyterlab/extensionmanager-extension:plugin": {"enabled": false},
  "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}
}
JSON

[ "$setup_only" = 1 ] && exit 0

token=${VGGKIT_LAB_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_hex(24))')}
[ -n "$token" ] || { echo "scripts/lab.sh: empty token refused" >&2; exit 2; }
echo
echo "JupyterLab: http://127.0.0.1:$port/lab/tree/01-data.ipynb?token=$token"
echo
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root) # containers and CI run as root
exec .venv/bin/jupyter lab "${extra[@]}" --no-browser --ip="$ip" --port="$port" \
  --ServerApp.root_dir="$nbdir" --IdentityProvider.token="$token" \
  --ServerApp.open_browser=False
