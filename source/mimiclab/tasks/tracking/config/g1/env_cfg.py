"""The tracking task with the G1: per-joint action scale from the robot table; the proprioceptive
default actor (``Mimic-Track-G1``) and the state-estimation actor (``Mimic-Track-G1-StateEstimation``)."""

from __future__ import annotations

from collections.abc import Sequence

from isaaclab.utils import configclass

from mimiclab.robots.g1 import G1
from mimiclab.tasks.g1_articulation import g1_articulation_cfg
from mimiclab.tasks.tracking.tracking_env_cfg import StateEstimationObservationsCfg, TrackingEnvCfg

# Events switched off for evaluation: pushes and every domain randomisation.
TRAINING_ONLY_EVENTS = ("push_robot", "physics_material", "add_joint_default_pos", "base_com")


def use_g1(cfg) -> None:
    """Put the G1 into a tracking-family env cfg: articulation, joint order and per-joint action scale."""
    cfg.scene.robot = g1_articulation_cfg()
    cfg.actions.joint_pos.joint_names = list(G1.joint_names)
    cfg.actions.joint_pos.scale = G1.per_joint("action_scale")


def to_play(cfg, extra_events: Sequence[str] = ()) -> None:
    """Evaluation settings: 16 envs, no observation noise, no pushes or randomisation (plus
    `extra_events`), no reset noise, every clip walked from its start."""
    cfg.scene.num_envs = 16
    cfg.observations.policy.enable_corruption = False
    for name in (*TRAINING_ONLY_EVENTS, *extra_events):
        setattr(cfg.events, name, None)
    motion = cfg.commands.motion
    motion.sampling = "evaluation"
    motion.pose_range = {}
    motion.velocity_range = {}
    motion.joint_position_range = (0.0, 0.0)


@configclass
class G1TrackingEnvCfg(TrackingEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        use_g1(self)


@configclass
class G1TrackingPlayEnvCfg(G1TrackingEnvCfg):
    """Evaluation: few envs, no noise, pushes or domain randomisation; every clip walked from its start."""

    def __post_init__(self):
        super().__post_init__()
        to_play(self)


@configclass
class G1TrackingStateEstimationEnvCfg(G1TrackingEnvCfg):
    """The actor observes the reference anchor in the robot's anchor frame (``ref_anchor_pos``), i.e. needs the
    robot's world position: on a real G1 a state estimator (or motion capture). Not proprioceptive."""

    observations: StateEstimationObservationsCfg = StateEstimationObservationsCfg()
    proprioceptive: bool = False


@configclass
class G1TrackingStateEstimationPlayEnvCfg(G1TrackingStateEstimationEnvCfg):
    """Evaluation of the state-estimation variant (as ``G1TrackingPlayEnvCfg``)."""

    def __post_init__(self):
        super().__post_init__()
        to_play(self)
