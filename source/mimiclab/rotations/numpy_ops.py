"""Rotation helpers in numpy, quaternions wxyz (conventions: ``mimiclab.rotations``).

Inputs are converted to float64 (results are float64) except the pure reorderings
``wxyz_to_xyzw`` / ``xyzw_to_wxyz``, which keep the dtype. Imports numpy only.

The formulas (and their order of operations) are the ones the retargeting outputs were produced
with; ``mimiclab.rotations.torch_ops`` repeats them in torch. Change one only together with the
other, knowing that retargeted motion files change with it.
"""

from __future__ import annotations

import numpy as np

_AXIS = {"x": 0, "y": 1, "z": 2}
_EPS = 1e-12


def _f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# conventions, normalisation


def wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    """(..., 4) wxyz → (..., 4) xyzw (Isaac Lab, scipy). A copy; the dtype is kept."""
    return np.asarray(q)[..., [1, 2, 3, 0]]


def xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
    """(..., 4) xyzw (Isaac Lab, scipy) → (..., 4) wxyz. A copy; the dtype is kept."""
    return np.asarray(q)[..., [3, 0, 1, 2]]


def quat_normalize(q: np.ndarray) -> np.ndarray:
    """q / ‖q‖ (..., 4); a zero quaternion stays zero (the norm is clamped at 1e-12)."""
    q = _f64(q)
    return q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), _EPS)


# --------------------------------------------------------------------------------------------
# algebra


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a ⊗ b (..., 4)."""
    aw, ax, ay, az = np.moveaxis(_f64(a), -1, 0)
    bw, bx, by, bz = np.moveaxis(_f64(b), -1, 0)
    return np.stack((aw * bw - ax * bx - ay * by - az * bz,
                     aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw), axis=-1)


def quat_conjugate(q: np.ndarray) -> np.ndarray:
    """Conjugate (..., 4): the inverse of a unit quaternion."""
    q = _f64(q)
    return np.concatenate((q[..., :1], -q[..., 1:]), axis=-1)


def quat_apply(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v (..., 3) rotated by unit quaternions q (..., 4): v + w·t + u × t with t = 2 u × v, u = q.xyz."""
    q, v = _f64(q), _f64(v)
    w, u = q[..., :1], q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def quat_apply_inverse(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v (..., 3) expressed in the frame q (..., 4): rotated by q*, R(q)ᵀ·v."""
    return quat_apply(quat_conjugate(q), v)


def quat_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation angle (...) [rad] in [0, π] between a and b (..., 4); the same for b and −b."""
    rel = quat_mul(quat_conjugate(a), b)
    return 2.0 * np.arctan2(np.linalg.norm(rel[..., 1:], axis=-1), np.abs(rel[..., 0]))


# --------------------------------------------------------------------------------------------
# axis-angle, rotation vectors


def quat_from_axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Unit quaternion (..., 4) of a rotation by `angle` (...) [rad] about unit `axis` (..., 3)."""
    axis, angle = _f64(axis), _f64(angle)
    half = 0.5 * angle
    return np.concatenate((np.cos(half)[..., None], axis * np.sin(half)[..., None]), axis=-1)


def quat_exp(rotvec: np.ndarray) -> np.ndarray:
    """Unit quaternion (..., 4) of rotation vectors (..., 3) [rad] (axis·angle)."""
    r = _f64(rotvec)
    angle = np.linalg.norm(r, axis=-1, keepdims=True)
    half = 0.5 * angle
    small = angle < _EPS
    sinc = np.where(small, 0.5, np.sin(half) / np.where(small, 1.0, angle))
    return np.concatenate((np.cos(half), r * sinc), axis=-1)


def quat_log(q: np.ndarray) -> np.ndarray:
    """Rotation vector (..., 3) [rad] (axis·angle, angle in [0, π]) of quaternions (..., 4): the
    shortest rotation (q and −q give the same). Scale-invariant, so non-unit q give the rotation of
    q / ‖q‖."""
    q = _f64(q)
    q = np.where(q[..., :1] < 0.0, -q, q)
    v, w = q[..., 1:], q[..., :1]
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(n, w)
    small = n < _EPS
    scale = np.where(small, 2.0 / np.maximum(w, _EPS), angle / np.where(small, 1.0, n))
    return v * scale


# --------------------------------------------------------------------------------------------
# interpolation


def quat_slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Shortest-arc spherical interpolation of quaternions (..., 4) at fractions t, broadcastable
    to (..., 1) (a scalar, or one per quaternion with a trailing 1): exp(t·log(q1 ⊗ q0*)) ⊗ q0,
    normalised. t = 0 gives q0 (normalised), t = 1 gives ±q1; q1 and −q1 give the same rotation."""
    t = _f64(t)
    rel = quat_mul(q1, quat_conjugate(q0))  # world-frame rotation from q0 to q1
    out = quat_mul(quat_exp(quat_log(rel) * t), q0)
    return quat_normalize(out)


def quat_nlerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Normalised linear interpolation (..., 4) at fractions t broadcastable to (..., 1), on the
    shortest arc (q1 flipped where q0·q1 < 0). Cheaper than ``quat_slerp``, not constant-speed."""
    q0, q1, t = _f64(q0), _f64(q1), _f64(t)
    q1 = np.where((q0 * q1).sum(-1, keepdims=True) < 0, -q1, q1)
    return quat_normalize(q0 + t * (q1 - q0))


# --------------------------------------------------------------------------------------------
# rotation matrices


def matrix_from_quat(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of quaternions (..., 4), normalised here."""
    w, x, y, z = np.moveaxis(quat_normalize(q), -1, 0)
    return np.stack((
        np.stack((1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)), axis=-1),
        np.stack((2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)), axis=-1),
        np.stack((2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)), axis=-1),
    ), axis=-2)


