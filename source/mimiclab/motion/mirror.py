"""Mirror a robot motion clip left-right (across the world x-z plane, y → −y).

Joints and bodies swap with their twins (``mimiclab.robots.mirror``), roll and yaw angles change
sign; positions and linear velocities get y → −y, orientations R → M R M (quaternion wxyz
(w, x, y, z) → (w, −x, y, −z)), angular velocities (x, y, z) → (−x, y, −z). Used for symmetric
data and to test that the tasks' mirror maps agree with the physics.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mimiclab.motion.format import MotionData
from mimiclab.robots.mirror import index_mirror, joint_mirror

__all__ = ["mirror_motion"]

_POLAR = np.array([1.0, -1.0, 1.0], dtype=np.float32)
_AXIAL = np.array([-1.0, 1.0, -1.0], dtype=np.float32)
_QUAT = np.array([1.0, -1.0, 1.0, -1.0], dtype=np.float32)


def mirror_motion(motion: MotionData) -> MotionData:
    """The clip's mirror image (same names and orders). ValueError for a clip with an object
    track or a joint / body without a twin."""
    if motion.objects:
        raise ValueError("mirror: clips with an object track are not supported")
    j = joint_mirror(motion.joint_names)
    jp, js = list(j.perm), np.asarray(j.sign, dtype=np.float32)
    b = list(index_mirror(motion.body_names))
    f32 = np.float32
    return replace(
        motion,
        joint_names=list(motion.joint_names), body_names=list(motion.body_names),
        joint_pos=(motion.joint_pos[:, jp] * js).astype(f32), joint_vel=(motion.joint_vel[:, jp] * js).astype(f32),
        root_pos_w=(motion.root_pos_w * _POLAR).astype(f32), root_quat_w=(motion.root_quat_w * _QUAT).astype(f32),
        body_pos_w=(motion.body_pos_w[:, b] * _POLAR).astype(f32),
        body_quat_w=(motion.body_quat_w[:, b] * _QUAT).astype(f32),
        body_lin_vel_w=(motion.body_lin_vel_w[:, b] * _POLAR).astype(f32),
        body_ang_vel_w=(motion.body_ang_vel_w[:, b] * _AXIAL).astype(f32),
        meta={**motion.meta, "mirrored": not bool(motion.meta.get("mirrored", False))},
        objects={},
    )
