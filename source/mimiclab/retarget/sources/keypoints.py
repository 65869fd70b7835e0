"""3D keypoint sequences from video pose estimators (npz or json), COCO-17 / H36M-17 / SMPL-24.

npz (read with allow_pickle=False) — keys:
    positions under "keypoints", "joints3d" or "positions": (T,J,3) float (T,J,4: 4th column taken
    as confidence when no confidence array is given);
    optional "confidence" / "scores" (T,J) in [0,1]; "fps" scalar (or pass fps=...);
    optional "layout" ("coco17", "h36m17", "smpl24"; aliases such as "coco", "h36m", "smpl"),
    "joint_names" (J,) str, "parents" (J,) int, "unit_scale" (metres per unit) or "units"
    ("m", "cm", "mm"), "up_axis" ("y" or "z").
json — the same fields as one object, e.g.
    {"fps": 30, "layout": "coco17", "keypoints": [[[x, y, z], ...], ...], "confidence": [[...], ...]}
    with null (or NaN) for a missing coordinate or a whole missing joint.

Layout: the "layout" field, else the joint names, else J (24 → smpl24; 17 is ambiguous between COCO-17
and H36M-17 and needs a layout field or joint names). Other J need joint_names (layout None).
Missing joints (any NaN/Inf coordinate, or confidence 0) get confidence 0 and NaN positions.
Positions stay in the file's units and axes. Errors: ValueError("<path>: <problem>"), one line.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.sources._atomic import atomic_write_bytes

COCO17_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
"""COCO-17 keypoint order (COCO person keypoints). No kinematic tree."""

H36M17_JOINTS = (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "spine", "thorax", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
)
"""Human3.6M 17-joint order of the 3D lifting literature (VideoPose3D, MotionBERT): index 9 is the
neck/nose point and index 10 the top of the head; "right_ankle"/"left_ankle" are H36M's "foot"."""
H36M17_PARENTS = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)

SMPL24_JOINTS = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)
"""SMPL body joints (24) in SMPL order."""
SMPL24_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

LAYOUTS: dict[str, tuple[tuple[str, ...], tuple[int, ...] | None]] = {
    "coco17": (COCO17_JOINTS, None),
    "h36m17": (H36M17_JOINTS, H36M17_PARENTS),
    "smpl24": (SMPL24_JOINTS, SMPL24_PARENTS),
}
_LAYOUT_ALIASES = {
    "coco": "coco17", "coco17": "coco17", "coco_17": "coco17", "coco-17": "coco17", "cocowholebody17": "coco17",
    "h36m": "h36m17", "h36m17": "h36m17", "h36m-17": "h36m17", "h36m_17": "h36m17", "human36m": "h36m17",
    "human3.6m": "h36m17",
    "smpl": "smpl24", "smpl24": "smpl24", "smpl-24": "smpl24", "smpl_24": "smpl24",
}
POSITION_KEYS = ("keypoints", "joints3d", "positions")
_CONFIDENCE_KEYS = ("confidence", "scores")
_FPS_KEYS = ("fps", "frame_rate", "framerate")
_UNITS = {"m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "cm": 0.01,
          "centimeter": 0.01, "centimeters": 0.01, "mm": 0.001, "millimeter": 0.001, "millimeters": 0.001,
          "in": 0.0254, "inch": 0.0254, "inches": 0.0254}


def layout_joint_names(layout: str) -> list[str]:
    """Joint names of a layout ("coco17", "h36m17", "smpl24" or an alias)."""
    return list(LAYOUTS[canonical_layout(layout)][0])


def layout_parents(layout: str) -> np.ndarray | None:
    """(J,) parent indices of a layout, or None for COCO-17 (no tree)."""
    parents = LAYOUTS[canonical_layout(layout)][1]
    return None if parents is None else np.array(parents, dtype=np.int64)


def canonical_layout(name: str) -> str:
    """Normalise a layout name or alias to "coco17" / "h36m17" / "smpl24"; KeyError if unknown."""
    key = str(name).strip().lower().replace(" ", "")
    if key not in _LAYOUT_ALIASES:
        raise KeyError(name)
    return _LAYOUT_ALIASES[key]


