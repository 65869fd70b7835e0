"""Tracking task configuration (robot-agnostic parts; the G1 is plugged in by config/g1).

The reference MDP of the strongest open trackers: 200 Hz physics, decimation 4, 10 s episodes,
anchor torso_link, 14 tracked bodies, exp-kernel tracking rewards, early termination on anchor
height / gravity direction / end-effector height errors. Motion files come from
``MotionCommandCfg.motion_files`` or, by default, the ``MIMICLAB_MOTION`` environment variable
(paths, folders or globs separated by ``os.pathsep``).
"""

from __future__ import annotations

import os
from dataclasses import MISSING

from isaaclab.assets import ArticulationCfg, AssetBaseCfg
from isaaclab.envs import ManagerBasedRLEnvCfg
from isaaclab.managers import EventTermCfg as EventTerm
from isaaclab.managers import ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm
from isaaclab.managers import RewardTermCfg as RewTerm
from isaaclab.managers import SceneEntityCfg
from isaaclab.managers import TerminationTermCfg as DoneTerm
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import ContactSensorCfg
from isaaclab.utils import configclass
from isaaclab.utils.noise import UniformNoiseCfg as Unoise

from mimiclab.deploy import tracking_mdp as facts
from mimiclab.deploy.tracking_mdp import TRACKING_REWARD_TERMS  # noqa: F401  (RewardsCfg's tracking terms)
from mimiclab.tasks import physics
from mimiclab.tasks.tracking import mdp

MOTION_ENV_VAR = "MIMICLAB_MOTION"
END_EFFECTORS = list(facts.END_EFFECTORS)
# every body except the end effectors (ankles and wrists may touch the ground or objects)
UNDESIRED_CONTACT_BODIES = "^" + "".join(f"(?!{b}$)" for b in END_EFFECTORS) + ".+$"


def motion_files_from_env() -> list[str]:
    """Entries of ``$MIMICLAB_MOTION`` split by ``os.pathsep`` (empty list when unset)."""
    return [p for p in os.environ.get(MOTION_ENV_VAR, "").split(os.pathsep) if p.strip()]


@configclass
class TrackingSceneCfg(InteractiveSceneCfg):
    ground: AssetBaseCfg = MISSING  # set by physics.apply_sim_defaults (local USD)
    robot: ArticulationCfg = MISSING
    # net contact force per robot body (Newton SensorContact; history of the last 3 physics steps)
    contact_forces = ContactSensorCfg(prim_path="{ENV_REGEX_NS}/Robot/.*", history_length=3, track_air_time=True,
                                      force_threshold=10.0)


@configclass
class CommandsCfg:
    motion = mdp.MotionCommandCfg(asset_name="robot", motion_files=[],
                                  pose_range={"x": (-0.05, 0.05), "y": (-0.05, 0.05), "z": (-0.01, 0.01),
                                              "roll": (-0.1, 0.1), "pitch": (-0.1, 0.1), "yaw": (-0.2, 0.2)},
                                  velocity_range={"x": (-0.5, 0.5), "y": (-0.5, 0.5), "z": (-0.2, 0.2),
                                                  "roll": (-0.52, 0.52), "pitch": (-0.52, 0.52),
                                                  "yaw": (-0.78, 0.78)},
                                  joint_position_range=(-0.1, 0.1))


@configclass
class ActionsCfg:
    # target = q_ref(t + dt) + scale·a: measured side by side against default + scale·a (README,
    # "Action space"), it learns longer episodes and more tracking reward from the first iteration on
    joint_pos = mdp.TrackingJointPositionActionCfg(asset_name="robot", joint_names=[".*"], scale=0.25,
                                                   use_default_offset=True, preserve_order=True,
                                                   offset_from="reference")


