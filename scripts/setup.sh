#!/usr/bin/env bash
# mimiclab set-up, one command, idempotent: creates .venv, installs the pinned stack, builds
# mimiclab (editable) with its compiled extension, provisions the G1 assets, runs `mimiclab doctor`.
#
#   bash scripts/setup.sh            # set up (re-running only redoes what changed)
#   PYTHON=python3.12 bash scripts/setup.sh   # pick the interpreter (default: python3.11, else 3.12)
#   MIMICLAB_CUDA=ON|OFF|AUTO        # CUDA module build (default AUTO: when nvcc is found)
#
# Python 3.11 (CPU machines): isaaclab 3.0.0 declares Python 3.12 but imports on 3.11, so it is
# installed with --no-deps and its dependencies are listed explicitly (scripts/requirements.txt,
# pinned by scripts/constraints-py311.txt), with the CPU torch 2.13.0 wheel.
# Python 3.12 (CUDA machines): the normal `pip install isaaclab==3.0.0` route (its torch pin).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
LOG="$ROOT/.venv-setup.log"
START=$(date +%s)
ISAACLAB_VERSION=3.0.0
TORCH_CPU_VERSION=2.13.0

step() {  # step "description" command...: prints what it does, its time, and fails loudly
  local what="$1"; shift
  local t0 out
  t0=$(date +%s)
  out="$(mktemp)"
  echo "==> $what"
  if ! "$@" >"$out" 2>&1; then
    cat "$out" >>"$LOG"
    echo "FAILED: $what (after $(( $(date +%s) - t0 )) s). Its last output (full log: $LOG):" >&2
    tail -n 15 "$out" >&2
    rm -f "$out"
    exit 1
  fi
  cat "$out" >>"$LOG"
  rm -f "$out"
  echo "    done in $(( $(date +%s) - t0 )) s"
}

pick_python() {
  if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
  for p in python3.11 python3.12; do
    if command -v "$p" >/dev/null 2>&1; then echo "$p"; return; fi
  done
  echo "no python3.11 or python3.12 on PATH (set PYTHON=...)" >&2
  exit 1
}

: >"$LOG"
PY="$(pick_python)"
PYVER="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
case "$PYVER" in 3.11|3.12) ;; *) echo "Python $PYVER is not supported (use 3.11 or 3.12)" >&2; exit 1;; esac
echo "mimiclab set-up: Python $PYVER ($PY), venv $VENV, log $LOG"

if [[ ! -x "$VENV/bin/python" ]]; then
  step "create .venv" "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)

# The stack is reinstalled only when what pins it changed (stamp = digest of the pin files).
STAMP="$VENV/.mimiclab-stack"
DIGEST="$(cat scripts/requirements.txt scripts/constraints-py311.txt scripts/setup.sh | sha256sum | cut -c1-16)-$PYVER"
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$DIGEST" ]]; then
  if [[ "$PYVER" == "3.11" ]]; then
    step "install torch $TORCH_CPU_VERSION (CPU)" "${PIP[@]}" install "torch==$TORCH_CPU_VERSION"
    step "install the pinned stack (newton, warp, mujoco, rsl_rl, ...)" \
      "${PIP[@]}" install -r scripts/requirements.txt -c scripts/constraints-py311.txt "torch==$TORCH_CPU_VERSION"
    step "install isaaclab $ISAACLAB_VERSION (Python 3.11 route: --no-deps)" \
      "${PIP[@]}" install --no-deps --ignore-requires-python "isaaclab==$ISAACLAB_VERSION"
  else
    step "install isaaclab $ISAACLAB_VERSION and its pinned dependencies" \
      "${PIP[@]}" install "isaaclab==$ISAACLAB_VERSION"
    step "install the pinned stack (newton, warp, mujoco, rsl_rl, ...)" \
      "${PIP[@]}" install -r scripts/requirements.txt
  fi
  echo "$DIGEST" >"$STAMP"
else
  echo "==> pinned stack already installed (scripts/requirements.txt unchanged)"
fi

# sim2sim --video renders offscreen with OSMesa (MUJOCO_GL=osmesa); without it videos are disabled.
if ! ldconfig -p 2>/dev/null | grep -q libOSMesa; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    step "install libosmesa6 (offscreen rendering for sim2sim --video)" \
      bash -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q libosmesa6 || \
               (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libosmesa6)"
  else
    echo "==> note: libosmesa6 missing and not root: sim2sim --video is disabled (writes a keyframe PNG)"
  fi
fi

# tests/retarget/test_viewer.py drives Debian's Chromium headless through playwright (playwright's own
# browser download is not used); without it that test is skipped, saying so. Failure here is not fatal.
if ! command -v chromium >/dev/null 2>&1; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> install chromium (headless browser for the mimiclab view test)"
    if bash -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || \
                (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)" >>"$LOG" 2>&1; then
      echo "    done"
    else
      echo "    note: chromium could not be installed (see $LOG): the viewer's browser test is skipped"
    fi
  else
    echo "==> note: chromium missing and not root: the viewer's browser test is skipped"
  fi
fi

# `mimiclab keypoints` (video → 3D keypoints): mediapipe 0.10.21 (BlazePose models inside its wheel) needs
# numpy<2 / protobuf<5, so it gets its own venv, .venv-pose (scripts/requirements-pose.txt, exact pins),
# run as a subprocess exchanging plain files. MIMICLAB_POSE=OFF skips it (mimiclab keypoints then says so).
POSE_VENV="$ROOT/.venv-pose"
POSE_STAMP="$POSE_VENV/.mimiclab-pose-stack"
POSE_DIGEST="$(sha256sum scripts/requirements-pose.txt | cut -c1-16)-$PYVER"
if [[ "${MIMICLAB_POSE:-ON}" == "OFF" ]]; then
  echo "==> MIMICLAB_POSE=OFF: pose estimator (.venv-pose) not installed; mimiclab keypoints is unavailable"
elif [[ "$(cat "$POSE_STAMP" 2>/dev/null)" != "$POSE_DIGEST" ]]; then
  if [[ ! -x "$POSE_VENV/bin/python" ]]; then
    step "create .venv-pose (pose estimator for mimiclab keypoints)" "$PY" -m venv "$POSE_VENV"
  fi
  step "install mediapipe 0.10.21 into .venv-pose (numpy 1.26, isolated from the stack)" \
    "$POSE_VENV/bin/python" -m pip --disable-pip-version-check install -r scripts/requirements-pose.txt
  echo "$POSE_DIGEST" >"$POSE_STAMP"
else
  echo "==> pose estimator already installed (.venv-pose, scripts/requirements-pose.txt unchanged)"
fi

step "build + install mimiclab (editable: _C, _C_mujoco, and _C_cuda when nvcc is found)" \
  "${PIP[@]}" install --no-build-isolation --no-deps -e .
step "provision G1 assets (MJCF from mjlab $( "$VPY" -c 'from mimiclab.robots.assets import MJLAB_VERSION as v; print(v)'), USD)" \
  "$VENV/bin/mimiclab" assets provision

echo "==> mimiclab doctor"
"$VENV/bin/mimiclab" doctor
echo "mimiclab set-up finished in $(( $(date +%s) - START )) s. Next: .venv/bin/mimiclab demo"
