"""3D keypoint sequences from pose estimators and body models (npz, npy or json).

Files: an npz (read with allow_pickle=False), a plain .npy array, or a JSON object (or a top-level
list of frames). The positions are the first of POSITION_KEYS present ("keypoints", "joints3d",
"positions", "pose3d", "reconstruction", "joints", "kps", "pred_3d", ...), else the one numeric
array shaped (T,J,3) / (T,J,4) (4th column = confidence), (J,3) (one frame) or (T,J*3) (flattened)
for a known J (several: the largest). JSON joints may be [x, y, z], null or {"x", "y", "z",
"visibility"}. Optional fields: "confidence"/"scores"/"visibility" (T,J) in [0,1]; "fps" (or
"frame_rate", "mocap_framerate"); "layout"; "joint_names" (J,); "parents" (J,); "unit_scale"
(metres per unit) or "units" ("m", "cm", "mm", "inch", "cmu"); "up_axis" ("y" or "z").
2-D only inputs ((T,J,2), OpenPose pose_keypoints_2d, pixel (x, y, score)) are refused.

Layout (``keypoint_layouts``): the `layout` argument / SourceOptions.layout, else the file's field,
else its joint names, else J: 22 smpl22 (HumanML3D), 24 smpl24, 33 mediapipe33, 52 smplh52,
55 smplx55; 17 by the geometry (COCO's five face points cluster; H36M's pelvis sits between the
hips), and H36M's mirrored "official" label order by the nose / hips / shoulders (a warning).

Conventions, when the file does not state them (SourceOptions overrides the file):
    frame: a body upside down along y is in camera coordinates (x right, y down, z forward) and
        is turned to Y-up by the rotation (x, -y, -z) (a warning; SourceOptions.frame forces it);
    up axis: the axis along which the head sits above the ankles;
    units: from the head-to-ankle length (0.4–2.6 → m, 40–260 → cm, 400–2600 → mm);
    root-relative: pelvis / mid-hip at one point in every frame while the body moves →
        extra["root_relative"] = True and a warning (no root translation is invented);
    fps: SourceOptions.source_fps, else the file, else `fps=`, else the layout's convention
        (smpl22: 20 fps, with a warning), else an error asking for --source-fps.
Missing joints (any NaN/Inf coordinate, or confidence 0) get confidence 0 and NaN positions.
An npz with "poses" and "trans" is an AMASS parameter file (``amass.read_amass``).
Errors: ValueError("<path>: <problem>"), one line.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from mimiclab.motion.format import atomic_write_bytes
from mimiclab.motion.input_warning import warn_input
from mimiclab.retarget.human_motion import HumanMotion

from mimiclab.retarget.sources.keypoint_layouts import (  # noqa: F401  (re-exported)
    COCO17_JOINTS, COUNT_TO_LAYOUT, H36M17_JOINTS, H36M17_OFFICIAL_JOINTS, H36M17_PARENTS, KNOWN_COUNTS, LAYOUTS,
    MEDIAPIPE33_JOINTS, SMPL22_JOINTS, SMPL24_JOINTS, SMPL24_PARENTS, SMPLH52_JOINTS, SMPLX55_JOINTS, body_axis,
    canonical_layout, detect_17, h36m_mirrored, layout_from_names, layout_joint_names, layout_parents, nanmedian,
    root_point)
from mimiclab.retarget.sources.options import SourceOptions

POSITION_KEYS = ("keypoints", "joints3d", "positions", "keypoints_3d", "keypoints3d", "joints_3d", "joints3D",
                 "pose3d", "pose_3d", "poses_3d", "poses3d", "pred_3d", "pred3d", "kps3d", "kpts3d", "j3d",
                 "reconstruction", "joints", "kps", "kpts", "world_landmarks", "pose_world_landmarks",
                 "landmarks", "output", "prediction", "predictions", "pred", "data")
"""Keys tried first for the (T,J,3) array, in this order; other keys are searched by shape."""
_CONFIDENCE_KEYS = ("confidence", "scores", "score", "visibility", "conf")
_FPS_KEYS = ("fps", "frame_rate", "framerate", "mocap_framerate", "mocap_frame_rate")
_META_KEYS = set(_CONFIDENCE_KEYS + _FPS_KEYS) | {"layout", "joint_names", "parents", "unit_scale", "units",
                                                   "up_axis", "frame"}
_PARAM_KEYS = {"poses", "pose", "body_pose", "global_orient", "root_orient", "pose_body", "pose_hand", "betas",
               "trans", "transl", "dmpls", "shape", "camera", "cam", "bbox", "bboxes", "boxes"}
"""Keys never taken as joint positions (SMPL parameters, cameras, boxes)."""
# top-point-to-ankle length of a person (0.8–2.2 m tall, or a child) in each unit
_HEIGHT_UNITS = ((0.4, 2.6, 1.0), (40.0, 260.0, 0.01), (400.0, 2600.0, 0.001))
ROOT_RELATIVE_TOL = 0.003  # root still within 0.3 % of the body length (≈ 5 mm) in every frame


def _load_fields(where: str, path: Path) -> tuple[dict, str]:
    """The file's named fields and its kind ("json" | "npz" | "npy"); a plain .npy array becomes
    {"keypoints": array}."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ValueError(f"{where}: cannot read the file ({e.strerror or e})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ValueError(f"{where}: not valid JSON ({msg})") from None
        if isinstance(data, list) and _is_numeric_nested(data):
            return {"keypoints": data}, "json"
        if not isinstance(data, dict):
            raise ValueError(f"{where}: the JSON top level must be an object with 'keypoints' and 'fps' "
                             "(or a list of frames of [x, y, z] joints)")
        _refuse_openpose(where, data)
        return data, "json"
    if _magic(path) == b"\x93NUMPY":
        return {"keypoints": load_npy(where, path)}, "npy"
    return load_npz_fields(where, path), "npz"


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(6)
    except OSError:
        return b""


