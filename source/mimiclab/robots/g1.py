"""Unitree G1 (29 DoF, rev 1.0): names in order, limits, armature-derived PD gains, default pose.

Joint order is the G1 SDK / motor order: left leg, right leg, waist, left arm, right arm. Body order
is the MJCF depth-first order. Files on disk are keyed by these *names*; the orders here are only
the convention of mimiclab's own arrays (e.g. policy actions) and every simulator maps by name.

Gains follow the common armature-based rule: Kp = armature·ω², Kd = 2·ζ·armature·ω with
ω = 2π·10 Hz and ζ = 2. Units: rad, m, N·m, rad/s, kg·m².
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

NATURAL_FREQ_HZ = 10.0
DAMPING_RATIO = 2.0


@dataclass(frozen=True)
class ActuatorSpec:
    """One actuator type: reflected rotor inertia and limits."""

    name: str
    armature: float  # kg·m²
    effort_limit: float  # N·m
    velocity_limit: float  # rad/s

    @property
    def kp(self) -> float:
        """Stiffness [N·m/rad] = armature·(2π·10 Hz)²."""
        return self.armature * (2.0 * math.pi * NATURAL_FREQ_HZ) ** 2

    @property
    def kd(self) -> float:
        """Damping [N·m·s/rad] = 2·ζ·armature·(2π·10 Hz)."""
        return 2.0 * DAMPING_RATIO * self.armature * 2.0 * math.pi * NATURAL_FREQ_HZ


ACTUATOR_5020 = ActuatorSpec("5020", 0.003609725, 25.0, 37.0)
ACTUATOR_7520_14 = ActuatorSpec("7520_14", 0.010177520, 88.0, 32.0)
ACTUATOR_7520_22 = ActuatorSpec("7520_22", 0.025101925, 139.0, 20.0)
ACTUATOR_4010 = ActuatorSpec("4010", 0.00425, 5.0, 22.0)
# Ankles and waist roll/pitch drive through a two-motor linkage: twice the 5020 values.
ACTUATOR_5020_LINKAGE = ActuatorSpec("2x5020", 2 * 0.003609725, 50.0, 37.0)


@dataclass(frozen=True)
class JointSpec:
    """One hinge joint of the G1."""

    name: str
    lower: float  # rad
    upper: float  # rad
    actuator: ActuatorSpec
    default_pos: float  # rad, standing pose

    @property
    def kp(self) -> float:
        return self.actuator.kp

    @property
    def kd(self) -> float:
        return self.actuator.kd

    @property
    def action_scale(self) -> float:
        """Policy action → joint target offset [rad per unit action] = 0.25·effort/Kp."""
        return 0.25 * self.actuator.effort_limit / self.actuator.kp


def _leg(side: str, sign: float) -> list[JointSpec]:
    # Hip roll limits mirror between sides; everything else is symmetric.
    roll = (-0.5236, 2.9671) if sign > 0 else (-2.9671, 0.5236)
    return [
        JointSpec(f"{side}_hip_pitch_joint", -2.5307, 2.8798, ACTUATOR_7520_14, -0.312),
        JointSpec(f"{side}_hip_roll_joint", *roll, ACTUATOR_7520_22, 0.0),
        JointSpec(f"{side}_hip_yaw_joint", -2.7576, 2.7576, ACTUATOR_7520_14, 0.0),
        JointSpec(f"{side}_knee_joint", -0.087267, 2.8798, ACTUATOR_7520_22, 0.669),
        JointSpec(f"{side}_ankle_pitch_joint", -0.87267, 0.5236, ACTUATOR_5020_LINKAGE, -0.363),
        JointSpec(f"{side}_ankle_roll_joint", -0.2618, 0.2618, ACTUATOR_5020_LINKAGE, 0.0),
    ]


def _arm(side: str, sign: float) -> list[JointSpec]:
    roll = (-1.5882, 2.2515) if sign > 0 else (-2.2515, 1.5882)
    return [
        JointSpec(f"{side}_shoulder_pitch_joint", -3.0892, 2.6704, ACTUATOR_5020, 0.2),
        JointSpec(f"{side}_shoulder_roll_joint", *roll, ACTUATOR_5020, 0.2 * sign),
        JointSpec(f"{side}_shoulder_yaw_joint", -2.618, 2.618, ACTUATOR_5020, 0.0),
        JointSpec(f"{side}_elbow_joint", -1.0472, 2.0944, ACTUATOR_5020, 0.6),
        JointSpec(f"{side}_wrist_roll_joint", -1.97222, 1.97222, ACTUATOR_5020, 0.0),
        JointSpec(f"{side}_wrist_pitch_joint", -1.61443, 1.61443, ACTUATOR_4010, 0.0),
        JointSpec(f"{side}_wrist_yaw_joint", -1.61443, 1.61443, ACTUATOR_4010, 0.0),
    ]


_WAIST = [
    JointSpec("waist_yaw_joint", -2.618, 2.618, ACTUATOR_7520_14, 0.0),
    JointSpec("waist_roll_joint", -0.52, 0.52, ACTUATOR_5020_LINKAGE, 0.0),
    JointSpec("waist_pitch_joint", -0.52, 0.52, ACTUATOR_5020_LINKAGE, 0.0),
]

_BODY_NAMES = (
    "pelvis",
    *(f"left_{n}" for n in ("hip_pitch_link", "hip_roll_link", "hip_yaw_link", "knee_link",
                            "ankle_pitch_link", "ankle_roll_link")),
    *(f"right_{n}" for n in ("hip_pitch_link", "hip_roll_link", "hip_yaw_link", "knee_link",
                             "ankle_pitch_link", "ankle_roll_link")),
    "waist_yaw_link", "waist_roll_link", "torso_link",
    *(f"left_{n}" for n in ("shoulder_pitch_link", "shoulder_roll_link", "shoulder_yaw_link",
                            "elbow_link", "wrist_roll_link", "wrist_pitch_link", "wrist_yaw_link")),
    *(f"right_{n}" for n in ("shoulder_pitch_link", "shoulder_roll_link", "shoulder_yaw_link",
                             "elbow_link", "wrist_roll_link", "wrist_pitch_link", "wrist_yaw_link")),
)


@dataclass(frozen=True)
class RobotSpec:
    """A floating-base robot: joints in action order, bodies in tree order, standing root pose."""

    name: str
    joints: tuple[JointSpec, ...]
    body_names: tuple[str, ...]
    root_body: str
    default_root_height: float  # m, pelvis height of the default standing pose
    foot_bodies: tuple[str, ...]

    @cached_property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @property
    def num_bodies(self) -> int:
        return len(self.body_names)

    def joint(self, name: str) -> JointSpec:
        for j in self.joints:
            if j.name == name:
                return j
        raise KeyError(f"unknown G1 joint '{name}'")

    def joint_index(self, names: list[str] | tuple[str, ...]) -> list[int]:
        """Indices of `names` in joint order; raises KeyError naming the first unknown joint."""
        lookup = {n: i for i, n in enumerate(self.joint_names)}
        missing = [n for n in names if n not in lookup]
        if missing:
            raise KeyError(f"unknown G1 joint(s): {', '.join(missing)}")
        return [lookup[n] for n in names]

    def per_joint(self, attr: str) -> dict[str, float]:
        """{joint name: value} of a JointSpec attribute (e.g. 'kp', 'default_pos')."""
        return {j.name: float(getattr(j, attr)) for j in self.joints}

    def actuator_groups(self) -> dict[str, tuple[ActuatorSpec, tuple[str, ...]]]:
        """Joints grouped by actuator type: {actuator name: (spec, joint names)}."""
        groups: dict[str, tuple[ActuatorSpec, list[str]]] = {}
        for j in self.joints:
            groups.setdefault(j.actuator.name, (j.actuator, []))[1].append(j.name)
        return {k: (spec, tuple(names)) for k, (spec, names) in groups.items()}

    def match_joints(self, pattern: str) -> list[str]:
        """Joint names fully matching a regular expression, in joint order."""
        rx = re.compile(pattern)
        return [n for n in self.joint_names if rx.fullmatch(n)]


G1 = RobotSpec(
    name="g1_29dof",
    joints=tuple(_leg("left", 1.0) + _leg("right", -1.0) + _WAIST + _arm("left", 1.0)
                 + _arm("right", -1.0)),
    body_names=_BODY_NAMES,
    root_body="pelvis",
    default_root_height=0.76,
    foot_bodies=("left_ankle_roll_link", "right_ankle_roll_link"),
)
