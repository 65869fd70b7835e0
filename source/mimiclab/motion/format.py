"""The mimiclab motion file: one ``.npz`` per clip, keyed by names, never by simulator order.

Fields (``np.load(path, allow_pickle=False)`` readable):
    fps () float, joint_names (J,) str, body_names (B,) str,
    joint_pos (T,J) [rad], joint_vel (T,J) [rad/s],
    root_pos_w (T,3) [m], root_quat_w (T,4) wxyz,
    body_pos_w (T,B,3) [m], body_quat_w (T,B,4) wxyz, body_lin_vel_w (T,B,3) [m/s],
    body_ang_vel_w (T,B,3) [rad/s],
    optional object_* arrays, and meta: a JSON string (source, skeleton map, settings, version).

On disk every float array is float32 except ``fps`` (float64); the file also holds
``format_version`` (int64 scalar). ``save_motion`` is atomic (temporary file in the same folder,
then ``os.replace``) and byte-for-byte deterministic (fixed member order and zip timestamps,
meta JSON with sorted keys). ``load_motion`` also reads the BeyondMimic / mjlab motion npz and the
Unitree G1 CSV (see ``mimiclab.motion.g1_csv``) and re-runs our forward kinematics on them.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

import numpy as np

from mimiclab.motion.objects import select_object_bodies, validate_object_arrays

FORMAT_VERSION = 1
QUAT_NORM_TOL = 1e-3  # |‖q‖ − 1| allowed for stored quaternions
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamp: identical input → identical bytes

# (field, trailing shape) in file order; "J" / "B" are the joint / body counts.
_ARRAY_FIELDS: tuple[tuple[str, tuple], ...] = (
    ("joint_pos", ("J",)),
    ("joint_vel", ("J",)),
    ("root_pos_w", (3,)),
    ("root_quat_w", (4,)),
    ("body_pos_w", ("B", 3)),
    ("body_quat_w", ("B", 4)),
    ("body_lin_vel_w", ("B", 3)),
    ("body_ang_vel_w", ("B", 3)),
)
_QUAT_FIELDS = ("root_quat_w", "body_quat_w")
_RESERVED = {"fps", "joint_names", "body_names", "meta", "format_version"} | {f for f, _ in _ARRAY_FIELDS}


@dataclass
class MotionData:
    """A robot motion clip in the mimiclab format (see module docstring for shapes and units)."""

    fps: float
    joint_names: list[str]
    body_names: list[str]
    joint_pos: np.ndarray
    joint_vel: np.ndarray
    root_pos_w: np.ndarray
    root_quat_w: np.ndarray
    body_pos_w: np.ndarray
    body_quat_w: np.ndarray
    body_lin_vel_w: np.ndarray
    body_ang_vel_w: np.ndarray
    meta: dict = field(default_factory=dict)
    objects: dict[str, np.ndarray] = field(default_factory=dict)  # "object_*" arrays, stored as-is

    @property
    def num_frames(self) -> int:
        return int(self.joint_pos.shape[0])

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame, (T−1)/fps."""
        return (self.num_frames - 1) / float(self.fps)

    def validate(self, where: str = "motion") -> None:
        """Raise a one-line ValueError starting with `where` for the first problem found."""
        validate_motion(self, where)

    def select(self, joint_names: Sequence[str] | None = None, body_names: Sequence[str] | None = None,
               where: str = "motion") -> "MotionData":
        """A copy with joints and/or bodies picked and ordered by name (None = keep all as they are).

        An object track stays as it is, except that its contact labels keep only the picked bodies.

        ValueError naming the unknown names, e.g. to map a file onto a simulator's own order.
        """
        out = replace(self, meta=dict(self.meta), objects=dict(self.objects))
        if joint_names is not None:
            idx = _indices(self.joint_names, joint_names, "joint", where)
            out.joint_names = list(joint_names)
            out.joint_pos, out.joint_vel = self.joint_pos[:, idx], self.joint_vel[:, idx]
        if body_names is not None:
            idx = _indices(self.body_names, body_names, "body", where)
            out.body_names = list(body_names)
            for f in ("body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w"):
                setattr(out, f, getattr(self, f)[:, idx])
            out.objects = select_object_bodies(out.objects, out.body_names)  # labels of kept bodies only
        return out


def _indices(have: Sequence[str], want: Sequence[str], kind: str, where: str) -> list[int]:
    lookup = {n: i for i, n in enumerate(have)}
    unknown = [n for n in want if n not in lookup]
    if unknown:
        raise ValueError(f"{where}: unknown {kind} names {unknown} (the motion has {len(have)} {kind}s)")
    if len(set(want)) != len(want):
        raise ValueError(f"{where}: duplicate {kind} names requested")
    return [lookup[n] for n in want]