def _is_numeric_nested(value) -> bool:
    """A list of lists (of lists ...) of numbers: frames of joints."""
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    if isinstance(value, dict):  # frames of {"x":, "y":, "z":} landmarks
        return depth >= 2 and "x" in value
    return depth >= 2 and isinstance(value, (int, float)) and not isinstance(value, bool)


def _refuse_openpose(where: str, data: dict) -> None:
    people = data.get("people")
    if isinstance(people, list) and not any(k in data for k in POSITION_KEYS):
        has3d = any(isinstance(p, dict) and p.get("pose_keypoints_3d") for p in people)
        if not has3d:
            raise ValueError(f"{where}: OpenPose 2-D keypoints (pose_keypoints_2d): 3-D keypoints are needed "
                             "(lift them with a 3-D pose estimator first)")
        raise ValueError(f"{where}: OpenPose BODY_25 3-D keypoints are not a supported layout "
                         "(supported: coco17, h36m17, smpl22/24, smplh52, smplx55, mediapipe33)")


def load_npy(where: str, path: Path) -> np.ndarray:
    """A plain .npy array (allow_pickle=False); one-line ValueError for object arrays or bad files."""
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as e:
        if "pickle" in str(e).lower() or "object" in str(e).lower():
            raise ValueError(f"{where}: the array is stored as Python objects (pickled); save a plain "
                             "numeric (T, J, 3) array") from None
        raise ValueError(f"{where}: not a readable .npy file ({str(e).splitlines()[0][:80]})") from None
    except (OSError, EOFError) as e:
        detail = (str(e).splitlines() or [type(e).__name__])[0][:80]
        raise ValueError(f"{where}: not a readable .npy file ({detail})") from None
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{where}: not a plain .npy array")
    return arr


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


def _json_joint(joint):
    if joint is None:
        return [np.nan] * 3
    if isinstance(joint, dict):  # MediaPipe-style {"x":, "y":, "z":, "visibility":}
        xyz = [np.nan if joint.get(k) is None else joint[k] for k in ("x", "y", "z")]
        score = next((joint[k] for k in ("visibility", "score", "confidence") if k in joint), None)
        return xyz if score is None else xyz + [score]
    if isinstance(joint, list):
        return [np.nan if v is None else v for v in joint]
    raise TypeError