def quat_from_matrix(m: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) → unit quaternions (..., 4) with w ≥ 0 (Shepperd's method: the
    best-conditioned of four solutions per matrix)."""
    m = _f64(m)
    shape = m.shape[:-2]
    m = m.reshape(-1, 3, 3)
    m00, m11, m22 = m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]
    tr = m00 + m11 + m22
    best = np.argmax(np.stack((tr, m00, m11, m22), axis=1), axis=1)
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


def ori6_from_quat(q: np.ndarray) -> np.ndarray:
    """The 6-D orientation encoding (..., 6): the first two columns of R(q), row by row
    (R00, R01, R10, R11, R20, R21) — the tracking policy's orientation observation."""
    q = _f64(q)
    return matrix_from_quat(q)[..., :2].reshape(q.shape[:-1] + (6,))


def matrix_from_ori6(o: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) from any 6-D encoding (..., 6) laid out as ``ori6_from_quat``
    (first two columns row by row), made orthonormal by Gram-Schmidt."""
    m = _f64(o).reshape(np.shape(o)[:-1] + (3, 2))
    a, b = m[..., 0], m[..., 1]
    x = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-8)
    b = b - (x * b).sum(-1, keepdims=True) * x
    y = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-8)
    return np.stack((x, y, np.cross(x, y)), axis=-1)


def matrix_about_axis(axis: str, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) by `angle` (...) [rad] about the coordinate axis "x", "y" or "z"."""
    angle = _f64(angle)
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