# --------------------------------------------------------------------------------------------
# validation


def _check_names(names, kind: str, where: str) -> list[str]:
    if isinstance(names, np.ndarray):
        names = names.tolist()
    if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
        raise ValueError(f"{where}: {kind}_names must be a sequence of strings, got {type(names).__name__}")
    names = list(names)
    bad = [n for n in names if not isinstance(n, str) or not n]
    if bad:
        raise ValueError(f"{where}: {kind}_names must be non-empty strings, got {bad[0]!r}")
    seen: set[str] = set()
    dup = [n for n in names if n in seen or seen.add(n)]
    if dup:
        raise ValueError(f"{where}: duplicate {kind} names {sorted(set(dup))}")
    return names


def _first_bad_frame(x: np.ndarray) -> int | None:
    bad = ~np.isfinite(x.reshape(x.shape[0], -1)).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def _meta_json(meta, where: str) -> str:
    if not isinstance(meta, dict):
        raise ValueError(f"{where}: meta must be a dict, got {type(meta).__name__}")

    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, Path):
            return str(o)
        raise TypeError(f"{type(o).__name__} is not JSON serialisable")

    try:
        return json.dumps(meta, sort_keys=True, separators=(",", ":"), allow_nan=False, default=default)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: meta is not JSON-serialisable ({e})") from None


def validate_motion(motion: MotionData, where: str = "motion") -> dict[str, np.ndarray]:
    """Check every field of `motion`; return the arrays exactly as ``save_motion`` writes them.

    Rules: fps finite > 0; names unique non-empty strings; arrays float32/float64 with shapes
    consistent with T ≥ 1 frames, J joints and B bodies, all finite; quaternions unit within
    1e-3; meta a JSON-serialisable dict; objects keyed ``object_*`` with numeric/bool/str arrays
    (no Python objects); with ``object_shape`` present, the object schema of
    ``mimiclab.motion.objects`` (T frames, contact bodies among the motion's). Raises a one-line
    ValueError starting with `where`.
    """
    try:
        fps = float(np.asarray(motion.fps).reshape(()))
    except (TypeError, ValueError):
        raise ValueError(f"{where}: fps must be a number, got {motion.fps!r}") from None
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"{where}: fps must be finite and > 0, got {fps}")
    joint_names = _check_names(motion.joint_names, "joint", where)
    body_names = _check_names(motion.body_names, "body", where)
    J, B = len(joint_names), len(body_names)
    dims = {"J": J, "B": B}
    out: dict[str, np.ndarray] = {
        "fps": np.asarray(fps, dtype=np.float64),
        "joint_names": np.asarray(joint_names, dtype=np.str_) if J else np.zeros(0, dtype="<U1"),
        "body_names": np.asarray(body_names, dtype=np.str_) if B else np.zeros(0, dtype="<U1"),
    }
    T = None
    for name, trailing in _ARRAY_FIELDS:
        x = getattr(motion, name)
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x)
            except Exception:
                raise ValueError(f"{where}: {name} is not an array") from None
        if x.dtype not in (np.float32, np.float64):
            raise ValueError(f"{where}: {name} must be float32 or float64, got {x.dtype}")
        want = tuple(dims.get(d, d) for d in trailing)
        if T is None and x.ndim >= 1:
            T = x.shape[0]
        if x.ndim != 1 + len(want) or x.shape[1:] != want or x.shape[0] != T:
            shape = "(" + ", ".join(str(d) for d in ((T if T is not None else "T"),) + want) + ")"
            raise ValueError(f"{where}: {name} has shape {x.shape}, expected {shape} (T frames, J={J}, B={B})")
        if T == 0:
            raise ValueError(f"{where}: zero frames")
        bad = _first_bad_frame(x)
        if bad is not None:
            raise ValueError(f"{where}: {name} has NaN or Inf at frame {bad}")
        if name in _QUAT_FIELDS:
            err = np.abs(np.linalg.norm(x.astype(np.float64), axis=-1) - 1.0)
            if err.size and err.max() > QUAT_NORM_TOL:
                bad = err.reshape(err.shape[0], -1).max(axis=1)
                frame = int(np.argmax(bad > QUAT_NORM_TOL))
                raise ValueError(f"{where}: {name} is not a unit quaternion at frame {frame} "
                                 f"(|norm - 1| = {bad[frame]:.3g} > {QUAT_NORM_TOL})")
        out[name] = np.ascontiguousarray(x, dtype=np.float32)
    if not isinstance(motion.objects, dict):
        raise ValueError(f"{where}: objects must be a dict of 'object_*' arrays")
    for key in sorted(motion.objects, key=str):
        value = np.asarray(motion.objects[key])
        if not isinstance(key, str) or not key.startswith("object_") or "/" in key or key in _RESERVED:
            raise ValueError(f"{where}: object array names must start with 'object_' (and contain no '/'), got {key!r}")
        if value.dtype.kind not in "biufU":
            raise ValueError(f"{where}: {key} has dtype {value.dtype}; only numeric, bool or str arrays can be stored")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ValueError(f"{where}: {key} contains NaN or Inf")
        out[key] = np.ascontiguousarray(value)
    if "object_shape" in motion.objects:  # an object track: the schema of mimiclab.motion.objects
        out.update(validate_object_arrays(motion.objects, where, T, body_names))
    out["meta"] = np.asarray(_meta_json(motion.meta, where), dtype=np.str_)
    out["format_version"] = np.asarray(FORMAT_VERSION, dtype=np.int64)
    return out


