"""Object terminations ``term(env, ...) -> BoolTensor[num_envs]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["object_pointcloud_distance"]


def object_pointcloud_distance(env: ManagerBasedRLEnv, threshold: float,
                               command_name: str = "motion") -> torch.Tensor:
    """The object's point-cloud distance D to its reference exceeds `threshold` [m] (N,)."""
    return env.command_manager.get_term(command_name).object_pointcloud > threshold
