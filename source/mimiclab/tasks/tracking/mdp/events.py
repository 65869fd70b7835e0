"""Event terms of the tracking task.

The reset state is written by the motion command itself (reference initial state with the noise
of ``MotionCommandCfg.pose_range`` / ``velocity_range`` / ``joint_position_range``). Domain
randomisation uses Isaac Lab's stock terms where they exist (``push_by_setting_velocity``,
``randomize_rigid_body_material``, ``randomize_rigid_body_com``, ``randomize_rigid_body_mass``,
re-exported by ``mdp``; all verified on Newton MJWarp, CPU); what Isaac Lab lacks lives here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import torch
from isaaclab.envs.mdp.events import _randomize_prop_by_op
from isaaclab.managers import EventTermCfg, ManagerTermBase, SceneEntityCfg

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedEnv

__all__ = ["randomize_joint_default_pos"]


class randomize_joint_default_pos(ManagerTermBase):
    """Shift the robot's default joint positions (the encoder zero) per env [rad].

    Models joint-offset calibration error as in the reference MDP: the sampled default position is
    what ``joint_pos_rel`` subtracts and what the joint-position action adds as its offset (the
    action term keeps its own copy, so it is updated here too). Samples are drawn around the
    nominal defaults captured on the first call, so calling the term again never accumulates.

    Params: ``pos_distribution_params`` (low, high) [rad] for ``operation="add"``; ``action_name``
    the joint-position action term whose offset follows (``None`` to leave actions alone).
    """

    def __init__(self, cfg: EventTermCfg, env: ManagerBasedEnv):
        super().__init__(cfg, env)
        self.asset_cfg: SceneEntityCfg = cfg.params.get("asset_cfg", SceneEntityCfg("robot"))
        self.asset = env.scene[self.asset_cfg.name]
        self.nominal: torch.Tensor | None = None  # (N, J) [rad], captured on the first call

    def __call__(self, env: ManagerBasedEnv, env_ids: torch.Tensor | slice | None,
                 pos_distribution_params: tuple[float, float],
                 operation: Literal["add", "scale", "abs"] = "add",
                 distribution: Literal["uniform", "log_uniform", "gaussian"] = "uniform",
                 asset_cfg: SceneEntityCfg = SceneEntityCfg("robot"), action_name: str | None = "joint_pos"):
        if self.nominal is None:
            self.nominal = self.asset.data.default_joint_pos.torch.clone()
        if env_ids is None:
            env_ids = slice(None)
        joint_ids = self.asset_cfg.joint_ids
        pos = _randomize_prop_by_op(self.nominal.clone(), pos_distribution_params, env_ids, joint_ids,
                                    operation=operation, distribution=distribution)
        rows = env_ids[:, None] if isinstance(env_ids, torch.Tensor) and not isinstance(joint_ids, slice) else env_ids
        default = self.asset.data.default_joint_pos.torch  # zero-copy view of the asset's buffer
        default[rows, joint_ids] = pos[rows, joint_ids]
        if action_name is not None:
            term = env.action_manager.get_term(action_name)
            if term.cfg.use_default_offset:  # offset = default_joint_pos in the action's joint order
                term._offset[env_ids] = default[env_ids][:, term._joint_ids]
