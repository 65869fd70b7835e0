"""The G1's left-right mirror maps (mimiclab.robots.mirror, mimiclab.motion.mirror) against the MJCF:
joint axes, limits, the default pose, and forward kinematics of mirrored joint angles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mimiclab.robots.g1 import G1
from mimiclab.robots.mirror import index_mirror, joint_mirror, joint_sign, mirror_name

M = np.diag([1.0, -1.0, 1.0])


def test_every_g1_joint_and_body_has_a_twin_and_mirroring_twice_is_the_identity():
    m = joint_mirror(G1.joint_names)
    assert [m.perm[p] for p in m.perm] == list(range(G1.num_joints))
    assert G1.joint_names[m.perm[G1.joint_names.index("left_hip_roll_joint")]] == "right_hip_roll_joint"
    assert G1.joint_names[m.perm[G1.joint_names.index("waist_yaw_joint")]] == "waist_yaw_joint"
    b = index_mirror(G1.body_names)
    assert [b[p] for p in b] == list(range(G1.num_bodies))
    assert sum(i != p for i, p in enumerate(m.perm)) == 26  # 13 twin pairs; the 3 waist joints map to themselves
    q = torch.randn(5, G1.num_joints, dtype=torch.float64)
    once = q[:, list(m.perm)] * torch.tensor(m.sign, dtype=torch.float64)
    twice = once[:, list(m.perm)] * torch.tensor(m.sign, dtype=torch.float64)
    assert torch.equal(twice, q)


def test_joint_signs_follow_the_mjcf_joint_axes(g1_mjcf):
    """A hinge about axis a mirrors to −θ about M·a: the twin keeps the sign when its axis is −M·a."""
    import mujoco

    model = mujoco.MjModel.from_xml_path(str(g1_mjcf))
    for name in G1.joint_names:
        a = model.jnt_axis[model.joint(name).id]
        b = model.jnt_axis[model.joint(mirror_name(name)).id]
        dot = float(np.dot(M @ a, b))
        assert abs(abs(dot) - 1.0) < 1e-6, (name, a, b)
        assert joint_sign(name) == -round(dot), (name, a, b)


def test_mirrored_limits_and_default_pose_match_the_twins():
    m = joint_mirror(G1.joint_names)
    for i, j in enumerate(G1.joints):
        twin = G1.joints[m.perm[i]]
        s = m.sign[i]
        lo, hi = sorted((s * j.lower, s * j.upper))
        assert (lo, hi) == pytest.approx((twin.lower, twin.upper), abs=1e-4), j.name
        assert s * j.default_pos == pytest.approx(twin.default_pos), j.name
        assert j.actuator == twin.actuator, j.name


def test_forward_kinematics_of_mirrored_angles_is_the_mirror_image(g1_tree):
    """Known answer on random poses: FK(mirror(root, q)) = mirror(FK(root, q)) body by body (positions
    y → −y, orientations R → M R M), so the joint signs and the MJCF's link frames agree."""
    from mimiclab.kernels.fk import fk_reference
    from mimiclab.rotations.torch_ops import quat_normalize

    gen = torch.Generator().manual_seed(0)
    n = 64
    lo = torch.tensor([j.lower for j in G1.joints], dtype=torch.float64)
    hi = torch.tensor([j.upper for j in G1.joints], dtype=torch.float64)
    q = lo + (hi - lo) * torch.rand(n, G1.num_joints, generator=gen, dtype=torch.float64)
    root_pos = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    root_quat = quat_normalize(torch.randn(n, 4, generator=gen, dtype=torch.float64))
    jm = joint_mirror(g1_tree.joint_names)
    bm = list(index_mirror(g1_tree.body_names))
    polar = torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)
    qflip = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    pos, quat = fk_reference(g1_tree, root_pos, root_quat, q)
    q_m = q[:, list(jm.perm)] * torch.tensor(jm.sign, dtype=torch.float64)
    pos_m, quat_m = fk_reference(g1_tree, root_pos * polar, root_quat * qflip, q_m)
    assert torch.allclose(pos_m, pos[:, bm] * polar, atol=2e-5)
    dot = (quat_m * (quat[:, bm] * qflip)).sum(-1).abs()
    assert torch.allclose(dot, torch.ones_like(dot), atol=1e-9)


def test_mirror_motion_is_an_involution_and_agrees_with_kinematics(g1_tree):
    from mimiclab.kernels.fk import fk_reference
    from mimiclab.motion.format import MotionData
    from mimiclab.motion.mirror import mirror_motion

    gen = torch.Generator().manual_seed(1)
    T = 6
    q = 0.3 * torch.randn(T, G1.num_joints, generator=gen)
    root_pos = torch.tensor([[0.1 * t, 0.05 * t, 0.78] for t in range(T)])
    root_quat = torch.nn.functional.normalize(torch.tensor([[1.0, 0.02 * t, 0.03, 0.1 * t] for t in range(T)]), dim=-1)
    pos, quat = fk_reference(g1_tree, root_pos, root_quat, q)
    motion = MotionData(fps=50.0, joint_names=list(g1_tree.joint_names), body_names=list(g1_tree.body_names),
                        joint_pos=q.numpy(), joint_vel=torch.randn(T, G1.num_joints, generator=gen).numpy(),
                        root_pos_w=root_pos.numpy(), root_quat_w=root_quat.numpy(), body_pos_w=pos.numpy(),
                        body_quat_w=quat.numpy(), body_lin_vel_w=np.ones((T, G1.num_bodies, 3), np.float32),
                        body_ang_vel_w=np.ones((T, G1.num_bodies, 3), np.float32))
    mirrored = mirror_motion(motion)
    back = mirror_motion(mirrored)
    for f in ("joint_pos", "joint_vel", "root_pos_w", "root_quat_w", "body_pos_w", "body_quat_w",
              "body_lin_vel_w", "body_ang_vel_w"):
        assert np.array_equal(getattr(back, f), getattr(motion, f)), f
    pos_m, quat_m = fk_reference(g1_tree, torch.from_numpy(mirrored.root_pos_w), torch.from_numpy(mirrored.root_quat_w),
                                 torch.from_numpy(mirrored.joint_pos))
    assert np.allclose(pos_m.numpy(), mirrored.body_pos_w, atol=1e-5)
    assert np.allclose(np.abs((quat_m.numpy() * mirrored.body_quat_w).sum(-1)), 1.0, atol=1e-5)
    hand = g1_tree.body_names.index("left_wrist_yaw_link")
    assert mirrored.body_ang_vel_w[0, hand].tolist() == [-1.0, 1.0, -1.0]
    assert mirrored.meta["mirrored"] is True


def test_names_without_a_twin_or_an_axis_are_refused():
    with pytest.raises(ValueError, match="does not name its axis"):
        joint_sign("left_gripper_joint")
    with pytest.raises(ValueError, match="no twin for 'left_knee_joint'"):
        index_mirror(["left_knee_joint", "waist_yaw_joint"])