def _load_fields(where: str, path: Path) -> dict:
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ValueError(f"{where}: cannot read the file ({e.strerror or e})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ValueError(f"{where}: not valid JSON ({msg})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{where}: the JSON top level must be an object with 'keypoints' and 'fps'")
        return data
    return load_npz_fields(where, path)


def load_npz_fields(where: str, path: Path, keys_only: bool = False) -> dict:
    """All arrays of an npz (allow_pickle=False) as a dict; one-line ValueError if unreadable.

    keys_only: return {key: None} without reading the arrays.
    """
    try:
        z = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"{where}: no such file") from None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(f"{where}: not a readable npz file ({detail[:80]})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise ValueError(f"{where}: a single .npy array, not an npz archive of named arrays")
    with z:
        if keys_only:
            return dict.fromkeys(z.files)
        fields = {}
        for k in z.files:
            try:
                fields[k] = z[k]
            except ValueError:
                raise ValueError(f"{where}: array {k!r} is stored as Python objects (pickled); "
                                 "save plain numeric/string arrays") from None
            except (OSError, EOFError, zipfile.BadZipFile) as e:
                detail = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise ValueError(f"{where}: array {k!r} is unreadable ({detail[:80]})") from None
        return fields


def _scalar(where: str, value, key: str):
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"{where}: {key!r} must be a single value, got shape {arr.shape}")
    value = arr.reshape(()).item()
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _json_positions(where: str, value) -> np.ndarray:
    """Nested lists with null for missing values → (T,J,3) float array with NaN."""
    try:
        arr = np.array(value, dtype=np.float64)
        if arr.ndim == 3:
            return arr
    except (ValueError, TypeError):
        pass
    if not isinstance(value, list):
        raise ValueError(f"{where}: 'keypoints' must be a list of frames of [x, y, z] joints")
    frames = []
    for t, frame in enumerate(value):
        if not isinstance(frame, list):
            raise ValueError(f"{where}: frame {t} of 'keypoints' is not a list of joints")
        joints = []
        for joint in frame:
            if joint is None:
                joints.append([np.nan] * 3)
            elif isinstance(joint, list):
                joints.append([np.nan if v is None else v for v in joint])
            else:
                raise ValueError(f"{where}: frame {t} of 'keypoints' has a joint that is not [x, y, z] or null")
        frames.append(joints)
    try:
        return np.array(frames, dtype=np.float64)
    except (ValueError, TypeError):
        raise ValueError(f"{where}: 'keypoints' frames do not all have the same number of joints "
                         "with 3 numbers each") from None


