#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a bounded time, one after the other, and
# fails if any finds a failing input (a panic, a failed check). Targets are discovered,
# not listed: the packages whose _test.go files declare a func Fuzz..., then
# `go test -list '^Fuzz'` in each.
#   FUZZTIME          go test -fuzztime per target: a count (default 200000x, 5-20 s a
#                     target here) or a time (30s). Counts, because Go 1.26's fuzz
#                     coordinator can fail a target with "context deadline exceeded" at
#                     the end of a timed run with no failing input (golang/go#75804,
#                     fixed in Go 1.27); such a failure of a timed run, with no input
#                     saved, is reported as that and not counted.
#   FUZZMINIMIZETIME  go test -fuzzminimizetime (default 100x: a count, not a time; with
#                     a time such as 5s every new interesting input is minimised for up
#                     to that long and a short run spends most of it there)
# A failing input is saved in the package's testdata/fuzz/<target>/ (printed); add it
# to the commit with the fix, so that plain `go test` runs it from then on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
export GOEXPERIMENT=${GOEXPERIMENT:-simd}
minimize=${FUZZMINIMIZETIME:-100x}
start=$SECONDS

targets=() # "import-path<TAB>dir<TAB>name"
while read -r pkg dir; do
  grep -qs '^func Fuzz' "$dir"/*_test.go || continue
  names=$(go test -list '^Fuzz' "$pkg")
  for name in $names; do
    [[ $name == Fuzz* ]] && targets+=("$pkg"$'\t'"$dir"$'\t'"$name")
  done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)
n=${#targets[@]}
if [ "$n" = 0 ]; then
  echo "scripts/fuzz.sh: no fuzz targets found" >&2
  exit 1
fi
fuzztime=${FUZZTIME:-200000x}
echo "fuzz: $n targets, $fuzztime each (-fuzzminimizetime $minimize)"

failed=()
log=$(mktemp)
stamp=$(mktemp)
trap 'rm -f "$log" "$stamp"' EXIT
for t in "${targets[@]}"; do
  IFS=$'\t' read -r pkg dir name <<<"$t"
  rel=${dir#"$root"/}
  touch "$stamp"
  t0=$SECONDS
  if go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" >"$log" 2>&1; then
    # The last progress line: "fuzz: elapsed: 15s (or 1m30s), execs: 123456 (0/sec), ...".
    read -r secs execs < <(grep -oE 'elapsed: ([0-9]+h)?([0-9]+m)?[0-9]+s, execs: [0-9]+' "$log" | tail -1 |
      awk '{ t = $2; s = 0; if (t ~ /h/) { split(t, a, "h"); s += a[1] * 3600; t = a[2] }
             if (t ~ /m/) { split(t, a, "m"); s += a[1] * 60; t = a[2] }
             sub(/s,/, "", t); print s + t, $4 }') || true
    rate=$(( ${execs:-0} / (${secs:-0} > 0 ? secs : 1) ))
    printf 'ok    %-16s %-34s %9s inputs in %ss (%s/s, %s/min), %ss with the build\n' \
      "$name" "$rel" "${execs:-?}" "${secs:-?}" "$rate" "$(( rate * 60 ))" "$(( SECONDS - t0 ))"
  elif grep -q 'context deadline exceeded' "$log" && [[ $fuzztime != *x ]] &&
    [ -z "$(find "$dir/testdata/fuzz/$name" -type f -newer "$stamp" 2>/dev/null)" ]; then
    echo "race  $name: 'context deadline exceeded' at the end of the timed run, no failing input (golang/go#75804)"
  else
    cat "$log"
    echo "FAIL  $name ($rel)"
    while IFS= read -r s; do
      echo "      failing input: ${s#"$root"/}"
      echo "      run it again:  GOEXPERIMENT=$GOEXPERIMENT go test -run '^$name/$(basename "$s")\$' ./$rel"
    done < <(find "$dir/testdata/fuzz/$name" -type f -newer "$stamp" 2>/dev/null || true)
    failed+=("$name")
  fi
done
echo "fuzz: $n targets in $(( SECONDS - start ))s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "scripts/fuzz.sh: failing inputs found by ${failed[*]}" >&2
  exit 1
fi
