"""Left-right (sagittal, y → −y) mirror maps of a robot, derived from its table by name.

A mirror swaps every ``left_*`` joint and body with its ``right_*`` twin and reflects space across
the robot's x-z plane, M = diag(1, −1, 1). A hinge angle θ about axis a becomes −θ about M·a, so a
joint keeps its sign when its axis lies along y (pitch: hip/knee/ankle pitch, shoulder pitch, elbow,
wrist pitch, waist pitch) and flips it when the axis lies in the x-z plane (roll, yaw). Joint names
carry the axis (``*_pitch_joint``, ``*_roll_joint``, ``*_yaw_joint``; knees and elbows are pitch
hinges); the tests check the signs against the MJCF's joint axes and the mirrored joint limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MirrorMap", "mirror_name", "index_mirror", "joint_mirror", "joint_sign"]

_PITCH_HINGES = ("knee_joint", "elbow_joint")


def mirror_name(name: str) -> str:
    """The twin of a joint or body across the sagittal plane: ``left_…`` ↔ ``right_…``; a name on
    the plane (pelvis, waist, torso) is its own twin."""
    for a, b in (("left_", "right_"), ("right_", "left_")):
        if name.startswith(a):
            return b + name[len(a):]
    return name


def joint_sign(name: str) -> float:
    """+1 for a hinge about the lateral (y) axis (its angle keeps its sign when mirrored), −1 for a
    roll or yaw hinge. ValueError for a name that does not say its axis."""
    if name.endswith("_pitch_joint") or name.endswith(_PITCH_HINGES):
        return 1.0
    if name.endswith("_roll_joint") or name.endswith("_yaw_joint"):
        return -1.0
    raise ValueError(f"mirror: joint '{name}' does not name its axis (…_pitch/_roll/_yaw_joint, knee, elbow)")


def index_mirror(names: Sequence[str]) -> tuple[int, ...]:
    """perm with names[perm[i]] the twin of names[i] (a permutation, its own inverse). ValueError
    when a twin is missing from `names`."""
    lookup = {n: i for i, n in enumerate(names)}
    missing = [n for n in names if mirror_name(n) not in lookup]
    if missing:
        raise ValueError(f"mirror: no twin for {missing[0]!r} (expected {mirror_name(missing[0])!r}) among the names")
    return tuple(lookup[mirror_name(n)] for n in names)


@dataclass(frozen=True)
class MirrorMap:
    """Joint-space mirror in one joint order: mirrored[i] = sign[i] · x[perm[i]]."""

    names: tuple[str, ...]
    perm: tuple[int, ...]
    sign: tuple[float, ...]


def joint_mirror(names: Sequence[str]) -> MirrorMap:
    """The mirror of joint vectors in the order `names` (any order: the articulation's, the action's)."""
    names = tuple(names)
    perm = index_mirror(names)
    return MirrorMap(names, perm, tuple(joint_sign(n) for n in names))
