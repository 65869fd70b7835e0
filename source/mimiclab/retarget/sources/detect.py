"""Pick the reader for a human-motion file: BVH or 3D keypoints (npz/json).

Robot motions (G1 CSV, mimiclab / BeyondMimic npz) are not human motion: they are read by
``mimiclab.motion.load_motion`` and this module says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.sources.bvh import read_bvh
from mimiclab.retarget.sources.keypoints import POSITION_KEYS, load_npz_fields, read_keypoints

HUMAN_FORMATS = ("bvh", "keypoints")
SUPPORTED = "BVH (.bvh) and 3D keypoints (.npz with keypoints/joints3d/positions, .json)"
_ROBOT_NPZ_KEYS = {"joint_pos", "dof_pos", "body_pos_w", "root_pos_w", "root_pos", "root_rot", "qpos"}
_ROBOT_HINT = "a robot motion: read it with mimiclab.motion.load_motion (formats g1csv / npz)"


def sniff_format(path: str | os.PathLike) -> str:
    """'bvh' | 'keypoints' | 'g1csv' | 'npz' (a robot motion npz) from the extension and content.

    ValueError naming the file (and the supported formats) when it is none of them.
    """
    where = str(path)
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{where}: no such file")
    suffix = p.suffix.lower()
    if suffix == ".bvh":
        return "bvh"
    if suffix == ".json":
        return "keypoints"
    if suffix == ".csv":
        return "g1csv"
    if suffix == ".npz" or _is_zip(p):
        keys = _npz_keys(where, p)
        if any(k in keys for k in POSITION_KEYS):
            return "keypoints"
        if keys & _ROBOT_NPZ_KEYS:
            return "npz"
        raise ValueError(f"{where}: npz without a keypoint array (expected one of {', '.join(POSITION_KEYS)}; "
                         f"found {', '.join(sorted(keys))[:120] or 'nothing'}) nor a robot motion (joint_pos); "
                         f"human-motion formats: {SUPPORTED}")
    head = _head(where, p)
    if head.upper().startswith("HIERARCHY"):
        return "bvh"
    if head.startswith("{"):
        return "keypoints"
    raise ValueError(f"{where}: unknown motion format {p.suffix or '(no extension)'!r}; "
                     f"human-motion formats: {SUPPORTED}; robot motions (G1 CSV, npz): mimiclab.motion.load_motion")


def detect_format(path: str | os.PathLike) -> str:
    """'bvh' or 'keypoints' (human motion); ValueError for robot motions and unknown files."""
    kind = sniff_format(path)
    if kind == "g1csv":
        raise ValueError(f"{path}: CSV is {_ROBOT_HINT}; human-motion formats: {SUPPORTED}")
    if kind == "npz":
        raise ValueError(f"{path}: this npz is {_ROBOT_HINT}")
    return kind


def load_human_motion(path: str | os.PathLike, fmt: str = "auto", **kwargs) -> HumanMotion:
    """Read a human-motion file: fmt "auto" | "bvh" | "keypoints" (kwargs go to the reader).

    "g1csv"/"npz" (robot motion formats) raise a ValueError pointing to mimiclab.motion.load_motion.
    """
    where = str(path)
    fmt = (fmt or "auto").lower()
    if fmt in ("g1csv", "csv", "npz"):
        raise ValueError(f"{where}: format {fmt!r} is {_ROBOT_HINT}")
    if fmt not in ("auto",) + HUMAN_FORMATS:
        raise ValueError(f"{where}: unknown format {fmt!r} (human motion: auto, bvh, keypoints)")
    if fmt == "auto":
        fmt = detect_format(path)
    elif not Path(path).is_file():
        raise ValueError(f"{where}: no such file")
    if fmt == "bvh":
        return read_bvh(path, **kwargs)
    return read_keypoints(path, **kwargs)


def _is_zip(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _head(where: str, p: Path) -> str:
    try:
        with open(p, "rb") as f:
            return f.read(256).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    except OSError as e:
        raise ValueError(f"{where}: cannot read the file ({e.strerror or e})") from None


def _npz_keys(where: str, p: Path) -> set[str]:
    return set(load_npz_fields(where, p, keys_only=True))
