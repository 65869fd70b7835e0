"""Tracking MDP terms on hand-made states where the right answer is known (no simulation)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from isaaclab.utils.math import quat_apply, quat_from_euler_xyz

from mimiclab.tasks.tracking import mdp
from mimiclab.deploy.tracking_mdp import TRACKED_BODIES
from mimiclab.tasks.tracking.mdp.commands import MotionCommand, MotionCommandCfg, relative_body_frames
from mimiclab.tasks.tracking.tracking_env_cfg import END_EFFECTORS

N, B, J, K = 3, len(TRACKED_BODIES), 29, 4
ANCHOR = TRACKED_BODIES.index("torso_link")
E = math.exp(-1.0)


def _quat(roll=0.0, pitch=0.0, yaw=0.0, shape=(N,)) -> torch.Tensor:
    """XYZW quaternions of one rotation, broadcast to shape + (4,)."""
    q = quat_from_euler_xyz(torch.tensor([roll]), torch.tensor([pitch]), torch.tensor([yaw]))[0]
    return q.expand(*shape, 4).clone()


class FakeCommand(SimpleNamespace):
    """The attributes of MotionCommand that terms read; reference == robot unless changed."""

    def __init__(self, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        body_pos = torch.randn(N, B, 3, generator=g) * 0.3 + torch.tensor([0.0, 0.0, 0.8])
        body_quat = _quat(shape=(N, B))
        lin, ang = torch.randn(N, B, 3, generator=g), torch.randn(N, B, 3, generator=g)
        q = torch.randn(N, J, generator=g) * 0.2
        super().__init__(
            body_names=list(TRACKED_BODIES), anchor_index=ANCHOR,
            body_pos_w=body_pos, body_quat_w=body_quat, body_lin_vel_w=lin, body_ang_vel_w=ang,
            joint_pos=q, joint_vel=torch.zeros(N, J),
            robot_body_pos_w=body_pos.clone(), robot_body_quat_w=body_quat.clone(),
            robot_body_lin_vel_w=lin.clone(), robot_body_ang_vel_w=ang.clone(), robot_joint_pos=q.clone(),
            future_joint_pos=q[:, None].expand(N, K, J).clone(),
            times=torch.zeros(N), clip_duration=torch.full((N,), 4.0),
        )

    # anchor views and the reference placed on the robot (computed like MotionCommand does)
    anchor_pos_w = property(lambda s: s.body_pos_w[:, s.anchor_index])
    anchor_quat_w = property(lambda s: s.body_quat_w[:, s.anchor_index])
    anchor_lin_vel_w = property(lambda s: s.body_lin_vel_w[:, s.anchor_index])
    robot_anchor_pos_w = property(lambda s: s.robot_body_pos_w[:, s.anchor_index])
    robot_anchor_quat_w = property(lambda s: s.robot_body_quat_w[:, s.anchor_index])
    future_anchor_pos_w = property(lambda s: s.anchor_pos_w[:, None].expand(N, K, 3))
    future_anchor_quat_w = property(lambda s: s.anchor_quat_w[:, None].expand(N, K, 4))
    future_body_pos_w = property(lambda s: s.body_pos_w[:, None].expand(N, K, B, 3))
    body_pos_relative_w = property(lambda s: relative_body_frames(s.anchor_pos_w, s.anchor_quat_w, s.body_pos_w,
                                                                  s.body_quat_w, s.robot_anchor_pos_w,
                                                                  s.robot_anchor_quat_w)[0])
    body_quat_relative_w = property(lambda s: relative_body_frames(s.anchor_pos_w, s.anchor_quat_w, s.body_pos_w,
                                                                   s.body_quat_w, s.robot_anchor_pos_w,
                                                                   s.robot_anchor_quat_w)[1])


def _env(cmd: FakeCommand):
    return SimpleNamespace(num_envs=N, command_manager=SimpleNamespace(get_term=lambda name: cmd))


REWARDS = {  # term: (std of the reference MDP)
    mdp.motion_anchor_pos_exp: 0.3, mdp.motion_anchor_ori_exp: 0.4, mdp.motion_body_pos_exp: 0.3,
    mdp.motion_body_ori_exp: 0.4, mdp.motion_body_lin_vel_exp: 1.0, mdp.motion_body_ang_vel_exp: 3.14,
    mdp.motion_joint_pos_exp: 0.5,
}


@pytest.mark.parametrize("term", list(REWARDS), ids=lambda f: f.__name__)
def test_perfect_tracking_gives_reward_one(term):
    r = term(_env(FakeCommand()), std=REWARDS[term])
    assert r.shape == (N,)
    torch.testing.assert_close(r, torch.ones(N))


def test_anchor_offset_of_0p3m_gives_exp_minus_one():
    cmd = FakeCommand()
    cmd.robot_body_pos_w[:, ANCHOR] += torch.tensor([0.3, 0.0, 0.0])
    torch.testing.assert_close(mdp.motion_anchor_pos_exp(_env(cmd), std=0.3), torch.full((N,), E))
    cmd = FakeCommand()
    cmd.robot_body_pos_w[:, ANCHOR] += torch.tensor([0.0, 0.3 * 0.6, 0.3 * 0.8])  # any direction, |d| = 0.3
    torch.testing.assert_close(mdp.motion_anchor_pos_exp(_env(cmd), std=0.3), torch.full((N,), E))


def test_anchor_rotation_of_one_std_gives_exp_minus_one():
    cmd = FakeCommand()
    cmd.robot_body_quat_w[:, ANCHOR] = _quat(roll=0.4)
    torch.testing.assert_close(mdp.motion_anchor_ori_exp(_env(cmd), std=0.4), torch.full((N,), E))


def test_body_errors_are_averaged_over_bodies():
    cmd = FakeCommand()
    lifted = [TRACKED_BODIES.index(b) for b in ("left_wrist_yaw_link", "right_wrist_yaw_link")]
    cmd.robot_body_pos_w[:, lifted, 2] += 0.3 * math.sqrt(B / 2)  # mean over B bodies of err² = 0.09
    torch.testing.assert_close(mdp.motion_body_pos_exp(_env(cmd), std=0.3), torch.full((N,), E))
    cmd = FakeCommand()
    cmd.robot_body_lin_vel_w += torch.tensor([1.0, 0.0, 0.0])  # every body 1 m/s off
    torch.testing.assert_close(mdp.motion_body_lin_vel_exp(_env(cmd), std=1.0), torch.full((N,), E))
    cmd = FakeCommand()
    cmd.robot_body_ang_vel_w += torch.tensor([0.0, 0.0, 3.14])
    torch.testing.assert_close(mdp.motion_body_ang_vel_exp(_env(cmd), std=3.14), torch.full((N,), E))


def test_body_rewards_ignore_the_anchor_s_global_xy_and_yaw():
    """Relative body terms compare shapes: a robot moved 1 m and turned 90° about z tracks perfectly."""
    cmd = FakeCommand()
    turn = _quat(yaw=math.pi / 2, shape=(N, B))
    anchor = cmd.anchor_pos_w[:, None]
    shift = torch.tensor([1.0, -2.0, 0.0])
    cmd.robot_body_pos_w = anchor + quat_apply(turn, cmd.body_pos_w - anchor) + shift
    cmd.robot_body_quat_w = turn.clone()  # reference orientations are identity
    env = _env(cmd)
    torch.testing.assert_close(mdp.motion_body_pos_exp(env, std=0.3), torch.ones(N))
    torch.testing.assert_close(mdp.motion_body_ori_exp(env, std=0.4), torch.ones(N))
    assert (mdp.motion_anchor_pos_exp(env, std=0.3) < 1e-6).all()  # the global anchor term sees it
    assert (mdp.motion_anchor_ori_exp(env, std=0.4) < 1e-6).all()


def test_perfect_tracking_observations_are_the_identity_frame():
    env = _env(FakeCommand())
    pos = mdp.ref_future_anchor_pos_b(env)
    ori = mdp.ref_future_anchor_ori_b(env)
    assert pos.shape == (N, K * 3) and ori.shape == (N, K * 6)
    torch.testing.assert_close(pos, torch.zeros(N, K * 3))
    torch.testing.assert_close(ori, torch.tensor([1.0, 0, 0, 1, 0, 0]).repeat(N, K))
    assert mdp.ref_future_joint_pos(env).shape == (N, K * J)
    assert mdp.robot_body_pos_b(env).shape == (N, B * 3) and mdp.robot_body_ori_b(env).shape == (N, B * 6)


def test_anchor_observation_is_in_the_robot_anchor_frame():
    """Reference anchor 1 m along world +x, robot anchor facing +y: in the robot's frame the reference
    lies at (0, −1, 0) (world +x is the robot's right when it faces +y)."""
    cmd = FakeCommand()
    cmd.robot_body_quat_w[:, ANCHOR] = _quat(yaw=math.pi / 2)
    cmd.body_pos_w[:, ANCHOR] = cmd.robot_body_pos_w[:, ANCHOR] + torch.tensor([1.0, 0.0, 0.0])
    pos = mdp.ref_future_anchor_pos_b(_env(cmd)).reshape(N, K, 3)
    torch.testing.assert_close(pos, torch.tensor([0.0, -1.0, 0.0]).expand(N, K, 3), atol=1e-6, rtol=0)
    ori = mdp.ref_anchor_ori_b(_env(cmd))  # reference identity, robot yawed +90° → relative yaw −90°
    rz = torch.tensor([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # Rz(−90°)
    torch.testing.assert_close(ori, rz[:, :2].reshape(6).expand(N, 6), atol=1e-6, rtol=0)


class _AheadCommand(FakeCommand):
    """The reference anchor's futures 1 m along world +x of where it is now."""

    future_anchor_pos_w = property(lambda s: (s.anchor_pos_w + torch.tensor([1.0, 0.0, 0.0]))[:, None].expand(N, K, 3))


def test_reference_only_anchor_terms_are_in_the_reference_s_own_frame():
    """Reference anchor yawed +90°, its futures 1 m along world +x, moving at 2 m/s along world +x: in its
    own frame both point to its right (−y); the robot's pose does not enter (shifted 10 m and turned,
    same numbers), while the state-estimation term ref_future_anchor_pos_b follows the robot."""
    cmd = _AheadCommand()
    cmd.body_quat_w[:, ANCHOR] = _quat(yaw=math.pi / 2)
    cmd.body_lin_vel_w[:, ANCHOR] = torch.tensor([2.0, 0.0, 0.0])
    env = _env(cmd)
    pos = mdp.ref_future_anchor_pos_local(env)
    vel = mdp.ref_anchor_lin_vel_local(env)
    assert pos.shape == (N, K * 3) and vel.shape == (N, 3)
    torch.testing.assert_close(pos.reshape(N, K, 3), torch.tensor([0.0, -1.0, 0.0]).expand(N, K, 3), atol=1e-6,
                               rtol=0)
    torch.testing.assert_close(vel, torch.tensor([0.0, -2.0, 0.0]).expand(N, 3), atol=1e-6, rtol=0)
    se = mdp.ref_future_anchor_pos_b(env)
    cmd.robot_body_pos_w += torch.tensor([10.0, 0.0, 0.0])
    cmd.robot_body_quat_w[:] = _quat(yaw=0.7, shape=(N, B))
    assert torch.equal(mdp.ref_future_anchor_pos_local(env), pos)
    assert torch.equal(mdp.ref_anchor_lin_vel_local(env), vel)
    assert (mdp.ref_future_anchor_pos_b(env) - se).abs().max() > 5.0


def test_perfect_tracking_reference_only_terms():
    """Futures equal to the anchor now: zero displacement; the velocity term is the anchor's own velocity."""
    cmd = FakeCommand()
    env = _env(cmd)
    torch.testing.assert_close(mdp.ref_future_anchor_pos_local(env), torch.zeros(N, K * 3))
    torch.testing.assert_close(mdp.ref_anchor_lin_vel_local(env), cmd.body_lin_vel_w[:, ANCHOR])  # identity frame


def test_anchor_height_termination_threshold():
    cmd = FakeCommand()
    cmd.robot_body_pos_w[0, ANCHOR, 2] -= 0.24
    cmd.robot_body_pos_w[1, ANCHOR, 2] -= 0.26
    cmd.robot_body_pos_w[2, ANCHOR, 0] += 1.0  # horizontal errors do not count
    assert mdp.anchor_height_error(_env(cmd), threshold=0.25).tolist() == [False, True, False]


def test_gravity_direction_termination_threshold():
    """|Δ g_z| = 1 − cos θ for a tilt θ: > 0.8 beyond acos(0.2) ≈ 78.5°."""
    cmd = FakeCommand()
    cmd.robot_body_quat_w[0, ANCHOR] = _quat(pitch=math.radians(75.0))[0]
    cmd.robot_body_quat_w[1, ANCHOR] = _quat(roll=math.radians(82.0))[0]
    cmd.robot_body_quat_w[2, ANCHOR] = _quat(yaw=3.0)[0]  # yaw alone never terminates
    assert mdp.anchor_gravity_error(_env(cmd), threshold=0.8).tolist() == [False, True, False]


def test_end_effector_height_termination_threshold():
    cmd = FakeCommand()
    i = TRACKED_BODIES.index("left_wrist_yaw_link")
    cmd.robot_body_pos_w[0, i, 2] += 0.24
    cmd.robot_body_pos_w[1, i, 2] += 0.26
    cmd.robot_body_pos_w[2, TRACKED_BODIES.index("left_elbow_link"), 2] += 1.0  # not an end effector
    assert mdp.body_height_error(_env(cmd), threshold=0.25, body_names=END_EFFECTORS).tolist() == [False, True, False]


def test_motion_end_is_reached_at_the_clip_duration():
    cmd = FakeCommand()
    cmd.times = torch.tensor([0.0, 3.98, 4.0])
    assert mdp.motion_ended(_env(cmd)).tolist() == [False, False, True]


def test_missing_motion_files_are_a_clear_error():
    with pytest.raises(ValueError, match="MIMICLAB_MOTION"):
        MotionCommand(MotionCommandCfg(motion_files=[]), env=None)


def test_undesired_contacts_count_bodies_above_one_newton():
    """Count of selected bodies whose net normal force exceeds 1 N in any of the last 3 physics steps."""
    from isaaclab.managers import SceneEntityCfg

    forces = torch.zeros(N, 3, 5, 3)  # (envs, history, bodies, xyz) [N]
    forces[1, 0, 0] = torch.tensor([0.0, 0.0, 0.9])  # below the threshold
    forces[1, 2, 1] = torch.tensor([0.0, 0.6, 0.9])  # |f| ≈ 1.08 N, two steps ago
    forces[2, :, :4] = torch.tensor([0.0, 0.0, 50.0])  # four bodies, one of them not selected
    sensor = SimpleNamespace(data=SimpleNamespace(net_normal_forces_w_history=SimpleNamespace(torch=forces)))
    env = SimpleNamespace(num_envs=N, scene=SimpleNamespace(sensors={"contact_forces": sensor}))
    cfg = SceneEntityCfg("contact_forces", body_ids=[0, 1, 2, 4])  # body 3 is an end effector here
    count = mdp.undesired_contacts(env, threshold=1.0, sensor_cfg=cfg)
    assert count.shape == (N,) and count.tolist() == [0, 1, 3]


def test_undesired_contact_pattern_excludes_exactly_the_end_effectors():
    import re

    from mimiclab.robots.g1 import G1
    from mimiclab.tasks.tracking.tracking_env_cfg import UNDESIRED_CONTACT_BODIES

    bodies = list(G1.body_names)
    picked = [b for b in bodies if re.fullmatch(UNDESIRED_CONTACT_BODIES, b)]
    assert sorted(set(bodies) - set(picked)) == sorted(END_EFFECTORS)
    assert "left_ankle_pitch_link" in picked and "left_wrist_roll_link" in picked


def test_keypoint_reward_is_one_when_perfect_and_weights_one_body_s_error():
    """0.1 m on the left wrist (weight 2) alone: exp(−2·0.01 / (W·0.09)), W the weight sum."""
    from mimiclab.deploy.tracking_mdp import KEYPOINT_WEIGHTS

    weights = dict(KEYPOINT_WEIGHTS)
    W = sum(weights.values()) + (B - len(weights))
    cmd = FakeCommand()
    torch.testing.assert_close(mdp.motion_keypoint_pos_exp(_env(cmd), std=0.3, weights=weights), torch.ones(N))
    cmd.robot_body_pos_w[:, TRACKED_BODIES.index("left_wrist_yaw_link")] += torch.tensor([0.0, 0.1, 0.0])
    expected = math.exp(-2.0 * 0.01 / (W * 0.09))
    torch.testing.assert_close(mdp.motion_keypoint_pos_exp(_env(cmd), std=0.3, weights=weights),
                               torch.full((N,), expected))
    # without weights it is the unweighted mean, as motion_body_pos_exp
    torch.testing.assert_close(mdp.motion_keypoint_pos_exp(_env(cmd), std=0.3),
                               mdp.motion_body_pos_exp(_env(cmd), std=0.3))


def test_keypoint_weights_refuse_unknown_bodies_and_non_positive_weights():
    with pytest.raises(ValueError, match="not tracked bodies"):
        mdp.keypoint_weights(TRACKED_BODIES, {"head_link": 2.0})
    with pytest.raises(ValueError, match="positive and finite"):
        mdp.keypoint_weights(TRACKED_BODIES, {"torso_link": 0.0})
    with pytest.raises(ValueError, match="positive and finite"):
        mdp.keypoint_weights(TRACKED_BODIES, {"torso_link": float("nan")})


def test_keypoints_are_in_the_reference_heading_frame_and_ignore_its_pitch_and_the_robot():
    """Known answer: reference anchor at (1, 2, 0.8) facing +y (yaw 90°) and pitched 0.3 rad; a body
    0.5 m along world +y and 0.1 m up from it is 0.5 m ahead (+x) and 0.1 m up in the heading frame."""
    cmd = FakeCommand()
    cmd.body_pos_w[:] = torch.tensor([1.0, 2.0, 0.8])
    cmd.body_quat_w[:] = _quat(pitch=0.3, yaw=math.pi / 2, shape=(N, B))
    lw = TRACKED_BODIES.index("left_wrist_yaw_link")
    cmd.body_pos_w[:, lw] += torch.tensor([0.0, 0.5, 0.1])
    cmd.robot_body_pos_w += 5.0  # the robot's state does not enter
    cmd.robot_body_quat_w = _quat(roll=1.0, shape=(N, B))
    kp = mdp.ref_future_keypoints_local(_env(cmd))
    assert kp.shape == (N, K * B * 3)
    kp = kp.reshape(N, K, B, 3)
    expected = torch.zeros(N, K, B, 3)
    expected[:, :, lw] = torch.tensor([0.5, 0.0, 0.1])
    torch.testing.assert_close(kp, expected, atol=1e-6, rtol=0)
