"""holosoma (amazon-far/holosoma) motion npz files for the G1 29-DoF.

Two kinds are read:

* whole-body-tracking files (``*_mj.npz``, written by holosoma's ``convert_data_format_mj.py``
  from a MuJoCo replay): ``fps`` (1,) int, ``joint_pos`` (T, 36) = MuJoCo ``qpos`` = [root pos 3 [m],
  root quat 4 (wxyz, MuJoCo's order), 29 joints [rad]], ``joint_vel`` (T, 35) = ``qvel``,
  ``body_pos_w`` / ``body_quat_w`` (T, B, 3 / 4 wxyz) = ``xpos`` / ``xquat`` of every MuJoCo body with
  the ``world`` body first (B = 51 for holosoma's G1 model, which keeps fixed links as bodies),
  ``body_lin_vel_w`` / ``body_ang_vel_w``, ``joint_names`` (29,) (the free joint left out) and
  ``body_names`` (B,); with an object, ``object_*`` arrays too.
* retargeting results: ``qpos`` (T, 36), or (T, 43) with an object's free joint appended, and
  usually ``fps`` (some files store the frame period there: a value ≤ 1 is read as seconds).

Columns are mapped by name when name arrays exist (G1 SDK joint names, with or without the
``_joint`` suffix); without names a 36-column qpos is in G1 SDK order (= holosoma's
``JOINT_NAMES``). A joint-only ``joint_pos`` (T, 29) with names takes the root pose from the
``pelvis`` body. Reading re-runs our forward kinematics (``motion_from_joint_trajectory``); the
file's bodies are only compared with it (``fk_mean_body_error_m`` in ``meta.source``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mimiclab.motion.format import MotionData, choose_fps, fps_value
from mimiclab.motion.input_warning import warn_input
from mimiclab.robots.g1 import G1

QPOS_COLUMNS = 7 + len(G1.joint_names)  # 36
OBJECT_QPOS = 7  # an object's free joint: pos 3 + quat 4
QUAT_TOL = 1e-2  # |‖q‖ − 1| accepted for a root quaternion column block
BODY_TOL_M = 0.02  # mean |our FK − file| body position above which a warning is given
DEFAULT_FPS = 30.0  # holosoma's retargeting output rate, assumed when a file stores none
_JOINT_NAME_KEYS = ("joint_names", "dof_names")
_BODY_NAME_KEYS = ("body_names", "link_names")


def _names(data: dict, keys: tuple[str, ...], where: str) -> list[str] | None:
    """The first name array among `keys` as a list of str (bytes decoded), or None."""
    for key in keys:
        if key in data:
            arr = np.asarray(data[key])
            if arr.dtype.kind not in "US" or arr.ndim != 1:
                raise ValueError(f"{where}: {key} must be a 1-d string array, got {arr.dtype} {arr.shape}")
            return [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in arr.tolist()]
    return None


def is_holosoma(data: dict[str, np.ndarray]) -> bool:
    """True for a holosoma-style npz: a ``qpos`` array, a ``world`` body, or a qpos-wide
    ``joint_pos`` (7 + joints columns); also any named file without our ``root_pos_w``."""
    if "root_pos_w" in data or "format_version" in data or "meta" in data:
        return False  # ours (a missing field is reported by our reader)
    if "qpos" in data:
        return True
    bodies = data.get("body_names")
    if bodies is not None and np.asarray(bodies).dtype.kind in "US" and "world" in np.asarray(bodies).tolist():
        return True
    jp = np.asarray(data.get("joint_pos", np.zeros((0, 0))))
    names = data.get("joint_names", data.get("dof_names"))
    if jp.ndim == 2 and jp.shape[1] == (QPOS_COLUMNS if names is None else 7 + np.asarray(names).size):
        return True
    return names is not None and "joint_pos" in data


def _g1_joint(name: str) -> str | None:
    """The G1 joint a file's joint name means (with or without '_joint'), else None."""
    n = name.strip()
    for cand in (n, n + "_joint", n.lower(), n.lower() + "_joint"):
        if cand in G1.joint_names:
            return cand
    return None


