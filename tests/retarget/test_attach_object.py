"""attach_box and the shipped pick-up-and-carry-a-box sample."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.motion.format import load_motion
from mimiclab.motion.objects import object_track, surface_distance
from mimiclab.retarget.attach_object import (BOX_CARRY_SIZE, HANDS, attach_box, make_box_carry_motion,
                                             palm_positions, parse_box_size, parse_hold_frames)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return load_motion(make_box_carry_motion(tmp_path_factory.mktemp("box")))


def test_sample_builds_and_box_is_held(sample):
    tr = object_track(sample)
    assert tr is not None and tr.shape == "box" and tuple(tr.size) == BOX_CARRY_SIZE and tr.mass == 2.0
    s, e = sample.meta["object"]["hold_frames"]
    assert 0 < s < e < sample.num_frames - 1 and (e - s) / sample.fps > 2.0  # lift, carry, put down
    palms = palm_positions(sample)
    d = np.abs(surface_distance(tr, palms, signed=True))
    assert d[s:e + 1].max() < 0.03  # both palms on the box faces throughout the hold
    assert tr.pos_w[s:e + 1, 2].max() > 0.5  # lifted in front of the torso
    assert np.ptp(tr.pos_w[s:e + 1, 0]) > 0.5  # and carried (the robot walks with it)
    assert abs(sample.meta["object"]["pickup_drop_m"]) < 0.02 and abs(sample.meta["object"]["release_drop_m"]) < 0.02
    np.testing.assert_allclose(tr.pos_w[:s, 2], BOX_CARRY_SIZE[2] / 2)
    np.testing.assert_allclose(tr.pos_w[e + 1:, 2], BOX_CARRY_SIZE[2] / 2)
    hands = [tr.contact_bodies.index(h) for h in HANDS]
    np.testing.assert_array_equal(tr.contacts[s:e + 1][:, hands], 1.0)
    np.testing.assert_array_equal(tr.contacts[:s], 0.0)
    np.testing.assert_array_equal(tr.contacts[e + 1:], 0.0)


def test_attach_box_before_during_after(sample):
    size = np.array([0.3, 0.42, 0.32])
    s, e = 180, 300
    m = attach_box(sample, size, 3.0, (s, e))
    tr = object_track(m)
    palms = palm_positions(m)
    mid = palms.mean(axis=1)
    # held: centre at the palm midpoint (never below resting height), heading = pelvis yaw
    np.testing.assert_allclose(tr.pos_w[s:e + 1, :2], mid[s:e + 1, :2], atol=1e-9)
    np.testing.assert_allclose(tr.pos_w[s:e + 1, 2], np.maximum(mid[s:e + 1, 2], size[2] / 2), atol=1e-9)
    assert np.abs(tr.quat_w[:, 1:3]).max() < 1e-12  # level: rotation about z only
    # before: on the ground where it is picked up; after: dropped where released
    np.testing.assert_allclose(tr.pos_w[:s], np.tile([mid[s, 0], mid[s, 1], size[2] / 2], (s, 1)), atol=1e-9)
    np.testing.assert_allclose(tr.pos_w[e + 1:, :2], np.tile(mid[e, :2], (m.num_frames - e - 1, 1)), atol=1e-9)
    np.testing.assert_allclose(tr.pos_w[e + 1:, 2], size[2] / 2)
    # the hands stay on the box while held
    assert np.abs(surface_distance(tr, palms, signed=True))[s:e + 1].max() < 0.03
    # labels: hands 1 while held, everything 0 outside the hold
    for h in HANDS:
        c = tr.contacts[:, tr.contact_bodies.index(h)]
        np.testing.assert_array_equal(np.nonzero(c)[0], np.arange(s, e + 1))
    assert tr.contacts[:s].sum() == 0 and tr.contacts[e + 1:].sum() == 0
    assert m.meta["object"]["hold_frames"] == [s, e]
    assert object_track(sample) is not None and sample.objects["object_mass"] == 2.0  # input untouched


@pytest.mark.parametrize("kw, message", [
    (dict(frames=(10, 5)), "hold frames"),
    (dict(frames=(0, 10_000)), "hold frames"),
    (dict(size=(0.3, 0.0, 0.2)), "positive extents"),
    (dict(mass=0.0), "mass must be positive"),
    (dict(hands=("left_wrist_yaw_link", "gripper")), "hands must be two bodies"),
])
def test_attach_box_errors(sample, kw, message):
    args = dict(size=(0.3, 0.3, 0.2), mass=1.0, frames=(10, 50))
    args.update(kw)
    with pytest.raises(ValueError, match=message):
        attach_box(sample, **args)


def test_cli_argument_parsing():
    assert parse_box_size("0.3,0.25,0.2") == (0.3, 0.25, 0.2)
    assert parse_hold_frames("40:160") == (40, 160)
    for bad in ("0.3,0.25", "a,b,c", "0.3,-0.2,0.1"):
        with pytest.raises(ValueError, match="--attach-box"):
            parse_box_size(bad)
    for bad in ("40", "160:40", "x:y", "-1:5"):
        with pytest.raises(ValueError, match="--hold-frames"):
            parse_hold_frames(bad)


def test_cli_bad_values_one_line_error(tmp_path, capsys):
    from mimiclab.cli import main

    assert main(["retarget", "x.bvh", "-o", str(tmp_path), "--attach-box", "0.3,0.2"]) != 0
    assert main(["retarget", "x.bvh", "-o", str(tmp_path), "--attach-box", "0.3,0.2,0.2", "--hold-frames", "9:3"]) != 0
    assert main(["retarget", "x.bvh", "-o", str(tmp_path), "--attach-box", "0.3,0.2,0.2", "--hold-frames", "1:3",
                 "--object-mass", "-1"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "--hold-frames" in err[0] and "--hold-frames" in err[1] and "--object-mass" in err[2]
    assert list(tmp_path.iterdir()) == []
