"""Synthetic IK problems with known answers, shared by the IK tests and benchmarks."""

from __future__ import annotations

import torch

from mimiclab.deploy.tracking_mdp import TRACKED_BODIES
from mimiclab.kernels.fk import fk_reference
from mimiclab.kernels.ik import IkTargets
from mimiclab.rotations.torch_ops import quat_mul

__all__ = ["TRACKED_BODIES", "reachable_problems", "smooth_clips"]  # the bodies: the tracking MDP's 14


def reachable_problems(tree, body_names: tuple[str, ...], n: int, seed: int, dtype=torch.float64,
                       init_noise: float = 0.3, rot_weight: float = 0.1):
    """Targets = FK of random poses inside the joint limits (position + orientation of `body_names`);
    the initial state is the truth perturbed — joints by U(±init_noise) rad (clamped to the
    limits), root by 5 cm and ~0.1 rad — as a warm start is in retargeting.

    Returns (IkTargets, (root_pos (n,3), root_quat (n,4), joint_pos (n,J)) initial state, q_true (n,J)).
    """
    g = torch.Generator().manual_seed(seed)
    lo = torch.as_tensor(tree.joint_lower, dtype=torch.float64)
    hi = torch.as_tensor(tree.joint_upper, dtype=torch.float64)
    q = lo + (hi - lo) * torch.rand(n, tree.num_joints, generator=g, dtype=torch.float64)
    root_pos = torch.randn(n, 3, generator=g, dtype=torch.float64) * 0.2 + torch.tensor([0.0, 0.0, 0.8], dtype=torch.float64)
    root_quat = torch.nn.functional.normalize(torch.randn(n, 4, generator=g, dtype=torch.float64), dim=-1)
    body_pos, body_quat = fk_reference(tree, root_pos, root_quat, q)
    index = torch.tensor([tree.body_names.index(b) for b in body_names], dtype=torch.int32)
    idx = index.long()
    targets = IkTargets(body_index=index, pos=body_pos[:, idx].to(dtype), quat=body_quat[:, idx].to(dtype),
                        pos_weight=1.0, rot_weight=rot_weight)
    q0 = (q + init_noise * (2 * torch.rand(q.shape, generator=g, dtype=torch.float64) - 1)).clamp(lo, hi)
    tilt = torch.nn.functional.normalize(torch.cat((torch.ones(n, 1, dtype=torch.float64),
                                                    0.05 * torch.randn(n, 3, generator=g, dtype=torch.float64)), -1), dim=-1)
    init = (root_pos + 0.05, quat_mul(tilt, root_quat), q0)
    return targets, tuple(x.to(dtype) for x in init), q.to(dtype)


def smooth_clips(tree, body_names: tuple[str, ...], clips: int, frames: int, fps: float = 50.0):
    """Sinusoidal joint motion (0.5 Hz, half the joint range at most ±1 rad) with a walking,
    yawing root: C clips × T frames of ground truth and their FK targets (float64).

    Returns (IkTargets with pos (C,T,K,3) / quat (C,T,K,4), q (C,T,J), root_pos (C,T,3), root_quat (C,T,4)).
    """
    import math

    lo = torch.as_tensor(tree.joint_lower, dtype=torch.float64)
    hi = torch.as_tensor(tree.joint_upper, dtype=torch.float64)
    mid, amp = 0.5 * (lo + hi), 0.25 * (hi - lo).clamp(max=1.0)
    t = torch.arange(frames, dtype=torch.float64) / fps
    phase = torch.linspace(0, math.pi, clips, dtype=torch.float64)
    q = mid + amp * torch.sin(2 * math.pi * 0.5 * t[None, :, None] + phase[:, None, None])
    root_pos = torch.stack((0.8 * t.expand(clips, -1), 0.05 * torch.sin(2 * math.pi * t).expand(clips, -1),
                            torch.full((clips, frames), 0.78, dtype=torch.float64)), -1)
    yaw = 0.3 * torch.sin(t).expand(clips, -1)
    zero = torch.zeros_like(yaw)
    root_quat = torch.stack((torch.cos(yaw / 2), zero, zero, torch.sin(yaw / 2)), -1)
    body_pos, body_quat = fk_reference(tree, root_pos.reshape(-1, 3), root_quat.reshape(-1, 4),
                                       q.reshape(-1, tree.num_joints))
    index = torch.tensor([tree.body_names.index(b) for b in body_names], dtype=torch.int32)
    idx = index.long()
    shape = (clips, frames, len(body_names))
    targets = IkTargets(body_index=index, pos=body_pos[:, idx].reshape(*shape, 3),
                        quat=body_quat[:, idx].reshape(*shape, 4))
    return targets, q, root_pos, root_quat
