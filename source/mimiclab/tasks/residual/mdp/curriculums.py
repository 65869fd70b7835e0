"""Curriculum terms of the residual task.

``object_assist`` fades the virtual object controller out as the policy succeeds: it records whether
each finished episode succeeded (ended by a time-out or the clip's end, not by a failure
termination); once ``window`` episodes are recorded and their success rate exceeds ``threshold``, the
command's ``assist_scale`` drops by ``step`` (never below ``min_scale``) and the record starts over.
Its return value, the current scale, is logged by Isaac Lab as ``extras["log"]["Curriculum/<term>"]``
(``Curriculum/object_assist`` under the task's term name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.managers import ManagerTermBase

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["object_assist"]


class object_assist(ManagerTermBase):
    """Fade ``ObjectMotionCommand.assist_scale`` on the success rate (module docstring).

    Params: ``command_name`` ("motion"), ``threshold`` (0.8), ``step`` (0.05), ``window`` (episodes,
    100), ``min_scale`` (0.0).
    """

    def __init__(self, cfg, env: ManagerBasedRLEnv):
        super().__init__(cfg, env)
        window = int(cfg.params.get("window", 100))
        self.outcomes = torch.zeros(window, device=env.device)
        self.count = 0  # outcomes recorded since the last change (≤ window kept, newest overwrite oldest)

    @property
    def success_rate(self) -> float:
        n = min(self.count, self.outcomes.numel())
        return float(self.outcomes[:n].mean()) if n else 0.0

    def record(self, success: torch.Tensor) -> None:
        """Append episode outcomes (K,) bool to the ring buffer."""
        w = self.outcomes.numel()
        for v in success.float().reshape(-1)[-w:]:
            self.outcomes[self.count % w] = v
            self.count += 1

    def __call__(self, env: ManagerBasedRLEnv, env_ids, command_name: str = "motion", threshold: float = 0.8,
                 step: float = 0.05, window: int = 100, min_scale: float = 0.0) -> float:
        cmd = env.command_manager.get_term(command_name)
        if env_ids is None or isinstance(env_ids, slice):
            env_ids = torch.arange(env.num_envs, device=env.device)[env_ids if isinstance(env_ids, slice) else slice(None)]
        ids = torch.as_tensor(env_ids, device=env.device).long().reshape(-1)
        tm = getattr(env, "termination_manager", None)
        if ids.numel() and tm is not None:
            ran = env.episode_length_buf[ids] > 0
            if bool(ran.any()):
                self.record(~tm.terminated[ids][ran])
        if self.count >= self.outcomes.numel() and self.success_rate > threshold and cmd.assist_scale > min_scale:
            cmd.assist_scale = max(float(min_scale), cmd.assist_scale - float(step))
            self.count = 0
        return float(cmd.assist_scale)