# --------------------------------------------------------------------------------------------
# writing


def _file_mode(path: Path) -> int:
    """Mode for a new file at `path`: the existing file's, else 0o666 minus the process umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        pass
    umask = 0o022
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                umask = int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(f)`` on a temporary file beside `path`, fsync it, then ``os.replace`` it onto
    `path`. On any error the temporary file is removed and an existing `path` is left intact."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """``atomic_write`` of `payload`, with the parent folder created first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda f: f.write(payload))


def _write_npz(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """An uncompressed npz (what np.savez writes) with fixed member timestamps and order."""
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, value, allow_pickle=False)


def save_motion(path: str | os.PathLike, motion: MotionData) -> Path:
    """Validate `motion` and write it to `path` (.npz) atomically and deterministically."""
    path = Path(path)
    arrays = validate_motion(motion, str(path))
    return atomic_write(path, lambda f: _write_npz(f, arrays))


# --------------------------------------------------------------------------------------------
# reading


def fps_value(value, where: str, key: str = "fps") -> float:
    """The frame rate stored in a file: one finite number > 0, as a scalar or an array of shape
    (), (1,) or (1, 1) of any int/float dtype. ValueError '<where>: fps must be one positive number'."""
    arr = np.asarray(value)
    ok = arr.size == 1 and arr.dtype.kind in "iuf"
    v = float(arr.reshape(-1)[0]) if ok else float("nan")
    if not ok or not np.isfinite(v) or v <= 0:
        shown = arr.tolist() if arr.size <= 4 else f"an array of shape {arr.shape}"
        raise ValueError(f"{where}: {key} must be one positive number, got {shown!r} ({arr.dtype})")
    return v


