"""Readable torch reference of the retargeting IK (batched Levenberg–Marquardt on a kinematic tree).

Every compiled backend (csrc/ik) implements exactly this algorithm; tests compare them.

Problem n (of N): find root position, root orientation and joint angles q (J) so that K points on
bodies of the tree reach their targets:

    cost(x) = Σ_k wp_k ‖p*_k − p_k(x)‖² + wr_k ‖log(R*_k R_k(x)ᵀ)‖² + μ ‖q − m‖²
              + Σ_j ω_j (q_j − clamp(q_j, a_j, b_j))²

with p_k = p_body + R_body·offset_k. The quadratic regulariser μ‖q − m‖² combines the posture
pull, temporal velocity and acceleration costs (``regulariser``): with q₁, q₂ the solutions of the
two previous frames,

    μ = μ_p + μ_v + μ_a,   m = (μ_p q_posture + μ_v q₁ + μ_a (2q₁ − q₂)) / μ

(μ_v only from the second frame on — or from the first when the initial q is the previous frame —,
μ_a from the third). The anatomical prior is a one-sided quadratic outside the comfortable range
[a_j, b_j] (``mimiclab.robots.human_ranges.PRIOR_RANGES``) with weight ω_j.

The update δ = (δp root (3), δθ root (3, world frame), δq (J)) solves (H + λI) δ = g with
H = Σ wJᵀJ + (μ + ω_j [q_j outside]) I_q and g = Σ wJᵀe + μ (m − q) + ω (clamp(q) − q); q is projected
onto [lower, upper] (joint limits ∩ q_init ± max_step), so limits are never violated. A step is
kept only if it lowers the cost (then λ ← max(0.3 λ, 1e-7)); otherwise it is rejected and λ ← 10 λ.
Each iteration re-linearises at the current state; iterations stop early once an accepted step's
largest applied component (m or rad) is below `tol`.
"""

from __future__ import annotations

import torch

from mimiclab.kernels.fk import fk_reference
from mimiclab.rotations.torch_ops import quat_apply, quat_conjugate, quat_exp, quat_log, quat_mul, quat_normalize

LAMBDA_MIN = 1e-7
LAMBDA_DECREASE = 0.3
LAMBDA_INCREASE = 10.0


def ancestor_mask(tree) -> torch.Tensor:
    """(B, J) bool: joint j moves body b (its hinge is on b or on an ancestor of b)."""
    B, J = tree.num_bodies, tree.num_joints
    mask = torch.zeros(B, J, dtype=torch.bool)
    for b in range(B):
        p = int(tree.parent[b])
        if p >= 0:
            mask[b] = mask[p]
        j = int(tree.joint_index[b])
        if j >= 0:
            mask[b, j] = True
    return mask


def _errors(tree, targets, root_pos, root_quat, q):
    """Body poses, target points and their position / rotation errors at one state."""
    body_pos, body_quat = fk_reference(tree, root_pos, root_quat, q)
    idx = targets["body_index"].long()
    tb_pos, tb_quat = body_pos[:, idx], body_quat[:, idx]  # (N,K,3), (N,K,4)
    point = tb_pos + quat_apply(tb_quat, targets["offset"].expand_as(tb_pos))
    e_pos = targets["pos"] - point
    e_rot = quat_log(quat_mul(targets["quat"], quat_conjugate(tb_quat)))
    return body_pos, body_quat, point, e_pos, e_rot


def regulariser(posture, posture_weight: float, velocity_weight: float, acceleration_weight: float,
                q1=None, q2=None):
    """(m (N,J), μ) of the combined quadratic regulariser (module docstring); q1/q2: the previous
    frames' solutions or None where they do not count."""
    mu, m = posture_weight, posture_weight * posture
    if q1 is not None and velocity_weight > 0:
        mu, m = mu + velocity_weight, m + velocity_weight * q1
        if q2 is not None and acceleration_weight > 0:
            mu, m = mu + acceleration_weight, m + acceleration_weight * (2.0 * q1 - q2)
    return (m / mu if mu > 0 else posture), float(mu)


def _prior_residual(q, prior):
    """clamp(q, a, b) − q (N,J) and the prior weight ω (J,) (zeros without a prior)."""
    if prior is None:
        return torch.zeros_like(q), torch.zeros(q.shape[-1], dtype=q.dtype, device=q.device)
    lo, hi, w = prior
    return torch.minimum(torch.maximum(q, lo), hi) - q, w


def _cost(e_pos, e_rot, q, targets, posture, posture_weight, prior=None):
    r, w = _prior_residual(q, prior)
    return ((targets["pos_weight"] * e_pos.square().sum(-1)).sum(-1)
            + (targets["rot_weight"] * e_rot.square().sum(-1)).sum(-1)
            + posture_weight * (q - posture).square().sum(-1)
            + (w * r.square()).sum(-1))


