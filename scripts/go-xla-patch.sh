#!/usr/bin/env bash
# Gives builds in this checkout vggkit's patched go-xla (the fast CPU path: oneDNN
# convolutions and vggkit's own kernels on the XLA CPU plugin; third_party/README.md):
#   1. copies pristine github.com/gomlx/go-xla (the version go.mod requires, which must be
#      the one third_party/go-xla.patch is made against) from the Go module cache into
#      .build/go-xla and applies the patch there (fails if it does not apply);
#   2. writes go.work at the repo root: `use .` and a replace of go-xla with that copy;
#   3. writes .build/go-xla-replace/go.mod, a module that holds only that replace, for
#      GoNB: it writes each notebook's own go.work from the paths scripts/lab.sh gives it,
#      so notebooks `use` this repo and that module (rather than the copy itself, which
#      as a workspace module would bring its whole requirement graph and move versions).
# Both are git-ignored. Seconds the first time; when already done (a stamp holds the
# patch's sha256), it only compares files. Without go.work (GOWORK=off, or vggkit as a
# dependency of another module) builds use upstream go-xla: slower on XLA CPU, and
# `vggkit doctor` says so.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
mod=github.com/gomlx/go-xla
version=v0.4.1 # the version third_party/go-xla.patch is made against
patchfile=third_party/go-xla.patch
dest=.build/go-xla
fail() { echo "scripts/go-xla-patch.sh: $*" >&2; exit 1; }

required=$(awk -v m="$mod" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' go.mod)
[ "$required" = "$version" ] || fail "go.mod requires $mod ${required:-(nothing)}, but $patchfile is made against $version: update the patch and this script together with go.mod"

stamp="$version $(sha256sum "$patchfile" | cut -d' ' -f1)"
work="// Written by scripts/go-xla-patch.sh (git-ignored): this checkout with vggkit's patched go-xla.
go 1.26.8

use .

replace $mod $version => ./$dest"
gonb=.build/go-xla-replace
gonbmod="// Written by scripts/go-xla-patch.sh: for GoNB's go.work (scripts/lab.sh).
module vggkit.local/go-xla-replace

go 1.26.8

replace $mod $version => ../go-xla"
if [ "$(cat "$dest/.vggkit-patch" 2>/dev/null)" = "$stamp" ] && [ "$(cat go.work 2>/dev/null)" = "$work" ] &&
  [ "$(cat "$gonb/go.mod" 2>/dev/null)" = "$gonbmod" ]; then
  exit 0
fi

if [ "$(cat "$dest/.vggkit-patch" 2>/dev/null)" != "$stamp" ]; then
  json=$(GOWORK=off GOFLAGS=-mod=mod go mod download -json "$mod@$version") || fail "go mod download $mod@$version failed:
$json"
  src=$(printf '%s\n' "$json" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] && [ -d "$src" ] || fail "go mod download $mod@$version gave no directory:
$json"
  mkdir -p .build
  tmp=$(mktemp -d .build/go-xla.XXXXXX)
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  cp -R "$src/." "$tmp/"
  chmod -R u+w "$tmp" # the module cache is read-only
  # GIT_CEILING_DIRECTORIES: git apply acts on the copy, not on this repository.
  if ! out=$(GIT_CEILING_DIRECTORIES="$root/.build" git -C "$tmp" apply -p1 --whitespace=nowarn "$root/$patchfile" 2>&1); then
    fail "$patchfile does not apply to $mod@$version ($src):
$out"
  fi
  echo "$stamp" > "$tmp/.vggkit-patch"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  trap - EXIT
  echo "go-xla: $mod@$version with $patchfile in $dest"
fi
mkdir -p "$gonb"
printf '%s\n' "$gonbmod" > "$gonb/go.mod"
printf '%s\n' "$work" > go.work.tmp
mv go.work.tmp go.work
echo "go.work: this checkout's builds use $dest"
