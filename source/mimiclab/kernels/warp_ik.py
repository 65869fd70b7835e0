"""Warp backend of the retargeting IK: one thread per clip, the algorithm of csrc/ik/ik.h.

The maths is documented in :mod:`mimiclab.kernels.ik_reference`; this module reproduces
``ik_solve_clip`` (csrc/ik/ik.h) operation by operation: Levenberg–Marquardt with the analytic
world-frame Jacobian (root translation, root rotation as a left-multiplied world rotation vector,
and the joints in ``anc_joints`` of each target's body), the upper triangle of H plus λI, an
in-place Cholesky solve, q projected onto [lo, hi] = limits ∩ (q_prev ± max_step) (at frame 0 only
when ``limit_first_frame``), a step kept iff it lowers the cost (λ ← max(0.3 λ, 1e-7), else
λ ← 10 λ), early stop once an accepted step's largest applied component is below ``tol``.

Besides the targets the cost has the quadratic regulariser μ‖q − m‖² and the anatomical prior
Σ_j ω_j (q_j − clamp(q_j, a_j, b_j))². Per frame, μ = μ_p + μ_v + μ_a and
m = (μ_p q_posture + μ_v q₁ + μ_a (2q₁ − q₂)) / μ (``ik_reference.regulariser``) with q₁ the
projected warm start — frame t−1's solution; at frame 0 the initial q, only when
``limit_first_frame`` — and q₂ frame t−2's solution, read back from the output (written by the
same thread); μ_v counts only where q₁ exists and μ_v > 0, μ_a only where μ_v counts and q₂ exists.
The prior adds ω_j (where q_j lies outside [a_j, b_j]) to H's diagonal and ω (clamp(q) − q) to g.

Clip c (thread c) solves its T frames in order, each warm-started from the previous solution. Its
scratch memory is row c of one workspace array (C, ``ik_workspace_size(B, J, K)``) laid out like
the C++ kernel's: two states (root 7, q J, body poses 7B, points and errors 9K), the world joint
axes and anchors (6J), H (n×n, n = 6 + J), g, δ (n), lo, hi (J), 6n scalars holding the Jacobian
columns of one target (built once per target instead of once per pair) and the frame's m (J).

Generic over float32 and float64 (both overloads compiled once per process, cached on disk by
Warp). Runs on Warp's "cpu" device and on "cuda:i"; every array is a zero-copy ``wp.from_torch``
view of the caller's tensors, launched on torch's current CUDA stream. The module is compiled
without FMA contraction (``fuse_fp=False``) so float32 results follow the C++ kernel closely (same
operations in the same order; against the C++ build of the prior/smoothness change the solutions
agree to ~1e-15 in float64 and ~1e-6 in float32, not bit for bit).

CPU speed notes (Warp's CPU backend runs the launch on one thread): hot loops are ``while``
loops, since ``for i in range(n)`` with a run-time n iterates a generic range that the compiler
does not simplify; offsets are passed through ``wp.max(o, 0)`` so that the compiler can drop the
negative-index wrap-around of every array access. Together: 66 → 27 µs per G1 problem (3 LM
iterations, float32), against ~21 µs for the C++ kernel on one thread.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from mimiclab.kernels import backends
from mimiclab.kernels.warp_quat import quat_from_axis_angle, quat_mul, quat_rotate

wp = backends.warp_module()  # imports and initialises warp quietly
if wp is None:  # pragma: no cover - the front-end only imports this module when warp exists
    raise ImportError("warp-lang is not installed: the 'warp' backend is unavailable")

wp.set_module_options({"enable_backward": False, "fuse_fp": False})

CUDA_BLOCK_DIM = 32  # threads per block on CUDA (one thread per clip)
_VEC_TYPES = {wp.float32: (wp.vec3f, wp.vec4f), wp.float64: (wp.vec3d, wp.vec4d)}
_TORCH_TO_WP = {torch.float32: wp.float32, torch.float64: wp.float64}

TREE_FIELDS = ("parent", "joint_index", "local_pos", "local_quat", "joint_axis", "joint_anchor",
               "body_of_joint", "anc_joints", "anc_count")
TARGET_FIELDS = ("body_index", "offset", "pos", "quat", "pos_weight", "rot_weight")
INIT_FIELDS = ("root_pos", "root_quat", "joint_pos", "posture")
PRIOR_FIELDS = ("prior_lower", "prior_upper", "prior_weight")
PARAM_FIELDS = ("iterations", "first_iterations", "damping", "tol", "posture_weight", "velocity_weight",
                "acceleration_weight", "limit_first_frame")


def ik_workspace_size(num_bodies: int, num_joints: int, num_targets: int) -> int:
    """Scalars of workspace one clip needs (as csrc/ik/ik.h's ik_workspace_size): two states, the
    world joint axes and anchors, H, g, δ, lo, hi, 6 (6 + J) for the Jacobian columns of one
    target and J for the frame's regulariser target m."""
    B, J, K = num_bodies, num_joints, num_targets
    n = 6 + J
    return 2 * (7 * B + 9 * K + 7 + J) + 6 * J + n * n + 2 * n + 3 * J + 6 * n


# ---------------------------------------------------------------------------------------------
# Small helpers (quaternions: vec4 wxyz, see warp_quat); `ws` is one clip's workspace row (1-d).
# ---------------------------------------------------------------------------------------------

@wp.func
def _qlog(q: Any):
    """Rotation vector [rad] of unit q (wxyz), shortest arc."""
    w = q[0]
    x = q[1]
    y = q[2]
    z = q[3]
    if w < type(w)(0.0):
        w = -w
        x = -x
        y = -y
        z = -z
    s = wp.sqrt(x * x + y * y + z * z)
    scale = type(w)(2.0)
    if s > type(w)(1e-12):
        scale = type(w)(2.0) * wp.atan2(s, w) / s
    return wp.vector(x * scale, y * scale, z * scale)


@wp.func
def _qexp(v: Any):
    """Unit quaternion (wxyz) of rotation vector v [rad]."""
    angle = wp.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    half = v.dtype(0.5) * angle
    scale = v.dtype(0.5)
    if angle > v.dtype(1e-12):
        scale = wp.sin(half) / angle
    o0 = wp.cos(half)
    o1 = v[0] * scale
    o2 = v[1] * scale
    o3 = v[2] * scale
    norm = wp.sqrt(o0 * o0 + o1 * o1 + o2 * o2 + o3 * o3)
    return wp.vector(o0 / norm, o1 / norm, o2 / norm, o3 / norm)


@wp.func
def _qnormalize(q: Any):
    norm = wp.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    return type(q)(q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm)


@wp.func
def _ld3(ws: Any, o: int):
    return wp.vector(ws[o], ws[o + 1], ws[o + 2])


@wp.func
def _ld4(ws: Any, o: int):
    return wp.vector(ws[o], ws[o + 1], ws[o + 2], ws[o + 3])


@wp.func
def _st3(ws: Any, o: int, v: Any):
    ws[o] = v[0]
    ws[o + 1] = v[1]
    ws[o + 2] = v[2]


@wp.func
def _st4(ws: Any, o: int, v: Any):
    ws[o] = v[0]
    ws[o + 1] = v[1]
    ws[o + 2] = v[2]
    ws[o + 3] = v[3]


@wp.func
def _sq3(v: Any):
    return v[0] * v[0] + v[1] * v[1] + v[2] * v[2]


@wp.func
def _dot3(a: Any, b: Any):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


@wp.func
def _prior_residual(a: Any, b: Any, q: Any):
    """clamp(q, a, b) − q: the anatomical prior's residual (0 inside [a, b])."""
    r = type(q)(0.0)
    if q < a:
        r = a - q
    elif q > b:
        r = b - q
    return r


# ---------------------------------------------------------------------------------------------
# Hot loops are `while` loops: Warp's `for i in range(n)` with a run-time n iterates a generic
# range (any step), which the CPU compiler does not simplify (the Cholesky ran 2× slower).
#
# One state: FK (csrc/fk/fk.h fk_item), target points, errors and cost.
# State layout at offset `so`: root pos 0..2, root quat 3..6, q 7.., body_pos, body_quat,
# point, e_pos, e_rot.
# ---------------------------------------------------------------------------------------------

@wp.func
def _evaluate(parent: Any, joint_index: Any, local_pos: Any, local_quat: Any, joint_axis: Any,
              joint_anchor: Any, body_index: Any, offset: Any, t_pos: Any, t_quat: Any, t_wp: Any,
              t_wr: Any, prior_lower: Any, prior_upper: Any, prior_weight: Any, mu: Any, c: int, t: int,
              ws: Any, so: int, o_reg: int):
    """Fill body poses, points and errors of the state at `so` (clip c, frame t); return its cost
    (targets, the regulariser μ‖q − m‖² with m at o_reg, the anatomical prior)."""
    B = wp.max(parent.shape[0], 0)  # max(., 0): see _cholesky_solve
    J = wp.max(prior_weight.shape[0], 0)
    K = wp.max(body_index.shape[0], 0)
    so = wp.max(so, 0)
    o_reg = wp.max(o_reg, 0)
    o_q = so + 7
    o_bp = o_q + J
    o_bq = o_bp + 3 * B
    o_pt = o_bq + 4 * B
    o_ep = o_pt + 3 * K
    o_er = o_ep + 3 * K
    b = int(0)
    while b < B:
        p = _ld3(ws, so)
        q = _ld4(ws, so + 3)
        pb = parent[b]
        if pb >= 0:
            pq = _ld4(ws, o_bq + 4 * pb)
            p = _ld3(ws, o_bp + 3 * pb) + quat_rotate(pq, local_pos[b])
            q = quat_mul(pq, local_quat[b])
        j = joint_index[b]
        if j >= 0:
            # rotate about the anchor a: x -> a + R (x - a), so the origin moves by a - R a
            rot = quat_from_axis_angle(joint_axis[b], ws[o_q + j], q)
            a = joint_anchor[b]
            p = p + quat_rotate(q, a - quat_rotate(rot, a))
            q = quat_mul(q, rot)
        _st3(ws, o_bp + 3 * b, p)
        _st4(ws, o_bq + 4 * b, q)
        b += 1
    cost = ws.dtype(0.0)
    k = int(0)
    while k < K:
        bk = body_index[k]
        bq = _ld4(ws, o_bq + 4 * bk)
        pt = _ld3(ws, o_bp + 3 * bk) + quat_rotate(bq, offset[k])
        ep = t_pos[c, t, k] - pt
        er = _qlog(quat_mul(t_quat[c, t, k], type(bq)(bq[0], -bq[1], -bq[2], -bq[3])))
        _st3(ws, o_pt + 3 * k, pt)
        _st3(ws, o_ep + 3 * k, ep)
        _st3(ws, o_er + 3 * k, er)
        cost += t_wp[c, t, k] * _sq3(ep) + t_wr[c, t, k] * _sq3(er)
        k += 1
    j = int(0)
    while j < J:
        qj = ws[o_q + j]
        d = qj - ws[o_reg + j]
        r = _prior_residual(prior_lower[j], prior_upper[j], qj)
        cost += mu * (d * d) + prior_weight[j] * (r * r)
        j += 1
    return cost


# ---------------------------------------------------------------------------------------------
# Normal equations and their solution.
# ---------------------------------------------------------------------------------------------

@wp.func
def _normal_equations(joint_axis: Any, joint_anchor: Any, body_of_joint: Any, anc_joints: Any,
                      anc_count: Any, body_index: Any, t_wp: Any, t_wr: Any, prior_lower: Any,
                      prior_upper: Any, prior_weight: Any, mu: Any, c: int, t: int, ws: Any, so: int,
                      o_ax: int, o_an: int, o_h: int, o_g: int, o_jac: int, o_reg: int):
    """Upper triangle of H (n×n at o_h) and g (n at o_g) at the state at `so`.

    Per target, its m = 6 + anc_count columns of the Jacobian (position part 3, rotation part 3)
    are written once to o_jac (6 (6 + J) scalars) and then paired: the same values the C++ kernel
    recomputes per pair, so H and g are identical."""
    B = wp.max(anc_count.shape[0], 0)  # max(., 0): see _cholesky_solve
    J = wp.max(prior_weight.shape[0], 0)
    K = wp.max(body_index.shape[0], 0)
    so = wp.max(so, 0)
    o_ax = wp.max(o_ax, 0)
    o_an = wp.max(o_an, 0)
    o_h = wp.max(o_h, 0)
    o_g = wp.max(o_g, 0)
    o_jac = wp.max(o_jac, 0)
    o_reg = wp.max(o_reg, 0)
    n = 6 + J
    o_q = so + 7
    o_bp = o_q + J
    o_bq = o_bp + 3 * B
    o_pt = o_bq + 4 * B
    o_ep = o_pt + 3 * K
    o_er = o_ep + 3 * K
    zero = ws.dtype(0.0)
    one = ws.dtype(1.0)
    j = int(0)
    while j < J:
        b = body_of_joint[j]
        bq = _ld4(ws, o_bq + 4 * b)
        _st3(ws, o_ax + 3 * j, quat_rotate(bq, joint_axis[b]))
        _st3(ws, o_an + 3 * j, _ld3(ws, o_bp + 3 * b) + quat_rotate(bq, joint_anchor[b]))
        j += 1
    i = int(0)
    while i < n * n:
        ws[o_h + i] = zero
        i += 1
    i = int(0)
    while i < n:
        ws[o_g + i] = zero
        i += 1
    root = _ld3(ws, so)
    # root translation columns: (e_i, 0) — constant
    _st3(ws, o_jac + 0, wp.vector(one, zero, zero))
    _st3(ws, o_jac + 6, wp.vector(zero, one, zero))
    _st3(ws, o_jac + 12, wp.vector(zero, zero, one))
    _st3(ws, o_jac + 3, wp.vector(zero, zero, zero))
    _st3(ws, o_jac + 9, wp.vector(zero, zero, zero))
    _st3(ws, o_jac + 15, wp.vector(zero, zero, zero))
    _st3(ws, o_jac + 21, wp.vector(one, zero, zero))
    _st3(ws, o_jac + 27, wp.vector(zero, one, zero))
    _st3(ws, o_jac + 33, wp.vector(zero, zero, one))
    k = int(0)
    while k < K:
        b = body_index[k]
        pt = _ld3(ws, o_pt + 3 * k)
        ep = _ld3(ws, o_ep + 3 * k)
        er = _ld3(ws, o_er + 3 * k)
        w_p = t_wp[c, t, k]
        w_r = t_wr[c, t, k]
        r = pt - root
        cnt = anc_count[b]
        m = 6 + cnt
        # root rotation columns (world frame): e_i × r, rotation part e_i
        _st3(ws, o_jac + 18, wp.vector(zero, -r[2], r[1]))
        _st3(ws, o_jac + 24, wp.vector(r[2], zero, -r[0]))
        _st3(ws, o_jac + 30, wp.vector(-r[1], r[0], zero))
        a = int(0)
        while a < cnt:  # joint columns: axis × (point - anchor), rotation part axis
            jj = anc_joints[b, a]
            ax = _ld3(ws, o_ax + 3 * jj)
            l = pt - _ld3(ws, o_an + 3 * jj)
            o = o_jac + 6 * (6 + a)
            _st3(ws, o, wp.vector(ax[1] * l[2] - ax[2] * l[1], ax[2] * l[0] - ax[0] * l[2],
                                  ax[0] * l[1] - ax[1] * l[0]))
            _st3(ws, o + 3, ax)
            a += 1
        a = int(0)
        while a < m:
            jpa = _ld3(ws, o_jac + 6 * a)
            jra = _ld3(ws, o_jac + 6 * a + 3)
            ca = a
            if a >= 6:
                ca = 6 + anc_joints[b, a - 6]
            ws[o_g + ca] = ws[o_g + ca] + (w_p * _dot3(jpa, ep) + w_r * _dot3(jra, er))
            row = o_h + ca * n
            cc = a
            while cc < m:
                col = cc
                if cc >= 6:
                    col = 6 + anc_joints[b, cc - 6]
                jpc = _ld3(ws, o_jac + 6 * cc)
                jrc = _ld3(ws, o_jac + 6 * cc + 3)
                ws[row + col] = ws[row + col] + (w_p * _dot3(jpa, jpc) + w_r * _dot3(jra, jrc))
                cc += 1
            a += 1
        k += 1
    j = int(0)
    while j < J:  # regulariser μ (m − q) and the prior ω (clamp(q) − q), Gauss–Newton on both
        qj = ws[o_q + j]
        w = prior_weight[j]
        res = _prior_residual(prior_lower[j], prior_upper[j], qj)
        hw = zero
        if res != zero:
            hw = w
        h = o_h + (6 + j) * n + 6 + j
        ws[h] = ws[h] + (mu + hw)
        ws[o_g + 6 + j] = ws[o_g + 6 + j] + (mu * (ws[o_reg + j] - qj) + w * res)
        j += 1


@wp.func
def _cholesky_solve(ws: Any, o_a: int, n: int, o_b: int, o_x: int):
    """x = A⁻¹ b for the SPD n×n A at o_a (upper triangle filled); L overwrites the lower triangle.
    Returns 0 when A is not positive definite, else 1."""
    # Offsets are >= 0; saying so lets the compiler drop the negative-index wrap of every access.
    o_a = wp.max(o_a, 0)
    o_b = wp.max(o_b, 0)
    o_x = wp.max(o_x, 0)
    n = wp.max(n, 0)
    zero = ws.dtype(0.0)
    i = int(0)
    while i < n:  # mirror upper → lower
        ri = o_a + i * n
        j = int(0)
        while j < i:
            ws[ri + j] = ws[o_a + j * n + i]
            j += 1
        i += 1
    j = int(0)
    while j < n:
        rj = o_a + j * n
        d = ws[rj + j]
        k = int(0)
        while k < j:
            d -= ws[rj + k] * ws[rj + k]
            k += 1
        if not (d > zero):
            return 0
        d = wp.sqrt(d)
        ws[rj + j] = d
        i = j + 1
        while i < n:
            ri = o_a + i * n
            v = ws[ri + j]
            k = int(0)
            while k < j:
                v -= ws[ri + k] * ws[rj + k]
                k += 1
            ws[ri + j] = v / d
            i += 1
        j += 1
    i = int(0)
    while i < n:  # L y = b
        ri = o_a + i * n
        v = ws[o_b + i]
        k = int(0)
        while k < i:
            v -= ws[ri + k] * ws[o_x + k]
            k += 1
        ws[o_x + i] = v / ws[ri + i]
        i += 1
    i = n - 1
    while i >= 0:  # Lᵀ x = y
        v = ws[o_x + i]
        k = i + 1
        while k < n:
            v -= ws[o_a + k * n + i] * ws[o_x + k]
            k += 1
        ws[o_x + i] = v / ws[o_a + i * n + i]
        i -= 1
    return 1


# ---------------------------------------------------------------------------------------------
# The kernel: thread c solves clip c, frames in order.
# ---------------------------------------------------------------------------------------------

@wp.kernel(enable_backward=False)
def _ik_clip_kernel(
    parent: wp.array[wp.int32],
    joint_index: wp.array[wp.int32],
    local_pos: wp.array[Any],
    local_quat: wp.array[Any],
    joint_axis: wp.array[Any],
    joint_anchor: wp.array[Any],
    body_of_joint: wp.array[wp.int32],
    anc_joints: wp.array2d[wp.int32],
    anc_count: wp.array[wp.int32],
    lower: wp.array[Any],
    upper: wp.array[Any],
    max_step: wp.array[Any],
    prior_lower: wp.array[Any],
    prior_upper: wp.array[Any],
    prior_weight: wp.array[Any],
    body_index: wp.array[wp.int32],
    offset: wp.array[Any],
    t_pos: wp.array3d[Any],
    t_quat: wp.array3d[Any],
    t_wp: wp.array3d[Any],
    t_wr: wp.array3d[Any],
    init_root_pos: wp.array[Any],
    init_root_quat: wp.array[Any],
    init_joint_pos: wp.array2d[Any],
    posture: wp.array2d[Any],
    iterations: int,
    first_iterations: int,
    damping: Any,
    tol: Any,
    posture_weight: Any,
    velocity_weight: Any,
    acceleration_weight: Any,
    limit_first_frame: int,
    out_root_pos: wp.array2d[Any],
    out_root_quat: wp.array2d[Any],
    out_joint_pos: wp.array3d[Any],
    out_pos_error: wp.array3d[Any],
    out_rot_error: wp.array3d[Any],
    out_iterations: wp.array2d[wp.int32],
    workspace: wp.array2d[Any],
):
    c = wp.tid()
    ws = workspace[c]  # this clip's row
    B = wp.max(parent.shape[0], 0)  # max(., 0): see _cholesky_solve
    J = wp.max(lower.shape[0], 0)
    K = wp.max(body_index.shape[0], 0)
    T = t_pos.shape[1]
    n = 6 + J
    state = 7 + J + 7 * B + 9 * K
    # workspace layout (csrc/ik/ik.h): two states, axis_w, anchor_w, H, g, delta, lo, hi, the
    # Jacobian columns of one target, the frame's regulariser target m
    o_ax = 2 * state
    o_an = o_ax + 3 * J
    o_h = o_an + 3 * J
    o_g = o_h + n * n
    o_d = o_g + n
    o_lo = o_d + n
    o_hi = o_lo + J
    o_jac = o_hi + J
    o_reg = o_jac + 6 * n
    zero = lower.dtype(0.0)
    cur = int(0)
    cand = int(state)

    _st3(ws, cur, init_root_pos[c])
    _st4(ws, cur + 3, _qnormalize(init_root_quat[c]))
    j = int(0)
    while j < J:
        ws[cur + 7 + j] = init_joint_pos[c, j]
        j += 1

    t = int(0)
    while t < T:
        limit_step = t > 0 or limit_first_frame != 0
        j = int(0)
        while j < J:
            lo = lower[j]
            hi = upper[j]
            qj = ws[cur + 7 + j]
            if limit_step:
                a = qj - max_step[j]
                b = qj + max_step[j]
                if a > lo:
                    lo = a
                if b < hi:
                    hi = b
            ws[o_lo + j] = lo
            ws[o_hi + j] = hi
            if qj < lo:
                qj = lo
            elif qj > hi:
                qj = hi
            ws[cur + 7 + j] = qj
            j += 1
        # regulariser (ik_reference.regulariser): posture, velocity (q1: the projected warm start,
        # i.e. frame t-1's solution, or the initial q at frame 0 when limit_first_frame) and
        # acceleration (q2: frame t-2's solution, already in the output)
        has_v = limit_step and velocity_weight > zero
        has_a = has_v and t >= 2 and acceleration_weight > zero
        mu_v = zero
        if has_v:
            mu_v = velocity_weight
        mu_a = zero
        if has_a:
            mu_a = acceleration_weight
        mu = posture_weight + mu_v + mu_a
        j = int(0)
        while j < J:
            q1 = ws[cur + 7 + j]
            m = posture_weight * posture[c, j]
            if has_v:
                m = m + velocity_weight * q1
            if has_a:
                m = m + acceleration_weight * (lower.dtype(2.0) * q1 - out_joint_pos[c, t - 2, j])
            if mu > zero:
                m = m / mu
            else:
                m = posture[c, j]
            ws[o_reg + j] = m
            j += 1
        cur_cost = _evaluate(parent, joint_index, local_pos, local_quat, joint_axis, joint_anchor,
                             body_index, offset, t_pos, t_quat, t_wp, t_wr, prior_lower, prior_upper,
                             prior_weight, mu, c, t, ws, cur, o_reg)
        lam = damping * type(damping)(1.0)
        its = int(iterations)
        if t == 0:
            its = int(first_iterations)
        used = int(0)
        while used < its:
            used += 1
            _normal_equations(joint_axis, joint_anchor, body_of_joint, anc_joints, anc_count, body_index,
                              t_wp, t_wr, prior_lower, prior_upper, prior_weight, mu, c, t, ws, cur, o_ax,
                              o_an, o_h, o_g, o_jac, o_reg)
            i = int(0)
            while i < n:
                ws[o_h + i * n + i] = ws[o_h + i * n + i] + lam
                i += 1
            if _cholesky_solve(ws, o_h, n, o_g, o_d) == 0:
                lam = lam * type(lam)(10.0)
                continue
            _st3(ws, cand, _ld3(ws, cur) + _ld3(ws, o_d))
            _st4(ws, cand + 3, _qnormalize(quat_mul(_qexp(_ld3(ws, o_d + 3)), _ld4(ws, cur + 3))))
            applied = type(lam)(0.0)
            for i6 in range(6):
                d = wp.abs(ws[o_d + i6])
                if d > applied:
                    applied = d
            j = int(0)
            while j < J:
                qj = ws[cur + 7 + j]
                v = qj + ws[o_d + 6 + j]
                lo = ws[o_lo + j]
                hi = ws[o_hi + j]
                if v < lo:
                    v = lo
                elif v > hi:
                    v = hi
                ws[cand + 7 + j] = v
                d = wp.abs(v - qj)
                if d > applied:
                    applied = d
                j += 1
            cand_cost = _evaluate(parent, joint_index, local_pos, local_quat, joint_axis, joint_anchor,
                                  body_index, offset, t_pos, t_quat, t_wp, t_wr, prior_lower, prior_upper,
                                  prior_weight, mu, c, t, ws, cand, o_reg)
            if cand_cost < cur_cost:
                tmp = cur
                cur = cand
                cand = tmp
                cur_cost = cand_cost
                lam = lam * type(lam)(0.3)
                if not (lam > type(lam)(1e-7)):
                    lam = type(lam)(1e-7)
                if applied < tol:
                    break
            else:
                lam = lam * type(lam)(10.0)
        out_root_pos[c, t] = _ld3(ws, cur)
        out_root_quat[c, t] = _ld4(ws, cur + 3)
        j = int(0)
        while j < J:
            out_joint_pos[c, t, j] = ws[cur + 7 + j]
            j += 1
        o_ep = cur + 7 + J + 7 * B + 3 * K
        o_er = o_ep + 3 * K
        k = int(0)
        while k < K:
            out_pos_error[c, t, k] = wp.sqrt(_sq3(_ld3(ws, o_ep + 3 * k)))
            out_rot_error[c, t, k] = wp.sqrt(_sq3(_ld3(ws, o_er + 3 * k)))
            k += 1
        out_iterations[c, t] = used
        t += 1


def _overload_types(scalar) -> list:
    v3, v4 = _VEC_TYPES[scalar]
    i32 = wp.int32
    return [wp.array[i32], wp.array[i32], wp.array[v3], wp.array[v4], wp.array[v3], wp.array[v3],  # tree
            wp.array[i32], wp.array2d[i32], wp.array[i32],  # ancestors
            wp.array[scalar], wp.array[scalar], wp.array[scalar],  # bounds
            wp.array[scalar], wp.array[scalar], wp.array[scalar],  # prior
            wp.array[i32], wp.array[v3], wp.array3d[v3], wp.array3d[v4], wp.array3d[scalar],
            wp.array3d[scalar],  # targets
            wp.array[v3], wp.array[v4], wp.array2d[scalar], wp.array2d[scalar],  # init
            int, int, scalar, scalar, scalar, scalar, scalar, int,  # params
            wp.array2d[v3], wp.array2d[v4], wp.array3d[scalar], wp.array3d[scalar], wp.array3d[scalar],
            wp.array2d[i32],  # outputs
            wp.array2d[scalar]]  # workspace


_KERNELS = {scalar: wp.overload(_ik_clip_kernel, _overload_types(scalar)) for scalar in _VEC_TYPES}


# ---------------------------------------------------------------------------------------------
# torch entry point
# ---------------------------------------------------------------------------------------------

def _check(name: str, x, shape: tuple, dtype, device) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if x.dtype != dtype:
        raise ValueError(f"{name}: expected dtype {str(dtype).replace('torch.', '')}, got "
                         f"{str(x.dtype).replace('torch.', '')}")
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {tuple(x.shape)}")
    if x.device != device:
        raise ValueError(f"{name}: expected device {device}, got {x.device}")
    if not x.is_contiguous():
        raise ValueError(f"{name}: tensor must be contiguous")


def _check_tree_indices(tree: dict[str, torch.Tensor], J: int) -> None:
    """Topology and ancestor lists (as check_ik_indices in csrc/ik/ik_args.h): an out-of-range
    index would read outside the arrays inside the kernel."""
    parent = tree["parent"].tolist()
    jidx = tree["joint_index"].tolist()
    boj = tree["body_of_joint"].tolist()
    cnt = tree["anc_count"].tolist()
    anc = tree["anc_joints"].tolist()
    B = len(parent)
    for b in range(B):
        if (b == 0) != (parent[b] < 0) or parent[b] >= b:
            raise ValueError("parent: bodies must be topologically ordered, root at 0")
        if not -1 <= jidx[b] < J:
            raise ValueError("joint_index: out of range")
        if not 0 <= cnt[b] <= J:
            raise ValueError("anc_count: out of range")
        row = anc[b][: cnt[b]]
        if any(not 0 <= j < J for j in row) or any(x >= y for x, y in zip(row, row[1:])):
            raise ValueError("anc_joints: must list valid joints in ascending order")
    for j in range(J):
        if not 0 <= boj[j] < B or jidx[boj[j]] != j:
            raise ValueError("body_of_joint: inconsistent with joint_index")


_checked_trees: dict[tuple, tuple] = {}  # ids of checked tree tensors -> the tensors (keeps ids unique)


def ik_solve_warp(tree_tensors: dict[str, torch.Tensor], lower: torch.Tensor, upper: torch.Tensor,
                  max_step: torch.Tensor, targets: dict[str, torch.Tensor], init: dict[str, torch.Tensor],
                  params: dict, *, prior: dict[str, torch.Tensor] | None = None,
                  interleave_workspace: bool | None = None) -> dict[str, torch.Tensor]:
    """Solve C clips × T frames with Warp on the tensors' device ("cpu" or "cuda:i"), zero-copy.

    The arguments are the dicts ``mimiclab.kernels.ik._solve_compiled`` hands the compiled kernels,
    as contiguous torch tensors of one float dtype (float32 or float64) on one device:

    * tree_tensors: ``ik_tree_tensors(tree, device, dtype)`` — parent, joint_index (B,) int32,
      local_pos (B,3) [m], local_quat (B,4) wxyz, joint_axis, joint_anchor (B,3), body_of_joint (J,),
      anc_joints (B,J), anc_count (B,) int32 (keys starting with "_" are ignored).
    * lower, upper (J,) joint limits [rad]; max_step (J,) largest change per frame [rad] (inf: none).
    * targets: body_index (K,) int32, offset (K,3) [m], pos (C,T,K,3) [m], quat (C,T,K,4) wxyz,
      pos_weight, rot_weight (C,T,K).
    * init: root_pos (C,3) [m], root_quat (C,4) wxyz, joint_pos (C,J) [rad], posture (C,J) [rad].
    * params: iterations, first_iterations (>= 1), damping (> 0), tol, posture_weight (μ_p),
      velocity_weight (μ_v), acceleration_weight (μ_a) (finite, >= 0), limit_first_frame (bool).
    * prior: prior_lower, prior_upper (J,) [rad] (±inf: free on that side), prior_weight (J,) ω
      (>= 0; 0: no prior on that joint) — the anatomical prior; None: no prior.

    Per frame the regulariser is μ‖q − m‖² with μ = μ_p + μ_v + μ_a and
    m = (μ_p posture + μ_v q₁ + μ_a (2q₁ − q₂)) / μ (``ik_reference.regulariser``): q₁ is the previous
    frame's solution (at frame 0 the projected initial q, only when limit_first_frame), q₂ the
    solution two frames back; μ_v counts only where q₁ exists, μ_a only where μ_v does and q₂ exists.

    Returns new tensors: root_pos (C,T,3), root_quat (C,T,4), joint_pos (C,T,J), pos_error,
    rot_error (C,T,K) [m], [rad] and iterations (C,T) int32. Async on CUDA (torch's current stream).

    The workspace is a (C, ws) Warp array on the same device. interleave_workspace (default: on
    CUDA only) stores it as the transposed view of a (ws, C) buffer, so that neighbouring threads
    touch neighbouring addresses (coalesced on a GPU; on a CPU the clip-major rows are faster).
    The results do not depend on the layout.
    """
    if prior is not None and not isinstance(prior, dict):
        raise TypeError(f"prior: expected a dict of tensors or None, got {type(prior).__name__}")
    for group, d, fields in (("tree_tensors", tree_tensors, TREE_FIELDS), ("targets", targets, TARGET_FIELDS),
                             ("init", init, INIT_FIELDS), ("params", params, PARAM_FIELDS),
                             ("prior", {f: None for f in PRIOR_FIELDS} if prior is None else prior, PRIOR_FIELDS)):
        missing = [f for f in fields if f not in d]
        if missing:
            raise ValueError(f"{group}: missing {', '.join(missing)}")
    pos = targets["pos"]
    for name, x, ndim, what in (("target pos", pos, 4, "(C, T, K, 3)"), ("lower", lower, 1, "(J,)"),
                                ("parent", tree_tensors["parent"], 1, "(B,)")):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
        if x.dim() != ndim:
            raise ValueError(f"{name}: expected shape {what}, got {tuple(x.shape)}")
    dtype, device = pos.dtype, pos.device
    if dtype not in _TORCH_TO_WP:
        raise ValueError(f"target pos: expected dtype float32 or float64, got {str(dtype).replace('torch.', '')}")
    C, T, K = pos.shape[:3]
    B = tree_tensors["parent"].shape[0]
    J = lower.shape[0]
    if prior is None:  # free on both sides, weight 0
        inf = torch.full((J,), math.inf, dtype=dtype, device=device)
        prior = {"prior_lower": -inf, "prior_upper": inf, "prior_weight": torch.zeros(J, dtype=dtype, device=device)}
    i32 = torch.int32
    expected = {
        "parent": (tree_tensors["parent"], (B,), i32), "joint_index": (tree_tensors["joint_index"], (B,), i32),
        "local_pos": (tree_tensors["local_pos"], (B, 3), dtype),
        "local_quat": (tree_tensors["local_quat"], (B, 4), dtype),
        "joint_axis": (tree_tensors["joint_axis"], (B, 3), dtype),
        "joint_anchor": (tree_tensors["joint_anchor"], (B, 3), dtype),
        "body_of_joint": (tree_tensors["body_of_joint"], (J,), i32),
        "anc_joints": (tree_tensors["anc_joints"], (B, J), i32), "anc_count": (tree_tensors["anc_count"], (B,), i32),
        "lower": (lower, (J,), dtype), "upper": (upper, (J,), dtype), "max_step": (max_step, (J,), dtype),
        **{f: (prior[f], (J,), dtype) for f in PRIOR_FIELDS},
        "body_index": (targets["body_index"], (K,), i32), "offset": (targets["offset"], (K, 3), dtype),
        "target pos": (pos, (C, T, K, 3), dtype), "target quat": (targets["quat"], (C, T, K, 4), dtype),
        "pos_weight": (targets["pos_weight"], (C, T, K), dtype),
        "rot_weight": (targets["rot_weight"], (C, T, K), dtype),
        "init root_pos": (init["root_pos"], (C, 3), dtype), "init root_quat": (init["root_quat"], (C, 4), dtype),
        "init joint_pos": (init["joint_pos"], (C, J), dtype), "init posture": (init["posture"], (C, J), dtype),
    }
    for name, (x, shape, dt) in expected.items():
        _check(name, x, shape, dt, device)
    if B < 1 or K < 1:
        raise ValueError("ik_solve_warp: the tree needs bodies and at least one target")
    its, first = int(params["iterations"]), int(params["first_iterations"])
    damping = float(params["damping"])
    if its < 1 or first < 1:
        raise ValueError("iterations: must be >= 1")
    if not damping > 0:
        raise ValueError("damping: must be > 0")
    weights = {}
    for name in ("posture_weight", "velocity_weight", "acceleration_weight"):
        w = float(params[name])
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"{name}: must be finite and >= 0, got {w}")
        weights[name] = w
    pa, pb, pw = (prior[f] for f in PRIOR_FIELDS)
    bad_weight = ~torch.isfinite(pw) | (pw < 0)
    bad_range = torch.isnan(pa) | torch.isnan(pb) | (pa > pb)
    if bool((bad_weight | bad_range).any()):  # one check (one sync on CUDA), then the message
        if bool(bad_weight.any()):
            j = int(torch.nonzero(bad_weight)[0, 0])
            raise ValueError(f"prior_weight: must be finite and >= 0 (joint {j})")
        j = int(torch.nonzero(bad_range)[0, 0])
        raise ValueError(f"prior_lower, prior_upper: NaN or lower > upper (joint {j})")

    key = tuple(id(tree_tensors[f]) for f in TREE_FIELDS)
    if key not in _checked_trees:
        _check_tree_indices({f: tree_tensors[f].cpu() for f in TREE_FIELDS}, J)
        if len(_checked_trees) >= 16:
            _checked_trees.clear()
        _checked_trees[key] = tuple(tree_tensors[f] for f in TREE_FIELDS)
    bi = targets["body_index"]
    if K and bool(((bi < 0) | (bi >= B)).any()):
        k = int(torch.nonzero((bi < 0) | (bi >= B))[0, 0])
        raise ValueError(f"body_index: target {k} refers to body {int(bi[k])} outside the tree")

    out = {"root_pos": torch.empty(C, T, 3, dtype=dtype, device=device),
           "root_quat": torch.empty(C, T, 4, dtype=dtype, device=device),
           "joint_pos": torch.empty(C, T, J, dtype=dtype, device=device),
           "pos_error": torch.empty(C, T, K, dtype=dtype, device=device),
           "rot_error": torch.empty(C, T, K, dtype=dtype, device=device),
           "iterations": torch.empty(C, T, dtype=torch.int32, device=device)}
    if C == 0 or T == 0:
        return out
    size = ik_workspace_size(B, J, K)
    if interleave_workspace is None:
        interleave_workspace = device.type == "cuda"
    workspace = (torch.empty(size, C, dtype=dtype, device=device).t() if interleave_workspace
                 else torch.empty(C, size, dtype=dtype, device=device))

    scalar = _TORCH_TO_WP[dtype]
    v3, v4 = _VEC_TYPES[scalar]

    def view(x, dt):  # array descriptor: zero-copy, skips wp.array construction (shapes checked above)
        return wp.from_torch(x, dtype=dt, requires_grad=False, return_ctype=True)

    tt = tree_tensors
    inputs = [
        view(tt["parent"], wp.int32), view(tt["joint_index"], wp.int32), view(tt["local_pos"], v3),
        view(tt["local_quat"], v4), view(tt["joint_axis"], v3), view(tt["joint_anchor"], v3),
        view(tt["body_of_joint"], wp.int32), view(tt["anc_joints"], wp.int32), view(tt["anc_count"], wp.int32),
        view(lower, scalar), view(upper, scalar), view(max_step, scalar),
        *(view(prior[f], scalar) for f in PRIOR_FIELDS),
        view(targets["body_index"], wp.int32), view(targets["offset"], v3), view(pos, v3),
        view(targets["quat"], v4), view(targets["pos_weight"], scalar), view(targets["rot_weight"], scalar),
        view(init["root_pos"], v3), view(init["root_quat"], v4), view(init["joint_pos"], scalar),
        view(init["posture"], scalar),
        its, first, damping, float(params["tol"]), weights["posture_weight"], weights["velocity_weight"],
        weights["acceleration_weight"], int(bool(params["limit_first_frame"])),
        view(out["root_pos"], v3), view(out["root_quat"], v4), view(out["joint_pos"], scalar),
        view(out["pos_error"], scalar), view(out["rot_error"], scalar), view(out["iterations"], wp.int32),
        view(workspace, scalar),
    ]
    wp_device = wp.device_from_torch(device)
    stream = wp.stream_from_torch(device) if wp_device.is_cuda else None
    # CUDA: small blocks, so that a few thousand clips still spread over every multiprocessor
    wp.launch(_KERNELS[scalar], dim=C, inputs=inputs, device=wp_device, stream=stream,
              block_dim=CUDA_BLOCK_DIM if wp_device.is_cuda else 256)
    return out


__all__ = ["ik_solve_warp", "ik_workspace_size"]