def _json_positions(where: str, value, key: str = "keypoints") -> np.ndarray:
    """Nested lists (null for missing values; joints as [x, y, z] or {"x":, "y":, "z":}) → float array."""
    try:
        arr = np.array(value, dtype=np.float64)
        if arr.ndim >= 2:
            return arr
    except (ValueError, TypeError):
        pass
    if not isinstance(value, list):
        raise ValueError(f"{where}: {key!r} must be a list of frames of [x, y, z] joints")
    if value and not isinstance(value[0], list):
        value = [value]  # one frame
    frames = []
    for t, frame in enumerate(value):
        if not isinstance(frame, list):
            raise ValueError(f"{where}: frame {t} of {key!r} is not a list of joints")
        try:
            frames.append([_json_joint(j) for j in frame])
        except TypeError:
            raise ValueError(f"{where}: frame {t} of {key!r} has a joint that is not [x, y, z] or null") from None
    try:
        return np.array(frames, dtype=np.float64)
    except (ValueError, TypeError):
        raise ValueError(f"{where}: {key!r} frames do not all have the same number of joints "
                         "with 3 numbers each") from None


def _as_numeric(where: str, key: str, value, is_json: bool, strict: bool) -> np.ndarray | None:
    """The field as a float array, or None when it is not numeric (strict: ValueError instead)."""
    if is_json:
        if not isinstance(value, list):
            if strict:
                raise ValueError(f"{where}: {key!r} must be a list of frames of [x, y, z] joints")
            return None
        try:
            return _json_positions(where, value, key)
        except ValueError:
            if strict:
                raise
            return None
    arr = np.asarray(value)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        if strict:
            raise ValueError(f"{where}: {key!r} must be numeric, got dtype {arr.dtype}")
        return None
    return arr.astype(np.float64)


def _shape_kind(arr: np.ndarray) -> tuple[str, np.ndarray | None]:
    """('3d' | '2d' | '', array as (T,J,3|4)): what a numeric array looks like as keypoints.

    (T,J,3|4) → 3d; (J,3|4) with a known J → one frame; (T, J*3) with a known J → flattened;
    (T,J,2) / (J,2) → 2d; leading singleton axes (a person axis) are dropped.
    """
    while arr.ndim > 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        return "3d", arr
    if arr.ndim == 3 and arr.shape[-1] == 2:
        return "2d", None
    if arr.ndim == 2 and arr.shape[-1] in (3, 4) and arr.shape[0] in KNOWN_COUNTS:
        return "3d1", arr[None]
    if arr.ndim == 2 and arr.shape[-1] == 2 and arr.shape[0] in KNOWN_COUNTS:
        return "2d", None
    if arr.ndim == 2 and arr.shape[-1] % 3 == 0 and arr.shape[-1] // 3 in KNOWN_COUNTS:
        return "flat", arr.reshape(arr.shape[0], -1, 3)
    return "", None


def _find_positions(where: str, fields: dict, is_json: bool) -> tuple[str, np.ndarray]:
    """(key, (T,J,3|4) float array): a known key, else the one numeric array shaped like keypoints
    (several: the largest); 2-D-only inputs and files without one get a one-line ValueError."""
    known = next((k for k in POSITION_KEYS if k in fields), None)
    if known is not None:
        arr = _as_numeric(where, known, fields[known], is_json, strict=True)
        kind, pos = _shape_kind(arr)
        if kind == "2d":
            raise ValueError(f"{where}: {known!r} holds 2-D keypoints {arr.shape}: 3-D keypoints (x, y, z) are needed")
        if pos is not None:
            return known, pos
        if arr.ndim != 3 or arr.shape[-1] not in (3, 4):
            raise ValueError(f"{where}: {known!r} must have shape (T, J, 3), got {arr.shape}")
    found, cands, two_d = [], [], []
    for k, v in fields.items():
        if k in _META_KEYS or k in _PARAM_KEYS:
            continue
        arr = _as_numeric(where, k, v, is_json, strict=False)
        if arr is None:
            if not is_json and np.asarray(v).dtype == object:
                raise ValueError(f"{where}: array {k!r} is stored as Python objects (pickled); "
                                 "save plain numeric arrays")
            continue
        found.append(f"{k} {tuple(arr.shape)}")
        kind, pos = _shape_kind(arr)
        if kind == "2d":
            two_d.append(k)
        elif pos is not None:
            cands.append((kind == "3d", pos.size, k, pos))
    if cands:
        cands.sort(key=lambda c: (c[0], c[1]), reverse=True)
        return cands[0][2], cands[0][3]
    if two_d:
        raise ValueError(f"{where}: only 2-D keypoints ({', '.join(two_d)[:60]}): 3-D keypoints (x, y, z) are needed")
    listing = ", ".join(found + [k for k in fields if k in _META_KEYS or k in _PARAM_KEYS])
    raise ValueError(f"{where}: no keypoint array (expected one of {', '.join(POSITION_KEYS[:3])}, ... or a numeric "
                     f"(T, J, 3) array; found {listing[:160] or 'nothing'})")


