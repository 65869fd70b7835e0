"""The residual box task with the G1 (per-joint action scale from the robot table)."""

from __future__ import annotations

from isaaclab.utils import configclass

from mimiclab.tasks.residual.residual_env_cfg import ResidualEnvCfg
from mimiclab.tasks.tracking.config.g1.env_cfg import to_play, use_g1


@configclass
class G1ResidualBoxEnvCfg(ResidualEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        use_g1(self)


@configclass
class G1ResidualBoxPlayEnvCfg(G1ResidualBoxEnvCfg):
    """Evaluation: few envs, no noise, pushes or randomisation, no object assist; every clip from its start."""

    def __post_init__(self):
        super().__post_init__()
        to_play(self, extra_events=("object_mass", "object_material", "object_com"))
        self.commands.motion.object_pose_range = {}
        self.commands.motion.assist.enabled = False
        self.curriculum.object_assist = None
