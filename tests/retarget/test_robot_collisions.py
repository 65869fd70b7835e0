"""``mimiclab.retarget.robot_collisions``: the C++ batch (``_C_mujoco.penetrating_contacts``) gives
exactly the Python reference's contacts, finds a known overlap, and refuses bad arrays."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.motion.kinematics import motion_from_joint_trajectory
from mimiclab.retarget import robot_collisions as rc
from mimiclab.robots.g1 import G1


def _motion_with_overlaps(T: int = 40, seed: int = 0):
    """Default pose with random joint noise; frames 10-19 swing the left arm through the torso,
    frames 25-29 press the knees together."""
    rng = np.random.default_rng(seed)
    lo, hi = np.array([j.lower for j in G1.joints]), np.array([j.upper for j in G1.joints])
    q = np.clip(np.tile([j.default_pos for j in G1.joints], (T, 1)) + 0.05 * rng.normal(size=(T, G1.num_joints)), lo, hi)
    j = G1.joint_names.index
    q[10:20, j("left_shoulder_roll_joint")] = -1.5
    q[10:20, j("left_elbow_joint")] = 1.3
    q[25:30, j("left_hip_roll_joint")] = -0.4
    q[25:30, j("right_hip_roll_joint")] = 0.4
    root = np.tile([0.0, 0.0, 0.8], (T, 1))
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    return motion_from_joint_trajectory(root, quat, q, 50.0)


def test_native_batch_equals_the_python_reference_exactly():
    from mimiclab.kernels.backends import mujoco_worlds_module

    native = mujoco_worlds_module()
    assert native is not None, "mimiclab._C_mujoco was not built (the set-up builds it against the mujoco wheel)"
    motion = _motion_with_overlaps()
    got = rc.penetrating_contacts(motion)
    ref = rc._penetrating_contacts_python(rc.pose_rows(motion))
    assert got.frame.size > 10  # the arm and the knees overlap
    for field in ("frame", "geom", "dist", "normal"):
        np.testing.assert_array_equal(getattr(got, field), getattr(ref, field), err_msg=field)
    assert got.frame.dtype == np.int32 and got.geom.shape == (got.frame.size, 2) and (got.dist < 0).all()


def test_colliding_frames_are_the_overlapping_ones():
    flags = rc.colliding_frames(_motion_with_overlaps())
    assert flags[10:20].all() and flags[25:30].all()
    assert not flags[:8].any() and not flags[32:].any()


def test_bad_pose_rows_are_refused():
    from mimiclab.kernels.backends import mujoco_worlds_module

    native = mujoco_worlds_module()
    if native is None:
        pytest.skip("mimiclab._C_mujoco was not built")
    model, data = rc.collision_model()
    with pytest.raises(ValueError, match="qpos must be"):
        native.penetrating_contacts(model._address, data._address, np.zeros((3, model.nq + 1)))
    with pytest.raises(ValueError, match="C-contiguous numpy array"):
        native.penetrating_contacts(model._address, data._address, np.zeros((3, model.nq), np.float32))
    with pytest.raises(ValueError, match="null model"):
        native.penetrating_contacts(0, data._address, np.zeros((3, model.nq)))
