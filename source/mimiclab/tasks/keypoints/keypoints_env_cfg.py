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

Teacher → student (GenMimic's distillation): the ``teacher`` group is the input of a privileged
teacher (``facts.KEYPOINT_TEACHER_ACTOR_TERMS``: joint targets, keypoints, the reference anchor's
trajectory and the base's linear velocity, then the student's proprioception), noise-free here;
:class:`KeypointTeacherEnvCfg` trains that teacher with it as its actor (``policy``, with noise), and
rsl_rl's Distillation regresses the student (``policy``) onto the teacher's actions
(``mimiclab train --task Mimic-TrackKeypoints-G1 --teacher CKPT``).
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
    class TeacherCfg(ObsGroup):
        """The privileged teacher's actor (``facts.KEYPOINT_TEACHER_ACTOR_TERMS``, in that order); noise-free
        (the teacher's labels for the student), its own task adds the noise (:class:`KeypointTeacherEnvCfg`)."""

        ref_joint_pos = ObsTerm(func=mdp.ref_future_joint_pos, params=_MOTION)
        ref_keypoints = ObsTerm(func=mdp.ref_future_keypoints_local, params=_MOTION)
        ref_anchor_pos_local = ObsTerm(func=mdp.ref_future_anchor_pos_local, params=_MOTION)
        ref_anchor_lin_vel = ObsTerm(func=mdp.ref_anchor_lin_vel_local, params=_MOTION)
        ref_anchor_ori = ObsTerm(func=mdp.ref_future_anchor_ori_b, params=_MOTION)
        base_lin_vel = ObsTerm(func=mdp.base_lin_vel)
        projected_gravity = ObsTerm(func=mdp.projected_gravity)
        base_ang_vel = ObsTerm(func=mdp.base_ang_vel)
        joint_pos = ObsTerm(func=mdp.joint_pos_rel)
        joint_vel = ObsTerm(func=mdp.joint_vel_rel)
        actions = ObsTerm(func=mdp.last_action)

        def __post_init__(self):
            self.enable_corruption = False
            self.concatenate_terms = True

    @configclass
    class NoisyTeacherCfg(TeacherCfg):
        """The teacher's actor while it is trained: the student's noise levels on the shared terms,
        the keypoint goal noise, ±0.1 m/s on the base velocity (an estimator's error)."""

        def __post_init__(self):
            super().__post_init__()
            self.enable_corruption = True
            self.ref_keypoints.noise = Unoise(n_min=-facts.KEYPOINT_GOAL_NOISE, n_max=facts.KEYPOINT_GOAL_NOISE)
            self.ref_anchor_ori.noise = Unoise(n_min=-0.05, n_max=0.05)
            self.base_lin_vel.noise = Unoise(n_min=-0.1, n_max=0.1)
            self.projected_gravity.noise = Unoise(n_min=-0.05, n_max=0.05)
            self.base_ang_vel.noise = Unoise(n_min=-0.2, n_max=0.2)
            self.joint_pos.noise = Unoise(n_min=-0.01, n_max=0.01)
            self.joint_vel.noise = Unoise(n_min=-0.5, n_max=0.5)

    @configclass
    class CriticCfg(ObservationsCfg.CriticCfg):
        """The tracking task's privileged critic (joint targets included) plus the goal keypoints."""

        ref_keypoints = ObsTerm(func=mdp.ref_future_keypoints_local, params=_MOTION)

    policy: PolicyCfg = PolicyCfg()
    critic: CriticCfg = CriticCfg()
    teacher: TeacherCfg = TeacherCfg()


@configclass
class KeypointTeacherObservationsCfg(KeypointObservationsCfg):
    """The teacher's task: its privileged actor is the ``policy`` group (no ``teacher`` group)."""

    policy: KeypointObservationsCfg.NoisyTeacherCfg = KeypointObservationsCfg.NoisyTeacherCfg()
    teacher = None


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


@configclass
class KeypointTeacherEnvCfg(KeypointTrackingEnvCfg):
    """The privileged teacher's env: the keypoint task (rewards, actions from the default pose) with
    the teacher's actor; it observes the base's linear velocity, so it is not proprioceptive."""

    observations: KeypointTeacherObservationsCfg = KeypointTeacherObservationsCfg()
    proprioceptive: bool = False
