"""Heading-frame features of the learned retargeter: invariant to where the performer stands and
which way they face, and exactly invertible back to the world."""

from __future__ import annotations

import numpy as np
import torch

from mimiclab.retarget.learned.features import (
    HUMAN_NODE_DIM, ROBOT_JOINT_DIM, ROBOT_ROOT_DIM, human_heading, human_nodes, robot_in_heading, robot_nodes,
    robot_to_world, yaw_matrix)
from mimiclab.retarget.learned.graph import HUMAN_ROLES
from mimiclab.rotations.torch_ops import matrix_from_quat, quat_from_matrix, quat_mul

FPS = 50.0


def _roles(gen: torch.Generator, B=2, T=12) -> torch.Tensor:
    """Random role positions (B,T,R,3) with the hips a shoulder-width apart along +y (facing +x)."""
    R = len(HUMAN_ROLES)
    roles = torch.randn(B, T, R, 3, generator=gen, dtype=torch.float64) * 0.3
    roles[..., 2] += 1.0
    roles[:, :, HUMAN_ROLES.index("left_hip")] = roles[:, :, HUMAN_ROLES.index("pelvis")] + torch.tensor([0.0, 0.1, 0.0], dtype=torch.float64)
    roles[:, :, HUMAN_ROLES.index("right_hip")] = roles[:, :, HUMAN_ROLES.index("pelvis")] - torch.tensor([0.0, 0.1, 0.0], dtype=torch.float64)
    return roles


def _turn(v: torch.Tensor, yaw: float, shift=(0.0, 0.0)) -> torch.Tensor:
    R = yaw_matrix(torch.tensor(yaw, dtype=v.dtype))
    return v @ R.T + torch.tensor([*shift, 0.0], dtype=v.dtype)


def test_a_performer_facing_x_has_heading_zero_and_turning_them_turns_it():
    roles = _roles(torch.Generator().manual_seed(0))
    origin, yaw = human_heading(roles)
    np.testing.assert_allclose(yaw, 0.0, atol=1e-12)
    np.testing.assert_allclose(origin[..., 2], 0.0)
    np.testing.assert_allclose(origin[..., :2], roles[:, :, HUMAN_ROLES.index("pelvis"), :2])
    _, yaw2 = human_heading(_turn(roles, 2.0, (3.0, -1.0)))
    np.testing.assert_allclose(yaw2, 2.0, atol=1e-12)


def test_human_features_do_not_change_when_the_performer_turns_and_walks_elsewhere():
    gen = torch.Generator().manual_seed(1)
    roles = _roles(gen)
    present = torch.ones(len(HUMAN_ROLES), dtype=torch.bool)
    present[HUMAN_ROLES.index("left_toe")] = False
    contacts = torch.rand(2, 12, 4, generator=gen) > 0.5
    scales = torch.randn(2, 6, generator=gen, dtype=torch.float64)
    a, _, _ = human_nodes(roles, present, contacts, scales, FPS)
    b, origin, yaw = human_nodes(_turn(roles, -2.5, (4.0, 7.0)), present, contacts, scales, FPS)
    assert a.shape == (2, 12, len(HUMAN_ROLES), HUMAN_NODE_DIM)
    np.testing.assert_allclose(a, b, atol=1e-9)
    np.testing.assert_allclose(yaw, -2.5, atol=1e-12)
    # an absent role contributes no position or velocity; contact flags sit on the foot nodes
    np.testing.assert_array_equal(a[:, :, HUMAN_ROLES.index("left_toe"), :7], 0.0)
    np.testing.assert_array_equal(a[:, :, HUMAN_ROLES.index("right_ankle"), 7], contacts[..., 2].double())


def _robot(gen: torch.Generator, B=2, T=10, J=29):
    pos = torch.randn(B, T, 3, generator=gen, dtype=torch.float64)
    q = torch.randn(B, T, 4, generator=gen, dtype=torch.float64)
    q = q / q.norm(dim=-1, keepdim=True)
    return pos, q, torch.randn(B, T, J, generator=gen, dtype=torch.float64)


def test_robot_heading_frame_round_trip_is_exact():
    pos, quat, _ = _robot(torch.Generator().manual_seed(2))
    from mimiclab.retarget.learned.features import robot_heading

    origin, yaw = robot_heading(pos, quat)
    rel, mat = robot_in_heading(pos, quat, origin, yaw)
    np.testing.assert_allclose(rel[..., :2], 0.0, atol=1e-12)  # the origin sits under the root
    back_pos, back_quat = robot_to_world(rel, mat, origin, yaw)
    np.testing.assert_allclose(back_pos, pos, atol=1e-12)
    np.testing.assert_allclose(matrix_from_quat(back_quat), matrix_from_quat(quat), atol=1e-12)


def test_robot_features_do_not_change_when_the_robot_turns_and_moves():
    pos, quat, q = _robot(torch.Generator().manual_seed(3))
    root, joints, _, _ = robot_nodes(pos, quat, q, FPS)
    turn = torch.tensor([np.cos(0.7), 0.0, 0.0, np.sin(0.7)], dtype=torch.float64).expand_as(quat)
    root2, joints2, _, yaw2 = robot_nodes(_turn(pos, 1.4, (-2.0, 5.0)), quat_mul(turn, quat), q, FPS)
    assert root.shape == (2, 10, ROBOT_ROOT_DIM) and joints.shape == (2, 10, 29, ROBOT_JOINT_DIM)
    np.testing.assert_allclose(root, root2, atol=1e-9)
    np.testing.assert_array_equal(joints, joints2)
    np.testing.assert_allclose(joints[:, 1:, :, 1], (q[:, 1:] - q[:, :-1]) * FPS * 0.1, atol=1e-12)


def test_quat_from_matrix_of_yaw_matrix_is_the_yaw_quaternion():
    q = quat_from_matrix(yaw_matrix(torch.tensor([0.3, -2.0], dtype=torch.float64)))
    np.testing.assert_allclose(q, [[np.cos(0.15), 0, 0, np.sin(0.15)], [np.cos(-1.0), 0, 0, np.sin(-1.0)]], atol=1e-12)
