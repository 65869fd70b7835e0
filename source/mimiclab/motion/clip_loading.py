"""Motion library inputs: expand ``--motion`` arguments (files, folders, globs) and load one clip.

    paths = expand_motion_paths(["clips/", "more/*.npz", "walk.bvh", "g1/curated.manifest.json"])
    motion = load_clip(paths[0])            # MotionData, any supported format

Robot formats (our npz, BeyondMimic/mjlab npz, G1 CSV) go through ``load_motion``. Human formats
(BVH, 3D keypoints as .json or a keypoint npz) need a ``human_loader`` — the layer above passes
``mimiclab.retarget.pipeline.retarget_path`` so raw mocap can go straight to training; ``motion``
itself never imports ``retarget`` (layering: retarget → motion).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from mimiclab.motion.format import MotionData, load_motion
from mimiclab.motion.manifest import is_manifest_path, read_manifest

FOLDER_SUFFIXES = (".npz", ".csv")  # what a folder contributes (not .json: retarget writes *.quality.json)
HUMAN_SUFFIXES = (".bvh", ".json")
_KEYPOINT_NPZ_KEYS = {"keypoints", "joints3d", "positions"}  # as mimiclab.retarget.sources.keypoints reads
_GLOB_CHARS = set("*?[")


def expand_motion_paths(paths: Sequence[str | os.PathLike] | str | os.PathLike) -> list[Path]:
    """Files from files, folders (their *.npz and *.csv, sorted, not recursive), globs (sorted,
    ``**`` allowed; a matched folder is expanded too) and manifests (``*.manifest.json``: their kept
    clips, ``mimiclab.motion.manifest``). Order: argument order; a file named twice is kept once
    (first place). ValueError for an empty list, a missing file, a glob matching nothing, a folder
    without motion files, a malformed manifest and one keeping no clip — each naming the argument."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise ValueError("motion library: no motion paths given")
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)

    def add_file(p: Path) -> int:
        if not is_manifest_path(p):
            add(p)
            return 1
        kept = read_manifest(p)
        if not kept:
            raise ValueError(f"{p}: manifest keeps no clips")
        for f in kept:
            add(f)
        return len(kept)

    def add_folder(d: Path, arg: str) -> int:
        files = sorted(f for f in d.iterdir() if f.is_file() and f.suffix.lower() in FOLDER_SUFFIXES
                       and not f.name.startswith("."))
        for f in files:
            add(f)
        return len(files)

    for arg in paths:
        arg = str(arg)
        p = Path(arg)
        if p.is_dir():
            if add_folder(p, arg) == 0:
                raise ValueError(f"{arg}: folder holds no motion files ({', '.join('*' + s for s in FOLDER_SUFFIXES)})")
        elif p.is_file():
            add_file(p)
        elif _GLOB_CHARS & set(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            n = 0
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    n += add_folder(mp, m)
                elif mp.is_file():
                    n += add_file(mp)
            if n == 0:
                raise ValueError(f"{arg}: pattern matches no motion files")
        else:
            raise ValueError(f"{arg}: no such file or folder")
    return out


def is_human_motion_file(path: str | os.PathLike) -> bool:
    """True for BVH / keypoint JSON, and for an npz holding a keypoint array (keypoints, joints3d
    or positions — none of which a robot motion npz has)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in HUMAN_SUFFIXES:
        return True
    if suffix != ".npz":
        return False
    try:
        with np.load(p, allow_pickle=False) as npz:
            keys = set(npz.files)
    except Exception:
        return False  # let load_motion report the unreadable file
    return bool(keys & _KEYPOINT_NPZ_KEYS)


def load_clip(path: str | os.PathLike, fps: float | None = None,
              human_loader: Callable[[Path, float | None], MotionData] | None = None) -> MotionData:
    """One clip as MotionData; human formats go through `human_loader(path, fps)` (e.g.
    ``mimiclab.retarget.pipeline.retarget_path``) and are an error without one.

    Every error is a one-line ValueError starting with the file's path.
    """
    p = Path(path)
    where = str(p)
    try:
        if is_human_motion_file(p):
            if human_loader is None:
                raise ValueError("human motion: retarget it first (`mimiclab retarget`) or load it with a "
                                 "human_loader such as mimiclab.retarget.pipeline.retarget_path")
            return human_loader(p, fps)
        return load_motion(p)
    except Exception as e:  # noqa: BLE001 — any reader failure becomes one line naming the file
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        if where not in msg:
            msg = f"{where}: {msg}"
        raise ValueError(msg) from e
