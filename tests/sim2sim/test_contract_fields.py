"""sim2sim follows the robot-side and scoring fields of the contract it runs (the runtime's own
fields: tests/deploy/test_runtime.py): each test exports the same zero-action policy with one field
family changed and shows the MuJoCo run changes accordingly, or is refused."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mimiclab.deploy.contract import ContractError
from mimiclab.sim2sim.runner import run_sim2sim


def _export(contract, out):
    import torch

    from mimiclab.deploy.onnx_policy import write_policy_onnx

    mlp = torch.nn.Linear(contract.observation_dim, contract.num_actions)
    torch.nn.init.zeros_(mlp.weight)
    torch.nn.init.zeros_(mlp.bias)
    write_policy_onnx(torch.nn.Identity(), mlp, contract, out)
    return out


def _run(contract, clip, tmp_path, name):
    report = run_sim2sim(_export(contract, tmp_path / name), [clip], tmp_path / f"{name}_out", progress=False,
                         full_clip=True)
    return next(iter(report["clips"].values()))


@pytest.fixture(scope="module")
def stand_clip(short_stand_clip):
    return short_stand_clip


@pytest.fixture(scope="module")
def base(g1_contract, stand_clip, tmp_path_factory):
    return _run(g1_contract, stand_clip, tmp_path_factory.mktemp("base"), "base")


def test_termination_thresholds_are_the_contract_s(g1_contract, stand_clip, tmp_path, base):
    """The zero-action robot sags a few cm under gravity: with a 1 mm anchor-height threshold it fails
    at once; with no terminations at all it never fails; an unknown termination is refused."""
    assert base["success"], base
    strict = _run(replace(g1_contract, termination_thresholds={**g1_contract.termination_thresholds,
                                                               "anchor_height": 0.001}), stand_clip, tmp_path, "s")
    assert not strict["success"] and "anchor_height" in strict["terminations"]
    assert strict["tracked_s"] < base["tracked_s"]
    none = _run(replace(g1_contract, termination_thresholds={}), stand_clip, tmp_path, "n")
    assert none["success"] and none["terminations"] == {}
    with pytest.raises(ContractError, match="termination 'knee_angle' is not implemented by sim2sim"):
        _run(replace(g1_contract, termination_thresholds={"knee_angle": 0.5}), stand_clip, tmp_path, "u")


def test_end_effectors_and_base_body_score_what_the_contract_names(g1_contract, stand_clip, tmp_path, base):
    hands = _run(replace(g1_contract, end_effectors=("left_wrist_yaw_link", "right_wrist_yaw_link")), stand_clip,
                 tmp_path, "hands")
    assert hands["ee_pos_error"] != pytest.approx(base["ee_pos_error"], rel=1e-3)
    assert hands["mpkpe"] == pytest.approx(base["mpkpe"], rel=1e-9)  # the same run, scored differently


def test_gains_and_timing_drive_the_simulated_robot(g1_contract, stand_clip, tmp_path, base):
    """Soft gains let the robot sag further; another decimation/physics step changes the run."""
    soft = _run(replace(g1_contract, kp=tuple(0.3 * k for k in g1_contract.kp)), stand_clip, tmp_path, "soft")
    assert soft["joint_pos_error"] > 1.5 * base["joint_pos_error"]
    weak = _run(replace(g1_contract, effort_limit=tuple(0.05 * e for e in g1_contract.effort_limit)), stand_clip,
                tmp_path, "weak")
    assert weak["joint_pos_error"] > 1.2 * base["joint_pos_error"]
    fine = _run(replace(g1_contract, physics_dt=0.0025, decimation=8), stand_clip, tmp_path, "fine")
    assert fine["steps"] == base["steps"]  # control_dt unchanged
    assert fine["joint_pos_error"] != pytest.approx(base["joint_pos_error"], rel=1e-4)
    assert np.isfinite(fine["mpkpe"])
