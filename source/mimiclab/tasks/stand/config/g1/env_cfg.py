"""The stand task with the G1: actions scaled per joint from the robot table."""

from __future__ import annotations

from isaaclab.utils import configclass

from mimiclab.robots.g1 import G1
from mimiclab.tasks.g1_articulation import g1_articulation_cfg
from mimiclab.tasks.stand.stand_env_cfg import StandEnvCfg


@configclass
class G1StandEnvCfg(StandEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        self.scene.robot = g1_articulation_cfg()
        self.actions.joint_pos.joint_names = list(G1.joint_names)
        self.actions.joint_pos.scale = G1.per_joint("action_scale")
