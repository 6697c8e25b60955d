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
# All git-ignored. About a second the first time; when already done (a stamp holds the
# patch's sha256), it only compares files. Without go.work (GOWORK=off, or vggkit as a
# dependency of another module) builds use upstream go-xla: slower on XLA CPU, and
# `vggkit doctor` says so.
#
#   scripts/go-xla-patch.sh --update   after editing .build/go-xla: rewrites the patch from
#                                      its differences to pristine go-xla (keeps the header)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
mod=github.com/gomlx/go-xla
version=v0.4.1 # the version third_party/go-xla.patch is made against
patchfile=third_party/go-xla.patch
dest=.build/go-xla
fail() { echo "scripts/go-xla-patch.sh: $*" >&2; exit 1; }
update=0
case "${1:-}" in
  "") ;;
  --update) update=1 ;;
  *) fail "unknown argument $1 (see the comment at its top)" ;;
esac

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
if [ "$update" = 0 ] && [ "$(cat "$dest/.vggkit-patch" 2>/dev/null)" = "$stamp" ] &&
  [ "$(cat go.work 2>/dev/null)" = "$work" ] && [ "$(cat "$gonb/go.mod" 2>/dev/null)" = "$gonbmod" ]; then
  exit 0
fi

# pristine: a writable copy ($tmp, a new folder under .build/) of go-xla from the module
# cache ($src).
pristine() {
  local json
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
}

if [ "$update" = 1 ]; then
  [ -f "$dest/.vggkit-patch" ] || fail "no $dest: run scripts/go-xla-patch.sh, edit $dest, then --update"
  pristine
  g() { git -C "$tmp" -c user.name=vggkit -c user.email=vggkit@localhost -c commit.gpgsign=false "$@"; }
  g init -q && g add -A -f && g commit -q -m pristine
  find "$tmp" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
  cp -R "$dest/." "$tmp/"
  rm -f "$tmp/.vggkit-patch"
  g add -A -f
  { sed '/^diff --git/,$d' "$patchfile"; g diff --cached; } > "$patchfile.tmp"
  mv "$patchfile.tmp" "$patchfile"
  echo "$version $(sha256sum "$patchfile" | cut -d' ' -f1)" > "$dest/.vggkit-patch"
  echo "wrote $patchfile ($(wc -l < "$patchfile") lines) from $dest"
  exit 0
fi

if [ "$(cat "$dest/.vggkit-patch" 2>/dev/null)" != "$stamp" ]; then
  pristine
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
printf '%s\n' "$work" > .build/go.work.tmp
mv .build/go.work.tmp go.work
echo "go.work: this checkout's builds use $dest"