def _refuse_pixels(where: str, key: str, positions: np.ndarray) -> None:
    """(T,J,3) that is really 2-D: pixel-sized x, y (range > 20) with a score in [0, 1] or a constant z."""
    if positions.shape[-1] != 3:
        return
    xy, z = positions[..., :2], positions[..., 2]
    ok = np.isfinite(positions).all(-1)
    if ok.sum() < 3:
        return
    xy_range = float(np.ptp(xy[ok], axis=0).max())
    z_ok = z[ok]
    if xy_range > 20.0 and ((z_ok.min() >= 0.0 and z_ok.max() <= 1.0) or np.ptp(z_ok) == 0):
        raise ValueError(f"{where}: {key!r} looks like 2-D pixel keypoints (x, y, score or a constant z): "
                         "3-D keypoints (x, y, z) are needed")


def _confidence(where: str, fields: dict, positions: np.ndarray, is_json: bool) -> np.ndarray:
    T, J = positions.shape[:2]
    conf_key = next((k for k in _CONFIDENCE_KEYS if k in fields), None)
    if conf_key is None:
        return positions[..., 3].copy() if positions.shape[-1] == 4 else np.ones((T, J))
    raw = fields[conf_key]
    try:
        conf = (np.array([[np.nan if v is None else v for v in row] for row in raw], dtype=np.float64)
                if is_json else np.asarray(raw, dtype=np.float64))
    except (ValueError, TypeError):
        raise ValueError(f"{where}: {conf_key!r} must be a (T, J) array of numbers") from None
    if conf.shape in ((T, J, 1), (1, T, J)):
        conf = conf.reshape(T, J)
    if conf.shape == (J,) and T == 1:
        conf = conf[None]
    if conf.shape != (T, J):
        raise ValueError(f"{where}: {conf_key!r} must have shape ({T}, {J}), got {conf.shape}")
    return conf


def _file_names(where: str, fields: dict, J: int) -> list[str] | None:
    if "joint_names" not in fields:
        return None
    names = [n.decode("utf-8", errors="replace") if isinstance(n, bytes) else str(n)
             for n in np.asarray(fields["joint_names"]).reshape(-1).tolist()]
    if len(names) != J:
        raise ValueError(f"{where}: 'joint_names' has {len(names)} names for {J} joints")
    return names


def _known_counts() -> str:
    by = {}
    for name, lay in LAYOUTS.items():
        if name != "h36m17-official":
            by.setdefault(len(lay.names), []).append(name)
    return ", ".join(f"{'/'.join(v)}: {k}" for k, v in sorted(by.items()))


def _resolve_layout(where: str, requested, file_names, positions: np.ndarray) -> tuple[str | None, list[str]]:
    """(layout or None, joint names): the requested/file layout, else the joint names, else J and
    the geometry (17 joints: COCO vs H36M, and H36M's mirrored order)."""
    J = positions.shape[1]
    if requested is not None:
        try:
            layout = canonical_layout(requested)
        except KeyError:
            if file_names is None:
                raise ValueError(f"{where}: unknown layout {str(requested)[:40]!r} (supported: "
                                 f"{', '.join(LAYOUTS)}; or give 'joint_names')") from None
            return layout_from_names(file_names), file_names
        names = LAYOUTS[layout].names
        if len(names) != J:
            raise ValueError(f"{where}: layout {layout} has {len(names)} joints but the file has {J}")
        return layout, list(names)
    if file_names is not None:
        return layout_from_names(file_names), file_names
    if J == 17:
        layout = detect_17(positions[..., :3])
        if layout is None:
            raise ValueError(f"{where}: 17 joints could be COCO-17 or H36M-17 and the geometry does not tell: "
                             "add a 'layout' field ('coco17' or 'h36m17') or pass --layout")
        if layout == "h36m17" and h36m_mirrored(positions[..., :3]):
            layout = "h36m17-official"
            warn_input(f"{where}: the H36M-17 left/right labels are mirrored (nose, hips and shoulders): read "
                       "as h36m17-official (pass --layout h36m17 to keep the VideoPose3D order)")
        return layout, list(LAYOUTS[layout].names)
    if J in COUNT_TO_LAYOUT:
        layout = COUNT_TO_LAYOUT[J]
        return layout, list(LAYOUTS[layout].names)
    raise ValueError(f"{where}: {J} joints match no known layout ({_known_counts()}); add 'joint_names' "
                     "or pass --layout")


