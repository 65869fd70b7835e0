"""Stand task configuration (robot-agnostic parts; the G1 is plugged in by config/g1)."""

from __future__ import annotations

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
from isaaclab.utils import configclass

from mimiclab.tasks import physics
from mimiclab.tasks.stand import mdp


@configclass
class StandSceneCfg(InteractiveSceneCfg):
    ground: AssetBaseCfg = MISSING  # set by physics.apply_sim_defaults (local USD, created on demand)
    robot: ArticulationCfg = MISSING


@configclass
class ActionsCfg:
    joint_pos = mdp.JointPositionActionCfg(asset_name="robot", joint_names=[".*"], scale=0.25,
                                           use_default_offset=True, preserve_order=True)


@configclass
class ObservationsCfg:
    @configclass
    class PolicyCfg(ObsGroup):
        base_ang_vel = ObsTerm(func=mdp.base_ang_vel)
        projected_gravity = ObsTerm(func=mdp.projected_gravity)
        joint_pos = ObsTerm(func=mdp.joint_pos_rel)
        joint_vel = ObsTerm(func=mdp.joint_vel_rel)
        actions = ObsTerm(func=mdp.last_action)

        def __post_init__(self):
            self.enable_corruption = False
            self.concatenate_terms = True

    policy: PolicyCfg = PolicyCfg()


@configclass
class EventsCfg:
    reset_joints = EventTerm(func=mdp.reset_joints_by_offset, mode="reset",
                             params={"position_range": (-0.05, 0.05), "velocity_range": (0.0, 0.0)})


@configclass
class RewardsCfg:
    alive = RewTerm(func=mdp.is_alive, weight=1.0)
    default_pose = RewTerm(func=mdp.default_pose_exp, weight=1.0, params={"std": 0.3})
    upright = RewTerm(func=mdp.flat_orientation_l2, weight=-2.0)
    action_rate = RewTerm(func=mdp.action_rate_l2, weight=-0.01)
    joint_limits = RewTerm(func=mdp.joint_pos_limits, weight=-10.0)


@configclass
class TerminationsCfg:
    time_out = DoneTerm(func=mdp.time_out, time_out=True)
    fell = DoneTerm(func=mdp.root_height_below_minimum, params={"minimum_height": 0.45})
    tilted = DoneTerm(func=mdp.bad_orientation, params={"limit_angle": 1.0})


@configclass
class StandEnvCfg(ManagerBasedRLEnvCfg):
    """Flat ground, one robot per env, 200 Hz physics, 50 Hz policy, 10 s episodes."""

    scene: StandSceneCfg = StandSceneCfg(num_envs=16, env_spacing=2.5)
    observations: ObservationsCfg = ObservationsCfg()
    actions: ActionsCfg = ActionsCfg()
    events: EventsCfg = EventsCfg()
    rewards: RewardsCfg = RewardsCfg()
    terminations: TerminationsCfg = TerminationsCfg()

    def __post_init__(self):
        physics.apply_sim_defaults(self, episode_length_s=10.0)
