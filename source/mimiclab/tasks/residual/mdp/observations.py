"""Object observation terms ``term(env, command_name) -> Tensor[num_envs, D]``.

Frames as in the tracking terms: positions in the robot's anchor (torso_link) frame [m],
orientations relative to the anchor as the first two rotation-matrix columns (6 numbers, row by row).
The reference object pose is the clip's world pose (with the env origin), not moved onto the robot:
the object has to go where the reference puts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.utils.math import quat_apply_inverse

from mimiclab.tasks.tracking.mdp.observations import frame_ori6, frame_pos

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["object_pos_b", "object_ori_b", "ref_object_pos_b", "ref_object_ori_b", "object_lin_vel_b",
           "object_ang_vel_b"]


def _cmd(env, name: str):
    return env.command_manager.get_term(name)


def _pos_b(c, pos_w: torch.Tensor) -> torch.Tensor:
    return frame_pos(c.robot_anchor_pos_w, c.robot_anchor_quat_w, pos_w[:, None]).reshape(-1, 3)


def _ori_b(c, quat_w: torch.Tensor) -> torch.Tensor:
    return frame_ori6(c.robot_anchor_quat_w, quat_w[:, None]).reshape(-1, 6)


def object_pos_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """The object's position in the robot's anchor frame (N, 3) [m]."""
    c = _cmd(env, command_name)
    return _pos_b(c, c.object_pos_w)


def object_ori_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """The object's orientation relative to the robot's anchor (N, 6)."""
    c = _cmd(env, command_name)
    return _ori_b(c, c.object_quat_w)


def ref_object_pos_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """The reference object position now in the robot's anchor frame (N, 3) [m]."""
    c = _cmd(env, command_name)
    return _pos_b(c, c.object_ref_pos_w)


def ref_object_ori_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """The reference object orientation now relative to the robot's anchor (N, 6)."""
    c = _cmd(env, command_name)
    return _ori_b(c, c.object_ref_quat_w)


def object_lin_vel_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """The object's linear velocity in the robot's anchor frame (N, 3) [m/s] (privileged)."""
    c = _cmd(env, command_name)
    return quat_apply_inverse(c.robot_anchor_quat_w, c.object_lin_vel_w)


def object_ang_vel_b(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """The object's angular velocity in the robot's anchor frame (N, 3) [rad/s] (privileged)."""
    c = _cmd(env, command_name)
    return quat_apply_inverse(c.robot_anchor_quat_w, c.object_ang_vel_w)
