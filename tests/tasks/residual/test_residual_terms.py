"""Residual MDP terms on hand-made states where the right answer is known (no simulation)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from isaaclab.utils.math import quat_apply, quat_from_euler_xyz

from mimiclab.tasks.residual import mdp
from mimiclab.tasks.residual.mdp.commands import ObjectMotionCommand
from mimiclab.tasks.residual.mdp.object_controller import ObjectAssistCfg, assist_wrench

N = 3
BOX = (0.3, 0.25, 0.2)


def _quat(roll=0.0, pitch=0.0, yaw=0.0, n=N) -> torch.Tensor:
    q = quat_from_euler_xyz(torch.tensor([roll]), torch.tensor([pitch]), torch.tensor([yaw]))[0]
    return q.expand(n, 4).clone()


def _points(P=1024):
    from mimiclab.kernels.surface_sampling import sample_surface

    return sample_surface({"box": list(BOX)}, P, seed=0)


class FakeCommand(SimpleNamespace):
    """The attributes of ObjectMotionCommand that the terms read; object == reference unless changed."""

    def __init__(self):
        pos = torch.tensor([[0.5, 0.0, 0.8], [1.0, 2.0, 0.6], [-1.0, 0.5, 1.0]])
        quat = _quat(yaw=0.3)
        super().__init__(
            cfg=SimpleNamespace(pointcloud_backend="auto"), object_points=_points(),
            object_pos_w=pos, object_quat_w=quat, object_ref_pos_w=pos.clone(), object_ref_quat_w=quat.clone(),
            object_lin_vel_w=torch.zeros(N, 3), object_ang_vel_w=torch.zeros(N, 3),
            robot_anchor_pos_w=torch.zeros(N, 3), robot_anchor_quat_w=_quat(),
            object_ref_contacts=torch.zeros(N, 2), assist_scale=1.0)

    pointcloud_distance = ObjectMotionCommand.pointcloud_distance

    @property
    def object_pointcloud(self):
        return self.pointcloud_distance()[0]


class FakeEnv(SimpleNamespace):
    def __init__(self, cmd, **kw):
        super().__init__(num_envs=N, device="cpu", command_manager=SimpleNamespace(get_term=lambda name: cmd), **kw)


# -- point cloud -----------------------------------------------------------------------------------

def test_object_on_its_reference_gives_distance_zero_and_reward_one():
    c = FakeCommand()
    env = FakeEnv(c)
    assert torch.equal(c.object_pointcloud, torch.zeros(N))
    torch.testing.assert_close(mdp.object_pointcloud_reward(env, lam=10.0), torch.ones(N))
    assert not mdp.object_pointcloud_distance(env, threshold=0.3).any()


def test_translation_gives_its_length():
    c = FakeCommand()
    d = torch.tensor([[0.1, 0.0, 0.0], [0.0, -0.2, 0.1], [0.3, 0.2, -0.1]])
    c.object_pos_w = c.object_pos_w + d
    env = FakeEnv(c)
    torch.testing.assert_close(c.object_pointcloud, d.norm(dim=-1), atol=1e-6, rtol=0)
    torch.testing.assert_close(mdp.object_pointcloud_reward(env, lam=10.0), torch.exp(-10.0 * d.norm(dim=-1)),
                               atol=1e-6, rtol=0)
    torch.testing.assert_close(mdp.object_pointcloud_distance(env, threshold=0.3), d.norm(dim=-1) > 0.3)


def test_rotation_about_the_centre_gives_the_analytic_mean():
    """Rotating by θ about the object's z axis moves point p by 2·sin(θ/2)·|p_xy|: D is their mean."""
    c = FakeCommand()
    theta = torch.tensor([0.2, 1.0, math.pi])
    c.object_quat_w = torch.stack([quat_from_euler_xyz(torch.tensor([0.0]), torch.tensor([0.0]),
                                                       torch.tensor([0.3 + float(t)]))[0] for t in theta])
    r_xy = c.object_points[:, :2].norm(dim=-1)  # (P,)
    want = 2 * torch.sin(theta / 2)[:, None] * r_xy[None]
    torch.testing.assert_close(c.object_pointcloud, want.mean(-1), atol=1e-5, rtol=0)


# -- contacts --------------------------------------------------------------------------------------

def test_contact_reward_zero_without_contact_and_rising_with_force():
    labels = torch.tensor([[1.0, 1.0, 0.0]]).expand(4, 3)
    forces = torch.tensor([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [20.0, 0.0, 0.0], [20.0, 20.0, 0.0]])
    r = mdp.contact_reward(labels, forces, lam=10.0)
    assert r[0] == 0.0 and (r[1:].diff() > 0).all() and r[1] > 0
    torch.testing.assert_close(r[3], torch.tensor(math.exp(-0.5)))
    # force on an unlabelled body earns nothing; no labelled contact at all → 0
    assert mdp.contact_reward(labels[:1], torch.tensor([[0.0, 0.0, 100.0]]), 10.0) == 0.0
    assert mdp.contact_reward(torch.zeros(1, 3), torch.tensor([[50.0, 50.0, 50.0]]), 10.0) == 0.0
    big = mdp.contact_reward(labels[:1], torch.tensor([[1e6, 1e6, 0.0]]), 10.0)
    assert 0.99 < float(big) <= 1.0


# -- observations ---------------------------------------------------------------------------------

