"""Residual loco-manipulation task configuration (robot-agnostic; the G1 is plugged in by config/g1).

The tracking task (same robot, physics, command timing, tracking observations, rewards and
terminations) plus one object: a rigid primitive sized from the clips (``ResidualEnv``), reset to its
reference pose by ``ObjectMotionCommand``, observed in the robot's anchor frame, rewarded by the
point-cloud distance to its reference (2.0·exp(−10·D), P = 1024 surface points) and by the reference
contacts (Σ ĉ_i·exp(−λ/f_i) normalised, f_i the force *of the object* on labelled body i from the
``object_contact_forces`` sensor, filtered against the object's body: contact with the ground or the
robot itself earns nothing), terminated when D > 0.3 m, pulled toward its reference by the virtual
object controller whose scale the ``object_assist`` curriculum fades out.

Policy observation layout: the 9 terms of the proprioceptive tracking actor (``Mimic-Track-G1``: 248
numbers; a GMT base is a prefix of it) then object_pos (3), object_ori (6), ref_object_pos (3),
ref_object_ori (6) = 266. Not proprioceptive: ``ref_object_pos`` (the clip's object position in the
robot's anchor frame) needs the robot's world position (``mimiclab.deploy.tracking_mdp``). Critic: the
tracking critic terms, the same object terms, then the object's linear and angular velocity.
"""

from __future__ import annotations

from dataclasses import MISSING

import isaaclab.sim as sim_utils
from isaaclab.assets import RigidObjectCfg
from isaaclab.managers import CurriculumTermCfg as CurrTerm
from isaaclab.managers import EventTermCfg as EventTerm
from isaaclab.managers import ObservationTermCfg as ObsTerm
from isaaclab.managers import RewardTermCfg as RewTerm
from isaaclab.managers import SceneEntityCfg
from isaaclab.managers import TerminationTermCfg as DoneTerm
from isaaclab.sensors import ContactSensorCfg
from isaaclab.utils import configclass

from mimiclab.deploy.tracking_mdp import OBJECT_TERMINATION_THRESHOLDS
from mimiclab.tasks.residual import mdp
from mimiclab.tasks.tracking import tracking_env_cfg as tracking

_TRACK_MOTION = tracking.CommandsCfg().motion


@configclass
class ResidualSceneCfg(tracking.TrackingSceneCfg):
    # placeholder primitive: ResidualEnv replaces the spawn with the clips' object (size, mass)
    object: RigidObjectCfg = RigidObjectCfg(
        prim_path="{ENV_REGEX_NS}/Object",
        spawn=sim_utils.CuboidCfg(size=(0.3, 0.3, 0.3), rigid_props=sim_utils.RigidBodyPropertiesCfg(),
                                  mass_props=sim_utils.MassPropertiesCfg(mass=1.0),
                                  collision_props=sim_utils.CollisionPropertiesCfg()),
        init_state=RigidObjectCfg.InitialStateCfg(pos=(0.5, 0.0, 0.5)))
    # contact force per robot body *against the object only* (filter: the object's body), for
    # object_contact_reward; the tracking scene's contact_forces (unfiltered: ground, self, object)
    # stays for the tracking terms. Every robot body is a sensor, so any clip's labelled bodies match.
    object_contact_forces = ContactSensorCfg(prim_path="{ENV_REGEX_NS}/Robot/.*",
                                             filter_prim_paths_expr=["{ENV_REGEX_NS}/Object"])


@configclass
class CommandsCfg:
    motion = mdp.ObjectMotionCommandCfg(
        asset_name="robot", object_name="object", motion_files=[], pose_range=dict(_TRACK_MOTION.pose_range),
        velocity_range=dict(_TRACK_MOTION.velocity_range), joint_position_range=_TRACK_MOTION.joint_position_range,
        object_pose_range={"x": (-0.02, 0.02), "y": (-0.02, 0.02), "z": (0.0, 0.01), "yaw": (-0.1, 0.1)},
        num_surface_points=1024)