def read_keypoints(path: str | os.PathLike, fps: float | None = None, layout: str | None = None) -> HumanMotion:
    """Read a 3D keypoint sequence (npz or json) into a HumanMotion.

    Returns positions (T,J,3) in file units/axes (NaN where missing), confidence (T,J) in [0,1]
    (0 = missing), joint_names and parents of the layout (None for COCO-17), layout name,
    orientations None. `fps`/`layout` arguments are used when the file has none (the file wins).
    """
    where = str(path)
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{where}: no such file")
    is_json = path.suffix.lower() == ".json"
    fields = _load_fields(where, path)

    pos_key = next((k for k in POSITION_KEYS if k in fields), None)
    if pos_key is None:
        raise ValueError(f"{where}: no keypoint array (expected one of {', '.join(POSITION_KEYS)}; "
                         f"found {', '.join(sorted(fields))[:120] or 'nothing'})")
    if is_json:
        positions = _json_positions(where, fields[pos_key])
    else:
        positions = np.asarray(fields[pos_key])
        if not np.issubdtype(positions.dtype, np.number):
            raise ValueError(f"{where}: {pos_key!r} must be numeric, got dtype {positions.dtype}")
        positions = positions.astype(np.float64)
    if positions.ndim == 2 and positions.shape[-1] in (3, 4):
        positions = positions[None]
    if positions.ndim != 3 or positions.shape[-1] not in (3, 4):
        raise ValueError(f"{where}: {pos_key!r} must have shape (T, J, 3), got {positions.shape}")
    T, J = positions.shape[:2]
    if T == 0:
        raise ValueError(f"{where}: the motion has zero frames")
    if J == 0:
        raise ValueError(f"{where}: {pos_key!r} has zero joints")

    conf_key = next((k for k in _CONFIDENCE_KEYS if k in fields), None)
    if conf_key is not None:
        raw_conf = fields[conf_key]
        try:
            confidence = np.array([[np.nan if v is None else v for v in row] for row in raw_conf],
                                  dtype=np.float64) if is_json else np.asarray(raw_conf, dtype=np.float64)
        except (ValueError, TypeError):
            raise ValueError(f"{where}: {conf_key!r} must be a (T, J) array of numbers") from None
        if confidence.shape == (T, J, 1):
            confidence = confidence[..., 0]
        if confidence.shape != (T, J):
            raise ValueError(f"{where}: {conf_key!r} must have shape ({T}, {J}), got {confidence.shape}")
    elif positions.shape[-1] == 4:
        confidence = positions[..., 3].copy()
    else:
        confidence = np.ones((T, J))
    positions = np.ascontiguousarray(positions[..., :3])
    confidence = np.where(np.isfinite(confidence), np.clip(confidence, 0.0, 1.0), 0.0)
    missing = ~np.isfinite(positions).all(axis=-1) | (confidence <= 0.0)
    confidence[missing] = 0.0
    positions[missing] = np.nan
    if missing.all():
        raise ValueError(f"{where}: every keypoint is missing (NaN or confidence 0)")

    fps_key = next((k for k in _FPS_KEYS if k in fields), None)
    if fps_key is not None:
        try:
            fps_value = float(_scalar(where, fields[fps_key], fps_key))
        except (TypeError, ValueError) as e:
            if str(e).startswith(where):
                raise
            raise ValueError(f"{where}: {fps_key!r} is not a number") from None
    elif fps is not None:
        fps_value = float(fps)
    else:
        raise ValueError(f"{where}: no 'fps' field (add one, or pass the frame rate)")
    if not np.isfinite(fps_value) or fps_value <= 0:
        raise ValueError(f"{where}: fps must be a positive number, got {fps_value}")

    file_names = None
    if "joint_names" in fields:
        file_names = [n.decode("utf-8", errors="replace") if isinstance(n, bytes) else str(n)
                      for n in np.asarray(fields["joint_names"]).reshape(-1).tolist()]
        if len(file_names) != J:
            raise ValueError(f"{where}: 'joint_names' has {len(file_names)} names for {J} joints")
    layout_field = fields.get("layout", layout)
    layout_name = None
    if layout_field is not None and str(_scalar(where, layout_field, "layout")).strip():
        text = str(_scalar(where, layout_field, "layout"))
        try:
            layout_name = canonical_layout(text)
        except KeyError:
            if file_names is None:
                raise ValueError(f"{where}: unknown layout {text[:40]!r} (supported: coco17, h36m17, smpl24; "
                                 "or give 'joint_names')") from None
    if layout_name is None and file_names is not None:
        layout_name = next((k for k, (names, _) in LAYOUTS.items() if list(names) == file_names), None)
    if layout_name is None and file_names is None:
        if J == 24:
            layout_name = "smpl24"
        elif J == 17:
            raise ValueError(f"{where}: 17 joints could be COCO-17 or H36M-17: add a 'layout' field "
                             "('coco17' or 'h36m17') or 'joint_names'")
        else:
            raise ValueError(f"{where}: {J} joints match no known layout (coco17: 17, h36m17: 17, smpl24: 24); "
                             "add 'joint_names'")
    if layout_name is not None:
        names, parents_t = LAYOUTS[layout_name]
        if len(names) != J:
            raise ValueError(f"{where}: layout {layout_name} has {len(names)} joints but the file has {J}")
        joint_names = list(names)
        parents = None if parents_t is None else np.array(parents_t, dtype=np.int64)
    else:
        joint_names = file_names
        parents = None
    if "parents" in fields:
        p = np.asarray(fields["parents"], dtype=np.int64).reshape(-1)
        if p.shape != (J,) or (p >= J).any() or (p < -1).any():
            raise ValueError(f"{where}: 'parents' must be {J} indices in [-1, {J - 1}]")
        parents = p

    unit_scale = None
    if "unit_scale" in fields:
        unit_scale = float(_scalar(where, fields["unit_scale"], "unit_scale"))
        if not np.isfinite(unit_scale) or unit_scale <= 0:
            raise ValueError(f"{where}: unit_scale must be a positive number")
    elif "units" in fields:
        u = str(_scalar(where, fields["units"], "units")).strip().lower()
        if u not in _UNITS:
            raise ValueError(f"{where}: unknown units {u[:20]!r} (use m, cm, mm or in)")
        unit_scale = _UNITS[u]
    up_axis = None
    if "up_axis" in fields:
        up_axis = str(_scalar(where, fields["up_axis"], "up_axis")).strip().lower()
        if up_axis not in ("y", "z"):
            raise ValueError(f"{where}: up_axis must be 'y' or 'z', got {up_axis[:10]!r}")

    extra = {}
    if file_names is not None and file_names != joint_names:
        extra["file_joint_names"] = file_names
    motion = HumanMotion(name=path.stem, fps=fps_value, joint_names=joint_names, positions=positions,
                         orientations=None, parents=parents, confidence=confidence, unit_scale=unit_scale,
                         up_axis=up_axis, layout=layout_name, source=where, extra=extra)
    motion.validate()
    return motion


