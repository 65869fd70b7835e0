"""Event terms of the tracking task.

The reset state is written by the motion command itself (reference initial state with the noise
of ``MotionCommandCfg.pose_range`` / ``velocity_range`` / ``joint_position_range``). Domain
randomisation uses Isaac Lab's stock terms (``push_by_setting_velocity``, re-exported by
``mdp``); what is specific to tracking lives here.
"""

from __future__ import annotations

__all__: list[str] = []
