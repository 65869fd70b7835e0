"""Atomic file writes for the source writers (BVH, keypoints): the project's one mechanism,
``mimiclab.motion.format.atomic_write``, with the parent folder created first."""

from __future__ import annotations

import os
from pathlib import Path

from mimiclab.motion.format import atomic_write


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """Write `payload` to `path` so that readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda f: f.write(payload))
