"""Where the pose estimator's Python is: ``$MIMICLAB_POSE_PYTHON``, else ``.venv-pose/bin/python``
in the repository (next to mimiclab's ``.venv``), made by ``scripts/setup.sh``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

POSE_VENV = ".venv-pose"
MEDIAPIPE_VERSION = "0.10.21"
INSTALL_HINT = (f"the pose estimator (mediapipe {MEDIAPIPE_VERSION} in {POSE_VENV}) is not installed: run "
                f"`bash scripts/setup.sh` (or set MIMICLAB_POSE_PYTHON to a Python with mediapipe=={MEDIAPIPE_VERSION})")
WORKER = Path(__file__).with_name("_worker.py")


class PoseEstimatorMissing(ValueError):
    """The pose virtualenv (or its mediapipe) is missing; the message says how to install it."""


def _candidates() -> list[Path]:
    env = os.environ.get("MIMICLAB_POSE_PYTHON")
    if env:
        return [Path(env)]
    repo = Path(__file__).resolve().parents[3]  # source/mimiclab/video_pose/runtime.py → repository root
    return [repo / POSE_VENV / "bin" / "python", Path(sys.prefix).parent / POSE_VENV / "bin" / "python"]


def pose_python() -> Path:
    """The pose virtualenv's interpreter; PoseEstimatorMissing (one line, how to install) if absent."""
    for c in _candidates():
        if c.is_file() and os.access(c, os.X_OK):
            return c
    raise PoseEstimatorMissing(INSTALL_HINT)


def available() -> bool:
    """Whether the pose virtualenv's interpreter exists (mediapipe's import is checked by the worker)."""
    try:
        pose_python()
    except PoseEstimatorMissing:
        return False
    return True
