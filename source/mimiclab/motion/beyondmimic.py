"""BeyondMimic (whole_body_tracking, Isaac Lab) and mjlab motion npz files for the G1 29-DoF.

Both write ``fps`` (1,), ``joint_pos`` / ``joint_vel`` (T,29), ``body_pos_w`` / ``body_lin_vel_w`` /
``body_ang_vel_w`` (T,B,3) and ``body_quat_w`` (T,B,4, wxyz) with NO names: columns follow the
simulator's articulation order. The orders below are the known ones for the 29-DoF G1; the root
(pelvis) is body 0 in both. Readers map them onto names, take the root pose from body 0, and
re-run our forward kinematics and finite-difference velocities (``mimiclab.motion.kinematics``)
so that the result is consistent with every other mimiclab motion.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mimiclab.motion.format import MotionData, atomic_write, _write_npz
from mimiclab.robots.g1 import G1
from mimiclab.rotations.numpy_ops import quat_normalize

# Isaac Lab / PhysX articulation order used by BeyondMimic (whole_body_tracking) for the G1
# 29-DoF URDF (fixed links merged): breadth-first over the kinematic tree, children in URDF order
# (left leg, right leg, waist at the pelvis; left arm, right arm at the torso). Source: the joint
# order Isaac Lab reports for this G1 (as used by BeyondMimic, unitree_rl_lab and their deploy
# configs), and identical to a breadth-first walk of our MJCF tree (checked in
# tests/motion/test_format.py).
ISAAC_G1_JOINT_ORDER: tuple[str, ...] = (
    "left_hip_pitch_joint", "right_hip_pitch_joint", "waist_yaw_joint",
    "left_hip_roll_joint", "right_hip_roll_joint", "waist_roll_joint",
    "left_hip_yaw_joint", "right_hip_yaw_joint", "waist_pitch_joint",
    "left_knee_joint", "right_knee_joint", "left_shoulder_pitch_joint", "right_shoulder_pitch_joint",
    "left_ankle_pitch_joint", "right_ankle_pitch_joint", "left_shoulder_roll_joint", "right_shoulder_roll_joint",
    "left_ankle_roll_joint", "right_ankle_roll_joint", "left_shoulder_yaw_joint", "right_shoulder_yaw_joint",
    "left_elbow_joint", "right_elbow_joint",
    "left_wrist_roll_joint", "right_wrist_roll_joint",
    "left_wrist_pitch_joint", "right_wrist_pitch_joint",
    "left_wrist_yaw_joint", "right_wrist_yaw_joint",
)
ISAAC_G1_BODY_ORDER: tuple[str, ...] = (
    "pelvis",
    "left_hip_pitch_link", "right_hip_pitch_link", "waist_yaw_link",
    "left_hip_roll_link", "right_hip_roll_link", "waist_roll_link",
    "left_hip_yaw_link", "right_hip_yaw_link", "torso_link",
    "left_knee_link", "right_knee_link", "left_shoulder_pitch_link", "right_shoulder_pitch_link",
    "left_ankle_pitch_link", "right_ankle_pitch_link", "left_shoulder_roll_link", "right_shoulder_roll_link",
    "left_ankle_roll_link", "right_ankle_roll_link", "left_shoulder_yaw_link", "right_shoulder_yaw_link",
    "left_elbow_link", "right_elbow_link",
    "left_wrist_roll_link", "right_wrist_roll_link",
    "left_wrist_pitch_link", "right_wrist_pitch_link",
    "left_wrist_yaw_link", "right_wrist_yaw_link",
)
# mjlab (csv_to_npz.py in the mjlab 1.6.0 wheel logs robot.data.joint_pos / body_link_*_w): MuJoCo
# order of its G1 MJCF, i.e. depth-first — joints = G1 SDK order, bodies = the MJCF body order
# (``Entity.body_names`` = spec bodies minus the world). Both equal mimiclab's G1 orders.
MJLAB_G1_JOINT_ORDER: tuple[str, ...] = tuple(G1.joint_names)
MJLAB_G1_BODY_ORDER: tuple[str, ...] = tuple(G1.body_names)

LAYOUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mjlab": (MJLAB_G1_JOINT_ORDER, MJLAB_G1_BODY_ORDER),
    "beyondmimic": (ISAAC_G1_JOINT_ORDER, ISAAC_G1_BODY_ORDER),
}
DETECT_TOL_M = 0.02  # mean body-position error [m] of our FK vs the file that identifies a layout
_REQUIRED = ("fps", "joint_pos", "body_pos_w", "body_quat_w")


def _fk_error(data: dict[str, np.ndarray], layout: str, frames: np.ndarray, tree) -> float:
    """Mean |FK body position − file body position| [m] on `frames` when read as `layout`."""
    from mimiclab.kernels.fk import forward_kinematics
    import torch

    joints, bodies = LAYOUTS[layout]
    col = [joints.index(n) for n in tree.joint_names]
    pos = np.asarray(data["body_pos_w"][frames], dtype=np.float64)
    quat = np.asarray(data["body_quat_w"][frames, 0], dtype=np.float64)
    quat = quat_normalize(quat)
    q = np.ascontiguousarray(np.asarray(data["joint_pos"][frames], dtype=np.float64)[:, col])
    fk_pos, _ = forward_kinematics(tree, torch.from_numpy(np.ascontiguousarray(pos[:, 0])),
                                   torch.from_numpy(quat), torch.from_numpy(q))
    file_pos = pos[:, [bodies.index(n) for n in tree.body_names]]
    return float(np.linalg.norm(fk_pos.numpy() - file_pos, axis=-1).mean())


def motion_from_beyondmimic(data: dict[str, np.ndarray], where: str, layout: str = "auto",
                            tree=None, fps: float | None = None) -> MotionData:
    """MotionData from the arrays of a BeyondMimic/mjlab npz (`where` names the file in errors).

    layout 'auto' tells BeyondMimic's Isaac order from mjlab's MuJoCo order by which one our FK
    reproduces (mean body-position error < 2 cm on up to 32 frames); 'beyondmimic' / 'mjlab'
    force one. The file's velocities are not used: they are recomputed by finite differences.
    fps: read at this rate instead of the file's ``fps`` ((), (1,) or (1,1), int or float), with a
    warning when they differ.
    """
    from mimiclab.motion.format import _require, choose_fps, fps_value
    from mimiclab.motion.kinematics import motion_from_joint_trajectory

    if tree is None:
        from mimiclab.robots.kinematic_tree import g1_kinematic_tree

        tree = g1_kinematic_tree()
    _require(data, _REQUIRED, where)
    file_fps = fps_value(data["fps"], where)
    jp, bp, bq = (np.asarray(data[k]) for k in ("joint_pos", "body_pos_w", "body_quat_w"))
    for key, x, nd, last in (("joint_pos", jp, 2, None), ("body_pos_w", bp, 3, 3), ("body_quat_w", bq, 3, 4)):
        if x.dtype.kind != "f" or x.ndim != nd or (last is not None and x.shape[-1] != last):
            want = "(T, J)" if nd == 2 else f"(T, B, {last})"
            raise ValueError(f"{where}: {key} has shape {x.shape} dtype {x.dtype}, expected float {want}")
    T = jp.shape[0]
    if T == 0:
        raise ValueError(f"{where}: zero frames")
    if bp.shape[0] != T or bq.shape[:2] != bp.shape[:2]:
        raise ValueError(f"{where}: inconsistent frame/body counts: joint_pos {jp.shape}, "
                         f"body_pos_w {bp.shape}, body_quat_w {bq.shape}")
    if jp.shape[1] != len(G1.joint_names):
        raise ValueError(f"{where}: joint_pos has {jp.shape[1]} columns; the known BeyondMimic/mjlab "
                         f"layouts are for the 29-DoF G1 (29 columns)")
    for key, x in (("joint_pos", jp), ("body_pos_w", bp), ("body_quat_w", bq)):
        bad = ~np.isfinite(x.reshape(T, -1)).all(axis=1)
        if bad.any():
            raise ValueError(f"{where}: {key} has NaN or Inf at frame {int(np.argmax(bad))}")
    frames = np.unique(np.linspace(0, T - 1, min(T, 32)).round().astype(np.int64))
    if layout == "auto":
        if bp.shape[1] != len(G1.body_names):
            raise ValueError(f"{where}: body_pos_w has {bp.shape[1]} bodies, not the 30 of the known G1 "
                             f"layouts; pass layout='beyondmimic' or 'mjlab' to read the joints anyway")
        errors = {name: _fk_error(data, name, frames, tree) for name in LAYOUTS}
        layout = min(errors, key=errors.get)
        if errors[layout] > DETECT_TOL_M:
            found = ", ".join(f"{k} {v:.3f} m" for k, v in errors.items())
            raise ValueError(f"{where}: joint and body data match no known G1 order "
                             f"(mean FK body error: {found}; tolerance {DETECT_TOL_M} m)")
        fk_error = errors[layout]
    elif layout in LAYOUTS:
        fk_error = _fk_error(data, layout, frames, tree) if bp.shape[1] == len(G1.body_names) else None
    else:
        raise ValueError(f"{where}: unknown layout '{layout}' (choose from auto, {', '.join(LAYOUTS)})")
    joints, _ = LAYOUTS[layout]
    source = {"format": layout, "file": Path(where).name}
    if fk_error is not None:
        source["fk_mean_body_error_m"] = round(fk_error, 6)
    fps = choose_fps(file_fps, fps, where)
    try:
        return motion_from_joint_trajectory(bp[:, 0], bq[:, 0], jp, fps,
                                            joint_names=joints, meta={"source": source}, tree=tree)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def save_beyondmimic(path: str | os.PathLike, motion: MotionData, layout: str = "beyondmimic") -> Path:
    """Write `motion` as a BeyondMimic ('beyondmimic', Isaac order) or mjlab ('mjlab') npz,
    atomically and deterministically. The motion must hold every G1 joint and body (any order)."""
    if layout not in LAYOUTS:
        raise ValueError(f"{path}: unknown layout '{layout}' (choose from {', '.join(LAYOUTS)})")
    joints, bodies = LAYOUTS[layout]
    m = motion.select(joints, bodies, where=str(path))
    arrays = {"fps": np.asarray([float(m.fps)])}
    for key in ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w"):
        arrays[key] = np.ascontiguousarray(getattr(m, key), dtype=np.float32)
    return atomic_write(path, lambda f: _write_npz(f, arrays))

