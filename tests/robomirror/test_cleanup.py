"""Physical cleanup of generated motion: known skating, floating and out-of-range motions are
repaired, and real motion is left almost as it is."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.motion.kinematics import motion_from_joint_trajectory
from mimiclab.retarget.quality import quality_metrics, sole_heights
from mimiclab.robomirror.cleanup import clamp_joints, clean_motion, ground_and_pin
from mimiclab.robots.g1 import G1

FPS = 50.0


def _standing(T=60, speed=0.0, lift=0.0):
    q = np.tile([j.default_pos for j in G1.joints], (T, 1)).astype(float)
    pos = np.zeros((T, 3))
    pos[:, 0] = speed * np.arange(T) / FPS
    pos[:, 2] = G1.default_root_height + lift
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    return pos, quat, q


def _report(pos, quat, q):
    return quality_metrics(motion_from_joint_trajectory(pos, quat, q, FPS), None, None)


def test_a_skating_stance_is_pinned_in_place():
    pos, quat, q = _standing(speed=0.5)
    before = _report(pos, quat, q)
    assert before["foot_sliding_m_s"] > 0.4  # both feet glide at the root's 0.5 m/s
    fixed = ground_and_pin(pos, quat, q)
    after = _report(fixed, quat, q)
    assert after["foot_sliding_m_s"] < 1e-6 and after["sliding_frames"] == 0.0
    np.testing.assert_allclose(fixed[:, :2], np.broadcast_to(fixed[0, :2], (len(fixed), 2)), atol=1e-9)  # the body stays where it stood


def test_a_floating_motion_is_put_on_the_ground():
    pos, quat, q = _standing(lift=0.3)
    fixed = ground_and_pin(pos, quat, q)
    soles = sole_heights(fixed, quat, q).min(axis=1)
    np.testing.assert_allclose(soles, 0.0, atol=1e-9)
    sunk = ground_and_pin(*_standing(lift=-0.1)[:1], quat, q)
    assert sole_heights(sunk, quat, q).min() == pytest.approx(0.0, abs=1e-9)


def test_joints_are_clamped_into_limits_and_human_ranges():
    q = np.zeros((2, 29))
    hy = G1.joint_names.index("left_hip_yaw_joint")
    kn = G1.joint_names.index("right_knee_joint")
    q[0, hy], q[1, hy] = 2.0, -2.0  # the G1 allows ±2.7, a human about ±0.9
    q[:, kn] = -1.0  # a knee bent backwards
    out = clamp_joints(q)
    assert out[0, hy] == pytest.approx(0.899) and out[1, hy] == pytest.approx(-0.899)
    from mimiclab.robots.human_ranges import TWIST_RANGES

    np.testing.assert_allclose(out[:, kn], TWIST_RANGES['right_knee_joint'][0] + 1e-3)  # straightened, not bent back
    lo = np.array([j.lower for j in G1.joints])
    hi = np.array([j.upper for j in G1.joints])
    wild = clamp_joints(np.random.default_rng(0).normal(0, 5, (50, 29)))
    assert (wild >= lo).all() and (wild <= hi).all()


def test_real_motion_passes_through_the_cleanup_nearly_unchanged(mirror_data):
    from mimiclab.retarget.learned.inference import mean_body_error
    from mimiclab.retarget.learned.pairs import read_pair

    walk = next(p for p in mirror_data["pairs"] if "_walk_" in p)
    pair = read_pair(walk)
    pos, quat, q = (pair[k].astype(np.float64) for k in ("root_pos", "root_quat", "joint_pos"))
    out = clean_motion(pos, quat, q, FPS)
    assert mean_body_error((pos, quat, q), out) < 0.02  # metres, over all bodies and frames
    before, after = _report(pos, quat, q), _report(*out)
    assert not after["failed_bounds"], after["failed_bounds"]
    assert after["foot_sliding_m_s"] <= before["foot_sliding_m_s"] + 0.005