def test_object_observations_in_the_anchor_frame():
    c = FakeCommand()
    c.robot_anchor_pos_w = torch.tensor([[0.5, 0.0, 0.0]]).expand(N, 3).clone()
    c.robot_anchor_quat_w = _quat(yaw=math.pi / 2)
    c.object_pos_w = c.robot_anchor_pos_w + torch.tensor([[0.0, 1.0, 0.5]])  # 1 m to the anchor's +y world
    c.object_quat_w = _quat(yaw=math.pi / 2)
    env = FakeEnv(c)
    torch.testing.assert_close(mdp.object_pos_b(env), torch.tensor([[1.0, 0.0, 0.5]]).expand(N, 3), atol=1e-6,
                               rtol=0)
    ident6 = torch.tensor([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]]).expand(N, 6)
    torch.testing.assert_close(mdp.object_ori_b(env), ident6, atol=1e-6, rtol=0)
    assert mdp.ref_object_pos_b(env).shape == (N, 3) and mdp.ref_object_ori_b(env).shape == (N, 6)
    c.object_lin_vel_w = torch.tensor([[0.0, 2.0, 0.0]]).expand(N, 3)
    torch.testing.assert_close(mdp.object_lin_vel_b(env), torch.tensor([[2.0, 0.0, 0.0]]).expand(N, 3),
                               atol=1e-6, rtol=0)


# -- virtual object controller -------------------------------------------------------------------

def _wrench(dp=(0.0, 0.0, 0.0), dv=(0.0, 0.0, 0.0), rot=0.0, scale=1.0, cfg=None, mass=2.0):
    cfg = cfg or ObjectAssistCfg()
    pos, q = torch.zeros(N, 3), _quat()
    inertia = torch.diag(torch.tensor([0.02, 0.03, 0.04])).expand(N, 3, 3)
    return assist_wrench(pos, q, torch.tensor([dv]).expand(N, 3) * -1, torch.zeros(N, 3),
                         torch.tensor([dp]).expand(N, 3), _quat(yaw=rot), torch.zeros(N, 3), torch.zeros(N, 3),
                         torch.full((N,), mass), inertia, scale, cfg)


def test_assist_on_the_reference_only_compensates_gravity():
    f, t = _wrench()
    torch.testing.assert_close(f, torch.tensor([[0.0, 0.0, 2.0 * 9.81]]).expand(N, 3))
    assert torch.equal(t, torch.zeros(N, 3))
    f, _ = _wrench(cfg=ObjectAssistCfg(gravity_compensation=False))
    assert torch.equal(f, torch.zeros(N, 3))


def test_assist_pd_gains_cap_and_scale():
    cfg = ObjectAssistCfg(gravity_compensation=False)
    f, _ = _wrench(dp=(0.1, 0.0, 0.0), cfg=cfg)  # m·kp·0.1 = 16 N toward the reference
    torch.testing.assert_close(f, torch.tensor([[16.0, 0.0, 0.0]]).expand(N, 3))
    f, _ = _wrench(dv=(0.5, 0.0, 0.0), cfg=cfg)  # moving away at 0.5 m/s: m·kd·0.5 = 8 N braking... toward ref
    torch.testing.assert_close(f, torch.tensor([[8.0, 0.0, 0.0]]).expand(N, 3))
    f, _ = _wrench(dp=(0.0, 3.0, 0.0), cfg=cfg)  # 480 N capped at 100 N
    torch.testing.assert_close(f, torch.tensor([[0.0, 100.0, 0.0]]).expand(N, 3))
    f, _ = _wrench(dp=(0.1, 0.0, 0.0), cfg=cfg, scale=0.25)
    torch.testing.assert_close(f, torch.tensor([[4.0, 0.0, 0.0]]).expand(N, 3))
    f, t = _wrench(dp=(0.1, 0.0, 0.0), rot=0.2, scale=0.0)
    assert torch.equal(f, torch.zeros(N, 3)) and torch.equal(t, torch.zeros(N, 3))


def test_assist_torque_turns_toward_the_reference():
    _, t = _wrench(rot=0.1)  # reference yawed +0.1 rad: torque = I_zz·kp_rot·0.1 about +z
    torch.testing.assert_close(t, torch.tensor([[0.0, 0.0, 0.04 * 80.0 * 0.1]]).expand(N, 3), atol=1e-5, rtol=0)


# -- curriculum ------------------------------------------------------------------------------------

def test_assist_curriculum_fades_on_success_and_stops_at_zero():
    from isaaclab.managers import CurriculumTermCfg

    c = FakeCommand()
    c.assist_scale = 0.1
    env = FakeEnv(c, episode_length_buf=torch.full((N,), 10),
                  termination_manager=SimpleNamespace(terminated=torch.zeros(N, dtype=torch.bool)))
    params = {"command_name": "motion", "threshold": 0.8, "step": 0.05, "window": 6, "min_scale": 0.0}
    term = mdp.object_assist(CurriculumTermCfg(func=mdp.object_assist, params=params), env)
    ids = torch.arange(N)
    assert term(env, ids, **params) == pytest.approx(0.1)  # 3 successes: window not full
    assert term(env, ids, **params) == pytest.approx(0.05)  # 6 successes: rate 1 > 0.8
    env.termination_manager.terminated = torch.tensor([True, True, False])
    for _ in range(4):  # rate 1/3: no change
        assert term(env, ids, **params) == pytest.approx(0.05)
    env.termination_manager.terminated = torch.zeros(N, dtype=torch.bool)
    for _ in range(10):
        s = term(env, ids, **params)
    assert s == 0.0 and c.assist_scale == 0.0
    env.episode_length_buf = torch.zeros(N, dtype=torch.long)  # resets at episode start record nothing
    count = term.count
    term(env, ids, **params)
    assert term.count == count