def _map_joints(names: list[str], where: str) -> list[str]:
    """G1 names for the file's joint names; ValueError listing unknown or missing ones."""
    mapped = [_g1_joint(n) for n in names]
    unknown = [n for n, m in zip(names, mapped) if m is None]
    if unknown:
        shown = ", ".join(unknown[:6]) + (f" … ({len(unknown)} in all)" if len(unknown) > 6 else "")
        raise ValueError(f"{where}: joint names not of the 29-DoF G1: {shown} (a {len(names)}-joint robot?)")
    missing = [n for n in G1.joint_names if n not in mapped]
    if missing:
        raise ValueError(f"{where}: the file has {len(names)} joints; the 29-DoF G1 needs all 29 "
                         f"(missing: {', '.join(missing)})")
    if len(set(mapped)) != len(mapped):
        raise ValueError(f"{where}: duplicate joint names")
    return mapped


def _float_2d(data: dict, key: str, where: str) -> np.ndarray:
    x = np.asarray(data[key])
    if x.dtype.kind not in "iuf" or x.ndim != 2:
        raise ValueError(f"{where}: {key} has shape {x.shape} dtype {x.dtype}, expected float (T, columns)")
    if x.shape[0] == 0:
        raise ValueError(f"{where}: zero frames")
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        raise ValueError(f"{where}: {key} has NaN or Inf at frame {int(np.argmax(bad))}")
    return x.astype(np.float64)


def _is_unit(q: np.ndarray) -> bool:
    return bool((np.abs(np.linalg.norm(q, axis=1) - 1.0) <= QUAT_TOL).all())


