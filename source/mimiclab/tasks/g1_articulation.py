"""The G1 as an Isaac Lab ``ArticulationCfg``, built from ``mimiclab.robots`` (names, gains, pose).

Implicit PD per actuator group with the armature-derived gains; armature is set per joint (the
simulation goes NaN within two control steps without it). Joint patterns are exact names, so no
two patterns overlap and nothing depends on a simulator's joint order.
"""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.actuators import ImplicitActuatorCfg
from isaaclab.assets import ArticulationCfg
from isaaclab_newton.sim.schemas import NewtonArticulationCfg

from mimiclab.robots.assets import g1_usd_path
from mimiclab.robots.g1 import G1

# Foot soles: the lowest foot collision capsules sit 25 mm below the ankle-roll origin, radius 10 mm.
SOLE_BELOW_ANKLE_ROLL = 0.035  # m


def g1_actuators() -> dict[str, ImplicitActuatorCfg]:
    """One implicit PD actuator per G1 motor type (``ImplicitActuatorCfg`` per group)."""
    actuators = {}
    for name, (spec, joints) in G1.actuator_groups().items():
        exprs = list(joints)
        actuators[name] = ImplicitActuatorCfg(
            joint_names_expr=exprs,
            stiffness={j: spec.kp for j in exprs},
            damping={j: spec.kd for j in exprs},
            armature={j: spec.armature for j in exprs},
            joint_effort_limit={j: spec.effort_limit for j in exprs},
            actuator_velocity_limit={j: spec.velocity_limit for j in exprs},
        )
    return actuators


def g1_articulation_cfg(fix_root: bool = False, root_height: float | None = None,
                        self_collisions: bool = False, usd_path: str | None = None) -> ArticulationCfg:
    """G1 at ``{ENV_REGEX_NS}/Robot`` in its default standing pose.

    fix_root: weld the pelvis to the world (for actuator tests). root_height [m]: pelvis height at
    reset (default: ``G1.default_root_height``). usd_path: default is the provisioned G1 USD.
    """
    return ArticulationCfg(
        prim_path="{ENV_REGEX_NS}/Robot",
        spawn=sim_utils.UsdFileCfg(
            usd_path=usd_path or str(g1_usd_path()),
            fix_root_link=fix_root,
            articulation_props=[NewtonArticulationCfg(self_collision_enabled=self_collisions)],
            activate_contact_sensors=False,
        ),
        init_state=ArticulationCfg.InitialStateCfg(
            pos=(0.0, 0.0, G1.default_root_height if root_height is None else root_height),
            rot=(0.0, 0.0, 0.0, 1.0),  # Isaac Lab 3 quaternions are XYZW
            joint_pos=G1.per_joint("default_pos"),
            joint_vel={".*": 0.0},
        ),
        soft_joint_pos_limit_factor=0.9,
        actuators=g1_actuators(),
    )
