"""Motion from joint trajectories: FK against MuJoCo, finite-difference velocities on analytic
trajectories, resampling."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from mimiclab.motion.kinematics import motion_from_joint_trajectory, resample_motion
from mimiclab.robots.g1 import G1
from mimiclab.rotations.numpy_ops import angular_velocity, quat_exp, quat_mul

LO = np.array([j.lower for j in G1.joints])
HI = np.array([j.upper for j in G1.joints])
PELVIS = G1.body_names.index("pelvis")


def _random(T, seed=0):
    rng = np.random.default_rng(seed)
    root_pos = rng.normal(size=(T, 3))
    root_quat = rng.normal(size=(T, 4))
    root_quat /= np.linalg.norm(root_quat, axis=1, keepdims=True)
    return root_pos, root_quat, LO + (HI - LO) * rng.uniform(size=(T, 29))


def test_fk_matches_mujoco_and_root(g1_mjcf):
    root_pos, root_quat, joint_pos = _random(4)
    m = motion_from_joint_trajectory(root_pos, root_quat, joint_pos, fps=50.0)
    assert m.joint_names == list(G1.joint_names) and m.body_names == list(G1.body_names)
    assert m.body_pos_w.shape == (4, 30, 3) and m.body_pos_w.dtype == np.float64
    np.testing.assert_array_equal(m.body_pos_w[:, PELVIS], m.root_pos_w)
    np.testing.assert_allclose(m.body_quat_w[:, PELVIS], m.root_quat_w, atol=1e-15)
    model = mujoco.MjModel.from_xml_path(str(g1_mjcf))
    data = mujoco.MjData(model)
    frame = 2
    data.qpos[:3], data.qpos[3:7] = root_pos[frame], root_quat[frame]
    for j, name in enumerate(G1.joint_names):  # by name
        data.qpos[model.joint(name).qposadr[0]] = joint_pos[frame, j]
    mujoco.mj_kinematics(model, data)
    for b, name in enumerate(G1.body_names):
        np.testing.assert_allclose(m.body_pos_w[frame, b], data.body(name).xpos, atol=1e-9, err_msg=name)
        dot = abs(np.dot(m.body_quat_w[frame, b], data.body(name).xquat))
        assert dot == pytest.approx(1.0, abs=1e-9), name
    m.validate()


def test_joints_are_mapped_by_name():
    root_pos, root_quat, joint_pos = _random(3, seed=1)
    ref = motion_from_joint_trajectory(root_pos, root_quat, joint_pos, fps=30.0)
    perm = np.random.default_rng(2).permutation(29)
    names = [G1.joint_names[i] for i in perm]
    m = motion_from_joint_trajectory(root_pos, root_quat, joint_pos[:, perm], fps=30.0, joint_names=names)
    assert m.joint_names == list(G1.joint_names)
    np.testing.assert_array_equal(m.joint_pos, ref.joint_pos)
    np.testing.assert_array_equal(m.body_pos_w, ref.body_pos_w)


def test_constant_angular_velocity_root():
    """Root spinning at constant ω with fixed joints: every body's ω is exact (central and
    one-sided differences of a constant rotation rate), linear velocity ≈ ω × r."""
    fps, T = 50.0, 40
    omega = np.array([0.3, -0.8, 1.5])  # rad/s, world frame
    t = np.arange(T) / fps
    q0 = np.array([0.9, 0.1, -0.2, 0.3])
    q0 /= np.linalg.norm(q0)
    root_quat = quat_mul(quat_exp(t[:, None] * omega), q0)
    root_pos = np.tile([0.0, 0.0, 0.8], (T, 1))
    joint_pos = np.tile([j.default_pos for j in G1.joints], (T, 1))
    m = motion_from_joint_trajectory(root_pos, root_quat, joint_pos, fps)
    np.testing.assert_allclose(m.body_ang_vel_w, np.broadcast_to(omega, (T, 30, 3)), atol=1e-9)
    np.testing.assert_allclose(m.joint_vel, 0.0, atol=1e-12)
    r = m.body_pos_w - root_pos[:, None]
    analytic = np.cross(omega, r)
    w, dt = np.linalg.norm(omega), 1 / fps
    inner = np.abs(m.body_lin_vel_w[1:-1] - analytic[1:-1]).max()
    ends = np.abs(m.body_lin_vel_w[[0, -1]] - analytic[[0, -1]]).max()
    rmax = np.linalg.norm(r, axis=-1).max()
    assert inner <= rmax * w ** 3 * dt ** 2 / 6 * 1.01  # central-difference error bound
    assert ends <= rmax * w ** 2 * dt / 2 * 1.01  # one-sided error bound


def test_sinusoidal_joint_velocity():
    fps, T = 50.0, 60
    dt = 1 / fps
    t = np.arange(T) * dt
    A, w = 0.5, 2 * np.pi * 1.5
    joint_pos = np.zeros((T, 29))
    k = G1.joint_names.index("left_elbow_joint")
    joint_pos[:, k] = A * np.sin(w * t)
    m = motion_from_joint_trajectory(np.tile([0, 0, 0.8], (T, 1)), np.tile([1.0, 0, 0, 0], (T, 1)), joint_pos, fps)
    exact = A * w * np.cos(w * t)
    err = np.abs(m.joint_vel[:, k] - exact)
    assert err[1:-1].max() <= A * w ** 3 * dt ** 2 / 6 * 1.01
    assert err[[0, -1]].max() <= A * w ** 2 * dt / 2 * 1.01
    assert err[1:-1].max() < 0.02 * A * w  # and small in absolute terms
    others = np.delete(np.arange(29), k)
    assert np.all(m.joint_vel[:, others] == 0.0)


def test_angular_velocity_ends_and_one_frame():
    q = np.array([[1.0, 0, 0, 0]])
    assert np.all(angular_velocity(q, 0.02) == 0.0)
    m = motion_from_joint_trajectory(np.zeros((1, 3)), q, np.zeros((1, 29)), 30.0)
    assert m.num_frames == 1 and np.all(m.body_lin_vel_w == 0) and np.all(m.joint_vel == 0)
    # q and -q are the same orientation: a sign flip between frames is not a rotation
    qs = np.array([[1.0, 0, 0, 0], [-1.0, 0, 0, 0], [1.0, 0, 0, 0]])
    assert np.abs(angular_velocity(qs, 0.02)).max() < 1e-12


@pytest.mark.parametrize("fps_old,fps_new,T", [(30.0, 50.0, 31), (30.0, 50.0, 30), (50.0, 30.0, 51), (30.0, 30.0, 7)])
def test_resample_preserves_linear_trajectory(fps_old, fps_new, T):
    omega = np.array([0.0, 0.2, 0.7])
    v = np.array([0.5, -0.1, 0.02])
    q0 = np.array([1.0, 0.0, 0.0, 0.0])
    rate = np.linspace(-0.1, 0.1, 29)  # rad/s: stays inside every joint's limits for 1.7 s

    def at(t):
        joints = 0.5 * (LO + HI) + rate * t[:, None]
        assert np.all((joints > LO) & (joints < HI))
        return np.array([0, 0, 0.8]) + t[:, None] * v, quat_mul(quat_exp(t[:, None] * omega), q0), joints

    src = motion_from_joint_trajectory(*at(np.arange(T) / fps_old), fps_old)
    out = resample_motion(src, fps_new)
    T_new = int(np.floor((T - 1) * fps_new / fps_old)) + 1
    assert out.num_frames == T_new and out.fps == fps_new
    pos, quat, joints = at(np.arange(T_new) / fps_new)
    np.testing.assert_allclose(out.root_pos_w, pos, atol=1e-12)
    np.testing.assert_allclose(np.abs((out.root_quat_w * quat).sum(-1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(out.joint_pos, joints, atol=1e-12)
    np.testing.assert_allclose(out.joint_vel, np.broadcast_to(rate, joints.shape), atol=1e-9)
    np.testing.assert_allclose(out.body_ang_vel_w[:, PELVIS], np.broadcast_to(omega, (T_new, 3)), atol=1e-9)
    assert out.meta["resampled_from_fps"] == fps_old


def test_resample_objects():
    T = 31
    src = motion_from_joint_trajectory(np.zeros((T, 3)), np.tile([1.0, 0, 0, 0], (T, 1)), np.zeros((T, 29)), 30.0)
    src.objects = {"object_pos_w": np.linspace(0, 3, T)[:, None].repeat(3, 1).astype(np.float32),
                   "object_contact": (np.arange(T) >= 15)[:, None],
                   "object_size": np.array([0.1, 0.2, 0.3])}
    out = resample_motion(src, 50.0)
    np.testing.assert_allclose(out.objects["object_pos_w"][:, 0], np.arange(51) / 50 * 3, atol=1e-6)
    assert out.objects["object_contact"].shape == (51, 1) and out.objects["object_contact"].dtype == bool
    np.testing.assert_array_equal(out.objects["object_size"], [0.1, 0.2, 0.3])


def test_bad_trajectories():
    rp, rq, jp = _random(5)

    def err(fragment, *args, **kw):
        with pytest.raises(ValueError) as e:
            motion_from_joint_trajectory(*args, **kw)
        assert fragment in str(e.value) and "\n" not in str(e.value), str(e.value)

    names = list(G1.joint_names)
    err("unknown joint names ['elbow']", rp, rq, jp, 30.0, joint_names=names[:-1] + ["elbow"])
    err("missing joints ['right_wrist_yaw_joint']", rp, rq, jp[:, :-1], 30.0, joint_names=names[:-1])
    err("joint_pos: expected shape (5, 29)", rp, rq, jp[:, :-1], 30.0)
    bad = jp.copy()
    bad[3, 2] = np.nan
    err("joint_pos has NaN or Inf at frame 3", rp, rq, bad, 30.0)
    err("zero frames", rp[:0], rq[:0], jp[:0], 30.0)
    err("fps must be finite and > 0", rp, rq, jp, -1.0)
    err("root_quat is not a unit quaternion at frame 0", rp, rq * 2, jp, 30.0)
    with pytest.raises(ValueError, match="fps must be finite"):
        resample_motion(motion_from_joint_trajectory(rp, rq, jp, 30.0), 0.0)