def _normal_equations(tree, targets, mask, body_pos, body_quat, point, e_pos, e_rot, root_pos, q,
                      posture, posture_weight, prior=None):
    """H (N,n,n) and g (N,n), n = 6 + J, from the analytic world-frame Jacobian."""
    N, K, _ = point.shape
    J = tree.num_joints
    dtype, device = point.dtype, point.device
    # world axis and anchor of every joint, indexed by joint column
    body_of_joint = torch.empty(J, dtype=torch.long)
    for b, j in enumerate(tree.joint_index.tolist()):
        if j >= 0:
            body_of_joint[j] = b
    axes = torch.as_tensor(tree.joint_axis, dtype=dtype, device=device)[body_of_joint]
    anchors = torch.as_tensor(tree.joint_anchor, dtype=dtype, device=device)[body_of_joint]
    jq = body_quat[:, body_of_joint]
    axis_w = quat_apply(jq, axes.expand(N, J, 3))  # (N,J,3)
    anchor_w = body_pos[:, body_of_joint] + quat_apply(jq, anchors.expand(N, J, 3))

    moves = mask[targets["body_index"].long()].to(device)  # (K,J)
    lever = point[:, :, None, :] - anchor_w[:, None, :, :]  # (N,K,J,3)
    jp_q = torch.linalg.cross(axis_w[:, None].expand_as(lever), lever, dim=-1) * moves[None, :, :, None]
    jr_q = axis_w[:, None].expand_as(lever) * moves[None, :, :, None]
    eye = torch.eye(3, dtype=dtype, device=device).expand(N, K, 3, 3)
    r = point - root_pos[:, None, :]  # δθ × r  →  columns e_i × r
    jp_rot = torch.linalg.cross(eye, r[:, :, None, :].expand(N, K, 3, 3), dim=-1)  # rows: e_i × r
    # Jacobians as (N,K,3,n): columns [δp, δθ, δq]
    jpos = torch.cat((eye, jp_rot.transpose(-1, -2), jp_q.permute(0, 1, 3, 2)), dim=-1)
    jrot = torch.cat((torch.zeros_like(eye), eye, jr_q.permute(0, 1, 3, 2)), dim=-1)
    wp = targets["pos_weight"][..., None, None]
    wr = targets["rot_weight"][..., None, None]
    H = ((wp * jpos.transpose(-1, -2) @ jpos) + (wr * jrot.transpose(-1, -2) @ jrot)).sum(1)
    g = ((wp * jpos.transpose(-1, -2) @ e_pos[..., None]) + (wr * jrot.transpose(-1, -2) @ e_rot[..., None])).sum(1)[..., 0]
    H[:, 6:, 6:] += posture_weight * torch.eye(J, dtype=dtype, device=device)
    g[:, 6:] += posture_weight * (posture - q)
    r, w = _prior_residual(q, prior)
    H[:, 6:, 6:] += torch.diag_embed(w * (r != 0).to(dtype))
    g[:, 6:] += w * r
    return H, g


def ik_reference(tree, targets: dict[str, torch.Tensor], root_pos, root_quat, joint_pos, lower, upper,
                 posture, posture_weight: float, iterations: int, damping: float, tol: float, prior=None):
    """Solve N problems. targets: body_index (K,), offset (K,3), pos (N,K,3), quat (N,K,4),
    pos_weight (N,K), rot_weight (N,K). lower/upper (N,J): bounds for q (already ∩ max step).
    posture (N,J) / posture_weight: the regulariser's m and μ; prior: None or (a (J,), b (J,), ω (J,)).

    Returns root_pos (N,3), root_quat (N,4), joint_pos (N,J), pos_error (N,K) [m],
    rot_error (N,K) [rad], iterations used (N,) int32.
    """
    N, J = joint_pos.shape
    mask = ancestor_mask(tree)
    q = torch.minimum(torch.maximum(joint_pos, lower), upper)
    rp, rq = root_pos.clone(), root_quat / root_quat.norm(dim=-1, keepdim=True)
    lam = torch.full((N,), damping, dtype=q.dtype, device=q.device)
    used = torch.zeros(N, dtype=torch.int32, device=q.device)
    active = torch.ones(N, dtype=torch.bool, device=q.device)
    state = _errors(tree, targets, rp, rq, q)
    cost = _cost(state[3], state[4], q, targets, posture, posture_weight, prior)
    eye = torch.eye(6 + J, dtype=q.dtype, device=q.device)
    for _ in range(iterations):
        if not active.any():
            break
        body_pos, body_quat, point, e_pos, e_rot = state
        H, g = _normal_equations(tree, targets, mask, body_pos, body_quat, point, e_pos, e_rot, rp, q,
                                 posture, posture_weight, prior)
        delta = torch.linalg.solve(H + lam[:, None, None] * eye, g[..., None])[..., 0]
        rp_new = rp + delta[:, :3]
        rq_new = quat_mul(quat_normalize(quat_exp(delta[:, 3:6])), rq)  # normalised as csrc/ik does
        rq_new = rq_new / rq_new.norm(dim=-1, keepdim=True)
        q_new = torch.minimum(torch.maximum(q + delta[:, 6:], lower), upper)
        new_state = _errors(tree, targets, rp_new, rq_new, q_new)
        new_cost = _cost(new_state[3], new_state[4], q_new, targets, posture, posture_weight, prior)
        accept = active & (new_cost < cost)
        used += active.to(torch.int32)
        applied = torch.maximum(delta[:, :6].abs().amax(-1), (q_new - q).abs().amax(-1))
        converged = accept & (applied < tol)
        a1 = accept[:, None]
        rp, rq, q = torch.where(a1, rp_new, rp), torch.where(a1, rq_new, rq), torch.where(a1, q_new, q)
        state = tuple(torch.where(accept.view(-1, *([1] * (s.dim() - 1))), ns, s) for s, ns in zip(state, new_state))
        cost = torch.where(accept, new_cost, cost)
        lam = torch.where(accept, (lam * LAMBDA_DECREASE).clamp_min(LAMBDA_MIN), lam * LAMBDA_INCREASE)
        active = active & ~converged
    _, _, _, e_pos, e_rot = state
    return rp, rq, q, e_pos.norm(dim=-1), e_rot.norm(dim=-1), used
