"""The tracking action: joint position targets around the default pose or around the reference.

``offset_from = "default"``:   target = default joint pos + scale·a (Isaac Lab's JointPositionAction).
``offset_from = "reference"``: target = q_ref(t + step_dt) + scale·a, q_ref the motion command's
reference joint positions one control step ahead (the pose the robot should reach by the end of the
step the target is held for). A zero action then plays the reference back through the PD loop, where
the default-offset space pulls every clip toward the standing pose. Encoder-offset randomisation
(``randomize_joint_default_pos`` shifts the default pose, i.e. this term's ``_offset``) carries over:
the "reference" target is q_ref + (offset − nominal default) + scale·a, so a calibration error shifts
both spaces alike. The reference is a deployable input
already (the runtime has the motion), so both spaces are declared in the contract
(``action_offset_from``) and sim2sim follows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.envs.mdp.actions import JointPositionAction, JointPositionActionCfg
from isaaclab.utils import configclass

from mimiclab.deploy.contract import ACTION_OFFSETS

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedEnv

__all__ = ["TrackingJointPositionAction", "TrackingJointPositionActionCfg"]


class TrackingJointPositionAction(JointPositionAction):
    """JointPositionAction whose offset is the default pose or the next reference frame (module docstring)."""

    cfg: TrackingJointPositionActionCfg

    def __init__(self, cfg: TrackingJointPositionActionCfg, env: ManagerBasedEnv):
        if cfg.offset_from not in ACTION_OFFSETS:
            raise ValueError(f"action offset_from must be one of {ACTION_OFFSETS}, got {cfg.offset_from!r}")
        super().__init__(cfg, env)
        self._command = None
        self._nominal_offset = torch.as_tensor(self._offset, device=self.device).clone()  # before any DR

    def process_actions(self, actions: torch.Tensor):
        """target = offset + scale·a (then the cfg's clip), offset the default pose or the next reference frame."""
        self._raw_actions[:] = actions
        offset = self._offset
        if self.cfg.offset_from == "reference":
            if self._command is None:
                self._command = self._env.command_manager.get_term(self.cfg.command_name)
            calibration = self._offset - self._nominal_offset  # encoder-offset randomisation (module docstring)
            offset = self._command.next_joint_pos[:, self._joint_ids] + calibration  # (N, J) [rad]
        self._processed_actions = self._raw_actions * self._scale + offset
        if self.cfg.clip is not None:
            self._processed_actions.clamp_(min=self._clip[:, :, 0], max=self._clip[:, :, 1])


@configclass
class TrackingJointPositionActionCfg(JointPositionActionCfg):
    """Configuration of ``TrackingJointPositionAction``."""

    class_type: type = TrackingJointPositionAction
    offset_from: str = "default"
    """"default" (target = default pose + scale·a) or "reference" (target = next reference frame + scale·a)."""
    command_name: str = "motion"
    """The motion command whose reference the "reference" offset follows."""
