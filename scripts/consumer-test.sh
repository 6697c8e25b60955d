#!/usr/bin/env bash
# Consumer smoke test: vggkit as a dependency of another module, the way `go get` gives it
# (here a replace to this checkout, as it is not published): no go.work (GOWORK=off), so
# go.mod's requirements alone must build it, with upstream go-xla (replaces and go.work do
# not carry over to consumers). A scratch module whose main opens a small run on
# Shapes10 (vggkit.Open), trains it one epoch and evaluates it on the pure-Go backend;
# exits non-zero on any failure. Then `go install ./cmd/vggkit` without and with this checkout's go.work,
# and `go install github.com/vggkit/vggkit/cmd/vggkit@<pseudo-version of HEAD>` from a
# local file proxy (tools/modproxy; committed files only), which go.mod replace
# directives would make `go install` refuse.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
tmp=$(mktemp -d)
modcache=$(go env GOMODCACHE)
version=
cleanup() {
  # The module cache keeps what `go install ...@version` fetched: drop that version only.
  if [ -n "$version" ]; then
    chmod -R u+w "$modcache/github.com/vggkit/vggkit@$version" 2>/dev/null || true
    rm -rf "$modcache/github.com/vggkit/vggkit@$version" "$modcache/cache/download/github.com/vggkit/vggkit/@v/$version".* \
      "$modcache/cache/download/github.com/vggkit/vggkit/@v/list"
    rmdir "$modcache/cache/download/github.com/vggkit/vggkit/@v" "$modcache/cache/download/github.com/vggkit/vggkit" \
      "$modcache/cache/download/github.com/vggkit" "$modcache/github.com/vggkit" 2>/dev/null || true # only if empty
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
export GOEXPERIMENT=simd GOMLX_BACKEND=go

mkdir "$tmp/consumer"
cat > "$tmp/consumer/go.mod" <<EOF
module example.com/consumer

go 1.26.8

require github.com/vggkit/vggkit v0.0.0

replace github.com/vggkit/vggkit => $root
EOF
cat > "$tmp/consumer/main.go" <<'EOF'
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math"

	"github.com/vggkit/vggkit/vggkit"
	"github.com/vggkit/vggkit/vggkit/config"
	"github.com/vggkit/vggkit/vggkit/vgg"
)

// A whole run through the public API: open, one epoch, evaluate.
func main() {
	cfg := config.Demo()
	cfg.Data.PerClass, cfg.Model.Width, cfg.Train.Epochs, cfg.Train.BatchSize = 2, 1.0/16, 1, 10
	sum, err := vgg.Summarize(cfg.Model.Resolve())
	check(err)
	run, err := vggkit.Open(cfg, "") // no run folder: nothing on disk
	check(err)
	run.Learner.Out = io.Discard
	check(run.Fit(context.Background()))
	ev, err := run.Evaluate()
	check(err)
	for _, row := range ev.Logits {
		for _, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				log.Fatalf("non-finite logit %v", v)
			}
		}
	}
	if ev.Report.Total != 20 || len(ev.Pred) != 20 || run.Learner.Step() != 2 || !run.Learner.Backend.IsGo() {
		log.Fatalf("%d images evaluated, %d predictions, step %d on %s; want 20, 20, 2 on the pure-Go backend",
			ev.Report.Total, len(ev.Pred), run.Learner.Step(), run.Learner.Backend.Config)
	}
	fmt.Printf("consumer: %s (%d parameters), %d steps, %d test images evaluated on %s\n",
		cfg.Model.Name(), sum.TotalParams(), run.Learner.Step(), ev.Report.Total, run.Learner.Backend.Config)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
EOF
echo "consumer module (GOWORK=off, upstream go-xla):"
(cd "$tmp/consumer" && GOWORK=off GOFLAGS="${GOFLAGS:-} -mod=mod" go run .)

cd "$root"
echo "go install ./cmd/vggkit, GOWORK=off (upstream go-xla):"
GOWORK=off GOBIN="$tmp/bin-upstream" go install ./cmd/vggkit
"$tmp/bin-upstream/vggkit" doctor | grep '^go-xla:' | tee "$tmp/doctor"
grep -q 'upstream, without vggkit.s patch' "$tmp/doctor"

echo "go install ./cmd/vggkit with go.work (patched go-xla):"
scripts/go-xla-patch.sh >/dev/null
GOBIN="$tmp/bin-patched" go install ./cmd/vggkit
"$tmp/bin-patched/vggkit" doctor | grep '^go-xla:' | tee "$tmp/doctor"
grep -q 'with vggkit.s patch' "$tmp/doctor"

if git rev-parse --git-dir >/dev/null 2>&1; then
  version=$(GOWORK=off go -C tools run ./modproxy -repo "$root" -out "$tmp/proxy")
  echo "go install github.com/vggkit/vggkit/cmd/vggkit@$version (HEAD, from a local file proxy):"
  GOWORK=off GOPROXY="file://$tmp/proxy,$(go env GOPROXY)" GONOSUMDB=github.com/vggkit GOBIN="$tmp/bin-proxy" \
    go install "github.com/vggkit/vggkit/cmd/vggkit@$version"
  "$tmp/bin-proxy/vggkit" doctor | grep '^go-xla:' | tee "$tmp/doctor"
  grep -q 'upstream, without vggkit.s patch' "$tmp/doctor"
else
  echo "not a git checkout: go install ...@version from a local proxy skipped"
fi
echo "consumer test: ok"
