"""Reward terms: ``term(env, ..., asset_cfg=SceneEntityCfg("robot")) -> Tensor[num_envs]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.managers import SceneEntityCfg

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["default_pose_exp", "root_height_exp"]


def default_pose_exp(env: ManagerBasedRLEnv, std: float,
                     asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """exp(−mean_j (q_j − q_default_j)² / std²) ∈ (0, 1]; std in rad."""
    asset = env.scene[asset_cfg.name]
    err = asset.data.joint_pos.torch[:, asset_cfg.joint_ids] - asset.data.default_joint_pos.torch[:, asset_cfg.joint_ids]
    return torch.exp(-err.square().mean(dim=1) / std**2)


def root_height_exp(env: ManagerBasedRLEnv, target: float, std: float,
                    asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """exp(−(z_root − target)² / std²) ∈ (0, 1]; target and std in m."""
    asset = env.scene[asset_cfg.name]
    return torch.exp(-(asset.data.root_pos_w.torch[:, 2] - target).square() / std**2)
