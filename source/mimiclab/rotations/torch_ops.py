"""Rotation helpers in torch, quaternions wxyz (conventions: ``mimiclab.rotations``).

The same names and formulas as ``mimiclab.rotations.numpy_ops`` (numpy and torch agree to
rounding); results keep the dtype and device of the inputs. The torch references of the compiled
kernels (``mimiclab.kernels``) are built from these. Euler angles, ``matrix_about_axis``,
``matrix_between_vectors`` and the trajectory velocities exist in numpy only.
"""

from __future__ import annotations

import torch

_EPS = 1e-12


# --------------------------------------------------------------------------------------------
# conventions, normalisation


def wxyz_to_xyzw(q: torch.Tensor) -> torch.Tensor:
    """(..., 4) wxyz → (..., 4) xyzw (Isaac Lab, scipy)."""
    return torch.cat((q[..., 1:], q[..., :1]), dim=-1)


def xyzw_to_wxyz(q: torch.Tensor) -> torch.Tensor:
    """(..., 4) xyzw (Isaac Lab, scipy) → (..., 4) wxyz."""
    return torch.cat((q[..., 3:], q[..., :3]), dim=-1)


def quat_normalize(q: torch.Tensor) -> torch.Tensor:
    """q / ‖q‖ (..., 4); a zero quaternion stays zero (the norm is clamped at 1e-12)."""
    return q / q.norm(dim=-1, keepdim=True).clamp_min(_EPS)


# --------------------------------------------------------------------------------------------
# algebra


def quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a ⊗ b (..., 4)."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack((aw * bw - ax * bx - ay * by - az * bz,
                        aw * bx + ax * bw + ay * bz - az * by,
                        aw * by - ax * bz + ay * bw + az * bx,
                        aw * bz + ax * by - ay * bx + az * bw), dim=-1)


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    """Conjugate (..., 4): the inverse of a unit quaternion."""
    return torch.cat((q[..., :1], -q[..., 1:]), dim=-1)


