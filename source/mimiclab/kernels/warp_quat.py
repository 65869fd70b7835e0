"""Warp quaternion helpers on vec4 (w, x, y, z), generic over float32 / float64, shared by the
Warp kernels (FK, IK)."""

from __future__ import annotations

from typing import Any

import warp as wp


@wp.func
def quat_mul(a: Any, b: Any):
    """Hamilton product a·b (wxyz)."""
    return type(a)(
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    )


@wp.func
def quat_rotate(q: Any, v: Any):
    """v rotated by unit q (wxyz): v + w t + u × t with t = 2 u × v, u = q.xyz."""
    two = v.dtype(2.0)
    tx = two * (q[2] * v[2] - q[3] * v[1])
    ty = two * (q[3] * v[0] - q[1] * v[2])
    tz = two * (q[1] * v[1] - q[2] * v[0])
    return type(v)(
        v[0] + q[0] * tx + (q[2] * tz - q[3] * ty),
        v[1] + q[0] * ty + (q[3] * tx - q[1] * tz),
        v[2] + q[0] * tz + (q[1] * ty - q[2] * tx),
    )


@wp.func
def quat_from_axis_angle(axis: Any, angle: Any, like: Any):
    """Rotation of `angle` [rad] about unit `axis`, returned as the vec4 type of `like`."""
    h = angle * type(angle)(0.5)
    s = wp.sin(h)
    return type(like)(wp.cos(h), axis[0] * s, axis[1] * s, axis[2] * s)
