"""Tracking rewards ``term(env, command_name, std) -> Tensor[num_envs]`` in (0, 1]:
``exp(−e/std²)`` with e the squared error of the anchor, or the squared error averaged over the
tracked bodies. Positions [m], orientations as rotation angles [rad], velocities [m/s, rad/s].
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import torch
from isaaclab.utils.math import quat_error_magnitude

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["motion_anchor_pos_exp", "motion_anchor_ori_exp", "motion_body_pos_exp", "motion_body_ori_exp",
           "motion_body_lin_vel_exp", "motion_body_ang_vel_exp", "motion_joint_pos_exp", "motion_keypoint_pos_exp",
           "keypoint_weights"]


def _cmd(env, name: str):
    return env.command_manager.get_term(name)


def motion_anchor_pos_exp(env: ManagerBasedRLEnv, std: float, command_name: str = "motion") -> torch.Tensor:
    """exp(−|p_ref − p|² / std²) of the anchor in the world (N,)."""
    c = _cmd(env, command_name)
    return torch.exp(-(c.anchor_pos_w - c.robot_anchor_pos_w).square().sum(-1) / std**2)


def motion_anchor_ori_exp(env: ManagerBasedRLEnv, std: float, command_name: str = "motion") -> torch.Tensor:
    """exp(−angle(q_ref, q)² / std²) of the anchor (N,)."""
    c = _cmd(env, command_name)
    return torch.exp(-quat_error_magnitude(c.anchor_quat_w, c.robot_anchor_quat_w).square() / std**2)


def motion_body_pos_exp(env: ManagerBasedRLEnv, std: float, command_name: str = "motion") -> torch.Tensor:
    """exp(−mean_b |p_ref,b − p_b|² / std²), reference bodies placed on the robot's anchor (N,)."""
    c = _cmd(env, command_name)
    return torch.exp(-(c.body_pos_relative_w - c.robot_body_pos_w).square().sum(-1).mean(-1) / std**2)


def keypoint_weights(body_names, weights: dict[str, float] | None) -> torch.Tensor:
    """Per-body weights (B,) for `body_names`: `weights` by name, 1 for the others. ValueError for
    a weighted name that is not a tracked body or a weight that is not positive and finite."""
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(body_names))
    if unknown:
        raise ValueError(f"keypoint weights: {unknown} are not tracked bodies ({list(body_names)})")
    bad = {k: v for k, v in weights.items() if not (float(v) > 0.0 and float(v) < float("inf"))}
    if bad:
        raise ValueError(f"keypoint weights must be positive and finite, got {bad}")
    return torch.tensor([float(weights.get(b, 1.0)) for b in body_names])


@functools.lru_cache(maxsize=16)
def _weight_tensor(body_names: tuple[str, ...], weights: tuple[tuple[str, float], ...], device: str) -> torch.Tensor:
    """``keypoint_weights`` on `device`, built once per (bodies, weights, device): the reward runs every step."""
    return keypoint_weights(body_names, dict(weights)).to(device)


def motion_keypoint_pos_exp(env: ManagerBasedRLEnv, std: float, weights: dict[str, float] | None = None,
                            command_name: str = "motion") -> torch.Tensor:
    """exp(−Σ_b w_b |p_ref,b − p_b|² / (Σ_b w_b · std²)) (N,): the keypoint-weighted body position
    reward, reference bodies placed on the robot's anchor (xy, heading). `weights` {body: w} (the
    others 1). So a perfect match gives 1, and an offset d on one body of weight w alone gives
    exp(−w·d² / (W·std²)), W the sum of the weights."""
    c = _cmd(env, command_name)
    w = _weight_tensor(tuple(c.body_names), tuple(sorted((weights or {}).items())), str(c.robot_body_pos_w.device))
    err = (c.body_pos_relative_w - c.robot_body_pos_w).square().sum(-1)  # (N,B)
    return torch.exp(-(err * w).sum(-1) / (w.sum() * std**2))


def motion_body_ori_exp(env: ManagerBasedRLEnv, std: float, command_name: str = "motion") -> torch.Tensor:
    """exp(−mean_b angle(q_ref,b, q_b)² / std²), reference placed on the robot's anchor yaw (N,)."""
    c = _cmd(env, command_name)
    return torch.exp(-quat_error_magnitude(c.body_quat_relative_w, c.robot_body_quat_w).square().mean(-1) / std**2)


def motion_body_lin_vel_exp(env: ManagerBasedRLEnv, std: float, command_name: str = "motion") -> torch.Tensor:
    """exp(−mean_b |v_ref,b − v_b|² / std²) in the world (N,)."""
    c = _cmd(env, command_name)
    return torch.exp(-(c.body_lin_vel_w - c.robot_body_lin_vel_w).square().sum(-1).mean(-1) / std**2)


def motion_body_ang_vel_exp(env: ManagerBasedRLEnv, std: float, command_name: str = "motion") -> torch.Tensor:
    """exp(−mean_b |ω_ref,b − ω_b|² / std²) in the world (N,)."""
    c = _cmd(env, command_name)
    return torch.exp(-(c.body_ang_vel_w - c.robot_body_ang_vel_w).square().sum(-1).mean(-1) / std**2)


def motion_joint_pos_exp(env: ManagerBasedRLEnv, std: float, command_name: str = "motion") -> torch.Tensor:
    """exp(−mean_j (q_ref,j − q_j)² / std²) (N,) (not in the reference MDP; off by default)."""
    c = _cmd(env, command_name)
    return torch.exp(-(c.joint_pos - c.robot_joint_pos).square().mean(-1) / std**2)
