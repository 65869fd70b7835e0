"""Object domain randomisation.

Isaac Lab's stock terms cover the object's physical properties (all run on Newton MJWarp, CPU;
configured on the ``object`` entity in ``residual_env_cfg.EventsCfg``):
``randomize_rigid_body_mass`` (mass scale), ``randomize_rigid_body_material`` (friction; on Newton one
coefficient per shape, see the tracking events), ``randomize_rigid_body_com`` (CoM offset).
Reset pose offsets are drawn by the command itself (``ObjectMotionCommandCfg.object_pose_range``),
since the command writes the object's reset state after the reset events have run.
"""

from __future__ import annotations

__all__: list[str] = []