def quat_apply(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """v (..., 3) rotated by unit quaternions q (..., 4): v + w·t + u × t with t = 2 u × v, u = q.xyz."""
    u = q[..., 1:]
    t = 2.0 * torch.linalg.cross(u, v, dim=-1)
    return v + q[..., :1] * t + torch.linalg.cross(u, t, dim=-1)


def quat_apply_inverse(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """v (..., 3) expressed in the frame q (..., 4): rotated by q*, R(q)ᵀ·v."""
    return quat_apply(quat_conjugate(q), v)


def quat_angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Rotation angle (...) [rad] in [0, π] between a and b (..., 4); the same for b and −b."""
    rel = quat_mul(quat_conjugate(a), b)
    return 2.0 * torch.atan2(rel[..., 1:].norm(dim=-1), rel[..., 0].abs())


# --------------------------------------------------------------------------------------------
# axis-angle, rotation vectors


def quat_from_axis_angle(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Unit quaternion (..., 4) of a rotation by `angle` (...) [rad] about unit `axis` (..., 3)."""
    half = 0.5 * angle
    return torch.cat((torch.cos(half)[..., None], axis * torch.sin(half)[..., None]), dim=-1)


def quat_exp(rotvec: torch.Tensor) -> torch.Tensor:
    """Unit quaternion (..., 4) of rotation vectors (..., 3) [rad] (axis·angle)."""
    angle = rotvec.norm(dim=-1, keepdim=True)
    half = 0.5 * angle
    small = angle < _EPS
    sinc = torch.where(small, torch.full_like(angle, 0.5), torch.sin(half) / torch.where(small, torch.ones_like(angle), angle))
    return torch.cat((torch.cos(half), rotvec * sinc), dim=-1)


def quat_log(q: torch.Tensor) -> torch.Tensor:
    """Rotation vector (..., 3) [rad] (axis·angle, angle in [0, π]) of quaternions (..., 4): the
    shortest rotation (q and −q give the same). Scale-invariant, so non-unit q give the rotation of
    q / ‖q‖."""
    q = torch.where(q[..., :1] < 0, -q, q)
    v, w = q[..., 1:], q[..., :1]
    n = v.norm(dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(n, w)
    small = n < _EPS
    scale = torch.where(small, 2.0 / w.clamp_min(_EPS), angle / torch.where(small, torch.ones_like(n), n))
    return v * scale


# --------------------------------------------------------------------------------------------
# interpolation


def quat_slerp(q0: torch.Tensor, q1: torch.Tensor, t) -> torch.Tensor:
    """Shortest-arc spherical interpolation of quaternions (..., 4) at fractions t, broadcastable
    to (..., 1) (a number, or one per quaternion with a trailing 1): exp(t·log(q1 ⊗ q0*)) ⊗ q0,
    normalised. t = 0 gives q0 (normalised), t = 1 gives ±q1; q1 and −q1 give the same rotation."""
    rel = quat_mul(q1, quat_conjugate(q0))  # world-frame rotation from q0 to q1
    out = quat_mul(quat_exp(quat_log(rel) * t), q0)
    return quat_normalize(out)


def quat_nlerp(q0: torch.Tensor, q1: torch.Tensor, t) -> torch.Tensor:
    """Normalised linear interpolation (..., 4) at fractions t broadcastable to (..., 1), on the
    shortest arc (q1 flipped where q0·q1 < 0). Cheaper than ``quat_slerp``, not constant-speed."""
    q1 = torch.where((q0 * q1).sum(-1, keepdim=True) < 0, -q1, q1)
    return quat_normalize(q0 + t * (q1 - q0))


# --------------------------------------------------------------------------------------------
# rotation matrices, heading


def matrix_from_quat(q: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) of quaternions (..., 4), normalised here."""
    w, x, y, z = quat_normalize(q).unbind(-1)
    return torch.stack((
        torch.stack((1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)), dim=-1),
        torch.stack((2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)), dim=-1),
        torch.stack((2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)), dim=-1),
    ), dim=-2)


def quat_from_matrix(m: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) → unit quaternions (..., 4) with w ≥ 0 (Shepperd's method: the
    best-conditioned of four solutions per matrix, as ``numpy_ops.quat_from_matrix``)."""
    r = lambda i, j: m[..., i, j]  # noqa: E731
    tr = r(0, 0) + r(1, 1) + r(2, 2)
    best = torch.argmax(torch.stack((tr, r(0, 0), r(1, 1), r(2, 2)), dim=-1), dim=-1)
    tiny = torch.finfo(m.dtype).tiny
    t0 = torch.sqrt((1.0 + tr).clamp_min(tiny)) * 2.0
    t1 = torch.sqrt((1.0 + r(0, 0) - r(1, 1) - r(2, 2)).clamp_min(tiny)) * 2.0
    t2 = torch.sqrt((1.0 + r(1, 1) - r(0, 0) - r(2, 2)).clamp_min(tiny)) * 2.0
    t3 = torch.sqrt((1.0 + r(2, 2) - r(0, 0) - r(1, 1)).clamp_min(tiny)) * 2.0
    cands = torch.stack((
        torch.stack((0.25 * t0, (r(2, 1) - r(1, 2)) / t0, (r(0, 2) - r(2, 0)) / t0, (r(1, 0) - r(0, 1)) / t0), -1),
        torch.stack(((r(2, 1) - r(1, 2)) / t1, 0.25 * t1, (r(0, 1) + r(1, 0)) / t1, (r(0, 2) + r(2, 0)) / t1), -1),
        torch.stack(((r(0, 2) - r(2, 0)) / t2, (r(0, 1) + r(1, 0)) / t2, 0.25 * t2, (r(1, 2) + r(2, 1)) / t2), -1),
        torch.stack(((r(1, 0) - r(0, 1)) / t3, (r(0, 2) + r(2, 0)) / t3, (r(1, 2) + r(2, 1)) / t3, 0.25 * t3), -1),
    ), dim=-2)  # (..., 4 cases, 4)
    q = torch.gather(cands, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


def ori6_from_quat(q: torch.Tensor) -> torch.Tensor:
    """The 6-D orientation encoding (..., 6): the first two columns of R(q), row by row
    (R00, R01, R10, R11, R20, R21) — the tracking policy's orientation observation."""
    return matrix_from_quat(q)[..., :2].reshape(*q.shape[:-1], 6)


def yaw_quat(q: torch.Tensor) -> torch.Tensor:
    """Rotations (..., 4) about world z with the heading (yaw) of q (..., 4)."""
    w, x, y, z = q.unbind(-1)
    yaw = torch.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    zero = torch.zeros_like(yaw)
    return torch.stack((torch.cos(yaw / 2), zero, zero, torch.sin(yaw / 2)), dim=-1)


def matrix_from_ori6(o: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) from any 6-D encoding (..., 6) laid out as ``ori6_from_quat``
    (first two columns row by row), made orthonormal by Gram-Schmidt (a network's raw output is
    a valid rotation after this)."""
    m = o.reshape(*o.shape[:-1], 3, 2)
    a, b = m[..., 0], m[..., 1]
    x = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    b = b - (x * b).sum(-1, keepdim=True) * x
    y = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return torch.stack((x, y, torch.cross(x, y, dim=-1)), dim=-1)