def write_keypoints(path: str | os.PathLike, motion: HumanMotion) -> Path:
    """Write a HumanMotion's positions/confidence as a keypoint file (npz, or json for a .json path).

    Atomic (temp file in the same folder, then os.replace). Missing joints (confidence 0) are written
    as NaN (npz) or null (json). Stores fps, layout, joint_names, parents and, when set, unit_scale
    and up_axis.
    """
    path = Path(path)
    motion.validate()
    T, J = motion.positions.shape[:2]
    conf = np.ones((T, J)) if motion.confidence is None else np.asarray(motion.confidence, dtype=np.float64)
    pos = np.array(motion.positions, dtype=np.float64)
    pos[conf <= 0] = np.nan
    if path.suffix.lower() == ".json":
        doc = {"fps": float(motion.fps)}
        if motion.layout:
            doc["layout"] = motion.layout
        doc["joint_names"] = list(motion.joint_names)
        if motion.parents is not None:
            doc["parents"] = [int(p) for p in motion.parents]
        if motion.unit_scale is not None:
            doc["unit_scale"] = float(motion.unit_scale)
        if motion.up_axis is not None:
            doc["up_axis"] = motion.up_axis
        doc["keypoints"] = [[None if not np.isfinite(j).all() else [float(v) for v in j] for j in frame]
                            for frame in pos]
        doc["confidence"] = [[float(c) for c in row] for row in conf]
        payload = json.dumps(doc, separators=(",", ":")).encode()
        atomic_write_bytes(path, payload)
        return path
    arrays = {"keypoints": pos, "confidence": conf, "fps": np.float64(motion.fps),
              "joint_names": np.array(motion.joint_names, dtype=str)}
    if motion.layout:
        arrays["layout"] = np.array(motion.layout)
    if motion.parents is not None:
        arrays["parents"] = np.asarray(motion.parents, dtype=np.int64)
    if motion.unit_scale is not None:
        arrays["unit_scale"] = np.float64(motion.unit_scale)
    if motion.up_axis is not None:
        arrays["up_axis"] = np.array(motion.up_axis)
    atomic_write_bytes(path, npz_bytes(arrays))
    return path


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An uncompressed .npz (as np.savez writes it) with fixed zip timestamps: same arrays, same bytes."""
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
    return buf.getvalue()
