"""Eval metrics on hand-made states where the answer is known (no simulation, no checkpoint)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from mimiclab.rl.eval import END_EFFECTORS, ROOT_BODY, STEP_METRICS, _summary, step_errors
from mimiclab.deploy.tracking_mdp import TRACKED_BODIES

N, J = 3, 29
B = len(TRACKED_BODIES)
EE = [TRACKED_BODIES.index(b) for b in END_EFFECTORS]


def _yaw_quat(yaw: float, shape) -> torch.Tensor:
    """XYZW quaternion of a rotation by ``yaw`` about z, broadcast to shape + (4,)."""
    return torch.tensor([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]).expand(*shape, 4).clone()


def _cmd(seed: int = 0) -> SimpleNamespace:
    """A MotionCommand-like object whose robot tracks its reference perfectly."""
    g = torch.Generator().manual_seed(seed)
    pos = torch.randn(N, B, 3, generator=g) * 0.3 + torch.tensor([0.0, 0.0, 0.8])
    quat = _yaw_quat(0.3, (N, B))
    q, qd = torch.randn(N, J, generator=g) * 0.3, torch.randn(N, J, generator=g)
    return SimpleNamespace(body_names=list(TRACKED_BODIES), body_pos_w=pos, robot_body_pos_w=pos.clone(),
                           body_quat_w=quat, robot_body_quat_w=quat.clone(), joint_pos=q, robot_joint_pos=q.clone(),
                           joint_vel=qd, robot_joint_vel=qd.clone())


def _close(errs: dict, name: str, value: float) -> None:
    assert errs[name].shape == (N,), name
    torch.testing.assert_close(errs[name], torch.full((N,), value), atol=1e-5, rtol=0, msg=name)


def test_end_effectors_and_root_are_tracked_bodies():
    assert ROOT_BODY in TRACKED_BODIES and all(b in TRACKED_BODIES for b in END_EFFECTORS)


def test_perfect_tracking_gives_zero_everywhere():
    errs = step_errors(_cmd())
    assert set(errs) == set(STEP_METRICS)
    for name in STEP_METRICS:
        _close(errs, name, 0.0)


def test_a_0p3m_offset_of_every_body():
    cmd = _cmd()
    cmd.robot_body_pos_w += torch.tensor([0.3, 0.0, 0.0])
    errs = step_errors(cmd)
    _close(errs, "mpkpe", 0.3)
    _close(errs, "root_relative_mpkpe", 0.0)  # the whole body moved: its shape is exact
    _close(errs, "ee_pos_error", 0.3)
    for name in ("joint_pos_error", "joint_vel_error", "ee_ori_error"):
        _close(errs, name, 0.0)


def test_one_body_off_is_averaged_over_bodies():
    cmd = _cmd()
    elbow = TRACKED_BODIES.index("left_elbow_link")  # not the root, not an end effector
    cmd.robot_body_pos_w[:, elbow] += torch.tensor([0.0, 0.6, 0.8])  # |d| = 1 m
    errs = step_errors(cmd)
    _close(errs, "mpkpe", 1.0 / B)
    _close(errs, "root_relative_mpkpe", 1.0 / B)
    _close(errs, "ee_pos_error", 0.0)


def test_a_root_offset_shows_in_root_relative_error():
    """Only the pelvis moved 0.3 m: every other body is 0.3 m off relative to the root."""
    cmd = _cmd()
    r = TRACKED_BODIES.index(ROOT_BODY)
    cmd.robot_body_pos_w[:, r] += torch.tensor([0.0, 0.0, 0.3])
    errs = step_errors(cmd)
    _close(errs, "mpkpe", 0.3 / B)
    _close(errs, "root_relative_mpkpe", 0.3 * (B - 1) / B)


def test_end_effector_yaw_of_90_degrees():
    cmd = _cmd()
    # reference yawed 0.3 rad; robot end effectors 90° further about the same axis
    cmd.robot_body_quat_w[:, EE] = _yaw_quat(0.3 + math.pi / 2, (N, len(EE)))
    errs = step_errors(cmd)
    _close(errs, "ee_ori_error", math.pi / 2)
    for name in ("mpkpe", "root_relative_mpkpe", "ee_pos_error", "joint_pos_error"):
        _close(errs, name, 0.0)


def test_half_the_end_effectors_turned_half_as_much_average():
    cmd = _cmd()
    cmd.robot_body_quat_w[:, EE[:2]] = _yaw_quat(0.3 - math.pi / 2, (N, 2))  # −90° on the ankles
    _close(step_errors(cmd), "ee_ori_error", math.pi / 4)


def test_joint_offsets_are_exact_mean_absolute_errors():
    cmd = _cmd()
    delta = torch.zeros(J)
    delta[:10] = 0.1
    delta[10:15] = -0.4  # mean |Δq| = (10·0.1 + 5·0.4) / 29
    cmd.robot_joint_pos += delta
    cmd.robot_joint_vel -= 2.0
    errs = step_errors(cmd)
    _close(errs, "joint_pos_error", 3.0 / J)
    _close(errs, "joint_vel_error", 2.0)
    _close(errs, "mpkpe", 0.0)


def test_summary_is_success_rate_and_mean_over_clips():
    def clip(success, value):
        return {"success": success, "steps": 10, **{m: value for m in STEP_METRICS}}

    out = _summary({"a": clip(True, 0.1), "b": clip(False, 0.4), "c": clip(True, 0.4), "d": clip(True, 0.3)})
    assert out["num_clips"] == 4 and out["success_rate"] == pytest.approx(0.75)
    for m in STEP_METRICS:
        assert out[m] == pytest.approx(0.3), m


def test_summary_of_no_clips_is_nan_not_a_crash():
    out = _summary({})
    assert out["num_clips"] == 0 and out["success_rate"] == 0.0
    assert all(math.isnan(out[m]) for m in STEP_METRICS)
