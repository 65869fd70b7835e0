"""The G1 table is checked against the MJCF so names, order and limits can never drift apart."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from mimiclab.robots.g1 import G1


@pytest.fixture(scope="module")
def model(g1_mjcf):
    return mujoco.MjModel.from_xml_path(str(g1_mjcf))


def test_joint_names_and_order_match_mjcf(model):
    hinges = [model.joint(i).name for i in range(model.njnt) if model.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE]
    assert tuple(hinges) == G1.joint_names
    assert G1.num_joints == 29


def test_body_names_and_order_match_mjcf(model):
    bodies = [model.body(i).name for i in range(1, model.nbody)]  # 0 is the world
    assert tuple(bodies) == G1.body_names
    assert G1.num_bodies == 30


def test_joint_limits_match_mjcf(model):
    for spec in G1.joints:
        jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, spec.name)
        lo, hi = model.jnt_range[jid]
        assert spec.lower == pytest.approx(lo, abs=1e-6), spec.name
        assert spec.upper == pytest.approx(hi, abs=1e-6), spec.name


def test_default_pose_inside_limits():
    for spec in G1.joints:
        assert spec.lower < spec.default_pos < spec.upper, spec.name


@pytest.mark.parametrize(
    "joint, kp, kd, effort",
    [
        ("left_shoulder_pitch_joint", 14.25, 0.907, 25.0),  # 5020
        ("left_hip_pitch_joint", 40.18, 2.558, 88.0),  # 7520_14
        ("right_knee_joint", 99.10, 6.309, 139.0),  # 7520_22
        ("left_wrist_yaw_joint", 16.78, 1.068, 5.0),  # 4010
        ("left_ankle_pitch_joint", 2 * 14.25, 2 * 0.907, 50.0),  # linkage: 2x 5020
        ("waist_roll_joint", 2 * 14.25, 2 * 0.907, 50.0),
        ("waist_yaw_joint", 40.18, 2.558, 88.0),
    ],
)
def test_gains_follow_the_armature_rule(joint, kp, kd, effort):
    spec = G1.joint(joint)
    assert spec.kp == pytest.approx(kp, abs=0.01)
    assert spec.kd == pytest.approx(kd, abs=0.002)
    assert spec.actuator.effort_limit == effort
    assert spec.action_scale == pytest.approx(0.25 * effort / spec.kp)
    omega = 2 * math.pi * 10.0
    assert spec.kd == pytest.approx(2 * 2.0 * spec.actuator.armature * omega)


def test_left_right_symmetry():
    for spec in G1.joints:
        if spec.name.startswith("left_"):
            other = G1.joint("right_" + spec.name[5:])
            assert other.actuator == spec.actuator
            mirrored = "roll" in spec.name or "yaw" in spec.name
            if mirrored:
                assert (other.lower, other.upper) == pytest.approx((-spec.upper, -spec.lower))
                assert other.default_pos == pytest.approx(-spec.default_pos)
            else:
                assert (other.lower, other.upper) == (spec.lower, spec.upper)
                assert other.default_pos == spec.default_pos


def test_joint_lookup_errors_name_the_joint():
    with pytest.raises(KeyError, match="left_tail_joint"):
        G1.joint_index(["left_knee_joint", "left_tail_joint"])
    assert G1.joint_index(["waist_yaw_joint", "left_hip_pitch_joint"]) == [12, 0]
    assert np.all(np.diff(G1.joint_index(list(G1.joint_names))) == 1)