def matrix_between_vectors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3, 3) smallest rotations taking unit vectors a (3,) or (..., 3) to unit vectors b (..., 3)
    (Rodrigues: I + [v]ₓ + [v]ₓ² / (1 + a·b), v = a × b; undefined for b = −a)."""
    a, b = _f64(a), _f64(b)
    a = np.broadcast_to(a, b.shape)
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)
    vx = np.zeros(b.shape[:-1] + (3, 3))
    vx[..., 0, 1], vx[..., 0, 2], vx[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    vx[..., 1, 0], vx[..., 2, 0], vx[..., 2, 1] = v[..., 2], -v[..., 1], v[..., 0]
    k = (1.0 / np.maximum(1.0 + c, 1e-9))[..., None, None]
    return np.eye(3) + vx + vx @ vx * k


# --------------------------------------------------------------------------------------------
# Euler angles, heading


def matrix_from_euler(angles: np.ndarray, order: str) -> np.ndarray:
    """Angles (..., K) [rad] of the intrinsic sequence `order` (K letters of "xyz", any case, axes
    may repeat, K may be 0: identity) → rotation matrices (..., 3, 3)."""
    angles = _f64(angles)
    if angles.shape[-1] != len(order):
        raise ValueError(f"matrix_from_euler: {angles.shape[-1]} angles for order {order!r}")
    if not order:
        return np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    m = matrix_about_axis(order[0], angles[..., 0])
    for n in range(1, len(order)):
        m = m @ matrix_about_axis(order[n], angles[..., n])
    return m


def euler_from_matrix(m: np.ndarray, order: str) -> np.ndarray:
    """Rotation matrices (..., 3, 3) → angles (..., 3) [rad] of the intrinsic Tait–Bryan sequence
    `order` (a permutation of "xyz", any case): matrix_from_euler(euler_from_matrix(m, o), o) == m.
    The middle angle is in [−π/2, π/2]; at gimbal lock the last angle is set to 0."""
    o = order.lower()
    if sorted(o) != ["x", "y", "z"]:
        raise ValueError(f"euler_from_matrix: {order!r} is not a Tait-Bryan order (a permutation of xyz)")
    i, j, k = (_AXIS[a] for a in o)
    s = 1.0 if (j - i) % 3 == 1 else -1.0  # +1 for cyclic orders (xyz, yzx, zxy)
    m = _f64(m)
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


def yaw_quat(q: np.ndarray) -> np.ndarray:
    """Rotations (..., 4) about world z with the heading (yaw) of q (..., 4)."""
    w, x, y, z = np.moveaxis(_f64(q), -1, 0)
    yaw = np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    zero = np.zeros_like(yaw)
    return np.stack((np.cos(yaw / 2), zero, zero, np.sin(yaw / 2)), axis=-1)


def best_fit_yaw(a: np.ndarray, b: np.ndarray) -> float:
    """The rotation angle [rad] about world z that best maps points a (N,3) onto b (N,3) in the
    least-squares sense once both are centred (planar Procrustes on x, y; z is ignored)."""
    pa = _f64(a)[:, :2] - _f64(a)[:, :2].mean(0)
    pb = _f64(b)[:, :2] - _f64(b)[:, :2].mean(0)
    return float(np.arctan2(np.sum(pa[:, 0] * pb[:, 1] - pa[:, 1] * pb[:, 0]), np.sum(pa * pb)))


# --------------------------------------------------------------------------------------------
# velocities of sampled trajectories (the convention of motion files, ``mimiclab.motion.format``)


def angular_velocity(quat: np.ndarray, dt: float) -> np.ndarray:
    """World-frame angular velocity (T, ..., 3) [rad/s] of orientations (T, ..., 4) sampled every
    dt seconds: log(q[t+1] ⊗ q[t−1]*) / 2dt inside, log(q[1] ⊗ q[0]*) / dt and
    log(q[T−1] ⊗ q[T−2]*) / dt at the ends, zeros for one frame. Exact for a constant rate."""
    quat = _f64(quat)
    out = np.zeros(quat.shape[:-1] + (3,))
    if quat.shape[0] < 2:
        return out
    out[0] = quat_log(quat_mul(quat[1], quat_conjugate(quat[0]))) / dt
    out[-1] = quat_log(quat_mul(quat[-1], quat_conjugate(quat[-2]))) / dt
    if quat.shape[0] > 2:
        out[1:-1] = quat_log(quat_mul(quat[2:], quat_conjugate(quat[:-2]))) / (2.0 * dt)
    return out


def linear_velocity(x: np.ndarray, dt: float) -> np.ndarray:
    """d x / dt along axis 0 (T, ...): central differences inside, one-sided at the ends (the
    convention of ``angular_velocity``); zeros for one frame."""
    x = _f64(x)
    if x.shape[0] < 2:
        return np.zeros_like(x)
    return np.gradient(x, dt, axis=0, edge_order=1)
