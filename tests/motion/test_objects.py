"""Objects in motion files: schema, validation, round trip, select/resample, derived contact labels."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.motion.format import load_motion, save_motion
from mimiclab.motion.kinematics import motion_from_joint_trajectory, resample_motion
from mimiclab.motion.objects import (ObjectTrack, derive_contact_labels, object_track, surface_distance,
                                     surface_points, with_object)
from mimiclab.robots.g1 import G1

T = 20


@pytest.fixture(scope="module")
def motion():
    t = np.arange(T) / 50.0
    root = np.stack((0.3 * t, np.zeros(T), np.full(T, 0.78)), axis=1)
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    q = np.zeros((T, 29))
    q[:, G1.joint_names.index("left_elbow_joint")] = np.linspace(0, 1, T)
    return motion_from_joint_trajectory(root, quat, q, 50.0)


def _track(n=T, **kw):
    rng = np.random.default_rng(0)
    yaw = np.linspace(0, 1.0, n)
    args = dict(name="crate", shape="box", size=np.array([0.3, 0.25, 0.2]), mass=2.0,
                pos_w=rng.normal(size=(n, 3)), quat_w=np.stack((np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)), 1),
                contact_bodies=["torso_link", "left_wrist_yaw_link"],
                contacts=(rng.uniform(size=(n, 2)) > 0.5).astype(np.float32))
    args.update(kw)
    return ObjectTrack(**args)


def test_round_trip_bit_exact(motion, tmp_path):
    m = with_object(motion, _track())
    path = save_motion(tmp_path / "m.npz", m)
    back = load_motion(path)
    assert set(back.objects) == set(m.objects)
    for k, v in m.objects.items():
        assert back.objects[k].dtype == v.dtype and back.objects[k].shape == v.shape, k
        assert back.objects[k].tobytes() == v.tobytes(), k
    tr = object_track(back)
    assert tr.shape == "box" and tr.name == "crate" and tr.mass == 2.0
    assert tr.contact_bodies == ["torso_link", "left_wrist_yaw_link"]
    assert back.objects["object_pos_w"].dtype == np.float64 and back.objects["object_contacts"].dtype == np.float32
    assert save_motion(tmp_path / "m2.npz", back).read_bytes() == path.read_bytes()
    assert object_track(motion) is None


@pytest.mark.parametrize("change, message", [
    (dict(pos_w=np.zeros((T, 2))), "object_pos_w has shape"),
    (dict(pos_w=np.full((T, 3), np.nan)), "NaN"),
    (dict(quat_w=np.tile([1.0, 0.1, 0.0, 0.0], (T, 1))), "not a unit quaternion"),
    (dict(shape="sphere"), "unknown object_shape"),
    (dict(size=np.array([0.3, 0.0, 0.2])), "positive extents"),
    (dict(mass=0.0), "object_mass must be positive"),
    (dict(mass=-1.0), "object_mass must be positive"),
    (dict(contact_bodies=["torso_link", "gripper"]), "not bodies of the motion"),
    (dict(contacts=np.full((T, 2), 0.5, np.float32)), "0 or 1"),
    (dict(contacts=np.zeros((T, 3), np.float32)), "object_contacts has shape"),
    (dict(shape="mesh", size=np.zeros(3)), "needs object_mesh_vertices"),
    (dict(shape="mesh"), "mesh object_size must be"),
])
def test_validation_errors(motion, change, message):
    with pytest.raises(ValueError, match=message) as e:
        with_object(motion, _track(**change))
    assert "\n" not in str(e.value)


def test_frames_must_match_and_load_validates(motion, tmp_path):
    with pytest.raises(ValueError, match=f"has {T + 1} frames, the motion has {T}"):
        with_object(motion, _track(n=T + 1))
    # a file whose object is broken is refused on load, naming the file
    m = with_object(motion, _track())
    path = save_motion(tmp_path / "m.npz", m)
    data = dict(np.load(path, allow_pickle=False))
    data["object_mass"] = np.asarray(-2.0)
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(ValueError, match=r"bad\.npz: object_mass must be positive"):
        load_motion(tmp_path / "bad.npz")


def test_select_keeps_object_and_drops_unpicked_labels(motion):
    m = with_object(motion, _track())
    bodies = ["left_wrist_yaw_link", "pelvis"]
    s = m.select(body_names=bodies)
    tr = object_track(s)
    assert tr.contact_bodies == ["left_wrist_yaw_link"]
    np.testing.assert_array_equal(tr.contacts[:, 0], m.objects["object_contacts"][:, 1])
    np.testing.assert_array_equal(tr.pos_w, m.objects["object_pos_w"])


def test_resample_keeps_object_aligned(motion):
    tr = _track()
    tr.pos_w = np.stack((np.arange(T) * 0.1, np.zeros(T), np.ones(T)), 1)
    yaw = np.arange(T) * 0.05
    tr.quat_w = np.stack((np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)), 1)
    tr.contacts = np.zeros((T, 2), np.float32)
    tr.contacts[7:, 0] = 1.0
    out = resample_motion(with_object(motion, tr), 100.0)  # 50 → 100 fps: 2T − 1 frames
    rt = object_track(out)
    assert rt.num_frames == out.num_frames == 2 * T - 1
    np.testing.assert_allclose(rt.pos_w[:, 0], np.arange(2 * T - 1) * 0.05, atol=1e-12)
    np.testing.assert_allclose(2 * np.arctan2(rt.quat_w[:, 3], rt.quat_w[:, 0]), np.arange(2 * T - 1) * 0.025,
                               atol=1e-9)
    assert set(np.unique(rt.contacts)) <= {0.0, 1.0}
    # new frame k sits at old frame k/2; nearest-frame labels switch on at old frame 7 (new 13: 6.5 → 7)
    np.testing.assert_array_equal(np.nonzero(rt.contacts[:, 0])[0], np.arange(13, 2 * T - 1))
    np.testing.assert_array_equal(rt.size, tr.size)
    assert rt.contact_bodies == tr.contact_bodies


def test_derive_contact_labels_known_answer(motion):
    wrist = motion.body_names.index("right_wrist_yaw_link")
    torso = motion.body_names.index("torso_link")
    size = np.array([0.2, 0.2, 0.2])
    # box face 2 cm beside the right wrist's origin in the first half, 10 cm in the second; the torso far away
    gap = np.where(np.arange(T) < T // 2, 0.02, 0.10)
    pos = motion.body_pos_w[:, wrist].astype(np.float64).copy()
    pos[:, 2] -= 0.1 + gap  # box top face `gap` below the wrist origin
    tr = ObjectTrack("b", "box", size, 1.0, pos, np.tile([1.0, 0, 0, 0], (T, 1)))
    d = surface_distance(tr, motion.body_pos_w[:, [wrist]].astype(np.float64))[:, 0]
    np.testing.assert_allclose(d, gap, atol=1e-6)
    mid = pos  # the box centre is inside: signed distance −0.1
    np.testing.assert_allclose(surface_distance(tr, mid[:, None], signed=True)[:, 0], -0.1, atol=1e-12)
    far = np.linalg.norm(motion.body_pos_w[:, torso] - pos, axis=1).min()
    assert far > 0.2
    # the wrist's palm and hand tip are further from the box top only if the hand points up; use the
    # origin alone by asking about a body without extra points: the elbow sits further still
    labels = derive_contact_labels(motion, tr, ["torso_link", "right_wrist_yaw_link"], threshold=0.03)
    assert labels.dtype == np.float32 and labels.shape == (T, 2)
    np.testing.assert_array_equal(labels[:, 0], 0.0)
    hand_pts_d = surface_distance(tr, _hand_points(motion, "right_wrist_yaw_link"), signed=True).min(axis=1)
    np.testing.assert_array_equal(labels[:, 1], (hand_pts_d <= 0.03).astype(np.float32))
    np.testing.assert_array_equal(labels[: T // 2, 1], 1.0)  # the origin alone is 2 cm away
    with pytest.raises(ValueError, match="unknown bodies"):
        derive_contact_labels(motion, tr, ["nope"])


def _hand_points(motion, body):
    from mimiclab.motion.objects import body_contact_points

    return body_contact_points(motion, body)


def test_surface_points_on_the_surface():
    tr = _track()
    p = surface_points(tr, 512, seed=3).numpy()
    assert p.shape == (512, 3)
    assert np.allclose(np.max(np.abs(p) / (tr.size / 2), axis=1), 1.0, atol=1e-5)  # on a face
    cyl = ObjectTrack("c", "cylinder", np.array([0.1, 0.3, 0.0]), 1.0, np.zeros((1, 3)), np.array([[1.0, 0, 0, 0]]))
    q = surface_points(cyl, 256).numpy().astype(np.float64)
    d = surface_distance(cyl, q[None])
    assert d.max() < 1e-6
