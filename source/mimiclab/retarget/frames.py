"""Orientation targets derived from role positions (works for mocap and for bare keypoints).

All frames follow the G1 convention at its zero pose: x forward, y left, z up.
"""

from __future__ import annotations

import numpy as np

from mimiclab.rotations.numpy_ops import quat_from_matrix

MIN_FOOT_LENGTH = 0.06  # m: ankle→toe horizontal length below which the foot heading is unreliable


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def frame_from_lateral_and_up(left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(T,3,3) rotation matrices (columns x, y, z): y along `left`, z as close to `up` as possible."""
    y = _unit(left)
    x = _unit(np.cross(y, up))
    z = np.cross(x, y)
    return np.stack((x, y, z), axis=-1)


def flat_frame_from_forward(forward: np.ndarray) -> np.ndarray:
    """(T,3,3) yaw-only frames whose x is `forward` projected on the ground plane."""
    f = forward.copy()
    f[..., 2] = 0.0
    x = _unit(f)
    z = np.broadcast_to(np.array([0.0, 0.0, 1.0]), x.shape)
    y = np.cross(z, x)
    return np.stack((x, y, z), axis=-1)


def role_frames(roles: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{'pelvis', 'torso', 'left_foot', 'right_foot'}: (T,4) wxyz orientation targets."""
    up = roles["chest"] - roles["pelvis"]
    pelvis = frame_from_lateral_and_up(roles["left_hip"] - roles["right_hip"], up)
    torso = frame_from_lateral_and_up(roles["left_shoulder"] - roles["right_shoulder"], up)
    frames = {"pelvis": quat_from_matrix(pelvis), "torso": quat_from_matrix(torso)}
    for side in ("left", "right"):
        toe = roles.get(f"{side}_toe")
        forward = pelvis[..., 0]
        if toe is not None:  # the toes give the heading only while the foot is roughly level
            along = toe - roles[f"{side}_ankle"]
            level = np.linalg.norm(along[..., :2], axis=-1, keepdims=True) > MIN_FOOT_LENGTH
            forward = np.where(level, along, forward)
        frames[f"{side}_foot"] = quat_from_matrix(flat_frame_from_forward(forward))
    return frames
