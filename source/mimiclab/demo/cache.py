"""Stage caching for the demo: a stage's result is reused when its key (a hash of its inputs and
settings, chained through the stages it depends on) matches the one stored with its outputs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

STAGE_FILE = "stage.json"


def file_digest(paths: list[Path]) -> str:
    """sha256 over the names and bytes of `paths` (sorted by name)."""
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda p: p.name):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def stage_key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_stage(folder: Path, key: str) -> dict | None:
    """The stored result of a finished stage with this key, else None."""
    p = folder / STAGE_FILE
    try:
        d = json.loads(p.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return d.get("result") if d.get("key") == key and d.get("status") == "done" else None


def save_stage(folder: Path, key: str, result: dict) -> None:
    """Mark the stage finished (atomically, after every output of it is in place)."""
    from mimiclab.motion.format import atomic_write

    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"key": key, "status": "done", "result": result}, indent=2, default=str)
    atomic_write(folder / STAGE_FILE, lambda f: f.write(text.encode()))


def rel(path: os.PathLike | str, root: Path) -> str:
    return os.path.relpath(Path(path), root)
