"""Heading-invariant per-frame motion features, so generated windows can be chained anywhere.

G1 (``G1_DIM`` = 39 per frame): forward/left root velocity in the heading frame [m/s] (2), yaw
rate [rad/s] (1), root height [m] (1), root tilt (the root rotation with its heading removed) as
6D (6), joint positions [rad] in ``G1.joint_names`` order (29). ``g1_trajectory`` integrates them
back to a world trajectory from any start position and heading; the last frame's velocities are
the previous frame's (a finite difference has no next frame).

Human (``HUMAN_DIM`` = 55): the ``HUMAN_ROLES`` positions relative to the pelvis in the pelvis
heading frame (17 × 3, a role the source lacks is zeros), pelvis height, heading-frame pelvis
velocity (2) and yaw rate (1); the heading is the horizontal normal of the hip line.
"""

from __future__ import annotations

import numpy as np

from mimiclab.retarget.learned.graph import HUMAN_ROLES
from mimiclab.rotations.numpy_ops import (matrix_from_ori6, ori6_from_quat, quat_conjugate, quat_from_matrix,
                                         quat_mul, yaw_quat)

NUM_JOINTS = 29
G1_DIM = 10 + NUM_JOINTS
HUMAN_DIM = 3 * len(HUMAN_ROLES) + 4


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def _yaw(q: np.ndarray) -> np.ndarray:
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def _to_heading(xy: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """World xy (T,2) rotated by −yaw (T,) into the heading frame."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack((c * xy[:, 0] + s * xy[:, 1], -s * xy[:, 0] + c * xy[:, 1]), axis=-1)


def _planar_rates(xy: np.ndarray, yaw: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Heading-frame velocity (T,2) [m/s] and yaw rate (T,) [rad/s], forward differences."""
    if xy.shape[0] < 2:
        return np.zeros((xy.shape[0], 2)), np.zeros(xy.shape[0])
    v = _to_heading(np.diff(xy, axis=0) * fps, yaw[:-1])
    w = _wrap(np.diff(yaw)) * fps
    return np.concatenate([v, v[-1:]]), np.concatenate([w, w[-1:]])


def g1_features(root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray, fps: float) -> np.ndarray:
    """root_pos (T,3) [m], root_quat (T,4) wxyz, joint_pos (T,29) [rad] → (T, G1_DIM) float32."""
    root_quat = np.asarray(root_quat, np.float64)
    yaw = _yaw(root_quat)
    v, w = _planar_rates(np.asarray(root_pos, np.float64)[:, :2], yaw, fps)
    tilt = quat_mul(quat_conjugate(yaw_quat(root_quat)), root_quat)  # heading removed
    return np.concatenate([v, w[:, None], np.asarray(root_pos)[:, 2:3], ori6_from_quat(tilt), joint_pos],
                          axis=1).astype(np.float32)


def g1_trajectory(features: np.ndarray, fps: float, start_xy=(0.0, 0.0), start_yaw: float = 0.0):
    """(T, G1_DIM) features → root_pos (T,3), root_quat (T,4) wxyz, joint_pos (T,29), float64,
    integrated from `start_xy` [m] and `start_yaw` [rad] (the inverse of ``g1_features``)."""
    f = np.asarray(features, np.float64)
    T = f.shape[0]
    yaw = start_yaw + np.concatenate([[0.0], np.cumsum(f[:-1, 2]) / fps])
    c, s = np.cos(yaw[:-1]), np.sin(yaw[:-1])
    step = np.stack((c * f[:-1, 0] - s * f[:-1, 1], s * f[:-1, 0] + c * f[:-1, 1]), axis=-1) / fps
    xy = np.asarray(start_xy, np.float64) + np.concatenate([np.zeros((1, 2)), np.cumsum(step, axis=0)])
    heading = np.stack((np.cos(yaw / 2), np.zeros(T), np.zeros(T), np.sin(yaw / 2)), axis=-1)
    quat = quat_mul(heading, quat_from_matrix(matrix_from_ori6(f[:, 4:10])))
    quat = quat * np.where(quat[:, :1] < 0, -1.0, 1.0)
    return np.concatenate([xy, f[:, 3:4]], axis=1), quat, f[:, 10:]


def _role_heading(roles: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(T,) heading [rad] from the hip line (left minus right hip), +90° about z; 0 without hips."""
    li, ri = HUMAN_ROLES.index("left_hip"), HUMAN_ROLES.index("right_hip")
    if not (present[li] and present[ri]):
        return np.zeros(roles.shape[0])
    lateral = roles[:, li, :2] - roles[:, ri, :2]
    return np.arctan2(-lateral[:, 0], lateral[:, 1])


def human_features(roles: np.ndarray, present: np.ndarray, fps: float) -> np.ndarray:
    """roles (T,R,3) [m] in ``HUMAN_ROLES`` order, present (R,) bool → (T, HUMAN_DIM) float32."""
    roles = np.asarray(roles, np.float64)
    yaw = np.unwrap(_role_heading(roles, present))
    pelvis = roles[:, 0]
    rel = roles - pelvis[:, None]
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    local = np.stack((c * rel[..., 0] + s * rel[..., 1], -s * rel[..., 0] + c * rel[..., 1], rel[..., 2]), axis=-1)
    local[:, ~np.asarray(present, bool)] = 0.0
    v, w = _planar_rates(pelvis[:, :2], yaw, fps)
    return np.concatenate([local.reshape(len(roles), -1), pelvis[:, 2:3], v, w[:, None]], axis=1).astype(np.float32)
