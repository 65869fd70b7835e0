"""Quaternion helpers in numpy, wxyz (the convention of motion files, contracts and MuJoCo).

All functions broadcast over leading dimensions: q (..., 4), v (..., 3).
"""

from __future__ import annotations

import numpy as np


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a·b (..., 4)."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz,
                     aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def quat_conj(q: np.ndarray) -> np.ndarray:
    """Conjugate (the inverse of a unit quaternion) (..., 4)."""
    q = np.asarray(q, dtype=np.float64)
    return np.concatenate([q[..., :1], -q[..., 1:]], axis=-1)


def matrix_from_quat(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of unit quaternions (..., 4)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
    ], axis=-2)


def quat_apply(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v rotated by q: R(q)·v (..., 3)."""
    return np.einsum("...ij,...j->...i", matrix_from_quat(q), np.asarray(v, dtype=np.float64))


def quat_apply_inverse(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v expressed in the frame q: R(q)ᵀ·v (..., 3)."""
    return np.einsum("...ji,...j->...i", matrix_from_quat(q), np.asarray(v, dtype=np.float64))


def quat_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation angle between a and b in [0, π] (...) [rad] (sign-invariant)."""
    rel = quat_mul(quat_conj(a), b)
    return 2.0 * np.arctan2(np.linalg.norm(rel[..., 1:], axis=-1), np.abs(rel[..., 0]))


def quat_slerp(q0: np.ndarray, q1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Shortest-arc slerp at fractions w (broadcastable to (..., 1)); normalised lerp where the two
    agree within 1e-4 rad (as ``mimiclab.motion.library.quat_interp``). Unit result (..., 4)."""
    q0, q1 = np.asarray(q0, dtype=np.float64), np.asarray(q1, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    dot = (q0 * q1).sum(-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.minimum(np.abs(dot), 1.0)
    theta = np.arccos(dot)
    sin_t = np.sin(theta)
    small = sin_t < 1e-4
    safe = np.where(small, 1.0, sin_t)
    a = np.where(small, 1.0 - w, np.sin((1.0 - w) * theta) / safe)
    b = np.where(small, w, np.sin(w * theta) / safe)
    out = a * q0 + b * q1
    return out / np.maximum(np.linalg.norm(out, axis=-1, keepdims=True), 1e-12)


def quat_log(q: np.ndarray) -> np.ndarray:
    """Rotation vector (..., 3) [rad] (axis·angle, angle ∈ [0, π]) of unit quaternions (..., 4)."""
    q = np.asarray(q, dtype=np.float64)
    q = np.where(q[..., :1] < 0.0, -q, q)
    v, w = q[..., 1:], q[..., :1]
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    small = n < 1e-12
    scale = np.where(small, 2.0 / np.maximum(w, 1e-12), 2.0 * np.arctan2(n, w) / np.where(small, 1.0, n))
    return v * scale


def angular_velocity(quat: np.ndarray, dt: float) -> np.ndarray:
    """World-frame angular velocity (T, ..., 3) [rad/s] of orientations (T, ..., 4) sampled every dt
    seconds: central differences inside, one-sided at the ends (as ``mimiclab.motion.kinematics``)."""
    quat = np.asarray(quat, dtype=np.float64)
    out = np.zeros(quat.shape[:-1] + (3,))
    if quat.shape[0] < 2:
        return out
    out[0] = quat_log(quat_mul(quat[1], quat_conj(quat[0]))) / dt
    out[-1] = quat_log(quat_mul(quat[-1], quat_conj(quat[-2]))) / dt
    if quat.shape[0] > 2:
        out[1:-1] = quat_log(quat_mul(quat[2:], quat_conj(quat[:-2]))) / (2.0 * dt)
    return out


def linear_velocity(x: np.ndarray, dt: float) -> np.ndarray:
    """d x / dt along axis 0 (central inside, one-sided at the ends); zeros for one frame."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < 2:
        return np.zeros_like(x)
    return np.gradient(x, dt, axis=0, edge_order=1)
