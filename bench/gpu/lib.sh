# What bench/gpu/run.sh and bench/gpu/tutorial.sh share (sourced, not run). Before
# sourcing: cd to the repo root; set out (the output folder), kind ("" or "tutorial") and
# budget (seconds). Sets stem (OUT/<date>-<gpu>[-kind], no extension), results (the JSONL),
# errs (each job's stderr), py, vgg, device. The scripts run their body as
# `body 2>&1 | tee -a "$stem.log"`, so the log holds everything they print.

start=$(date +%s)
py=${PYTHON:-python3}
vgg=${VGGKIT_BIN:-bin/vggkit}
mkdir -p "$out"

# The file names: <date>-<gpu>, e.g. 2026-12-01-h200 (cpu-dryrun in the dry run); a second
# run on the same day and card gets -run2, -run3, ...
if [ "${DRY_RUN:-}" = 1 ]; then
  device=cpu gpu=cpu-dryrun
else
  device=cuda
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  gpu=$(printf '%s' "${gpu:-unknown-gpu}" | tr 'A-Z' 'a-z' | sed -e 's/^nvidia //' -e 's/[^a-z0-9]\{1,\}/-/g' -e 's/^-//' -e 's/-$//')
fi
stem=$out/$(date -u +%F)-$gpu${kind:+-$kind}
if [ -e "$stem.jsonl" ]; then
  i=2
  while [ -e "$stem-run$i.jsonl" ]; do i=$((i + 1)); done
  stem=$stem-run$i
fi
results=$stem.jsonl
errs=$stem.err # each job's stderr: $errs/<job>.err
mkdir -p "$errs"
: >"$results"

log() { echo "== $(($(date +%s) - start))s: $*"; }
left() { echo $((budget - ($(date +%s) - start))); }

# record JSON NAME: appends JSON (one object) to the results with "job": NAME.
record() {
  printf '%s\n' "$2" | "$py" -c 'import json,sys; d=json.loads(sys.stdin.read()); d["job"]=sys.argv[1]; print(json.dumps(d))' "$1" >>"$results"
}

# job NAME TIMEOUT CMD...: runs CMD (which prints one JSON line last) if time is left,
# limited to TIMEOUT seconds or what is left of the budget; appends {"job": NAME, ...}
# to the results, or {"job": NAME, "failed": EXIT, "reason": ...} (124: timed out).
job() {
  local name=$1 limit=$2
  shift 2
  local l
  l=$(left)
  if [ "$l" -lt 20 ]; then
    log "skip $name: ${l}s of the budget left"
    record "$name" '{"skipped": "time budget"}'
    return
  fi
  [ "$limit" -gt "$l" ] && limit=$l
  log "$name (limit ${limit}s): $*"
  local o rc last reason
  o=$(timeout -k 5 "$limit" "$@" 2>"$errs/$name.err")
  rc=$?
  last=$(printf '%s\n' "$o" | grep '^{' | tail -1)
  if [ $rc -eq 0 ] && [ -n "$last" ]; then
    record "$name" "$last"
    echo "$last"
  else
    reason=$(printf '%s\n' "$last" | "$py" -c 'import json,sys
try: print(json.loads(sys.stdin.read()).get("error", ""))
except Exception: print("")' 2>/dev/null)
    [ $rc -eq 124 ] && reason="timed out after ${limit}s"
    [ -z "$reason" ] && reason=$(grep -v '^\s*$' "$errs/$name.err" | tail -1 | cut -c1-200)
    log "$name failed (exit $rc): $reason; last lines of its stderr:"
    tail -5 "$errs/$name.err"
    record "$name" "$(REASON="$reason" "$py" -c 'import json,os,sys; print(json.dumps({"failed": int(sys.argv[1]), "reason": os.environ["REASON"]}))' "$rc")"
  fi
}

machine() {
  log "machine"
  nvidia-smi -L 2>&1 || true
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,power.limit,driver_version --format=csv 2>&1 || true
  nproc
  "$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")' 2>&1 || true
  "$py" -c 'import jax_plugins.xla_cuda13 as m, importlib.metadata as md; print("jax plugin", m.__file__, md.version("jax-cuda13-pjrt"))' 2>&1 | tail -1 || true
  log "vggkit doctor"
  timeout 120 "$vgg" doctor 2>&1 | tail -12
}

# smoke: a small model first, so a broken plugin shows in seconds, not after a long
# compile. When vggkit's own discovery does not give CUDA on a GPU machine, names the
# plugin and its libraries by hand (exported for every later job) and says so.
smoke() {
  job smoke 120 "$vgg" bench -json -size 64 -width 0.25 -batch 8 -steps 2 -rounds 1
  [ "$device" = cuda ] || return 0
  if ! grep -q '"job": "smoke", "failed"' "$results" && ! grep '"job": "smoke"' "$results" | grep -q '"xla:[^"]*cuda'; then
    record smoke-check '{"failed": 1, "reason": "the smoke job did not run on CUDA"}'
  elif ! grep -q '"job": "smoke", "failed"' "$results"; then
    return 0
  fi
  local plugin site
  plugin=$("$py" -c 'import jax_plugins.xla_cuda13 as m, os; print(os.path.dirname(m.__file__))')/xla_cuda_plugin.so
  site=$(dirname "$(dirname "$(dirname "$plugin")")")
  LD_LIBRARY_PATH=$(find "$site/nvidia" -maxdepth 3 -type d -name lib | paste -sd:):${LD_LIBRARY_PATH:-}
  export LD_LIBRARY_PATH GOMLX_BACKEND="xla:$plugin"
  [ -d /usr/local/cuda ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=/usr/local/cuda"
  log "retrying with GOMLX_BACKEND=$GOMLX_BACKEND and LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  job smoke-by-hand 120 "$vgg" bench -json -size 64 -width 0.25 -batch 8 -steps 2 -rounds 1
}