@configclass
class ObservationsCfg:
    @configclass
    class PolicyCfg(ObsGroup):
        """Proprioceptive (the default): only what a G1 measures — joint encoders, the IMU's angular
        velocity and gravity direction (and the attitude it integrates), its last action — plus the
        reference. No world position, no base linear velocity: the reference's anchor trajectory comes
        in its own frame (``ref_anchor_pos_local``, ``ref_anchor_lin_vel``; exact, so noise-free).
        Signals per term: ``mimiclab.deploy.tracking_mdp.ACTOR_TERM_SIGNALS``."""

        ref_joint_pos = ObsTerm(func=mdp.ref_future_joint_pos, params={"command_name": "motion"})
        ref_anchor_pos: ObsTerm | None = None
        """State-estimation variant only (``StateEstimationPolicyCfg``): the reference anchor in the robot's
        anchor frame, which needs the robot's world position."""
        ref_anchor_pos_local = ObsTerm(func=mdp.ref_future_anchor_pos_local, params={"command_name": "motion"})
        ref_anchor_lin_vel = ObsTerm(func=mdp.ref_anchor_lin_vel_local, params={"command_name": "motion"})
        ref_anchor_ori = ObsTerm(func=mdp.ref_future_anchor_ori_b, params={"command_name": "motion"},
                                 noise=Unoise(n_min=-0.05, n_max=0.05))
        projected_gravity = ObsTerm(func=mdp.projected_gravity, noise=Unoise(n_min=-0.05, n_max=0.05))
        base_ang_vel = ObsTerm(func=mdp.base_ang_vel, noise=Unoise(n_min=-0.2, n_max=0.2))
        joint_pos = ObsTerm(func=mdp.joint_pos_rel, noise=Unoise(n_min=-0.01, n_max=0.01))
        joint_vel = ObsTerm(func=mdp.joint_vel_rel, noise=Unoise(n_min=-0.5, n_max=0.5))
        actions = ObsTerm(func=mdp.last_action)

        def __post_init__(self):
            self.enable_corruption = True
            self.concatenate_terms = True

    @configclass
    class StateEstimationPolicyCfg(PolicyCfg):
        """The actor with a state estimator on the robot (``Mimic-Track-G1-StateEstimation``): the reference
        anchor's future positions in the robot's anchor frame (needs the robot's world position; noise
        ±0.25 m for the estimator's error) instead of the reference-only anchor terms. Same order
        otherwise: ref_joint_pos, ref_anchor_pos, ref_anchor_ori, projected_gravity, base_ang_vel,
        joint_pos, joint_vel, actions."""

        ref_anchor_pos = ObsTerm(func=mdp.ref_future_anchor_pos_b, params={"command_name": "motion"},
                                 noise=Unoise(n_min=-0.25, n_max=0.25))
        ref_anchor_pos_local = None
        ref_anchor_lin_vel = None

    @configclass
    class CriticCfg(ObsGroup):
        """Privileged: the policy's inputs without noise, plus body poses and the base velocity."""

        ref_joint_pos = ObsTerm(func=mdp.ref_future_joint_pos, params={"command_name": "motion"})
        ref_joint_vel = ObsTerm(func=mdp.ref_joint_vel, params={"command_name": "motion"})
        ref_anchor_pos = ObsTerm(func=mdp.ref_future_anchor_pos_b, params={"command_name": "motion"})
        ref_anchor_ori = ObsTerm(func=mdp.ref_future_anchor_ori_b, params={"command_name": "motion"})
        body_pos = ObsTerm(func=mdp.robot_body_pos_b, params={"command_name": "motion"})
        body_ori = ObsTerm(func=mdp.robot_body_ori_b, params={"command_name": "motion"})
        projected_gravity = ObsTerm(func=mdp.projected_gravity)
        base_lin_vel = ObsTerm(func=mdp.base_lin_vel)
        base_ang_vel = ObsTerm(func=mdp.base_ang_vel)
        joint_pos = ObsTerm(func=mdp.joint_pos_rel)
        joint_vel = ObsTerm(func=mdp.joint_vel_rel)
        actions = ObsTerm(func=mdp.last_action)

        def __post_init__(self):
            self.enable_corruption = False
            self.concatenate_terms = True

    policy: PolicyCfg = PolicyCfg()
    critic: CriticCfg = CriticCfg()


@configclass
class StateEstimationObservationsCfg(ObservationsCfg):
    """The state-estimation actor (``ObservationsCfg.StateEstimationPolicyCfg``), the same privileged critic."""

    policy: ObservationsCfg.StateEstimationPolicyCfg = ObservationsCfg.StateEstimationPolicyCfg()