def parse_units(where: str, value) -> float:
    """Metres per unit (``mimiclab.retarget.normalize.parse_units``), the error naming `where`."""
    from mimiclab.retarget.normalize import parse_units as parse

    try:
        return parse(value)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def _file_units(where: str, fields: dict) -> float | None:
    if "unit_scale" in fields:
        scale = float(_scalar(where, fields["unit_scale"], "unit_scale"))
        if not np.isfinite(scale) or scale <= 0:
            raise ValueError(f"{where}: unit_scale must be a positive number")
        return scale
    if "units" in fields:
        return parse_units(where, _scalar(where, fields["units"], "units"))
    return None


def _file_up(where: str, fields: dict) -> str | None:
    if "up_axis" not in fields:
        return None
    up = str(_scalar(where, fields["up_axis"], "up_axis")).strip().lower()
    if up not in ("y", "z"):
        raise ValueError(f"{where}: up_axis must be 'y' or 'z', got {up[:10]!r}")
    return up


def _geometry_up(positions: np.ndarray, names: list[str]) -> tuple[str | None, int]:
    """(axis, sign) along which the head sits above the ankles ('y'/'z', +1/-1), or (None, 0)."""
    d = nanmedian(body_axis(positions, names), axis=0)
    n = float(np.linalg.norm(d))
    if not np.isfinite(n) or n == 0:
        return None, 0
    axis = int(np.argmax(np.abs(d)))
    if axis == 0 or abs(d[axis]) < 0.6 * n:
        return None, 0
    return "xyz"[axis], int(np.sign(d[axis]))


def _body_length(positions: np.ndarray, names: list[str]) -> float:
    length = np.linalg.norm(body_axis(positions, names), axis=-1)
    length = length[np.isfinite(length)]
    return float(np.percentile(length, 90)) if length.size else 0.0


def _conventions(where: str, positions: np.ndarray, names: list[str], opts: SourceOptions,
                 file_up: str | None, file_scale: float | None) -> tuple[np.ndarray, str | None, float | None, dict]:
    """Frame, up axis, units and root-relativity → (positions (camera frame turned to Y-up), up_axis,
    unit_scale, extra)."""
    extra: dict = {}
    frame = (opts.frame or "auto").strip().lower()
    if frame not in ("auto", "world", "camera"):
        raise ValueError(f"{where}: frame must be 'auto', 'world' or 'camera', got {opts.frame[:20]!r}")
    geo = all(n in names for n in ("left_ankle", "right_ankle")) and any(
        n in names for n in ("head", "left_ear", "nose"))
    up = file_up
    axis, sign = _geometry_up(positions, names) if geo else (None, 0)
    if frame == "camera" or (frame == "auto" and file_up is None and axis == "y" and sign < 0):
        positions = positions * np.array([1.0, -1.0, -1.0])  # camera (x right, y down, z fwd) → Y-up
        up, extra["frame"] = "y", "camera"
        if frame == "auto":
            warn_input(f"{where}: the body is upside down along y: read as camera coordinates (x right, y down, "
                       "z forward) and turned Y-up (pass --frame world to keep the axes)")
    elif up is None and axis is not None and sign > 0:
        up = axis
    scale = file_scale
    if opts.units is not None:
        scale = parse_units(where, opts.units)
    length = _body_length(positions, names) if geo else 0.0
    if scale is None and length > 0 and up is not None:  # a plausible body: human-sized in m, cm or mm
        scale = next((s for lo, hi, s in _HEIGHT_UNITS if lo <= length <= hi), None)
    root = root_point(positions, names) if ("pelvis" in names or "left_hip" in names) else None
    if root is not None and length > 0 and np.isfinite(root).all(-1).sum() >= 2:
        r = root[np.isfinite(root).all(-1)]
        body_moves = float(np.nanmax(np.abs(positions - nanmedian(positions, axis=0)))) > 0.05 * length
        if body_moves and float(np.abs(r - np.median(r, axis=0)).max()) <= ROOT_RELATIVE_TOL * length:
            extra["root_relative"] = True
            warn_input(f"{where}: root-relative keypoints (the pelvis stays at one point): no root translation is "
                       "invented, the retargeted body stays in place")
    return positions, up, scale, extra


