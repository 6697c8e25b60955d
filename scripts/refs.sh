#!/usr/bin/env bash
# Sets up the Python that tests use for references (and prints its path): Debian's PyTorch
# and torchvision (apt, when missing and run as root) and a venv at .build/refs that sees
# them, with safetensors, onnxruntime and tensorboard from PyPI (tests/requirements-refs.txt). Tests find
# it through VGGKIT_REFS_PYTHON. Python serves only as a reference here: vggkit runs none.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "scripts/refs.sh: installing Debian's python3-torch and python3-torchvision ..." >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision python3-venv >/dev/null
  else
    echo "scripts/refs.sh: the reference tests need PyTorch: sudo apt-get install python3-torch python3-torchvision python3-venv" >&2
    exit 1
  fi
fi
venv=.build/refs
if ! "$venv/bin/python" -c 'import torch, torchvision, safetensors, onnxruntime, tensorboard' 2>/dev/null; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/requirements-refs.txt >&2
fi
echo "$root/$venv/bin/python"