def given_fps(fps, where: str) -> float | None:
    """Check a frame rate given by the caller (``--source-fps``): None or a finite number > 0."""
    if fps is None:
        return None
    try:
        v = float(fps)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: fps must be a positive number, got {fps!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{where}: fps must be a positive number, got {fps!r}")
    return v


def choose_fps(file_fps: float | None, fps: float | None, where: str, what: str = "the file says") -> float | None:
    """The rate to read at: the given `fps` wins over the file's, with a warning when they differ."""
    if fps is None:
        return file_fps
    if file_fps is not None and abs(fps - file_fps) > 1e-6 * file_fps:
        from mimiclab.motion.input_warning import warn_input

        warn_input(f"{where}: {what} {file_fps:g} fps but fps={fps:g} was given; reading at {fps:g} fps "
                   f"(no resampling: the clip plays {file_fps / fps:.3g}x as long)")
    return fps


def _retime(motion: MotionData, fps: float) -> MotionData:
    """`motion` relabelled at `fps` (same frames; finite-difference velocities scaled by fps/old)."""
    if fps == motion.fps:
        return motion
    k = fps / float(motion.fps)
    out = replace(motion, fps=fps, meta=dict(motion.meta), objects=dict(motion.objects))
    for f in ("joint_vel", "body_lin_vel_w", "body_ang_vel_w"):
        setattr(out, f, getattr(motion, f) * np.asarray(k, dtype=getattr(motion, f).dtype))
    out.meta["fps_override"] = {"file": float(motion.fps), "used": fps}
    return out


def _read_npz(path: Path, where: str) -> dict[str, np.ndarray]:
    """All arrays of an npz (allow_pickle=False); ValueError 'unreadable npz (...)'."""
    try:
        with open(path, "rb") as f:
            if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                raise ValueError("not a zip archive")
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an npz archive")
        with npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as e:
        msg = str(e).splitlines()[0] if str(e) else "not an npz archive"
        raise ValueError(f"{where}: unreadable npz ({msg})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(f"{where}: unreadable npz ({msg})") from None


LAYOUTS = ("auto", "mimiclab", "beyondmimic", "mjlab", "holosoma", "g1csv")


def load_motion(path: str | os.PathLike, *, layout: str = "auto", fps: float | None = None,
                joint_names: Sequence[str] | None = None,
                body_names: Sequence[str] | None = None) -> MotionData:
    """Read a motion file into a validated ``MotionData``.

    Detected from the content: our npz (names and root_pos_w); holosoma's npz (qpos-style
    ``qpos`` / ``joint_pos`` with root pos + wxyz quat + joints, name arrays, a "world" body —
    ``mimiclab.motion.holosoma``); the BeyondMimic/mjlab npz (joint_pos, body_pos_w, body_quat_w,
    fps; no names, known G1 orders — ``mimiclab.motion.beyondmimic``); a ``.csv`` is a
    Unitree/LAFAN1 G1 CSV, with or without a header row (``mimiclab.motion.g1_csv``). `layout`
    forces one of 'mimiclab', 'beyondmimic', 'mjlab', 'holosoma', 'g1csv'.
    fps (``--source-fps``): the rate of a file that stores none (G1 CSV without a time column;
    otherwise 30 is assumed, with a warning when the motion looks too slow for it); for a file
    that stores one, the given rate wins, with a warning when it differs. Frames are never
    resampled: only their timing (and so the velocities) changes.
    Foreign formats are re-FK'd on the G1 tree, so every motion is consistent with our FK.
    joint_names / body_names: pick and order the result by these names (``MotionData.select``).
    Errors: one-line ValueError naming the file and the problem.
    """
    path = Path(path)
    where = str(path)
    if layout not in LAYOUTS:
        raise ValueError(f"{where}: unknown layout '{layout}' (choose from {', '.join(LAYOUTS)})")
    if not path.is_file():
        raise ValueError(f"{where}: no such file")
    fps = given_fps(fps, where)
    if layout == "g1csv" or (layout == "auto" and path.suffix.lower() == ".csv"):
        from mimiclab.motion.g1_csv import read_g1_csv

        motion = read_g1_csv(path, fps=fps)
    else:
        motion = _load_npz(path, where, layout, fps)
    if joint_names is not None or body_names is not None:
        motion = motion.select(joint_names, body_names, where)
    return motion


def _load_npz(path: Path, where: str, layout: str, fps: float | None) -> MotionData:
    """Dispatch an npz on `layout` or, for 'auto', on its content (see ``load_motion``)."""
    from mimiclab.motion.holosoma import is_holosoma, motion_from_holosoma

    data = _read_npz(path, where)
    ours = "joint_names" in data or "body_names" in data
    if layout == "holosoma" or (layout == "auto" and is_holosoma(data)):
        return motion_from_holosoma(data, where, fps=fps)
    if layout == "mimiclab" or (layout == "auto" and ours):
        motion = _from_ours(data, where)
        return _retime(motion, choose_fps(motion.fps, fps, where))
    if layout in ("beyondmimic", "mjlab") or "body_pos_w" in data:
        from mimiclab.motion.beyondmimic import motion_from_beyondmimic

        return motion_from_beyondmimic(data, where, layout="auto" if layout == "auto" else layout, fps=fps)
    fields = ", ".join(sorted(data)) or "none"
    raise ValueError(f"{where}: not a motion file (fields: {fields})")


def _require(data: dict, names: Sequence[str], where: str) -> None:
    missing = [n for n in names if n not in data]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise ValueError(f"{where}: missing field{plural} {', '.join(repr(m) for m in missing)}")


def _from_ours(data: dict[str, np.ndarray], where: str) -> MotionData:
    _require(data, ["fps", "joint_names", "body_names", "meta"] + [f for f, _ in _ARRAY_FIELDS], where)
    version = data.get("format_version")
    if version is not None and int(np.asarray(version).reshape(-1)[0]) > FORMAT_VERSION:
        raise ValueError(f"{where}: format_version {int(version)} is newer than this mimiclab reads ({FORMAT_VERSION})")
    fps = fps_value(data["fps"], where)
    for key in ("joint_names", "body_names"):
        if data[key].dtype.kind != "U" or data[key].ndim != 1:
            raise ValueError(f"{where}: {key} must be a 1-d string array, got {data[key].dtype} {data[key].shape}")
    meta_arr = data["meta"]
    if meta_arr.dtype.kind != "U" or meta_arr.size != 1:
        raise ValueError(f"{where}: meta must be one JSON string")
    try:
        meta = json.loads(str(meta_arr.reshape(())[()]))
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: meta is not valid JSON ({e.msg} at char {e.pos})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{where}: meta must be a JSON object")
    motion = MotionData(
        fps=fps,
        joint_names=[str(n) for n in data["joint_names"]],
        body_names=[str(n) for n in data["body_names"]],
        **{f: data[f] for f, _ in _ARRAY_FIELDS},
        meta=meta,
        objects={k: v for k, v in data.items() if k.startswith("object_")},
    )
    validate_motion(motion, where)
    return motion
