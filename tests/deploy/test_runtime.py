"""The deployment runtime follows every field of the contract it runs, or refuses it.

Each test changes one field family of a contract and shows the runtime's observation, targets or
gains change accordingly (or that it refuses the contract); the last ones show that a contract.json
edited after export is refused against its ONNX, whatever the field."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from mimiclab.deploy.contract import ContractError
from mimiclab.deploy.observations import RobotState
from mimiclab.deploy.runtime import PolicyRuntime
from mimiclab.robots.g1 import G1

J = G1.num_joints
DEFAULT = np.array([j.default_pos for j in G1.joints])


@pytest.fixture(scope="module")
def clip():
    """2 s at 50 fps: every joint on its own sine about the default pose, the root walking forward and
    turning (so every reference term moves)."""
    from mimiclab.motion.kinematics import motion_from_joint_trajectory

    t = np.arange(101) / 50.0
    q = DEFAULT + 0.2 * np.sin(2 * np.pi * 0.7 * t[:, None] + np.arange(J)[None] * 0.3)
    yaw = 0.4 * t
    quat = np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=1)
    root = np.stack([0.5 * t, 0.1 * np.sin(t), 0.76 + 0.02 * np.sin(3 * t)], axis=1)
    return motion_from_joint_trajectory(root, quat, q, fps=50.0, joint_names=list(G1.joint_names))


def _state(q=DEFAULT) -> RobotState:
    yaw = 0.3
    quat = np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])
    return RobotState(joint_pos=np.asarray(q, float), joint_vel=np.linspace(-1, 1, J), base_quat_w=quat,
                      base_ang_vel_b=np.array([0.1, -0.2, 0.3]), anchor_pos_w=np.array([0.2, 0.1, 1.0]),
                      anchor_quat_w=quat)


class Recorder:
    """A policy that returns a fixed action and records what it was fed."""

    def __init__(self, action=None):
        self.action = np.zeros(J, np.float32) if action is None else np.asarray(action, np.float32)
        self.seen = []

    def __call__(self, terms):
        self.seen.append({k: v.copy() for k, v in terms.items()})
        return self.action


def _observe(contract, clip, k=10):
    rt = PolicyRuntime(contract, Recorder())
    return rt.observe(_state(), rt.reference(clip).step(k))


# ---- observations: refused when they are not what the runtime builds ---------------------------

def test_observation_order_dims_names_and_signals_are_checked(g1_contract):
    terms = list(g1_contract.observations)
    cases = {
        "has dim 7": replace(g1_contract, observations=tuple(replace(t, dim=7) if t.name == "base_ang_vel" else t
                                                             for t in terms)),
        "'height_scan' is not implemented": replace(g1_contract, observations=tuple(terms) + (
            replace(terms[0], name="height_scan"),)),
        "is defined as": replace(g1_contract, observations=tuple(
            replace(t, definition="joint positions [deg]") if t.name == "joint_pos" else t for t in terms)),
        "needs signals": replace(g1_contract, observations=tuple(
            replace(t, signals=("imu_gravity", "joint_pos")) if t.name == "projected_gravity" else t for t in terms)),
    }
    for want, contract in cases.items():
        with pytest.raises(ContractError, match=want):
            PolicyRuntime(contract, Recorder())
    no_gyro = ("joint_pos", "joint_vel", "imu_gravity", "reference", "last_action")
    with pytest.raises(ContractError, match="needs imu_gyro"):
        PolicyRuntime(g1_contract, Recorder(), available_signals=no_gyro)
    PolicyRuntime(g1_contract, Recorder(), available_signals=no_gyro + ("imu_gyro",))  # what a G1 has: fits


def test_the_term_set_and_order_are_the_contract_s(g1_contract, g1_state_estimation_contract, clip):
    a, b = _observe(g1_contract, clip), _observe(g1_state_estimation_contract, clip)
    assert list(a) == [t.name for t in g1_contract.observations]
    assert list(b) == [t.name for t in g1_state_estimation_contract.observations]
    swapped = list(g1_contract.observations)
    swapped[3], swapped[4] = swapped[4], swapped[3]
    c = _observe(replace(g1_contract, observations=tuple(swapped)), clip)
    assert list(c) == [t.name for t in swapped]  # the ONNX inputs are named: the order is the contract's


# ---- the reference: joints, bodies, control rate, futures follow the contract --------------------

def test_future_offsets_are_sampled_as_the_contract_says(g1_contract, clip):
    base = _observe(g1_contract, clip)
    near = _observe(replace(g1_contract, future_offsets=(1, 2, 3, 4)), clip)
    assert near["ref_joint_pos"].shape == base["ref_joint_pos"].shape
    np.testing.assert_allclose(near["ref_joint_pos"][:2 * J], base["ref_joint_pos"][:2 * J])  # offsets 1, 2
    assert not np.allclose(near["ref_joint_pos"][2 * J:], base["ref_joint_pos"][2 * J:])  # 3, 4 against 4, 8
    from mimiclab.deploy.reference import ClipReference

    rt, c = PolicyRuntime(g1_contract, Recorder()), g1_contract
    other = ClipReference.from_motion(clip, c.joint_names, c.tracked_bodies, c.anchor_body, c.control_dt, (1, 2))
    with pytest.raises(ContractError, match="future frames"):
        rt.observe(_state(), other.step(0))
    with pytest.raises(ContractError, match="ref_joint_pos' has dim 116 but the target produces 58"):
        PolicyRuntime(replace(g1_contract, future_offsets=(1, 2)), Recorder())  # dims no longer fit: refused


def test_control_rate_and_joint_order_follow_the_contract(g1_contract, clip):
    base = _observe(g1_contract, clip)
    faster = _observe(replace(g1_contract, decimation=2), clip)  # control_dt 0.01 s: futures nearer
    assert not np.allclose(faster["ref_joint_pos"], base["ref_joint_pos"])
    names = list(g1_contract.joint_names)
    names[0], names[1] = names[1], names[0]
    swapped = _observe(replace(g1_contract, joint_names=tuple(names)), clip)  # the clip is mapped by name
    np.testing.assert_allclose(swapped["ref_joint_pos"].reshape(4, J)[:, [1, 0]],
                               base["ref_joint_pos"].reshape(4, J)[:, [0, 1]])


def test_anchor_body_follows_the_contract(g1_contract, clip):
    base = _observe(g1_contract, clip)
    pelvis = _observe(replace(g1_contract, anchor_body="pelvis"), clip)
    assert not np.allclose(pelvis["ref_anchor_ori"], base["ref_anchor_ori"])
    np.testing.assert_allclose(pelvis["ref_joint_pos"], base["ref_joint_pos"])


def test_default_pose_is_the_zero_of_the_joint_pos_term(g1_contract, clip):
    shifted = tuple(d + 0.1 for d in g1_contract.default_joint_pos)
    a, b = _observe(g1_contract, clip), _observe(replace(g1_contract, default_joint_pos=shifted), clip)
    np.testing.assert_allclose(a["joint_pos"] - b["joint_pos"], 0.1)


# ---- the action: targets and gains follow the contract ---------------------------------------------

def test_targets_follow_scale_offset_and_offset_source(g1_contract, clip):
    action = np.linspace(-1, 1, J).astype(np.float32)
    rt = PolicyRuntime(g1_contract, Recorder(action))
    ref = rt.reference(clip)
    cmd = rt.step(_state(), ref.step(10), ref.step(11))
    np.testing.assert_allclose(cmd.joint_pos_target, np.array(g1_contract.action_offset)
                               + np.array(g1_contract.action_scale) * action, rtol=1e-6)
    np.testing.assert_array_equal(cmd.action, action)
    double = PolicyRuntime(replace(g1_contract, action_scale=tuple(2 * s for s in g1_contract.action_scale)),
                           Recorder(action)).step(_state(), ref.step(10), ref.step(11))
    np.testing.assert_allclose(double.joint_pos_target - np.array(g1_contract.action_offset),
                               2 * (cmd.joint_pos_target - np.array(g1_contract.action_offset)), rtol=1e-6)
    moved = PolicyRuntime(replace(g1_contract, action_offset=tuple(o + 0.05 for o in g1_contract.action_offset)),
                          Recorder(action)).step(_state(), ref.step(10), ref.step(11))
    np.testing.assert_allclose(moved.joint_pos_target - cmd.joint_pos_target, 0.05, rtol=1e-6)
    relative = PolicyRuntime(replace(g1_contract, action_offset_from="reference"), Recorder(action))
    r = relative.step(_state(), ref.step(10), ref.step(11))
    np.testing.assert_allclose(r.joint_pos_target, ref.step(11).joint_pos
                               + np.array(g1_contract.action_scale) * action, rtol=1e-6)


def test_gains_and_effort_limits_come_with_every_command(g1_contract, clip):
    c = replace(g1_contract, kp=tuple(1.5 * k for k in g1_contract.kp),
                effort_limit=tuple(0.5 * e for e in g1_contract.effort_limit))
    rt = PolicyRuntime(c, Recorder())
    ref = rt.reference(clip)
    cmd = rt.step(_state(), ref.step(0), ref.step(1))
    np.testing.assert_allclose(cmd.kp, c.kp)
    np.testing.assert_allclose(cmd.kd, c.kd)
    np.testing.assert_allclose(cmd.effort_limit, c.effort_limit)


def test_last_action_is_fed_back_and_reset(g1_contract, clip):
    action = np.full(J, 0.25, np.float32)
    policy = Recorder(action)
    rt = PolicyRuntime(g1_contract, policy)
    ref = rt.reference(clip)
    rt.step(_state(), ref.step(0), ref.step(1))
    rt.step(_state(), ref.step(1), ref.step(2))
    rt.reset()
    rt.step(_state(), ref.step(0), ref.step(1))
    assert [float(s["actions"][0]) for s in policy.seen] == [0.0, 0.25, 0.0]


def test_a_bad_policy_output_is_refused(g1_contract, clip):
    rt = PolicyRuntime(g1_contract, lambda terms: np.zeros(J - 1, np.float32))
    ref = rt.reference(clip)
    with pytest.raises(ContractError, match="28"):
        rt.act(_state(), ref.step(0))
    rt = PolicyRuntime(g1_contract, lambda terms: np.full(J, np.nan, np.float32))
    with pytest.raises(ContractError, match="non-finite"):
        rt.act(_state(), ref.step(0))


# ---- the exported pair: a contract edited after export is refused ----------------------------------

TAMPERED = {  # field → how to change it in contract.json
    "joint_names": lambda v: [v[1], v[0], *v[2:]],
    "kp": lambda v: [2 * x for x in v],
    "kd": lambda v: [2 * x for x in v],
    "effort_limit": lambda v: [0.5 * x for x in v],
    "armature": lambda v: [2 * x for x in v],
    "action_scale": lambda v: [2 * x for x in v],
    "action_offset": lambda v: [x + 0.1 for x in v],
    "action_offset_from": lambda v: "reference" if v == "default" else "default",
    "default_joint_pos": lambda v: [x + 0.1 for x in v],
    "anchor_body": lambda v: "pelvis",
    "base_body": lambda v: "torso_link",
    "tracked_bodies": lambda v: v[:-1],
    "end_effectors": lambda v: v[:2],
    "termination_thresholds": lambda v: {**v, "anchor_height": 0.5},
    "future_offsets": lambda v: [1, 2, 3, 4],
    "physics_dt": lambda v: 0.002,
    "decimation": lambda v: 10,
}


@pytest.mark.parametrize("field", sorted(TAMPERED))
def test_a_contract_edited_after_export_is_refused(random_policy_dir, tmp_path, field):
    import shutil

    src = random_policy_dir[0]
    dst = tmp_path / "policy"
    shutil.copytree(src, dst)
    d = json.loads((dst / "contract.json").read_text())
    d[field] = TAMPERED[field](d[field])
    d.pop("control_dt", None)  # derived: let only the field itself differ
    (dst / "contract.json").write_text(json.dumps(d))
    with pytest.raises(ContractError) as e:
        PolicyRuntime.load(dst)
    assert "\n" not in str(e.value)
    PolicyRuntime.load(src)  # the untouched pair loads
