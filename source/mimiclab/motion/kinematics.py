"""Motion from a joint trajectory: forward kinematics on the G1 tree + finite-difference velocities.

Conventions (float64 throughout; ``save_motion`` stores float32):
- Joints are matched to the tree BY NAME; the result uses the tree's joint and body order
  (``G1.joint_names`` / ``G1.body_names`` for the default G1 tree).
- Velocities by finite differences (``mimiclab.rotations.numpy_ops.linear_velocity`` /
  ``angular_velocity``): linear (joints [rad/s], bodies [m/s], world frame) central
  (x[t+1] − x[t−1]) / 2dt inside, one-sided at the ends; angular [rad/s], world frame,
  ω[t] = log(q[t+1] ⊗ q[t−1]*) / 2dt inside, one-sided at the ends (exact for a constant angular
  velocity); all zero for a one-frame motion. Body quaternions are wxyz, world ← body.
- Resampling interpolates quaternions with ``mimiclab.rotations.numpy_ops.quat_slerp``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from mimiclab.motion.format import QUAT_NORM_TOL, MotionData
from mimiclab.rotations.numpy_ops import angular_velocity, linear_velocity, quat_slerp


def _array(name: str, x, shape: tuple) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected a float array, got dtype {x.dtype}")
    x = x.astype(np.float64)
    if x.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, x.shape)):
        want = "(" + ", ".join("T" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {x.shape}")
    return x


def motion_from_joint_trajectory(root_pos, root_quat_wxyz, joint_pos, fps: float,
                                 joint_names: Sequence[str] | None = None, meta: dict | None = None,
                                 tree=None, backend: str = "auto") -> MotionData:
    """Full ``MotionData`` from a root and joint trajectory.

    root_pos (T,3) [m] and root_quat_wxyz (T,4) of the tree's root body (pelvis) in the world;
    joint_pos (T,J) [rad] with columns named by `joint_names` (default ``G1.joint_names``), any
    order, covering every joint of `tree` (default: the G1 tree from the provisioned MJCF).
    fps: frames per second. Root quaternions are normalised (each must be unit within 1e-3).
    Body poses come from ``mimiclab.kernels.forward_kinematics`` in float64; velocities by
    finite differences (module docstring). ValueError on bad shapes, NaN/Inf, zero frames, a
    non-positive fps, and unknown or missing joint names (all listed).
    """
    if tree is None:
        from mimiclab.robots.kinematic_tree import g1_kinematic_tree

        tree = g1_kinematic_tree()
    if joint_names is None:
        from mimiclab.robots.g1 import G1

        joint_names = G1.joint_names
    joint_names = list(joint_names)
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        raise ValueError(f"fps must be a number, got {fps!r}") from None
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be finite and > 0, got {fps}")
    root_pos = _array("root_pos", root_pos, (None, 3))
    T = root_pos.shape[0]
    root_quat = _array("root_quat", root_quat_wxyz, (T, 4))
    joint_pos = _array("joint_pos", joint_pos, (T, len(joint_names)))
    if T == 0:
        raise ValueError("zero frames")
    for name, x in (("root_pos", root_pos), ("root_quat", root_quat), ("joint_pos", joint_pos)):
        bad = ~np.isfinite(x).all(axis=1)
        if bad.any():
            raise ValueError(f"{name} has NaN or Inf at frame {int(np.argmax(bad))}")
    norm = np.linalg.norm(root_quat, axis=1)
    err = np.abs(norm - 1.0)
    if err.max() > QUAT_NORM_TOL:
        i = int(np.argmax(err > QUAT_NORM_TOL))
        raise ValueError(f"root_quat is not a unit quaternion at frame {i} (norm {norm[i]:.6g})")
    root_quat = root_quat / norm[:, None]

    col = {n: i for i, n in enumerate(joint_names)}
    if len(col) != len(joint_names):
        raise ValueError("joint_names: duplicate names")
    unknown = [n for n in joint_names if n not in tree.joint_names]
    if unknown:
        raise ValueError(f"unknown joint names {unknown} (not in the robot's kinematic tree)")
    missing = [n for n in tree.joint_names if n not in col]
    if missing:
        raise ValueError(f"missing joints {missing}")
    q = joint_pos[:, [col[n] for n in tree.joint_names]]

    from mimiclab.kernels.fk import forward_kinematics

    body_pos, body_quat = forward_kinematics(tree, torch.from_numpy(root_pos), torch.from_numpy(root_quat),
                                             torch.from_numpy(np.ascontiguousarray(q)), backend=backend)
    body_pos, body_quat = body_pos.numpy(), body_quat.numpy()
    dt = 1.0 / fps
    return MotionData(
        fps=fps,
        joint_names=list(tree.joint_names),
        body_names=list(tree.body_names),
        joint_pos=q,
        joint_vel=linear_velocity(q, dt),
        root_pos_w=root_pos,
        root_quat_w=root_quat,
        body_pos_w=body_pos,
        body_quat_w=body_quat,
        body_lin_vel_w=linear_velocity(body_pos, dt),
        body_ang_vel_w=angular_velocity(body_quat, dt),
        meta=dict(meta or {}),
    )


def resample_times(num_frames: int, fps_old: float, fps_new: float) -> np.ndarray:
    """Source frame coordinates (T_new,) of the new frames, T_new = floor((T−1)·fps_new/fps_old) + 1,
    and at least 2 when T ≥ 2 (a clip shorter than one new frame keeps its first and last frame)."""
    t_new = int(math.floor((num_frames - 1) * fps_new / fps_old + 1e-9)) + 1
    if num_frames >= 2:
        t_new = max(t_new, 2)
    return np.minimum(np.arange(t_new, dtype=np.float64) * (fps_old / fps_new), num_frames - 1)


def _interp(x: np.ndarray, s: np.ndarray, quat: bool = False) -> np.ndarray:
    """x (T,...) sampled at fractional frames s: linear, or slerp for wxyz quaternions."""
    T = x.shape[0]
    i0 = np.clip(np.floor(s).astype(np.int64), 0, max(T - 2, 0))
    i1 = np.minimum(i0 + 1, T - 1)
    w = (s - i0).reshape((-1,) + (1,) * (x.ndim - 1))
    if quat:
        x = np.asarray(x, dtype=np.float64)
        return quat_slerp(x[i0], x[i1], w)
    x = np.asarray(x, dtype=np.float64)
    return x[i0] * (1.0 - w) + x[i1] * w


def resample_motion(motion: MotionData, fps: float, tree=None, backend: str = "auto") -> MotionData:
    """`motion` at a new frame rate `fps` (frame k at time k/fps, T_new = floor((T−1)·fps/fps_old)+1).

    Root position and joints are interpolated linearly, the root quaternion by slerp; bodies and
    all velocities are then recomputed with ``motion_from_joint_trajectory`` on `tree` (default
    G1), so the result has the tree's full joint and body lists. ``object_*`` arrays whose first
    dimension is T are resampled too (floats linearly — slerp when the name contains 'quat' and
    the last dimension is 4 — others at the nearest earlier frame); other arrays are copied. A
    schema object track (``mimiclab.motion.objects``): object_pos_w linearly, object_quat_w by
    slerp, object_contacts at the nearest frame, everything else copied.
    """
    fps = float(fps)
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be finite and > 0, got {fps}")
    T = motion.num_frames
    if T == 0:
        raise ValueError("zero frames")
    s = resample_times(T, float(motion.fps), fps)
    out = motion_from_joint_trajectory(
        _interp(motion.root_pos_w, s), _interp(motion.root_quat_w, s, quat=True),
        _interp(motion.joint_pos, s), fps, joint_names=motion.joint_names,
        meta={**motion.meta, "resampled_from_fps": float(motion.fps)}, tree=tree, backend=backend)
    objects = {}
    track = "object_shape" in motion.objects  # schema object: only its per-frame arrays are resampled
    for key, value in motion.objects.items():
        value = np.asarray(value)
        if track and key == "object_contacts" and T > 1:  # labels: nearest source frame
            objects[key] = value[np.clip(np.floor(s + 0.5).astype(np.int64), 0, T - 1)]
        elif track and key not in ("object_pos_w", "object_quat_w"):
            objects[key] = value.copy()
        elif value.ndim >= 1 and value.shape[0] == T and T > 1:
            if value.dtype.kind == "f":
                is_quat = "quat" in key and value.shape[-1] == 4
                objects[key] = _interp(value, s, quat=is_quat).astype(value.dtype)
            else:
                objects[key] = value[np.floor(s + 1e-9).astype(np.int64)]
        else:
            objects[key] = value.copy()
    out.objects = objects
    return out
