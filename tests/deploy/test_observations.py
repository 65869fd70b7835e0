"""The runtime's observation terms on hand-made states with known answers (``mimiclab.deploy.observations``)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from mimiclab.deploy.observations import (
    KEYPOINT_TERM_NAMES,
    STATE_ESTIMATION_TERM_NAMES,
    TERM_NAMES,
    RobotState,
    observation_spec,
    observation_terms,
)
from mimiclab.deploy.reference import ReferenceStep
from mimiclab.robots.g1 import G1

J, K = G1.num_joints, 4
IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])
YAW90 = np.array([math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)])
DEFAULT = np.array([j.default_pos for j in G1.joints])


def _ref(anchor_pos=(0.0, 0.0, 1.0), anchor_quat=IDENTITY, now_pos=None, now_quat=None,
         anchor_lin_vel=(0.0, 0.0, 0.0)) -> ReferenceStep:
    """Futures at `anchor_pos`/`anchor_quat`; the reference anchor now at `now_pos`/`now_quat` (default:
    the same) moving at `anchor_lin_vel` [m/s] (world)."""
    B, a = 14, 7
    body_pos, body_quat, body_vel = np.zeros((B, 3)), np.tile(IDENTITY, (B, 1)), np.zeros((B, 3))
    body_pos[a] = anchor_pos if now_pos is None else now_pos
    body_quat[a] = anchor_quat if now_quat is None else now_quat
    body_vel[a] = anchor_lin_vel
    return ReferenceStep(time=0.0, joint_pos=np.zeros(J), joint_vel=np.zeros(J), body_pos_w=body_pos,
                         body_quat_w=body_quat, anchor_index=a,
                         future_joint_pos=np.arange(K * J, dtype=float).reshape(K, J),
                         future_anchor_pos_w=np.tile(anchor_pos, (K, 1)),
                         future_anchor_quat_w=np.tile(anchor_quat, (K, 1)), body_lin_vel_w=body_vel)


def _state(base_quat=IDENTITY, anchor_pos=(0.0, 0.0, 1.0), anchor_quat=IDENTITY, q=DEFAULT) -> RobotState:
    return RobotState(joint_pos=np.asarray(q, float), joint_vel=np.linspace(-1, 1, J), base_quat_w=base_quat,
                      base_ang_vel_b=np.array([0.1, 0.2, 0.3]), anchor_pos_w=np.asarray(anchor_pos, float),
                      anchor_quat_w=anchor_quat)


def test_identity_pose_gives_known_terms():
    last = np.full(J, 0.5)
    obs = observation_terms(_state(), _ref(), last, DEFAULT)
    assert tuple(obs) == TERM_NAMES  # the proprioceptive default set, in order
    assert obs["projected_gravity"] == pytest.approx([0.0, 0.0, -1.0])
    assert obs["ref_anchor_pos_local"] == pytest.approx(np.zeros(K * 3))
    assert obs["ref_anchor_lin_vel"] == pytest.approx(np.zeros(3))
    assert obs["ref_anchor_ori"] == pytest.approx(np.tile([1.0, 0.0, 0.0, 1.0, 0.0, 0.0], K))
    assert obs["joint_pos"] == pytest.approx(np.zeros(J))
    assert obs["ref_joint_pos"] == pytest.approx(np.arange(K * J))  # offset-major: k, then joints
    assert obs["actions"] == pytest.approx(last)
    assert obs["base_ang_vel"] == pytest.approx([0.1, 0.2, 0.3])


def test_yawed_robot_sees_the_reference_anchor_rotated():
    """Robot anchor yawed +90° at the origin; the reference anchor 1 m ahead along world x is on the
    robot's right (−y) and its identity orientation is a −90° yaw relative to the robot."""
    obs = observation_terms(_state(base_quat=YAW90, anchor_pos=(0, 0, 0), anchor_quat=YAW90),
                            _ref(anchor_pos=(1.0, 0.0, 0.0)), np.zeros(J), DEFAULT, STATE_ESTIMATION_TERM_NAMES)
    assert tuple(obs) == STATE_ESTIMATION_TERM_NAMES
    assert obs["ref_anchor_pos"].reshape(K, 3) == pytest.approx(np.tile([0.0, -1.0, 0.0], (K, 1)), abs=1e-12)
    # R(−90° yaw) = [[0, 1, 0], [−1, 0, 0], [0, 0, 1]]; first two columns row by row
    assert obs["ref_anchor_ori"].reshape(K, 6) == pytest.approx(np.tile([0, 1, -1, 0, 0, 0], (K, 1)), abs=1e-12)
    assert obs["projected_gravity"] == pytest.approx([0.0, 0.0, -1.0])  # yaw leaves gravity alone


