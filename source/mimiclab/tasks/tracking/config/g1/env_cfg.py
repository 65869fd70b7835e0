"""The tracking task with the G1: per-joint action scale from the robot table."""

from __future__ import annotations

from isaaclab.utils import configclass

from mimiclab.robots.g1 import G1
from mimiclab.tasks.g1_articulation import g1_articulation_cfg
from mimiclab.tasks.tracking.tracking_env_cfg import TrackingEnvCfg


@configclass
class G1TrackingEnvCfg(TrackingEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        self.scene.robot = g1_articulation_cfg()
        self.actions.joint_pos.joint_names = list(G1.joint_names)
        self.actions.joint_pos.scale = G1.per_joint("action_scale")


@configclass
class G1TrackingPlayEnvCfg(G1TrackingEnvCfg):
    """Evaluation: few envs, no noise, pushes or domain randomisation; every clip walked from its start."""

    def __post_init__(self):
        super().__post_init__()
        self.scene.num_envs = 16
        self.observations.policy.enable_corruption = False
        self.events.push_robot = None
        self.events.physics_material = None
        self.events.add_joint_default_pos = None
        self.events.base_com = None
        motion = self.commands.motion
        motion.sampling = "evaluation"
        motion.pose_range = {}
        motion.velocity_range = {}
        motion.joint_position_range = (0.0, 0.0)
