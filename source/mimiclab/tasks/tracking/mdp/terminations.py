"""Tracking terminations ``term(env, command_name, threshold) -> BoolTensor[num_envs]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.utils.math import quat_apply_inverse

from mimiclab.deploy.tracking_mdp import GRAVITY_DIR

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["anchor_height_error", "anchor_gravity_error", "body_height_error", "motion_ended"]


def _cmd(env, name: str):
    return env.command_manager.get_term(name)


def anchor_height_error(env: ManagerBasedRLEnv, threshold: float, command_name: str = "motion") -> torch.Tensor:
    """|z_ref − z| of the anchor > threshold [m] (N,)."""
    c = _cmd(env, command_name)
    return (c.anchor_pos_w[:, 2] - c.robot_anchor_pos_w[:, 2]).abs() > threshold


def anchor_gravity_error(env: ManagerBasedRLEnv, threshold: float, command_name: str = "motion") -> torch.Tensor:
    """|g_ref,z − g_z| > threshold, with g the gravity direction in the anchor frame (N,).

    0 when upright like the reference, up to 2 when upside down relative to it.
    """
    c = _cmd(env, command_name)
    g = torch.tensor(GRAVITY_DIR, device=c.anchor_quat_w.device).expand(c.anchor_quat_w.shape[0], 3)
    g_ref = quat_apply_inverse(c.anchor_quat_w, g)
    g_robot = quat_apply_inverse(c.robot_anchor_quat_w, g)
    return (g_ref[:, 2] - g_robot[:, 2]).abs() > threshold


def body_height_error(env: ManagerBasedRLEnv, threshold: float, body_names: list[str],
                      command_name: str = "motion") -> torch.Tensor:
    """Any of `body_names` (tracked bodies) with |z_ref − z| > threshold [m] (N,)."""
    c = _cmd(env, command_name)
    ids = [c.body_names.index(b) for b in body_names]
    err = (c.body_pos_relative_w[:, ids, 2] - c.robot_body_pos_w[:, ids, 2]).abs()
    return (err > threshold).any(dim=-1)


def motion_ended(env: ManagerBasedRLEnv, command_name: str = "motion") -> torch.Tensor:
    """The reference time has reached the end of the env's clip (N,) (a time-out, not a failure)."""
    c = _cmd(env, command_name)
    return c.times >= c.clip_duration - 1e-6