def _root_from_qpos(q: np.ndarray, key: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(root_pos (T,3), root_quat wxyz (T,4)) from qpos columns [pos 3, quat wxyz 4] (MuJoCo), or
    [quat wxyz 4, pos 3] (holosoma's OmniRetarget variant) when only that reading is unit."""
    if _is_unit(q[:, 3:7]):
        return q[:, :3], q[:, 3:7]
    if _is_unit(q[:, 0:4]):
        return q[:, 4:7], q[:, 0:4]
    norm = np.linalg.norm(q[:, 3:7], axis=1)
    i = int(np.argmax(np.abs(norm - 1.0)))
    raise ValueError(f"{where}: {key} columns 4-7 (root quaternion, wxyz) are not a unit quaternion "
                     f"at frame {i} (norm {norm[i]:.4g})")


def _root_from_bodies(data: dict, bodies: list[str] | None, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Root pose from the ``pelvis`` body of body_pos_w / body_quat_w (wxyz)."""
    if bodies is None or "pelvis" not in bodies or "body_pos_w" not in data or "body_quat_w" not in data:
        raise ValueError(f"{where}: joint_pos holds joints only and there is no 'pelvis' body to take "
                         f"the root pose from")
    b = bodies.index("pelvis")
    return (np.asarray(data["body_pos_w"], dtype=np.float64)[:, b],
            np.asarray(data["body_quat_w"], dtype=np.float64)[:, b])


def _file_fps(data: dict, where: str, qpos_file: bool) -> float | None:
    """The file's rate, or None when it stores none. A retargeting result's value ≤ 1 is a period."""
    if "fps" not in data:
        return None
    v = fps_value(data["fps"], where)
    if qpos_file and v <= 1.0:
        warn_input(f"{where}: fps = {v:g} read as a frame period ({1.0 / v:g} fps), as holosoma does")
        return 1.0 / v
    return v


def _split_columns(q: np.ndarray, key: str, joints: list[str] | None, where: str) -> tuple[int, list[str]]:
    """(first joint column: 7 for qpos-style, 0 for joints only; G1 joint names of the columns)."""
    W = q.shape[1]
    J = len(joints) if joints is not None else len(G1.joint_names)
    if joints is None and W not in (QPOS_COLUMNS, QPOS_COLUMNS + OBJECT_QPOS):
        raise ValueError(f"{where}: {key} has {W} columns; the G1 29-DoF qpos has {QPOS_COLUMNS} "
                         f"(root pos 3, root quat wxyz 4, 29 joints), so this is another robot "
                         f"({W - 7} joints?) or needs joint_names")
    if W == 7 + J + OBJECT_QPOS:
        warn_input(f"{where}: the last {OBJECT_QPOS} {key} columns (an object's pose) are ignored")
    elif W not in (J, 7 + J):
        raise ValueError(f"{where}: {key} has {W} columns for {J} joint names "
                         f"(expected {J}, or {7 + J} with the root pos 3 + quat wxyz 4 first)")
    names = list(G1.joint_names) if joints is None else _map_joints(joints, where)
    return (0 if W == J else 7), names


def _fk_body_error(motion: MotionData, data: dict, bodies: list[str] | None) -> float | None:
    """Mean |our FK − file| body position [m] over the G1 bodies the file names (≤ 32 frames)."""
    if bodies is None or "body_pos_w" not in data:
        return None
    bp = np.asarray(data["body_pos_w"])
    common = [n for n in motion.body_names if n in bodies]
    if bp.ndim != 3 or bp.shape[0] != motion.num_frames or bp.shape[1] != len(bodies) or not common:
        return None
    T = motion.num_frames
    frames = np.unique(np.linspace(0, T - 1, min(T, 32)).round().astype(np.int64))
    ours = motion.body_pos_w[frames][:, [motion.body_names.index(n) for n in common]]
    theirs = bp[frames][:, [bodies.index(n) for n in common]].astype(np.float64)
    return float(np.linalg.norm(ours - theirs, axis=-1).mean())


def motion_from_holosoma(data: dict[str, np.ndarray], where: str, fps: float | None = None,
                         tree=None) -> MotionData:
    """MotionData from the arrays of a holosoma npz (module docstring; `where` names the file).

    fps: the rate to read at; it wins over the file's with a warning when they differ; with
    neither, 30 fps is assumed with a warning. ValueError (one line) on unknown/missing joint
    names, a qpos of another robot, non-unit root quaternions, NaN/Inf, zero frames, a bad fps.
    """
    from mimiclab.motion.kinematics import motion_from_joint_trajectory

    key = "qpos" if "qpos" in data else "joint_pos"
    if key not in data:
        raise ValueError(f"{where}: missing field 'qpos' or 'joint_pos'")
    q = _float_2d(data, key, where)
    joints = _names(data, _JOINT_NAME_KEYS, where)
    bodies = _names(data, _BODY_NAME_KEYS, where)
    if joints is not None and len(joints) == q.shape[1] - 6 and _g1_joint(joints[0]) is None:
        joints = joints[1:]  # the root free joint named too
    first, names = _split_columns(q, key, joints, where)
    if first == 7:
        root_pos, root_quat = _root_from_qpos(q, key, where)
    else:
        root_pos, root_quat = _root_from_bodies(data, bodies, where)
    file_fps = _file_fps(data, where, qpos_file=key == "qpos")
    rate = choose_fps(file_fps, fps, where)
    if rate is None:
        warn_input(f"{where}: the file stores no fps; assumed {DEFAULT_FPS:g} fps (pass --source-fps to set it)")
        rate = DEFAULT_FPS
    dropped = sorted(k for k in data if k.startswith("object_"))
    if dropped:
        warn_input(f"{where}: object arrays ({', '.join(dropped)}) are not carried over")
    source = {"format": "holosoma", "file": Path(where).name}
    try:
        motion = motion_from_joint_trajectory(root_pos, root_quat, q[:, first:first + len(names)], rate,
                                              joint_names=names, meta={"source": source}, tree=tree)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    err = _fk_body_error(motion, data, bodies)
    if err is not None:
        source["fk_mean_body_error_m"] = round(err, 6)
        if err > BODY_TOL_M:
            warn_input(f"{where}: the file's body positions differ from our G1 FK by {err:.3f} m on average "
                       f"(another G1 model?); the motion is read from its joints")
    return motion