@configclass
class EventsCfg:
    """Domain randomisation of the reference MDP (startup) plus random pushes (interval).

    On Newton one friction coefficient per shape is sampled from ``static_friction_range``
    (``dynamic_friction_range`` and ``num_buckets`` are PhysX-only and ignored, and MuJoCo-Warp
    has no restitution: the sampled value is stored in the Newton model but not simulated). MuJoCo
    takes a contact's friction as the max of its two geoms (equal priority), so the ground's own
    coefficient (0.5 in the solver model here) bounds the effective friction from below.
    """

    physics_material = EventTerm(func=mdp.randomize_rigid_body_material, mode="startup",
                                 params={"asset_cfg": SceneEntityCfg("robot", body_names=".*"),
                                         "static_friction_range": (0.3, 1.6), "dynamic_friction_range": (0.3, 1.2),
                                         "restitution_range": (0.0, 0.5), "num_buckets": 64})
    add_joint_default_pos = EventTerm(func=mdp.randomize_joint_default_pos, mode="startup",
                                      params={"asset_cfg": SceneEntityCfg("robot", joint_names=[".*"]),
                                              "pos_distribution_params": (-0.01, 0.01), "operation": "add"})
    base_com = EventTerm(func=mdp.randomize_rigid_body_com, mode="startup",
                         params={"asset_cfg": SceneEntityCfg("robot", body_names="torso_link"),
                                 "com_range": {"x": (-0.025, 0.025), "y": (-0.05, 0.05), "z": (-0.05, 0.05)}})
    push_robot = EventTerm(func=mdp.push_by_setting_velocity, mode="interval", interval_range_s=(1.0, 3.0),
                           params={"velocity_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5), "z": (-0.2, 0.2),
                                                      "roll": (-0.52, 0.52), "pitch": (-0.52, 0.52),
                                                      "yaw": (-0.78, 0.78)}})


@configclass
class RewardsCfg:
    anchor_pos = RewTerm(func=mdp.motion_anchor_pos_exp, weight=0.5, params={"command_name": "motion", "std": 0.3})
    anchor_ori = RewTerm(func=mdp.motion_anchor_ori_exp, weight=0.5, params={"command_name": "motion", "std": 0.4})
    body_pos = RewTerm(func=mdp.motion_body_pos_exp, weight=1.0, params={"command_name": "motion", "std": 0.3})
    body_ori = RewTerm(func=mdp.motion_body_ori_exp, weight=1.0, params={"command_name": "motion", "std": 0.4})
    body_lin_vel = RewTerm(func=mdp.motion_body_lin_vel_exp, weight=1.0,
                           params={"command_name": "motion", "std": 1.0})
    body_ang_vel = RewTerm(func=mdp.motion_body_ang_vel_exp, weight=1.0,
                           params={"command_name": "motion", "std": 3.14})
    action_rate = RewTerm(func=mdp.action_rate_l2, weight=-0.1)
    joint_limits = RewTerm(func=mdp.joint_pos_limits, weight=-10.0, params={"asset_cfg": SceneEntityCfg("robot")})
    undesired_contacts = RewTerm(func=mdp.undesired_contacts, weight=-0.1,
                                 params={"threshold": 1.0, "sensor_cfg": SceneEntityCfg(
                                     "contact_forces", body_names=UNDESIRED_CONTACT_BODIES)})


@configclass
class TerminationsCfg:
    time_out = DoneTerm(func=mdp.time_out, time_out=True)
    motion_end = DoneTerm(func=mdp.motion_ended, time_out=True, params={"command_name": "motion"})
    anchor_height = DoneTerm(func=mdp.anchor_height_error,
                             params={"command_name": "motion", "threshold": facts.TERMINATION_THRESHOLDS["anchor_height"]})
    anchor_gravity = DoneTerm(func=mdp.anchor_gravity_error,
                              params={"command_name": "motion",
                                      "threshold": facts.TERMINATION_THRESHOLDS["anchor_gravity"]})
    end_effector_height = DoneTerm(func=mdp.body_height_error,
                                   params={"command_name": "motion", "body_names": END_EFFECTORS,
                                           "threshold": facts.TERMINATION_THRESHOLDS["end_effector_height"]})


@configclass
class TrackingEnvCfg(ManagerBasedRLEnvCfg):
    """Flat ground, one robot per env, 200 Hz physics, 50 Hz policy, 10 s episodes."""

    scene: TrackingSceneCfg = TrackingSceneCfg(num_envs=4096, env_spacing=2.5)
    commands: CommandsCfg = CommandsCfg()
    observations: ObservationsCfg = ObservationsCfg()
    actions: ActionsCfg = ActionsCfg()
    events: EventsCfg = EventsCfg()
    rewards: RewardsCfg = RewardsCfg()
    terminations: TerminationsCfg = TerminationsCfg()
    proprioceptive: bool = True
    """The actor claims to need only what the robot measures (no term needs ``base_position`` or
    ``base_lin_vel``, ``mimiclab.deploy.tracking_mdp.ACTOR_TERM_SIGNALS``): export refuses to write a
    contract for it otherwise. False for the state-estimation variant."""

    def __post_init__(self):
        physics.apply_sim_defaults(self, episode_length_s=10.0)
        if not self.commands.motion.motion_files:
            self.commands.motion.motion_files = motion_files_from_env()
