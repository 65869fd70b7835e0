"""Keypoint-conditioned tracking (GenMimic, arXiv 2512.05094), robot-agnostic parts.

The tracking task's MDP (physics, reference clock and sampler, terminations, domain randomisation)
with a different goal: the actor sees the reference's future 3D keypoints (the tracked bodies, in
the reference's heading frame: ``ref_keypoints``) and its future anchor orientations relative to the
robot's IMU attitude, never joint targets, and its actions are offsets from the default pose (no
reference joint positions anywhere on the actor's path). The goal keypoints and the proprioception
carry noise (``KEYPOINT_GOAL_NOISE`` and the tracking actor's levels). The body position reward is
keypoint-weighted (``KEYPOINT_WEIGHTS``: hands and feet up-weighted). The critic is the tracking
task's privileged one plus the keypoints. Left-right symmetry enters through rsl_rl's symmetry
extension (``mimiclab.tasks.symmetry``, the agent config).
"""

from __future__ import annotations

from isaaclab.managers import ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm
from isaaclab.managers import RewardTermCfg as RewTerm
from isaaclab.utils import configclass
from isaaclab.utils.noise import UniformNoiseCfg as Unoise

from mimiclab.deploy import tracking_mdp as facts
from mimiclab.tasks.tracking import mdp
from mimiclab.tasks.tracking.tracking_env_cfg import ObservationsCfg, RewardsCfg, TrackingEnvCfg

_MOTION = {"command_name": "motion"}


@configclass
class KeypointObservationsCfg:
    @configclass
    class PolicyCfg(ObsGroup):
        """Deployable: the goal keypoints and anchor orientations, the IMU, the joint encoders and the
        last action (``facts.KEYPOINT_ACTOR_TERMS``, in that order)."""

        ref_keypoints = ObsTerm(func=mdp.ref_future_keypoints_local, params=_MOTION,
                                noise=Unoise(n_min=-facts.KEYPOINT_GOAL_NOISE, n_max=facts.KEYPOINT_GOAL_NOISE))
        ref_anchor_ori = ObsTerm(func=mdp.ref_future_anchor_ori_b, params=_MOTION, noise=Unoise(n_min=-0.05, n_max=0.05))
        projected_gravity = ObsTerm(func=mdp.projected_gravity, noise=Unoise(n_min=-0.05, n_max=0.05))
        base_ang_vel = ObsTerm(func=mdp.base_ang_vel, noise=Unoise(n_min=-0.2, n_max=0.2))
        joint_pos = ObsTerm(func=mdp.joint_pos_rel, noise=Unoise(n_min=-0.01, n_max=0.01))
        joint_vel = ObsTerm(func=mdp.joint_vel_rel, noise=Unoise(n_min=-0.5, n_max=0.5))
        actions = ObsTerm(func=mdp.last_action)

        def __post_init__(self):
            self.enable_corruption = True
            self.concatenate_terms = True

    @configclass
    class CriticCfg(ObservationsCfg.CriticCfg):
        """The tracking task's privileged critic (joint targets included) plus the goal keypoints."""

        ref_keypoints = ObsTerm(func=mdp.ref_future_keypoints_local, params=_MOTION)

    policy: PolicyCfg = PolicyCfg()
    critic: CriticCfg = CriticCfg()


@configclass
class KeypointRewardsCfg(RewardsCfg):
    """The tracking rewards with the body position term keypoint-weighted (``keypoint_pos``)."""

    body_pos = None
    keypoint_pos = RewTerm(func=mdp.motion_keypoint_pos_exp, weight=1.0,
                           params={**_MOTION, "std": 0.3, "weights": dict(facts.KEYPOINT_WEIGHTS)})


@configclass
class KeypointActionsCfg:
    """Joint targets around the default pose: the reference's joint positions never reach the actor."""

    joint_pos = mdp.TrackingJointPositionActionCfg(asset_name="robot", joint_names=[".*"], scale=0.25,
                                                   use_default_offset=True, preserve_order=True,
                                                   offset_from="default")


@configclass
class KeypointTrackingEnvCfg(TrackingEnvCfg):
    """The tracking env with keypoint goals (module docstring)."""

    observations: KeypointObservationsCfg = KeypointObservationsCfg()
    rewards: KeypointRewardsCfg = KeypointRewardsCfg()
    actions: KeypointActionsCfg = KeypointActionsCfg()
