"""Atomic file writes: a uniquely named temp file in the target folder, then os.replace."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """Write `payload` to `path` so that readers never see a partial file (permissions follow umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
