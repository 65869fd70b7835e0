"""Clip labels and the heading-invariant motion features: known answers and exact round trips."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.retarget.learned.graph import HUMAN_ROLES
from mimiclab.robomirror.features import G1_DIM, HUMAN_DIM, g1_features, g1_trajectory, human_features
from mimiclab.robomirror.labels import clip_label, label_text
from mimiclab.rotations.numpy_ops import quat_from_axis_angle, quat_mul


@pytest.mark.parametrize("name, action, style, text", [
    ("dataset-2_walk-turn-left_elderly_003", "walk-turn-left", "elderly", "walk turn left, elderly"),
    ("dataset-1_bow_not-confident_001", "bow", "not-confident", "bow, not confident"),
    ("run_exhausted_012", "run", "exhausted", "run, exhausted"),
    ("my_take", "my_take", "", "my take"),
])
def test_clip_names_give_action_style_and_text(name, action, style, text):
    assert clip_label(name) == (action, style)
    assert label_text(action, style) == text


def _heading(yaw):
    return np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], -1)


def test_walking_forward_and_turning_give_the_known_rates():
    fps, T = 25.0, 30
    t = np.arange(T) / fps
    yaw = 0.8 + 0.5 * t  # turning left at 0.5 rad/s
    step = np.stack([np.cos(yaw), np.sin(yaw)], -1) * 1.2 / fps  # 1.2 m/s along the heading
    xy = np.concatenate([[[2.0, -1.0]], [2.0, -1.0] + np.cumsum(step[:-1], 0)])
    pos = np.concatenate([xy, np.full((T, 1), 0.79)], 1)
    f = g1_features(pos, _heading(yaw), np.zeros((T, 29)), fps)
    assert f.shape == (T, G1_DIM) and f.dtype == np.float32
    np.testing.assert_allclose(f[:, 0], 1.2, atol=1e-5)  # forward speed in the heading frame
    np.testing.assert_allclose(f[:, 1], 0.0, atol=1e-5)  # no sideways speed
    np.testing.assert_allclose(f[:, 2], 0.5, atol=1e-5)  # yaw rate
    np.testing.assert_allclose(f[:, 3], 0.79, atol=1e-6)
    np.testing.assert_allclose(f[:, 4:10], np.tile([1, 0, 0, 1, 0, 0], (T, 1)), atol=1e-6)  # upright: no tilt


def test_features_integrate_back_to_the_trajectory_from_its_start():
    rng = np.random.default_rng(0)
    T, fps = 60, 25.0
    yaw = np.cumsum(rng.normal(0, 0.05, T)) + 2.9  # crosses ±π
    tilt = quat_from_axis_angle(np.array([1.0, 0.3, 0.0]) / np.hypot(1, 0.3), rng.normal(0, 0.1, T))
    quat = quat_mul(_heading(yaw), tilt)
    pos = np.cumsum(rng.normal(0, 0.02, (T, 3)), 0) + [0.3, 0.4, 0.8]
    q = rng.normal(0, 0.3, (T, 29))
    p2, quat2, q2 = g1_trajectory(g1_features(pos, quat, q, fps), fps, pos[0, :2], yaw[0])
    np.testing.assert_allclose(p2, pos, atol=1e-4)  # float32 rates, summed over 60 frames
    np.testing.assert_allclose(np.abs((quat2 * quat).sum(1)), 1.0, atol=1e-6)
    np.testing.assert_allclose(q2, q, atol=1e-6)
    # the same features from another start: the same motion, moved and turned rigidly
    p3, _, _ = g1_trajectory(g1_features(pos, quat, q, fps), fps, (0.0, 0.0), 0.0)
    d = np.linalg.norm(np.diff(p3[:, :2], axis=0), axis=1)
    np.testing.assert_allclose(d, np.linalg.norm(np.diff(pos[:, :2], axis=0), axis=1), atol=1e-5)


def test_human_features_are_in_the_pelvis_heading_frame():
    T, R = 5, len(HUMAN_ROLES)
    roles = np.zeros((T, R, 3))
    roles[:, 0] = [1.0, 2.0, 0.9]  # pelvis
    li, ri, hi = HUMAN_ROLES.index("left_hip"), HUMAN_ROLES.index("right_hip"), HUMAN_ROLES.index("head")
    # facing +y (yaw 90°): the left hip lies toward −x
    roles[:, li] = roles[:, 0] + [-0.1, 0, 0]
    roles[:, ri] = roles[:, 0] + [0.1, 0, 0]
    roles[:, hi] = roles[:, 0] + [0, 0.2, 0.6]  # head a little in front
    present = np.ones(R, bool)
    present[HUMAN_ROLES.index("left_toe")] = False
    f = human_features(roles, present, 25.0)
    assert f.shape == (T, HUMAN_DIM)
    local = f[:, :3 * R].reshape(T, R, 3)
    np.testing.assert_allclose(local[:, li], [[0.0, 0.1, 0.0]] * T, atol=1e-6)  # left is +y in the heading frame
    np.testing.assert_allclose(local[:, hi], [[0.2, 0.0, 0.6]] * T, atol=1e-6)  # forward is +x
    np.testing.assert_array_equal(local[:, HUMAN_ROLES.index("left_toe")], 0.0)
    np.testing.assert_allclose(f[:, 3 * R], 0.9, atol=1e-6)
    np.testing.assert_allclose(f[:, 3 * R + 1:], 0.0, atol=1e-6)  # standing still
