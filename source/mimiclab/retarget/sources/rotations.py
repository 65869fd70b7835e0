"""Small numpy rotation helpers for the motion sources (vectorised over any leading dims).

Conventions: rotation matrices act on column vectors (v_parent = R @ v_child); Euler sequences are
*intrinsic*, composed in the order written (BVH: channels "Zrotation Xrotation Yrotation" mean
R = Rz(a) @ Rx(b) @ Ry(c)); angles in radians; quaternions are wxyz.
"""

from __future__ import annotations

import numpy as np

_AXIS = {"x": 0, "y": 1, "z": 2}


def axis_rotation(axis: str, angle: np.ndarray) -> np.ndarray:
    """(…,) angles [rad] about "x"/"y"/"z" → (…,3,3) rotation matrices."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    i = _AXIS[axis.lower()]
    j, k = (i + 1) % 3, (i + 2) % 3
    m = np.zeros(angle.shape + (3, 3))
    m[..., i, i] = 1.0
    m[..., j, j] = c
    m[..., k, k] = c
    m[..., j, k] = -s
    m[..., k, j] = s
    return m


def euler_to_matrix(angles: np.ndarray, order: str) -> np.ndarray:
    """(…,K) angles [rad] of the intrinsic sequence `order` (K letters of "xyz", any case) → (…,3,3).

    K may be 0 (identity) or any length; axes may repeat.
    """
    angles = np.asarray(angles, dtype=np.float64)
    if angles.shape[-1] != len(order):
        raise ValueError(f"euler_to_matrix: {angles.shape[-1]} angles for order {order!r}")
    if not order:
        return np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    m = axis_rotation(order[0], angles[..., 0])
    for n in range(1, len(order)):
        m = m @ axis_rotation(order[n], angles[..., n])
    return m


def matrix_to_euler(m: np.ndarray, order: str) -> np.ndarray:
    """(…,3,3) rotation matrices → (…,3) angles [rad] of the intrinsic Tait–Bryan sequence `order`.

    `order` is a permutation of "xyz" (any case); euler_to_matrix(matrix_to_euler(m, o), o) == m.
    The middle angle is in [-pi/2, pi/2]; at gimbal lock the last angle is set to 0.
    """
    o = order.lower()
    if sorted(o) != ["x", "y", "z"]:
        raise ValueError(f"matrix_to_euler: {order!r} is not a Tait-Bryan order (a permutation of xyz)")
    i, j, k = (_AXIS[a] for a in o)
    s = 1.0 if (j - i) % 3 == 1 else -1.0  # +1 for cyclic orders (xyz, yzx, zxy)
    m = np.asarray(m, dtype=np.float64)
    sb = np.clip(s * m[..., i, k], -1.0, 1.0)
    b = np.arcsin(sb)
    a = np.arctan2(-s * m[..., j, k], m[..., k, k])
    c = np.arctan2(-s * m[..., i, j], m[..., i, i])
    lock = np.abs(sb) > 1.0 - 1e-12
    if np.any(lock):
        # R = Ri(a) Rj(±pi/2) Rk(0): its j-th column is Ri(a) e_j.
        a_lock = np.arctan2(s * m[..., k, j], m[..., j, j])
        a = np.where(lock, a_lock, a)
        c = np.where(lock, 0.0, c)
    return np.stack((a, b, c), axis=-1)


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """(…,3,3) rotation matrices → (…,4) unit quaternions wxyz with w ≥ 0 (Shepperd's method)."""
    m = np.asarray(m, dtype=np.float64)
    shape = m.shape[:-2]
    m = m.reshape(-1, 3, 3)
    m00, m11, m22 = m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]
    tr = m00 + m11 + m22
    # Four candidate solutions; pick the numerically best one per matrix.
    cand = np.stack((tr, m00, m11, m22), axis=1)
    best = np.argmax(cand, axis=1)
    q = np.empty((m.shape[0], 4))
    for case in range(4):
        sel = best == case
        if not np.any(sel):
            continue
        r = m[sel]
        if case == 0:
            t = np.sqrt(1.0 + tr[sel]) * 2.0
            q[sel] = np.stack((0.25 * t, (r[:, 2, 1] - r[:, 1, 2]) / t, (r[:, 0, 2] - r[:, 2, 0]) / t,
                               (r[:, 1, 0] - r[:, 0, 1]) / t), axis=1)
        elif case == 1:
            t = np.sqrt(np.maximum(1.0 + r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2], 1e-300)) * 2.0
            q[sel] = np.stack(((r[:, 2, 1] - r[:, 1, 2]) / t, 0.25 * t, (r[:, 0, 1] + r[:, 1, 0]) / t,
                               (r[:, 0, 2] + r[:, 2, 0]) / t), axis=1)
        elif case == 2:
            t = np.sqrt(np.maximum(1.0 + r[:, 1, 1] - r[:, 0, 0] - r[:, 2, 2], 1e-300)) * 2.0
            q[sel] = np.stack(((r[:, 0, 2] - r[:, 2, 0]) / t, (r[:, 0, 1] + r[:, 1, 0]) / t, 0.25 * t,
                               (r[:, 1, 2] + r[:, 2, 1]) / t), axis=1)
        else:
            t = np.sqrt(np.maximum(1.0 + r[:, 2, 2] - r[:, 0, 0] - r[:, 1, 1], 1e-300)) * 2.0
            q[sel] = np.stack(((r[:, 1, 0] - r[:, 0, 1]) / t, (r[:, 0, 2] + r[:, 2, 0]) / t,
                               (r[:, 1, 2] + r[:, 2, 1]) / t, 0.25 * t), axis=1)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q *= np.where(q[:, :1] < 0.0, -1.0, 1.0)
    return q.reshape(shape + (4,))


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(…,4) quaternions wxyz (normalised here) → (…,3,3) rotation matrices."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack((
        np.stack((1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)), axis=-1),
        np.stack((2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)), axis=-1),
        np.stack((2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)), axis=-1),
    ), axis=-2)


def forward_kinematics(parents: np.ndarray, translations: np.ndarray, rotations: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Global joint frames of a tree.

    parents (J,) int, -1 for roots, every parent listed before its children.
    translations (T,J,3): each joint's origin in its parent's frame (world frame for roots).
    rotations (T,J,3,3): each joint's rotation relative to its parent (world for roots).
    Returns positions (T,J,3) and global rotations (T,J,3,3).
    """
    T, J = translations.shape[:2]
    pos = np.empty((T, J, 3))
    rot = np.empty((T, J, 3, 3))
    for j in range(J):
        p = int(parents[j])
        if p < 0:
            pos[:, j] = translations[:, j]
            rot[:, j] = rotations[:, j]
        else:
            rp = rot[:, p]
            pos[:, j] = pos[:, p] + np.einsum("tab,tb->ta", rp, translations[:, j])
            rot[:, j] = rp @ rotations[:, j]
    return pos, rot
