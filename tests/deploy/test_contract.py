"""Contract round trip, and every tampering the issue names refused with a one-line message naming the field;
the signals each observation term needs (issue 15)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mimiclab.deploy.contract import (
    Contract,
    ContractError,
    DeploymentTarget,
    ObservationTerm,
    check_contract,
    load_contract,
    save_contract,
)


def _target(c: Contract) -> DeploymentTarget:
    """Everything of `c` a consumer checks (what eval and play build from their env)."""
    from mimiclab.rl.export import target_of

    return target_of(c)


def _tamper(path, edit):
    d = json.loads(path.read_text())
    edit(d)
    path.write_text(json.dumps(d))


def test_round_trip_and_digest(g1_contract, tmp_path):
    save_contract(g1_contract, tmp_path / "contract.json")
    c = load_contract(tmp_path)
    assert c == g1_contract
    assert c.observation_dim == 248 and c.control_dt == pytest.approx(0.02)
    assert c.proprioceptive and c.observations[1].signals == ("reference",)
    check_contract(c, _target(g1_contract))
    assert c.digest() == g1_contract.with_onnx("ab" * 32).digest()  # the ONNX hash is not part of the digest
    assert dataclasses.replace(c, decimation=2).digest() != c.digest()


def _swap(d):
    d["joint_names"][3], d["joint_names"][4] = d["joint_names"][4], d["joint_names"][3]


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["joint_names"].__setitem__(3, "left_knee"), "joint_names"),
    (_swap, "joint_names order"),
    (lambda d: (d["observations"][5].__setitem__("dim", 4), d.pop("observation_dim")), "observation 'base_ang_vel'"),
    (lambda d: (d.__setitem__("physics_dt", 0.004), d.pop("control_dt")), "physics_dt"),
    (lambda d: (d.__setitem__("decimation", 5), d.pop("control_dt")), "decimation"),
    (lambda d: d["kp"].__setitem__(0, 10.0), "kp of 'left_hip_pitch_joint'"),
    (lambda d: d.__setitem__("anchor_body", "pelvis"), "anchor_body"),
    (lambda d: d.__setitem__("base_body", "torso_link"), "base_body"),
    (lambda d: d["action_scale"].__setitem__(2, 0.5), "action_scale of 'left_hip_yaw_joint'"),
    (lambda d: d["action_offset"].__setitem__(3, 0.2), "action_offset of 'left_knee_joint'"),
    (lambda d: d.__setitem__("action_offset_from", "reference"), "action_offset_from"),
    (lambda d: d["observations"][7].__setitem__("signals", ["joint_pos"]), "observation 'joint_vel' needs signals"),
    (lambda d: d["observations"][6].__setitem__("definition", "joint positions [deg]"),
     "observation 'joint_pos' is defined as"),
    (lambda d: d["default_joint_pos"].__setitem__(3, 0.5), "default_joint_pos of 'left_knee_joint'"),
    (lambda d: d["effort_limit"].__setitem__(3, 50.0), "effort_limit of 'left_knee_joint'"),
    (lambda d: d["armature"].__setitem__(3, 0.5), "armature of 'left_knee_joint'"),
    (lambda d: d["tracked_bodies"].pop(1), "tracked_bodies are"),
    (lambda d: d.__setitem__("end_effectors", d["end_effectors"][:2]), "end_effectors are"),
    (lambda d: d["termination_thresholds"].__setitem__("anchor_height", 0.5), "threshold 'anchor_height' is 0.5"),
    (lambda d: d["termination_thresholds"].pop("anchor_gravity"), "termination 'anchor_gravity' of the target"),
    (lambda d: d["termination_thresholds"].__setitem__("knee_angle", 1.0), "termination 'knee_angle' is not"),
])
def test_tampered_contract_is_refused_naming_the_field(g1_contract, tmp_path, edit, field):
    path = save_contract(g1_contract, tmp_path / "contract.json")
    _tamper(path, edit)
    with pytest.raises(ContractError) as e:
        check_contract(load_contract(path), _target(g1_contract), source="contract.json")
    msg = str(e.value)
    assert "\n" not in msg and field in msg, msg


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.__setitem__("observation_dim", 246), "observation_dim"),
    (lambda d: d.__setitem__("control_dt", 0.01), "control_dt"),
    (lambda d: d["kd"].pop(), "kd has 28 values"),
    (lambda d: d["joint_names"].__setitem__(1, d["joint_names"][0]), "twice"),
    (lambda d: d.pop("anchor_body"), "missing field 'anchor_body'"),
    (lambda d: d.__setitem__("quaternion_convention", "xyzw"), "quaternion_convention"),
    (lambda d: d["action_scale"].__setitem__(0, float("nan")), "action_scale"),
    (lambda d: d.__setitem__("format", "other/2"), "format"),
    (lambda d: d.__setitem__("action_offset_from", "previous_action"), "action_offset_from"),
    (lambda d: d["observations"][5].__setitem__("signals", ["imu_gyro", "lidar"]),
     "observation 'base_ang_vel' needs unknown signal 'lidar'"),
    (lambda d: d["observations"][5].pop("signals"), "observation 'base_ang_vel' lists no signals"),
    (lambda d: d["observations"][5].__setitem__("signals", []), "observation 'base_ang_vel' signals must be"),
    (lambda d: d["observations"][5].__setitem__("signals", "imu_gyro"), "observation 'base_ang_vel' signals must be"),
    (lambda d: d.pop("proprioceptive"), "missing field 'proprioceptive'"),
    (lambda d: d.pop("end_effectors"), "missing field 'end_effectors' (a contract of an older mimiclab"),
    (lambda d: d.pop("termination_thresholds"), "missing field 'termination_thresholds'"),
    (lambda d: d["observations"][2].pop("definition"), "observation 'ref_anchor_lin_vel' has no definition"),
    (lambda d: d["end_effectors"].append("head_link"), "end_effectors 'head_link' is not among the tracked"),
    (lambda d: d.__setitem__("anchor_body", "head_link"), "anchor_body 'head_link' is not among the tracked"),
    (lambda d: d["termination_thresholds"].__setitem__("anchor_height", -1), "threshold 'anchor_height' is -1"),
    (lambda d: d.__setitem__("termination_thresholds", [0.25]), "termination_thresholds is not an object"),
    (lambda d: d.__setitem__("future_offsets", [2, 1]), "future_offsets"),
    (lambda d: d.__setitem__("keypoint_weights", {"head_link": 2.0}),
     "keypoint_weights body 'head_link' is not among the tracked"),
    (lambda d: d.__setitem__("keypoint_weights", {"pelvis": 0.0}), "keypoint weight of 'pelvis' is 0.0"),
    (lambda d: d.__setitem__("keypoint_weights", [2.0]), "keypoint_weights is not an object"),
    (lambda d: d.__setitem__("proprioceptive", "yes"), "proprioceptive is 'yes'"),
    (lambda d: d.__setitem__("proprioceptive", False), "proprioceptive is false but no observation needs"),
    (lambda d: d["observations"][6].__setitem__("signals", ["joint_pos", "base_lin_vel"]),
     "proprioceptive is true but observation 'joint_pos' needs base_lin_vel"),
])
def test_inconsistent_contract_is_refused_on_load(g1_contract, tmp_path, edit, field):
    path = save_contract(g1_contract, tmp_path / "contract.json")
    _tamper(path, edit)
    with pytest.raises(ContractError, match=field.replace("(", r"\(")) as e:
        load_contract(path)
    assert "\n" not in str(e.value)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ContractError, match="no such contract"):
        load_contract(tmp_path)
    (tmp_path / "contract.json").write_text("{not json")
    with pytest.raises(ContractError, match="not valid JSON"):
        load_contract(tmp_path)


def test_target_with_another_observation_layout(g1_contract):
    obs = list(g1_contract.observations)
    obs[5], obs[6] = obs[6], obs[5]
    with pytest.raises(ContractError, match="observation order differs at term 5"):
        check_contract(g1_contract, dataclasses.replace(_target(g1_contract), observations=obs))
    with pytest.raises(ContractError, match="'extra_term' is missing"):
        check_contract(g1_contract, dataclasses.replace(_target(g1_contract),
                                                        observations=[*g1_contract.observations,
                                                                      ObservationTerm("extra_term", 3)]))


# --- signals (issue 15) -----------------------------------------------------------------------


def test_state_estimation_contract_round_trip_is_not_proprioceptive(g1_state_estimation_contract, tmp_path):
    c = g1_state_estimation_contract
    assert c.observation_dim == 245 and not c.proprioceptive
    assert [t.name for t in c.observations if t.needs_state_estimation] == ["ref_anchor_pos"]
    assert load_contract(save_contract(c, tmp_path / "contract.json")) == c
    path = save_contract(dataclasses.replace(c, proprioceptive=True), tmp_path / "labelled.json")
    with pytest.raises(ContractError, match="proprioceptive is true but observation 'ref_anchor_pos' needs "
                                            "base_position"):
        load_contract(path)


def test_a_robot_without_state_estimator_refuses_the_state_estimation_policy(g1_contract,
                                                                             g1_state_estimation_contract):
    """DeploymentTarget.available_signals: what the robot measures; a term needing anything else is refused."""
    from mimiclab.deploy.contract import SIGNALS, STATE_ESTIMATION_SIGNALS

    g1 = tuple(s for s in SIGNALS if s not in STATE_ESTIMATION_SIGNALS and s != "object")
    check_contract(g1_contract, DeploymentTarget(joint_names=g1_contract.joint_names, available_signals=g1))
    with pytest.raises(ContractError) as e:
        check_contract(g1_state_estimation_contract,
                       DeploymentTarget(joint_names=g1_contract.joint_names, available_signals=g1))
    assert str(e.value) == ("contract.json: observation 'ref_anchor_pos' needs base_position, which the target "
                            "does not provide")


def test_signal_table_covers_every_actor_term_of_the_tasks():
    from mimiclab.deploy.contract import SIGNALS, ObservationTerm, is_proprioceptive
    from mimiclab.deploy.tracking_mdp import (
        ACTOR_TERM_SIGNALS,
        PROPRIOCEPTIVE_ACTOR_TERMS,
        STATE_ESTIMATION_ACTOR_TERMS,
        needs_state_estimation,
        term_signals,
    )
    from mimiclab.rl.residual_base import OBJECT_TERMS

    for name, signals in ACTOR_TERM_SIGNALS.items():
        assert signals and set(signals) <= set(SIGNALS), name
    residual = PROPRIOCEPTIVE_ACTOR_TERMS + tuple(n for n, _ in OBJECT_TERMS)
    for names in (PROPRIOCEPTIVE_ACTOR_TERMS, STATE_ESTIMATION_ACTOR_TERMS, residual):
        assert set(names) <= set(ACTOR_TERM_SIGNALS)

    def terms(names):
        return [ObservationTerm(n, 1, 0, term_signals(n)) for n in names]

    assert is_proprioceptive(terms(PROPRIOCEPTIVE_ACTOR_TERMS))
    assert not is_proprioceptive(terms(STATE_ESTIMATION_ACTOR_TERMS))
    assert [n for n in residual if needs_state_estimation(n)] == ["ref_object_pos"]
    assert term_signals("ref_anchor_pos_local") == term_signals("ref_anchor_lin_vel") == ("reference",)
    with pytest.raises(KeyError, match="'height_scan' is not in"):
        term_signals("height_scan")
