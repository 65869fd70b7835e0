"""Pick the reader for a human-motion file: BVH, 3D keypoints (npz/npy/json) or AMASS parameters (npz).

Robot motions (G1 CSV, mimiclab / BeyondMimic npz) are not human motion: they are read by
``mimiclab.motion.load_motion`` and this module says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.sources.amass import is_amass_keys, read_amass
from mimiclab.retarget.sources.bvh import read_bvh
from mimiclab.retarget.sources.keypoints import POSITION_KEYS, load_npz_fields, read_keypoints
from mimiclab.retarget.sources.options import SourceOptions

HUMAN_FORMATS = ("bvh", "keypoints", "amass")
SUPPORTED = ("BVH (.bvh) and 3D keypoints (.npz with keypoints/joints3d/positions or a (T, J, 3) array, .npy, "
             ".json), AMASS parameters (.npz with poses, trans)")
_ROBOT_NPZ_KEYS = {"joint_pos", "dof_pos", "body_pos_w", "root_pos_w", "root_pos", "root_rot", "qpos"}
_ROBOT_HINT = "a robot motion: read it with mimiclab.motion.load_motion (formats g1csv / npz)"


def sniff_format(path: str | os.PathLike) -> str:
    """'bvh' | 'keypoints' | 'amass' | 'g1csv' | 'npz' (a robot motion npz) from the extension and content.

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
    if suffix == ".npy" or _magic(p, 6) == b"\x93NUMPY":
        return "keypoints"
    if suffix == ".npz" or _is_zip(p):
        keys = _npz_keys(where, p)
        if is_amass_keys(keys):
            return "amass"
        if any(k in keys for k in POSITION_KEYS):
            return "keypoints"
        if keys & _ROBOT_NPZ_KEYS:
            return "npz"
        if _has_keypoint_shaped_array(where, p):
            return "keypoints"
        raise ValueError(f"{where}: npz without a keypoint array (expected one of {', '.join(POSITION_KEYS[:3])}, ... "
                         "or a numeric (T, J, 3) array; "
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
    """'bvh', 'keypoints' or 'amass' (human motion); ValueError for robot motions and unknown files."""
    kind = sniff_format(path)
    if kind == "g1csv":
        raise ValueError(f"{path}: CSV is {_ROBOT_HINT}; human-motion formats: {SUPPORTED}")
    if kind == "npz":
        raise ValueError(f"{path}: this npz is {_ROBOT_HINT}")
    return kind


def load_human_motion(path: str | os.PathLike, fmt: str = "auto", options: SourceOptions | None = None,
                      **kwargs) -> HumanMotion:
    """Read a human-motion file: fmt "auto" | "bvh" | "keypoints" | "amass"; `options` (what the user
    said about the input: fps, units, layout, frame, body model) and kwargs go to the reader.

    "g1csv"/"npz" (robot motion formats) raise a ValueError pointing to mimiclab.motion.load_motion.
    """
    where = str(path)
    fmt = (fmt or "auto").lower()
    if fmt in ("g1csv", "csv", "npz"):
        raise ValueError(f"{where}: format {fmt!r} is {_ROBOT_HINT}")
    if fmt not in ("auto",) + HUMAN_FORMATS:
        raise ValueError(f"{where}: unknown format {fmt!r} (human motion: auto, {', '.join(HUMAN_FORMATS)})")
    if fmt == "auto":
        fmt = detect_format(path)
    elif not Path(path).is_file():
        raise ValueError(f"{where}: no such file")
    if fmt == "bvh":
        if options is not None and options.source_fps is not None:
            kwargs.setdefault("source_fps", options.source_fps)
        motion = read_bvh(path, **kwargs)
    elif fmt == "amass":
        motion = read_amass(path, options=options, **kwargs)
    else:
        motion = read_keypoints(path, options=options, **kwargs)
    return apply_scale_options(motion, options)


def apply_scale_options(motion: HumanMotion, options: SourceOptions | None) -> HumanMotion:
    """What the user said about the size of the input, kept on the motion: ``units`` → unit_scale,
    ``height`` → extra["performer_height_m"] (normalisation turns it into the unit scale)."""
    if options is None:
        return motion
    if options.units is not None:
        from mimiclab.retarget.normalize import parse_units

        motion.unit_scale = parse_units(options.units)
    if options.height is not None:
        motion.extra["performer_height_m"] = float(options.height)
    return motion


def _magic(p: Path, n: int) -> bytes:
    try:
        with open(p, "rb") as f:
            return f.read(n)
    except OSError:
        return b""


def _is_zip(p: Path) -> bool:
    return _magic(p, 4) == b"PK\x03\x04"


def _has_keypoint_shaped_array(where: str, p: Path) -> bool:
    """An npz whose arrays include one shaped like keypoints (T,J,3|4), under any key."""
    from mimiclab.retarget.sources.keypoints import _find_positions

    try:
        _find_positions(where, load_npz_fields(where, p), False)
    except ValueError:
        return False
    return True


def _head(where: str, p: Path) -> str:
    try:
        with open(p, "rb") as f:
            return f.read(256).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    except OSError as e:
        raise ValueError(f"{where}: cannot read the file ({e.strerror or e})") from None


def _npz_keys(where: str, p: Path) -> set[str]:
    return set(load_npz_fields(where, p, keys_only=True))
