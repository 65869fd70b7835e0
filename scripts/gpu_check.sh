#!/usr/bin/env bash
# The GPU check: everything a session with a CUDA machine should run first, in one go (≤ 9 min on
# an H100/H200), into one log and one JSON.
#
#   bash scripts/gpu_check.sh [-o OUT_DIR] [--train-seconds S]     # on the GPU machine
#   bash scripts/gpu_check.sh --dry-run -o /tmp/gpu_check          # the same steps at smoke size on the CPU
#
# Steps (each timed; a failing step is recorded and the next one still runs):
#   setup     scripts/setup.sh with Python 3.12 when .venv is missing (skipped when it exists)
#   device    nvidia-smi and torch's view of the GPU
#   pytest    pytest -m gpu: every CUDA / Warp-CUDA kernel against its torch reference
#   kernels   mimiclab bench kernels on CUDA (--quick in a dry run)
#   env       mimiclab bench env at 4096 envs (4 in a dry run)
#   train     Mimic-Track-G1 at 4096 envs on the shipped clips for --train-seconds (default 240;
#             a dry run: 4 envs, 2 iterations, CPU), curves read back from TensorBoard
# Output: OUT_DIR/gpu_check.log (everything), OUT_DIR/gpu_check.json (figures of every step).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="gpu_check_out"
DRY=0
TRAIN_SECONDS=240
while [[ $# -gt 0 ]]; do
  case "$1" in
    -o|--output) OUT="$2"; shift 2;;
    --dry-run) DRY=1; shift;;
    --train-seconds) TRAIN_SECONDS="$2"; shift 2;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}"; exit 0;;
    *) echo "gpu_check.sh: unknown option $1 (see --help)" >&2; exit 2;;
  esac
done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOG="$OUT/gpu_check.log"
STEPS="$OUT/steps.tsv"
: >"$LOG"
: >"$STEPS"
PY="$ROOT/.venv/bin/python"
ML=("$PY" -m mimiclab)

run_step() {  # run_step NAME command...: output to the log, "name rc seconds" to steps.tsv
  local name="$1"; shift
  local t0 rc
  t0=$(date +%s)
  echo "==> $name: $*" | tee -a "$LOG"
  "$@" >>"$LOG" 2>&1
  rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - t0 ))" >>"$STEPS"
  echo "    $name: exit $rc after $(( $(date +%s) - t0 )) s" | tee -a "$LOG"
}

if [[ -x "$PY" ]]; then
  printf 'setup\t0\t0\n' >>"$STEPS"
  echo "==> setup: .venv exists, skipped" | tee -a "$LOG"
else
  run_step setup env PYTHON="${PYTHON:-python3.12}" bash scripts/setup.sh
fi

if [[ $DRY -eq 1 ]]; then
  DEVICE=cpu; ENVS=4; KERNEL_FLAGS=(--quick --repeats 1); TRAIN=(--num_envs 4 --max_iterations 2)
else
  DEVICE=cuda:0; ENVS=4096; KERNEL_FLAGS=(); TRAIN=(--num_envs 4096 --max_iterations 100000)
fi

run_step device "$PY" -c "
import subprocess, shutil, torch
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())
if torch.cuda.is_available():
    print('gpu', torch.cuda.get_device_name(0))
if shutil.which('nvidia-smi'):
    subprocess.run(['nvidia-smi'])
"
if [[ $DRY -eq 1 ]]; then
  run_step pytest "$PY" -m pytest -m gpu -q -p no:cacheprovider --collect-only tests/kernels
else
  run_step pytest "$PY" -m pytest -m gpu -q -p no:cacheprovider tests/kernels
fi
run_step kernels "${ML[@]}" bench kernels "${KERNEL_FLAGS[@]}" --json "$OUT/kernels.json"
run_step env "${ML[@]}" bench env --num_envs "$ENVS" --json "$OUT/env.json"

CLIPS="$OUT/clips"
run_step clips "$PY" -c "
from mimiclab.retarget.batch import retarget_files
from mimiclab.retarget.pipeline import RetargetSettings
from mimiclab.retarget.sources.synthetic import write_samples
bvh = [str(p) for p in write_samples('$CLIPS/src') if p.suffix == '.bvh']
res = retarget_files(bvh, '$CLIPS/g1', RetargetSettings(), progress=False)
assert all(r.ok for r in res), [r.error for r in res]
"
if [[ $DRY -eq 1 ]]; then
  run_step train env -C "$OUT" "${ML[@]}" train --task Mimic-Track-G1 --motion "$CLIPS/g1" "${TRAIN[@]}" \
    --device "$DEVICE" --seed 1 agent.experiment_name=gpu_check
else
  run_step train env -C "$OUT" timeout --signal=INT "$TRAIN_SECONDS" "${ML[@]}" train --task Mimic-Track-G1 \
    --motion "$CLIPS/g1" "${TRAIN[@]}" --device "$DEVICE" --seed 1 agent.experiment_name=gpu_check
fi

"$PY" -m mimiclab.bench.gpu_check "$OUT" "$DRY" | tee -a "$LOG"
