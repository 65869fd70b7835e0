"""A curated motion set: a JSON manifest of clips, each kept or rejected with its reasons.

    write_manifest("g1/curated.manifest.json", entries, criteria)   # from mimiclab.retarget.curation
    files = read_manifest("g1/curated.manifest.json")                 # absolute paths of the kept clips

File (``*.manifest.json``, written by ``mimiclab curate``)::

    {"format": "mimiclab-manifest", "version": 1, "root": "<abs dir>",
     "clips": [{"file": "walk.npz", "keep": true, "reasons": [], "scores": {"joint_jumps": 0, ...}}, ...],
     "criteria": {...}}

``file`` is relative to ``root``; when ``root`` no longer exists (the folder was moved or copied
with its manifest), files are looked up relative to the manifest's own folder. Every ``--motion``
argument of train / eval / sim2sim and ``MotionLibrary.from_paths`` accept a manifest
(``mimiclab.motion.clip_loading.expand_motion_paths``) and use its kept clips, in manifest order.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from mimiclab.motion.format import atomic_write_bytes

FORMAT = "mimiclab-manifest"
VERSION = 1
SUFFIX = ".manifest.json"


def is_manifest_path(path: str | os.PathLike) -> bool:
    """True for a name ending in ``.manifest.json`` (case-insensitive)."""
    return str(path).lower().endswith(SUFFIX)


def _finite(x):
    """JSON-safe copy: non-finite floats → None (JSON has no NaN)."""
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):  # numpy scalars
        return _finite(x.item())
    return x


def write_manifest(path: str | os.PathLike, entries: Sequence[dict], criteria: dict,
                   root: str | os.PathLike | None = None) -> Path:
    """Write the manifest atomically (parent folder created). entries: dicts with ``file`` (absolute,
    or relative to the current folder), ``keep`` (bool), ``reasons`` (list of str), ``scores``
    ({name: float}); other keys are kept. root: the folder files are stored relative to (default:
    the manifest's folder). Returns the path."""
    path = Path(path)
    base = Path(root if root is not None else path.parent).resolve()
    clips = []
    for e in entries:
        if "file" not in e or "keep" not in e:
            raise ValueError(f"{path}: manifest entry needs 'file' and 'keep', got keys {sorted(e)}")
        rel = os.path.relpath(Path(e["file"]).resolve(), base)
        clips.append({**e, "file": Path(rel).as_posix(), "keep": bool(e["keep"]),
                      "reasons": [str(r) for r in e.get("reasons", [])], "scores": dict(e.get("scores", {}))})
    doc = {"format": FORMAT, "version": VERSION, "root": str(base), "clips": clips, "criteria": dict(criteria)}
    payload = json.dumps(_finite(doc), indent=2, allow_nan=False).encode() + b"\n"
    return atomic_write_bytes(path, payload)


def load_manifest(path: str | os.PathLike) -> dict:
    """The manifest document, checked; ValueError (one line, naming the file) when malformed."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such manifest")
    try:
        doc = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a JSON manifest ({str(e).splitlines()[0]})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(f"{path}: not a mimiclab manifest (format {got!r}, expected {FORMAT!r})")
    version = doc.get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise ValueError(f"{path}: manifest version {version!r} is not one this mimiclab reads ({VERSION})")
    clips = doc.get("clips")
    if not isinstance(clips, list):
        raise ValueError(f"{path}: manifest 'clips' must be a list")
    for i, c in enumerate(clips):
        if not (isinstance(c, dict) and isinstance(c.get("file"), str) and isinstance(c.get("keep"), bool)):
            raise ValueError(f"{path}: manifest clip {i} needs a 'file' string and a 'keep' bool")
    return doc


def manifest_root(path: str | os.PathLike, doc: dict) -> Path:
    """The folder clip files are relative to: ``root`` (relative roots: to the manifest's folder) when
    it exists, else the manifest's folder."""
    here = Path(path).resolve().parent
    root = doc.get("root")
    if isinstance(root, str) and root:
        r = Path(root) if Path(root).is_absolute() else here / root
        if r.is_dir():
            return r.resolve()
    return here


def read_manifest(path: str | os.PathLike) -> list[Path]:
    """Absolute paths of the kept clips, in manifest order (may be empty). ValueError (one line) for
    a file that is not JSON, not a mimiclab manifest, malformed, or whose kept clips are missing
    (named, up to 5)."""
    doc = load_manifest(path)
    root = manifest_root(path, doc)
    kept = [(root / c["file"]).resolve() for c in doc["clips"] if c["keep"]]
    missing = [str(p) for p in kept if not p.is_file()]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ValueError(f"{path}: {len(missing)} kept clip(s) missing: {', '.join(missing[:5])}{more}")
    return kept