@configclass
class ObservationsCfg:
    @configclass
    class PolicyCfg(tracking.ObservationsCfg.PolicyCfg):
        """The tracking policy terms, then the object and its reference in the robot's anchor frame."""

        object_pos = ObsTerm(func=mdp.object_pos_b, params={"command_name": "motion"})
        object_ori = ObsTerm(func=mdp.object_ori_b, params={"command_name": "motion"})
        ref_object_pos = ObsTerm(func=mdp.ref_object_pos_b, params={"command_name": "motion"})
        ref_object_ori = ObsTerm(func=mdp.ref_object_ori_b, params={"command_name": "motion"})

    @configclass
    class CriticCfg(tracking.ObservationsCfg.CriticCfg):
        """The tracking critic terms, the object terms, the object's velocity."""

        object_pos = ObsTerm(func=mdp.object_pos_b, params={"command_name": "motion"})
        object_ori = ObsTerm(func=mdp.object_ori_b, params={"command_name": "motion"})
        ref_object_pos = ObsTerm(func=mdp.ref_object_pos_b, params={"command_name": "motion"})
        ref_object_ori = ObsTerm(func=mdp.ref_object_ori_b, params={"command_name": "motion"})
        object_lin_vel = ObsTerm(func=mdp.object_lin_vel_b, params={"command_name": "motion"})
        object_ang_vel = ObsTerm(func=mdp.object_ang_vel_b, params={"command_name": "motion"})

    policy: PolicyCfg = PolicyCfg()
    critic: CriticCfg = CriticCfg()


@configclass
class EventsCfg(tracking.EventsCfg):
    """The tracking randomisation plus the object's mass scale, friction and CoM (startup); the
    object's reset pose offsets are ``CommandsCfg.motion.object_pose_range``."""

    object_mass = EventTerm(func=mdp.randomize_rigid_body_mass, mode="startup",
                            params={"asset_cfg": SceneEntityCfg("object"), "mass_distribution_params": (0.8, 1.2),
                                    "operation": "scale"})
    object_material = EventTerm(func=mdp.randomize_rigid_body_material, mode="startup",
                                params={"asset_cfg": SceneEntityCfg("object"),
                                        "static_friction_range": (0.4, 1.2), "dynamic_friction_range": (0.4, 1.0),
                                        "restitution_range": (0.0, 0.0), "num_buckets": 64})
    object_com = EventTerm(func=mdp.randomize_rigid_body_com, mode="startup",
                           params={"asset_cfg": SceneEntityCfg("object"),
                                   "com_range": {"x": (-0.02, 0.02), "y": (-0.02, 0.02), "z": (-0.02, 0.02)}})


@configclass
class RewardsCfg(tracking.RewardsCfg):
    object_pointcloud = RewTerm(func=mdp.object_pointcloud_reward, weight=2.0,
                                params={"command_name": "motion", "lam": 10.0})
    object_contact = RewTerm(func=mdp.object_contact_reward, weight=1.0,
                             params={"command_name": "motion", "lam": 10.0,
                                     "sensor_cfg": SceneEntityCfg("object_contact_forces")})


@configclass
class TerminationsCfg(tracking.TerminationsCfg):
    object_distance = DoneTerm(func=mdp.object_pointcloud_distance,
                               params={"command_name": "motion",
                                       "threshold": OBJECT_TERMINATION_THRESHOLDS["object_distance"]})


@configclass
class CurriculumCfg:
    object_assist = CurrTerm(func=mdp.object_assist, params={"command_name": "motion", "threshold": 0.8,
                                                             "step": 0.05, "window": 100, "min_scale": 0.0})


@configclass
class ResidualEnvCfg(tracking.TrackingEnvCfg):
    """The tracking env cfg with the object (module docstring)."""

    scene: ResidualSceneCfg = ResidualSceneCfg(num_envs=4096, env_spacing=2.5)
    commands: CommandsCfg = CommandsCfg()
    observations: ObservationsCfg = ObservationsCfg()
    events: EventsCfg = EventsCfg()
    rewards: RewardsCfg = RewardsCfg()
    terminations: TerminationsCfg = TerminationsCfg()
    curriculum: CurriculumCfg = CurriculumCfg()
    object_from_motion: bool = True
    """Size the scene's object from the first clip's object (``ResidualEnv``)."""
    proprioceptive: bool = False
    """``ref_object_pos`` needs the robot's world position (``TrackingEnvCfg.proprioceptive``)."""
