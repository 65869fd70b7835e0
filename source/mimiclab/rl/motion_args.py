"""``--motion`` arguments → motion files → the tracking task.

    files = expand_motion_args(["clips/", "more/*.npz", "walk.npz", "g1/curated.manifest.json"])  # list[Path]
    set_task_motion(files)    # MIMICLAB_MOTION=<abs paths joined by os.pathsep> for this process

The tracking task's config reads ``$MIMICLAB_MOTION`` when ``commands.motion.motion_files`` is
empty (``mimiclab.tasks.tracking.tracking_env_cfg``), so the environment variable reaches the task
however Isaac Lab builds it (Hydra overrides included) and is inherited by ``torchrun`` workers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from mimiclab.motion.clip_loading import expand_motion_paths

MOTION_ENV_VAR = "MIMICLAB_MOTION"  # the name the tracking task reads (tasks/tracking/tracking_env_cfg.py)


def expand_motion_args(values: Sequence[str | os.PathLike]) -> list[Path]:
    """Files, folders, globs and manifests (``*.manifest.json`` from ``mimiclab curate``: their kept
    clips) → absolute motion file paths (argument order, no duplicates). ValueError (naming the
    argument) for nothing given, a missing file, an empty folder or glob, a bad or empty manifest.
    The expansion itself is ``mimiclab.motion.clip_loading.expand_motion_paths`` (one place, shared
    with ``MotionLibrary.from_paths`` and sim2sim)."""
    if not values:
        raise ValueError("no motion files given (--motion FILE|FOLDER|GLOB ...)")
    return [p.resolve() for p in expand_motion_paths(list(values))]


def set_task_motion(files: Sequence[str | os.PathLike]) -> str:
    """Set ``$MIMICLAB_MOTION`` for this process (and its children); returns the value."""
    value = os.pathsep.join(str(f) for f in files)
    os.environ[MOTION_ENV_VAR] = value
    return value


def task_motion_from_env() -> list[str]:
    """The entries of ``$MIMICLAB_MOTION`` (empty when unset)."""
    return [p for p in os.environ.get(MOTION_ENV_VAR, "").split(os.pathsep) if p.strip()]
