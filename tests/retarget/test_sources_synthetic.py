"""The synthetic human: skeleton, walk (planted feet), arm wave, shipped samples."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.retarget.sources.detect import load_human_motion
from mimiclab.retarget.sources.keypoints import COCO17_JOINTS, H36M17_JOINTS
from mimiclab.retarget.sources.bvh import forward_kinematics
from mimiclab.retarget.sources.synthetic import (JOINT_NAMES, human_skeleton, keypoints_from_motion,
                                                 synthetic_arm_wave, synthetic_walk, write_samples)


@pytest.fixture(scope="module")
def walk():
    return synthetic_walk()


def _joint(m, name):
    return m.positions[:, m.joint_names.index(name)]


def _knee_flexion(m, side):
    hip, knee, ankle = (_joint(m, f"{side}{n}") for n in ("UpLeg", "Leg", "Foot"))
    u, w = hip - knee, ankle - knee
    cos = np.sum(u * w, -1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(w, axis=-1)
    return 180.0 - np.degrees(np.arccos(np.clip(cos, -1, 1)))


@pytest.mark.parametrize("height", [1.75, 1.5])
def test_skeleton_height(height):
    sk = human_skeleton(height)
    assert sk.names == JOINT_NAMES and sk.names[0] == "Hips" and sk.parents[0] == -1
    T, J = 1, len(sk.names)
    pos, rot = forward_kinematics(sk.parents, sk.offsets[None], np.broadcast_to(np.eye(3), (T, J, 3, 3)))
    head = sk.names.index("Head")
    top = pos[0, head] + [o for p, o in sk.end_sites if p == head][0]
    toe = pos[0, sk.names.index("LeftToeBase")]
    ankle = pos[0, sk.names.index("LeftFoot")]
    assert top[1] == pytest.approx(height)  # rest pose: feet flat at y = 0 under the 0.012 H toe joint
    assert toe[1] == pytest.approx(0.012 * height) and ankle[1] == pytest.approx(0.039 * height)


def test_walk_shapes_and_frame(walk):
    walk.validate()
    assert walk.num_frames == 120 and walk.fps == 30.0
    assert walk.positions.shape == (120, 21, 3) and walk.orientations.shape == (120, 21, 4)
    assert walk.unit_scale == 1.0 and walk.up_axis == "z" and walk.confidence is None
    hips = _joint(walk, "Hips")
    speed = (hips[-1, 0] - hips[0, 0]) / ((walk.num_frames - 1) / walk.fps)
    assert speed == pytest.approx(1.2, rel=1e-6)  # along +x
    assert np.abs(hips[:, 1]).max() < 0.05  # small lateral sway
    assert 0.85 < hips[:, 2].min() and np.ptp(hips[:, 2]) > 0.015  # pelvis bobs
    assert (walk.positions[..., 2] > 0.015).all()  # nothing below the ground
    head_top = walk.extra["end_site_positions"][:, 0]
    assert 1.65 < head_top[:, 2].max() < 1.76


def test_walk_gait_is_plausible(walk):
    for side, k in (("Left", 0), ("Right", 1)):
        knee = _knee_flexion(walk, side)
        stance = walk.extra["stance"][:, k]
        assert knee.min() > 5.0 and knee[~stance].max() > 45.0 and knee[stance].mean() < 35.0
        toe = _joint(walk, f"{side}ToeBase")
        assert toe[stance, 2].min() == pytest.approx(0.021, abs=1e-3)  # reaches the ground
        assert toe[~stance, 2].max() > 0.08  # lifted in swing
        assert 0.5 < stance.mean() < 0.75
    # arms swing opposite to the legs: left hand forward while the right foot is forward
    rel = lambda n: _joint(walk, n)[:, 0] - _joint(walk, "Hips")[:, 0]  # noqa: E731
    assert np.corrcoef(rel("LeftHand"), rel("RightFoot"))[0, 1] > 0.5
    assert np.corrcoef(rel("LeftHand"), rel("LeftFoot"))[0, 1] < -0.5


def test_walk_planted_feet_do_not_slide(walk):
    dt = 1.0 / walk.fps
    for side, k in (("Left", 0), ("Right", 1)):
        toe = _joint(walk, f"{side}ToeBase")
        ankle = _joint(walk, f"{side}Foot")
        toe_on = walk.extra["toe_contact"][:, k]
        flat = walk.extra["foot_flat"][:, k]
        both = toe_on[1:] & toe_on[:-1]
        toe_speed = np.linalg.norm(np.diff(toe, axis=0), axis=-1) / dt
        assert both.sum() > 20 and toe_speed[both].max() < 1e-6
        flat2 = flat[1:] & flat[:-1]
        ankle_speed = np.linalg.norm(np.diff(ankle, axis=0), axis=-1) / dt
        assert flat2.sum() > 10 and ankle_speed[flat2].max() < 1e-6
        # as a height + speed contact detector sees it: toe within 1 cm of its lowest point
        low = toe[:, 2] < toe[:, 2].min() + 0.01
        low2 = low[1:] & low[:-1]
        horiz = np.linalg.norm(np.diff(toe[:, :2], axis=0), axis=-1) / dt
        assert horiz[low2].mean() < 0.01 and horiz[low2].max() < 0.1


def test_determinism():
    a, b = synthetic_walk(seed=3), synthetic_walk(seed=3)
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.orientations, b.orientations)
    assert not np.array_equal(a.positions, synthetic_walk(seed=4).positions)
    c, d = synthetic_arm_wave(), synthetic_arm_wave()
    np.testing.assert_array_equal(c.positions, d.positions)
    ka, kb = keypoints_from_motion(a, "coco17", seed=1), keypoints_from_motion(b, "coco17", seed=1)
    np.testing.assert_array_equal(ka.confidence, kb.confidence)


def test_arm_wave():
    m = synthetic_arm_wave()
    m.validate()
    assert m.num_frames == 90
    t = np.arange(m.num_frames) / m.fps
    head = _joint(m, "Head")[:, 2]
    for side in ("Left", "Right"):
        hand = _joint(m, f"{side}Hand")[:, 2]
        assert hand[0] < 1.0 and (hand[t > 0.8] > head[t > 0.8]).all()  # down first, then overhead
        ankle = _joint(m, f"{side}Foot")
        np.testing.assert_allclose(ankle, np.broadcast_to(ankle[0], ankle.shape), atol=1e-9)  # planted
        assert np.ptp(_joint(m, f"{side}Hand")[t > 0.8, 1]) > 0.2  # waving side to side
    assert (m.positions[..., 2] > 0.015).all()


def test_keypoints_from_motion(walk):
    coco = keypoints_from_motion(walk, "coco17")
    h36m = keypoints_from_motion(walk, "h36m17")
    assert coco.joint_names == list(COCO17_JOINTS) and h36m.joint_names == list(H36M17_JOINTS)
    assert coco.parents is None and h36m.parents is not None
    for kp in (coco, h36m):
        kp.validate()
        missing = kp.confidence == 0
        assert 0.005 < missing.mean() < 0.05 and np.isnan(kp.positions[missing]).all()
        assert ((kp.confidence > 0) & (kp.confidence < 0.6)).any()
        wrist = kp.joint_names.index("right_wrist")
        assert missing[:, wrist].sum() >= 6
    ok = coco.confidence > 0.8
    np.testing.assert_allclose(coco.positions[:, 5][ok[:, 5]], _joint(walk, "LeftArm")[ok[:, 5]])  # left_shoulder
    nose = coco.positions[:, 0][ok[:, 0]]
    assert (nose[:, 2] > _joint(walk, "Head")[ok[:, 0], 2]).all()
    clean = keypoints_from_motion(walk, "h36m17", dropouts=False)
    assert (clean.confidence == 1).all()
    with pytest.raises(ValueError):
        keypoints_from_motion(walk, "smpl24")


def test_write_samples(tmp_path):
    paths = write_samples(tmp_path / "a")
    names = sorted(p.name for p in paths)
    assert names == sorted(["walk.bvh", "arm_wave.bvh", "walk_coco17.npz", "walk_h36m17.json",
                            "arm_wave_coco17.json", "arm_wave_h36m17.npz"])
    assert len({p.stem for p in paths}) == len(paths)  # one output name per input
    for p in paths:
        m = load_human_motion(p)
        m.validate()
        assert m.num_frames in (120, 90) and m.fps == 30.0
        if p.suffix == ".bvh":
            assert m.joint_names == list(JOINT_NAMES) and m.unit_scale is None
            assert 145 < m.positions[:, m.joint_names.index("Head"), 1].max() < 160  # centimetres, Y up
        else:
            assert m.layout in ("coco17", "h36m17") and m.unit_scale == 1.0 and m.up_axis == "z"
            assert (m.confidence == 0).any()
    again = write_samples(tmp_path / "b")
    for p, q in zip(paths, again):
        assert p.read_bytes() == q.read_bytes(), p.name  # byte-for-byte deterministic
