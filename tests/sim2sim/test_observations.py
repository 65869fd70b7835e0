"""sim2sim observation terms on hand-made states with known answers, and their contract."""

from __future__ import annotations

import math
from dataclasses import replace

import mujoco
import numpy as np
import pytest

from mimiclab.deploy.contract import ContractError, check_contract
from mimiclab.robots.g1 import G1
from mimiclab.sim2sim.model import build_model
from mimiclab.sim2sim.observations import (
    STATE_ESTIMATION_TERM_NAMES,
    TERM_NAMES,
    RobotState,
    TrackingObservations,
    observation_terms,
)
from mimiclab.sim2sim.reference import ReferenceStep

J, K = G1.num_joints, 4
IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])
YAW90 = np.array([math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)])
DEFAULT = np.array([j.default_pos for j in G1.joints])


@pytest.fixture(scope="module")
def model(g1_contract):
    return build_model(g1_contract)


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


def test_unknown_term_names_are_refused_in_one_line(model, g1_contract):
    with pytest.raises(ValueError) as e:
        observation_terms(_state(), _ref(), np.zeros(J), DEFAULT, ("ref_joint_pos", "height_scan"))
    assert "'height_scan' is not implemented by sim2sim" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match="'height_scan' is not implemented"):
        TrackingObservations(model, g1_contract.default_joint_pos, term_names=("height_scan",))
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


def test_compute_reads_the_mujoco_state(model, g1_contract):
    """A pelvis yawed 90° with a spin about its own z: projected gravity stays (0,0,−1), the angular
    velocity term is the free joint's body-frame qvel[3:6], joints map by name."""
    obs = TrackingObservations(model, g1_contract.default_joint_pos)
    data = mujoco.MjData(model)
    ix = obs.index
    data.qpos[ix.root_qpos] = [0.3, -0.2, 0.8, *YAW90]
    data.qpos[ix.qpos_adr] = DEFAULT + 0.1
    data.qvel[ix.root_qvel] = [0.0, 0.0, 0.0, 0.0, 0.0, 1.5]
    data.qvel[ix.dof_adr] = np.arange(J) * 0.01
    mujoco.mj_kinematics(model, data)
    ref = _ref(anchor_pos=data.xpos[obs.anchor_id], anchor_quat=data.xquat[obs.anchor_id])
    terms = obs.compute(model, data, ref, np.zeros(J))
    assert terms["projected_gravity"] == pytest.approx([0.0, 0.0, -1.0], abs=1e-12)
    assert terms["base_ang_vel"] == pytest.approx([0.0, 0.0, 1.5])
    assert terms["joint_pos"] == pytest.approx(np.full(J, 0.1))
    assert terms["joint_vel"] == pytest.approx(np.arange(J) * 0.01)
    assert terms["ref_anchor_pos_local"] == pytest.approx(np.zeros(K * 3), abs=1e-12)  # futures = anchor now
    assert terms["ref_anchor_ori"] == pytest.approx(np.tile([1, 0, 0, 1, 0, 0], K), abs=1e-12)
    assert [t.name for t in obs.terms] == list(terms)
    assert [t.dim for t in obs.terms] == [terms[t.name].size for t in obs.terms]
    se = TrackingObservations(model, g1_contract.default_joint_pos, term_names=STATE_ESTIMATION_TERM_NAMES)
    se_terms = se.compute(model, data, ref, np.zeros(J))
    assert list(se_terms) == list(STATE_ESTIMATION_TERM_NAMES) == [t.name for t in se.terms]
    assert se_terms["ref_anchor_pos"] == pytest.approx(np.zeros(K * 3), abs=1e-12)  # reference = robot anchor


def test_target_fits_the_task_contract_and_catches_mismatches(model, g1_contract):
    obs = TrackingObservations(model, g1_contract.default_joint_pos)
    check_contract(g1_contract, obs.target(model))
    with pytest.raises(ContractError, match="future_offsets"):
        check_contract(replace(g1_contract, future_offsets=(1, 2, 3, 4)), obs.target(model))
    swapped = list(g1_contract.observations)
    swapped[3], swapped[4] = swapped[4], swapped[3]
    with pytest.raises(ContractError, match="observation order"):
        check_contract(replace(g1_contract, observations=tuple(swapped)), obs.target(model))
    other = build_model(replace(g1_contract, kp=tuple(k * 2 for k in g1_contract.kp)))
    with pytest.raises(ContractError, match="kp of"):
        check_contract(g1_contract, TrackingObservations(other, g1_contract.default_joint_pos).target(other))
    relabelled = tuple(replace(t, signals=("reference", "base_position")) if t.name == "ref_anchor_lin_vel" else t
                       for t in g1_contract.observations)
    with pytest.raises(ContractError, match="observation 'ref_anchor_lin_vel' needs signals"):
        check_contract(replace(g1_contract, observations=relabelled, proprioceptive=False), obs.target(model))


def test_term_set_follows_the_contract(model, g1_contract, g1_state_estimation_contract):
    """The state-estimation contract gets its own term set (from its names) and fits; the default set does not."""
    se = TrackingObservations(model, g1_state_estimation_contract.default_joint_pos,
                              term_names=[t.name for t in g1_state_estimation_contract.observations])
    check_contract(g1_state_estimation_contract, se.target(model))
    with pytest.raises(ContractError, match="observation term 'ref_anchor_pos' is not produced by the target"):
        check_contract(g1_state_estimation_contract,
                       TrackingObservations(model, g1_contract.default_joint_pos).target(model))
