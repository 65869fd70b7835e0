"""sim2sim's robot signals read from MuJoCo, fed through the runtime, and the model-side contract check."""

from __future__ import annotations

import math
from dataclasses import replace

import mujoco
import numpy as np
import pytest

from mimiclab.deploy.contract import ContractError, check_contract
from mimiclab.deploy.observations import STATE_ESTIMATION_TERM_NAMES
from mimiclab.deploy.reference import ReferenceStep
from mimiclab.deploy.runtime import PolicyRuntime
from mimiclab.robots.g1 import G1
from mimiclab.sim2sim.model import build_model
from mimiclab.sim2sim.signals import MujocoSignals

J, K = G1.num_joints, 4
IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])
YAW90 = np.array([math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)])
DEFAULT = np.array([j.default_pos for j in G1.joints])


@pytest.fixture(scope="module")
def model(g1_contract):
    return build_model(g1_contract)


def _ref(anchor_pos, anchor_quat) -> ReferenceStep:
    B, a = 14, 7
    body_pos, body_quat = np.zeros((B, 3)), np.tile(IDENTITY, (B, 1))
    body_pos[a], body_quat[a] = anchor_pos, anchor_quat
    return ReferenceStep(time=0.0, joint_pos=np.zeros(J), joint_vel=np.zeros(J), body_pos_w=body_pos,
                         body_quat_w=body_quat, anchor_index=a, future_joint_pos=np.zeros((K, J)),
                         future_anchor_pos_w=np.tile(anchor_pos, (K, 1)),
                         future_anchor_quat_w=np.tile(anchor_quat, (K, 1)), body_lin_vel_w=np.zeros((B, 3)))


def _zero_policy(terms):
    return np.zeros(J, dtype=np.float32)


def test_the_runtime_sees_the_mujoco_state(model, g1_contract, g1_state_estimation_contract):
    """A pelvis yawed 90° with a spin about its own z: projected gravity stays (0,0,−1), the angular
    velocity term is the free joint's body-frame qvel[3:6], joints map by name."""
    signals = MujocoSignals(model, g1_contract)
    data = mujoco.MjData(model)
    ix = signals.index
    data.qpos[ix.root_qpos] = [0.3, -0.2, 0.8, *YAW90]
    data.qpos[ix.qpos_adr] = DEFAULT + 0.1
    data.qvel[ix.root_qvel] = [0.0, 0.0, 0.0, 0.0, 0.0, 1.5]
    data.qvel[ix.dof_adr] = np.arange(J) * 0.01
    mujoco.mj_kinematics(model, data)
    ref = _ref(data.xpos[signals.anchor_id], data.xquat[signals.anchor_id])
    terms = PolicyRuntime(g1_contract, _zero_policy).observe(signals.robot_state(data), ref)
    assert terms["projected_gravity"] == pytest.approx([0.0, 0.0, -1.0], abs=1e-12)
    assert terms["base_ang_vel"] == pytest.approx([0.0, 0.0, 1.5])
    assert terms["joint_pos"] == pytest.approx(np.full(J, 0.1))
    assert terms["joint_vel"] == pytest.approx(np.arange(J) * 0.01)
    assert terms["ref_anchor_pos_local"] == pytest.approx(np.zeros(K * 3), abs=1e-12)  # futures = anchor now
    assert terms["ref_anchor_ori"] == pytest.approx(np.tile([1, 0, 0, 1, 0, 0], K), abs=1e-12)
    assert list(terms) == [t.name for t in g1_contract.observations]
    se_signals = MujocoSignals(model, g1_state_estimation_contract)
    se = PolicyRuntime(g1_state_estimation_contract, _zero_policy).observe(se_signals.robot_state(data), ref)
    assert tuple(se) == STATE_ESTIMATION_TERM_NAMES
    assert se["ref_anchor_pos"] == pytest.approx(np.zeros(K * 3), abs=1e-12)  # reference = robot anchor


def test_model_target_catches_a_model_that_does_not_follow_the_contract(model, g1_contract):
    check_contract(g1_contract, MujocoSignals(model, g1_contract).target(model))
    other = build_model(replace(g1_contract, kp=tuple(k * 2 for k in g1_contract.kp)))
    with pytest.raises(ContractError, match="kp of"):
        check_contract(g1_contract, MujocoSignals(other, g1_contract).target(other))
    slower = build_model(replace(g1_contract, physics_dt=0.002))
    with pytest.raises(ContractError, match="physics_dt"):
        check_contract(g1_contract, MujocoSignals(slower, g1_contract).target(slower))


def test_bodies_the_model_lacks_are_refused(model, g1_contract):
    with pytest.raises(ValueError, match="head_link"):
        MujocoSignals(model, replace(g1_contract, anchor_body="head_link"))
    with pytest.raises(ValueError, match="not the floating base"):
        MujocoSignals(model, replace(g1_contract, base_body="torso_link"))
    with pytest.raises(ValueError, match="tail_link"):
        MujocoSignals(model, replace(g1_contract, tracked_bodies=g1_contract.tracked_bodies + ("tail_link",)))