def _frame_rate(where: str, fields: dict, fps, opts: SourceOptions, layout: str | None) -> float:
    """options.source_fps, else the file's fps field, else `fps`, else the layout's convention (warning)."""
    if opts.source_fps is not None:
        value = float(opts.source_fps)
    elif (key := next((k for k in _FPS_KEYS if k in fields), None)) is not None:
        try:
            value = float(_scalar(where, fields[key], key))
        except (TypeError, ValueError) as e:
            if str(e).startswith(where):
                raise
            raise ValueError(f"{where}: {key!r} is not a number") from None
    elif fps is not None:
        value = float(fps)
    elif layout is not None and LAYOUTS[layout].fps is not None:
        value = LAYOUTS[layout].fps
        warn_input(f"{where}: no frame rate in the file: assumed {value:g} fps ({LAYOUTS[layout].fps_source} "
                   f"convention for {layout}; pass --source-fps to override)")
    else:
        raise ValueError(f"{where}: no frame rate in the file (add an 'fps' field or pass --source-fps)")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: fps must be a positive number, got {value}")
    return value


def read_keypoints(path: str | os.PathLike, fps: float | None = None, layout: str | None = None,
                   options: SourceOptions | None = None) -> HumanMotion:
    """Read a 3D keypoint sequence (npz, npy or json) into a HumanMotion (see the module docstring).

    Returns positions (T,J,3) in file units (unit_scale set when known or clear from the body
    length), axes as in the file except camera-frame input, which is turned Y-up; NaN where missing;
    confidence (T,J) in [0,1] (0 = missing); joint_names/parents of the layout; orientations None.
    `layout` / options.layout override the file's and the detected layout; options.source_fps
    overrides the file's rate, `fps` is used when the file has none. An AMASS parameter npz
    (poses + trans) is read by ``mimiclab.retarget.sources.amass.read_amass``.
    """
    opts = options or SourceOptions()
    where = str(path)
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{where}: no such file")
    fields, kind = _load_fields(where, path)
    is_json = kind == "json"
    if kind == "npz" and "poses" in fields and "trans" in fields:
        from mimiclab.retarget.sources.amass import read_amass

        return read_amass(path, options=opts, fps=fps)
    pos_key, positions = _find_positions(where, fields, is_json)
    T, J = positions.shape[:2]
    if T == 0:
        raise ValueError(f"{where}: the motion has zero frames")
    if J == 0:
        raise ValueError(f"{where}: {pos_key!r} has zero joints")
    _refuse_pixels(where, pos_key, positions)
    confidence = _confidence(where, fields, positions, is_json)
    positions = np.array(positions[..., :3], dtype=np.float64)
    confidence = np.where(np.isfinite(confidence), np.clip(confidence, 0.0, 1.0), 0.0)
    missing = ~np.isfinite(positions).all(axis=-1) | (confidence <= 0.0)
    confidence[missing] = 0.0
    positions[missing] = np.nan
    if missing.all():
        raise ValueError(f"{where}: every keypoint is missing (NaN or confidence 0)")

    file_names = _file_names(where, fields, J)
    requested = layout or opts.layout
    if requested is None and "layout" in fields and str(_scalar(where, fields["layout"], "layout")).strip():
        requested = str(_scalar(where, fields["layout"], "layout"))
    layout_name, joint_names = _resolve_layout(where, requested, file_names, positions)
    parents = layout_parents(layout_name) if layout_name is not None else None
    if "parents" in fields:
        p = np.asarray(fields["parents"], dtype=np.int64).reshape(-1)
        if p.shape != (J,) or (p >= J).any() or (p < -1).any():
            raise ValueError(f"{where}: 'parents' must be {J} indices in [-1, {J - 1}]")
        parents = p

    positions, up_axis, unit_scale, extra = _conventions(where, positions, joint_names, opts,
                                                         _file_up(where, fields), _file_units(where, fields))
    fps_value = _frame_rate(where, fields, fps, opts, layout_name)
    if file_names is not None and file_names != joint_names:
        extra["file_joint_names"] = file_names
    extra["keypoint_key"] = pos_key
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
