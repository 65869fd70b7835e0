"""Known answers for the foot-target rules of ``mimiclab.retarget.foot_targets``: the flat pitch of a
source foot, stance pitch that agrees with the planted points, the one heading a planted foot keeps,
a sole sphere that rolls instead of pivoting, and pitch that does not flip when a foot points back."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.retarget import foot_targets as ft


def test_flat_pitch_comes_from_the_lowest_planted_toe_frames_not_a_raised_heel():
    # toe planted throughout; flat (pitch 0.7, ankle low) for 10 frames, then the heel rises
    # (pitch 1.4, ankle 4 cm higher) for 6 frames that a loose heel detector also calls planted
    pitch = np.r_[np.full(10, 0.7), np.full(6, 1.4)]
    ankle_z = np.r_[np.full(10, 0.035), np.full(6, 0.075)]
    planted = np.zeros((16, 2), bool)
    planted[:, 1] = True
    planted[10:, 0] = True  # the false heel contact the old median-over-both rule trusted
    assert ft._flat_pitch(pitch, ankle_z, planted) == pytest.approx(0.7)
    # no planted toe: the lowest fifth of all frames
    assert ft._flat_pitch(pitch, ankle_z, None) == pytest.approx(0.7)


def test_stance_pitch_keeps_the_heel_above_the_floor_and_a_flat_foot_flat():
    T = 12
    pitch = np.full(T, -0.5)  # toe up everywhere
    planted = np.zeros((T, 2), bool)
    planted[2:5, :] = True  # heel and toe down: flat
    planted[7:10, 1] = True  # toe only: heel may not go under the floor → pitch ≥ 0
    out = ft._stance_pitch(pitch, planted)
    assert np.all(out[2:5] == 0.0)
    assert np.all(out[8:9] >= 0.0) and out[8] == pytest.approx(0.0)
    assert out[0] == -0.5 and out[-1] == -0.5  # free frames away from a change keep the source pitch
    heel_only = np.zeros((T, 2), bool)
    heel_only[3:9, 0] = True
    up = ft._stance_pitch(np.full(T, 0.4), heel_only)  # heel only: toe may not go under → pitch ≤ 0
    assert np.all(up[4:8] == 0.0)
    assert np.abs(np.diff(out)).max() <= 0.5 * 2 / 3 + 1e-12  # eased: no frame takes the whole 0.5 rad change


def test_stance_heading_is_the_mean_heading_within_reach_of_the_pelvis():
    swivel = np.linspace(0.7, -0.4, 9)  # a foot swivelling on its ball
    assert ft._stance_heading(swivel, np.zeros(9)) == pytest.approx(0.15)
    assert ft._stance_heading(np.full(5, 1.0), np.zeros(5)) == pytest.approx(ft.MAX_TOE_OUT)
    assert ft._stance_heading(np.full(5, -1.0), np.full(5, 0.2)) == pytest.approx(0.2 - ft.MAX_TOE_OUT)
    # headings either side of ±π average across the wrap, not to 0
    assert abs(ft._stance_heading(np.array([3.1, -3.1]), np.full(2, np.pi))) == pytest.approx(np.pi)


def test_a_rolling_sole_sphere_moves_by_radius_times_pitch_change_along_the_heading():
    flags = np.zeros(10, bool)
    flags[2:8] = True
    pitch = np.linspace(0.0, 0.9, 10)
    heading = np.full(10, np.pi / 2)  # facing +y
    out = ft._rolling(flags, pitch, heading)
    r = ft.FOOT_CAPSULE_CENTER_HEIGHT
    run = pitch[2:8]
    np.testing.assert_allclose(out[2:8, 1], r * (run - run.mean()), atol=1e-12)
    np.testing.assert_allclose(out[2:8, 0], 0.0, atol=1e-12)
    assert not out[~flags].any()
    assert out[2:8].mean(axis=0) == pytest.approx([0.0, 0.0], abs=1e-12)  # the anchor stays the run's mean


def test_a_foot_swung_up_behind_pitches_toe_down_past_vertical_not_toe_up():
    # ankle→toe pointing backwards and up (sole facing up-back): pitch past +π/2 in the heading
    # plane, which wraps to about -2.6 rad; relative to a flat pitch of 0 it must count toe-down
    from scipy.spatial.transform import Rotation

    from mimiclab.rotations.numpy_ops import wxyz_to_xyzw

    T = 4
    roles = {"left_ankle": np.tile([0.0, 0.0, 0.3], (T, 1)), "left_toe": np.tile([-0.08, 0.0, 0.35], (T, 1))}
    roles["left_ankle"][0] = [0.0, 0.0, 0.1]  # one low, level frame: the flat pitch is 0
    roles["left_toe"][0] = [0.1, 0.0, 0.1]
    targets = ft.foot_targets(roles, "left", np.zeros(T), None, 50.0, (0.12, 0.0, -0.025), (-0.05, 0.0, -0.025))
    toe_dir = Rotation.from_quat(wxyz_to_xyzw(targets.quat)).apply([1.0, 0.0, 0.0])
    assert toe_dir[0, 2] == pytest.approx(0.0, abs=1e-9)
    assert np.all(toe_dir[1:, 2] < -0.9), toe_dir  # pitched toe-down (clipped at MAX_PITCH), not toe-up