def test_reference_only_anchor_terms_are_in_the_reference_s_own_frame():
    """Reference anchor now at (2, 3, 1) yawed +90°, its futures 1 m further along world x, moving at
    0.5 m/s along world x: in its own frame both point to its right (−y). The robot's state never enters:
    shifted by 10 m and turned, it sees the same numbers."""
    ref = _ref(anchor_pos=(3.0, 3.0, 1.0), now_pos=(2.0, 3.0, 1.0), now_quat=YAW90, anchor_lin_vel=(0.5, 0.0, 0.0))
    obs = observation_terms(_state(), ref, np.zeros(J), DEFAULT)
    assert obs["ref_anchor_pos_local"].reshape(K, 3) == pytest.approx(np.tile([0.0, -1.0, 0.0], (K, 1)), abs=1e-12)
    assert obs["ref_anchor_lin_vel"] == pytest.approx([0.0, -0.5, 0.0], abs=1e-12)
    moved = observation_terms(_state(base_quat=YAW90, anchor_pos=(10.0, 0.0, 1.0), anchor_quat=YAW90), ref,
                              np.zeros(J), DEFAULT)
    for name in ("ref_anchor_pos_local", "ref_anchor_lin_vel", "ref_joint_pos"):
        np.testing.assert_array_equal(moved[name], obs[name])
    se = observation_terms(_state(anchor_pos=(10.0, 0.0, 1.0)), ref, np.zeros(J), DEFAULT, STATE_ESTIMATION_TERM_NAMES)
    assert se["ref_anchor_pos"].reshape(K, 3)[0] == pytest.approx([-7.0, 3.0, 0.0])  # world-relative: it moves


def test_keypoints_are_in_the_reference_anchor_s_heading_frame():
    """Reference anchor at (2, 3, 1), yawed +90° and pitched 30° (the pitch must not enter); body b's
    future k at the anchor + (k + 1, 0, 0.1·b) in world: in the heading frame the offset turns to
    (0, −(k + 1), 0.1·b). The robot's state never enters."""
    B = 14
    pitch = np.array([math.cos(math.pi / 12), 0.0, math.sin(math.pi / 12), 0.0])
    from mimiclab.rotations.numpy_ops import quat_mul

    now = quat_mul(YAW90, pitch)
    anchor = np.array([2.0, 3.0, 1.0])
    offsets = np.array([[[k + 1.0, 0.0, 0.1 * b] for b in range(B)] for k in range(K)])
    ref = replace(_ref(now_pos=tuple(anchor), now_quat=now), future_body_pos_w=anchor + offsets)
    obs = observation_terms(_state(), ref, np.zeros(J), DEFAULT, KEYPOINT_TERM_NAMES)
    want = np.array([[[0.0, -(k + 1.0), 0.1 * b] for b in range(B)] for k in range(K)])
    assert obs["ref_keypoints"] == pytest.approx(want.reshape(-1), abs=1e-12)
    moved = observation_terms(_state(base_quat=YAW90, anchor_pos=(10.0, 0.0, 1.0), anchor_quat=YAW90), ref,
                              np.zeros(J), DEFAULT, KEYPOINT_TERM_NAMES)
    np.testing.assert_array_equal(moved["ref_keypoints"], obs["ref_keypoints"])
    assert [t.dim for t in observation_spec(KEYPOINT_TERM_NAMES, J, K, B)][0] == K * B * 3
    with pytest.raises(ValueError, match="future_body_pos_w"):
        observation_terms(_state(), _ref(), np.zeros(J), DEFAULT, KEYPOINT_TERM_NAMES)


def test_unknown_term_names_are_refused_in_one_line():
    with pytest.raises(ValueError) as e:
        observation_terms(_state(), _ref(), np.zeros(J), DEFAULT, ("ref_joint_pos", "height_scan"))
    assert "'height_scan' is not implemented by mimiclab.deploy.observations" in str(e.value)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="'height_scan' is not implemented"):
        observation_spec(("height_scan",), J, K)
    no_velocity = replace(_ref(), body_lin_vel_w=None)
    with pytest.raises(ValueError, match="ref_anchor_lin_vel"):
        observation_terms(_state(), no_velocity, np.zeros(J), DEFAULT)


def test_pitched_base_projects_gravity_forward():
    """Pitched +90° about y (body x turned to world −z, nose down): gravity lies along body +x."""
    q = np.array([math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0])
    obs = observation_terms(_state(base_quat=q), _ref(), np.zeros(J), DEFAULT)
    assert obs["projected_gravity"] == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)


def test_joint_pos_is_relative_to_the_default():
    q = DEFAULT + np.linspace(0.0, 0.3, J)
    obs = observation_terms(_state(q=q), _ref(), np.zeros(J), DEFAULT)
    assert obs["joint_pos"] == pytest.approx(np.linspace(0.0, 0.3, J))


def test_spec_dims_match_the_computed_terms(g1_contract, g1_state_estimation_contract):
    """What observation_spec declares (and the runtime checks contracts against) is what
    observation_terms produces, for both actors; the fixtures' contracts match it."""
    for contract in (g1_contract, g1_state_estimation_contract):
        names = [t.name for t in contract.observations]
        spec = observation_spec(names, J, K)
        terms = observation_terms(_state(), _ref(), np.zeros(J), DEFAULT, names)
        assert [(t.name, t.dim) for t in spec] == [(n, v.size) for n, v in terms.items()]
        assert spec == contract.observations
