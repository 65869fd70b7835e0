"""3D keypoint files (npz / json): layouts, missing joints, round trips, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mimiclab.motion.input_warning import MotionInputWarning
from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.skeleton_map import choose_map
from mimiclab.retarget.sources.detect import sniff_format
from mimiclab.retarget.sources.keypoint_layouts import (LAYOUTS as ALL_LAYOUTS, SMPLH52_PARENTS, SMPLX55_PARENTS,
                                                        canonical_layout, detect_17, h36m_mirrored)
from mimiclab.retarget.sources.keypoints import (COCO17_JOINTS, H36M17_JOINTS, H36M17_PARENTS, SMPL24_JOINTS,
                                                 SMPL24_PARENTS, parse_units, read_keypoints, write_keypoints)
from mimiclab.retarget.sources.options import SourceOptions

LAYOUTS = {"coco17": COCO17_JOINTS, "h36m17": H36M17_JOINTS, "smpl24": SMPL24_JOINTS}


def _motion(layout: str, T: int = 12, seed: int = 0) -> HumanMotion:
    rng = np.random.default_rng(seed)
    names = list(LAYOUTS[layout])
    J = len(names)
    pos = rng.normal(0.0, 0.5, (T, J, 3))
    conf = rng.uniform(0.3, 1.0, (T, J))
    conf[2, 3] = 0.0
    conf[5, :2] = 0.0
    pos[conf == 0] = np.nan
    parents = {"coco17": None, "h36m17": np.array(H36M17_PARENTS), "smpl24": np.array(SMPL24_PARENTS)}[layout]
    return HumanMotion(name="k", fps=25.0, joint_names=names, positions=pos, parents=parents, confidence=conf,
                       unit_scale=1.0, up_axis="z", layout=layout, source="test")


def test_layout_constants():
    assert len(COCO17_JOINTS) == 17 and len(H36M17_JOINTS) == 17 and len(SMPL24_JOINTS) == 24
    assert COCO17_JOINTS[0] == "nose" and COCO17_JOINTS[-1] == "right_ankle"
    assert H36M17_JOINTS[0] == "pelvis" and H36M17_JOINTS[10] == "head"
    assert SMPL24_JOINTS[0] == "pelvis" and SMPL24_JOINTS[-1] == "right_hand"
    for parents in (H36M17_PARENTS, SMPL24_PARENTS):
        assert parents[0] == -1 and all(0 <= p < j for j, p in enumerate(parents) if j)


@pytest.mark.parametrize("ext", ["npz", "json"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_round_trip(tmp_path, layout, ext):
    m = _motion(layout)
    path = write_keypoints(tmp_path / f"clip.{ext}", m)
    back = read_keypoints(path)
    assert back.layout == layout and back.joint_names == list(LAYOUTS[layout])
    assert back.fps == 25.0 and back.unit_scale == 1.0 and back.up_axis == "z"
    assert back.orientations is None and back.name == "clip" and back.source == str(path)
    if layout == "coco17":
        assert back.parents is None
    else:
        np.testing.assert_array_equal(back.parents, m.parents)
    np.testing.assert_array_equal(back.confidence, m.confidence)
    np.testing.assert_array_equal(np.isnan(back.positions), np.isnan(m.positions))
    np.testing.assert_allclose(back.positions, m.positions, rtol=0, atol=1e-12, equal_nan=True)
    assert back.confidence[2, 3] == 0.0 and np.isnan(back.positions[2, 3]).all()


def test_npz_output_is_deterministic(tmp_path):
    m = _motion("h36m17")
    a = write_keypoints(tmp_path / "a.npz", m).read_bytes()
    b = write_keypoints(tmp_path / "b.npz", m).read_bytes()
    assert a == b


def test_missing_joints_get_zero_confidence(tmp_path):
    T, J = 4, 24
    pos = np.ones((T, J, 3))
    pos[1, 5, 2] = np.nan  # one NaN coordinate → the joint is missing
    conf = np.full((T, J), 0.9)
    conf[3, 7] = 0.0  # confidence 0 → missing, its position becomes NaN
    p = tmp_path / "smpl.npz"
    np.savez(p, joints3d=pos, scores=conf, fps=np.array(30.0))
    m = read_keypoints(p)
    assert m.layout == "smpl24"  # from J = 24
    assert m.confidence[1, 5] == 0.0 and np.isnan(m.positions[1, 5]).all()
    assert m.confidence[3, 7] == 0.0 and np.isnan(m.positions[3, 7]).all()
    assert m.confidence[0, 0] == pytest.approx(0.9)
    m.validate()


def test_json_schema_with_nulls_and_aliases(tmp_path):
    frames = [[[0.1 * j, 0.0, 1.0] for j in range(17)] for _ in range(3)]
    frames[0][4] = None  # a whole joint missing
    frames[1][2] = [None, 0.2, 0.3]  # one coordinate missing
    doc = {"fps": 30, "layout": "COCO", "keypoints": frames, "confidence": [[1.0] * 17] * 3}
    p = tmp_path / "coco.json"
    p.write_text(json.dumps(doc))
    m = read_keypoints(p)
    assert m.layout == "coco17" and m.num_frames == 3 and m.parents is None
    assert m.confidence[0, 4] == 0.0 and m.confidence[1, 2] == 0.0 and m.confidence[2].min() == 1.0
    assert m.unit_scale is None and m.up_axis is None  # not stated by the file


def test_layout_detection(tmp_path):
    pos = np.zeros((2, 17, 3))
    p = tmp_path / "ambiguous.npz"
    np.savez(p, keypoints=pos, fps=30.0)
    with pytest.raises(ValueError, match="COCO-17 or H36M-17") as e:
        read_keypoints(p)
    assert str(e.value).startswith(str(p))
    assert read_keypoints(p, layout="h36m").layout == "h36m17"
    named = tmp_path / "named.npz"
    np.savez(named, positions=pos, fps=30.0, joint_names=np.array(H36M17_JOINTS))
    assert read_keypoints(named).layout == "h36m17"
    custom = tmp_path / "custom.npz"
    np.savez(custom, keypoints=np.zeros((2, 3, 3)), fps=30.0, joint_names=np.array(["a", "b", "c"]),
             parents=np.array([-1, 0, 1]), units="cm", up_axis="Y")
    m = read_keypoints(custom)
    assert m.layout is None and m.joint_names == ["a", "b", "c"] and list(m.parents) == [-1, 0, 1]
    assert m.unit_scale == 0.01 and m.up_axis == "y"
    four = tmp_path / "four.npz"  # (T,J,4): the 4th column is the confidence
    kp4 = np.ones((2, 24, 4))
    kp4[0, 3, 3] = 0.0
    np.savez(four, keypoints=kp4, fps=30.0)
    m4 = read_keypoints(four)
    assert m4.confidence[0, 3] == 0.0 and m4.confidence[1, 3] == 1.0 and m4.positions.shape == (2, 24, 3)


def _err(path) -> str:
    with pytest.raises(ValueError) as e:
        read_keypoints(path)
    msg = str(e.value)
    assert msg.startswith(str(path) + ": ") and "\n" not in msg, msg
    return msg


def test_errors_are_one_line_and_name_the_file(tmp_path):
    p = tmp_path / "pickled.npz"
    np.savez(p, keypoints=np.zeros((2, 24, 3)), fps=30.0, joint_names=np.array([object()] * 24, dtype=object))
    assert "pickled" in _err(p)
    p = tmp_path / "nofps.npz"
    np.savez(p, keypoints=np.zeros((2, 24, 3)))
    assert "fps" in _err(p)
    assert read_keypoints(p, fps=20).fps == 20.0
    p = tmp_path / "badfps.npz"
    np.savez(p, keypoints=np.zeros((2, 24, 3)), fps=0.0)
    assert "fps" in _err(p)
    p = tmp_path / "shape.npz"
    np.savez(p, keypoints=np.zeros((2, 24)), fps=30.0)
    assert "shape" in _err(p)
    p = tmp_path / "zero.npz"
    np.savez(p, keypoints=np.zeros((0, 24, 3)), fps=30.0)
    assert "zero frames" in _err(p)
    p = tmp_path / "allnan.npz"
    np.savez(p, keypoints=np.full((2, 24, 3), np.nan), fps=30.0)
    assert "missing" in _err(p)
    p = tmp_path / "layout.npz"
    np.savez(p, keypoints=np.zeros((2, 17, 3)), fps=30.0, layout="openpose25")
    assert "unknown layout" in _err(p)
    p = tmp_path / "mismatch.npz"
    np.savez(p, keypoints=np.zeros((2, 17, 3)), fps=30.0, layout="smpl24")
    assert "24 joints" in _err(p)
    p = tmp_path / "nokeys.npz"
    np.savez(p, something=np.zeros(3))
    assert "no keypoint array" in _err(p)
    p = tmp_path / "conf.npz"
    np.savez(p, keypoints=np.zeros((2, 24, 3)), confidence=np.ones((2, 23)), fps=30.0)
    assert "confidence" in _err(p)
    p = tmp_path / "broken.npz"
    p.write_bytes(b"not a zip file at all")
    assert "npz" in _err(p)
    p = tmp_path / "bad.json"
    p.write_text('{"fps": 30, "keypoints": [[[0,0,0]]')
    assert "JSON" in _err(p)
    p = tmp_path / "ragged.json"
    p.write_text(json.dumps({"fps": 30, "layout": "coco17", "keypoints": [[[0, 0, 0]] * 17, [[0, 0, 0]] * 16]}))
    assert "same number of joints" in _err(p)
    p = tmp_path / "list.json"
    p.write_text("[1, 2]")
    assert "object" in _err(p)
    _err(tmp_path / "absent.npz")


def test_write_keypoints_is_atomic(tmp_path):
    m = _motion("coco17")
    m.positions = m.positions[:, :5]  # inconsistent: write must fail and leave nothing behind
    with pytest.raises(ValueError):
        write_keypoints(tmp_path / "bad.npz", m)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- layouts and conventions

def _standing(layout: str, height: float = 1.7) -> np.ndarray:
    """(J,3) a standing person facing +x, Z-up, metres, in the layout's order (rough anatomy)."""
    h = height
    pts = {"pelvis": [0, 0, 0.53], "spine": [0, 0, 0.65], "thorax": [0, 0, 0.80], "head": [0, 0, 1.0],
           "neck": [0.06, 0, 0.90], "nose": [0.06, 0, 0.93], "left_ear": [0, 0.05, 0.92],
           "right_ear": [0, -0.05, 0.92], "left_eye": [0.05, 0.02, 0.94], "right_eye": [0.05, -0.02, 0.94]}
    for side, y in (("left", 1.0), ("right", -1.0)):
        pts.update({f"{side}_hip": [0, 0.06 * y, 0.50], f"{side}_knee": [0.01, 0.06 * y, 0.28],
                    f"{side}_ankle": [0, 0.06 * y, 0.04], f"{side}_shoulder": [0, 0.11 * y, 0.80],
                    f"{side}_elbow": [0, 0.13 * y, 0.62], f"{side}_wrist": [0.02, 0.13 * y, 0.47]})
    return np.array([pts[n] for n in ALL_LAYOUTS[layout].names]) * h


def test_new_layout_tables():
    for name, lay in ALL_LAYOUTS.items():
        assert len(set(lay.names)) == len(lay.names), name
        if lay.parents is not None:
            assert len(lay.parents) == len(lay.names) and lay.parents[0] == -1
            assert all(0 <= p < j for j, p in enumerate(lay.parents) if j), name
    assert len(ALL_LAYOUTS["smpl22"].names) == 22 and ALL_LAYOUTS["smpl22"].fps == 20.0
    assert ALL_LAYOUTS["smplh52"].names[:22] == ALL_LAYOUTS["smpl22"].names and len(SMPLH52_PARENTS) == 52
    assert SMPLH52_PARENTS[22] == 20 and SMPLH52_PARENTS[37] == 21 and SMPLX55_PARENTS[22] == 15
    assert len(ALL_LAYOUTS["mediapipe33"].names) == 33 and ALL_LAYOUTS["mediapipe33"].names[32] == "right_foot_index"
    official = ALL_LAYOUTS["h36m17-official"].names
    assert official[1] == "left_hip" and official[11] == "right_shoulder"
    assert sorted(official) == sorted(H36M17_JOINTS)
    for alias, name in (("HumanML3D", "smpl22"), ("SMPL-H", "smplh52"), ("blazepose", "mediapipe33"),
                        ("h36m17-official", "h36m17-official"), ("coco-17", "coco17"), ("SMPL", "smpl24")):
        assert canonical_layout(alias) == name
    for name in ALL_LAYOUTS:  # each layout's names find a skeleton map (mediapipe33: see the report)
        assert choose_map("auto", list(ALL_LAYOUTS[name].names)).roles


def test_geometry_tells_coco_from_h36m_and_the_mirrored_order():
    rng = np.random.default_rng(1)
    for layout in ("coco17", "h36m17"):
        pts = _standing(layout)[None] + rng.normal(0, 0.005, (8, 17, 3))
        assert detect_17(pts) == layout
    h36m = _standing("h36m17")[None].repeat(4, 0)
    assert h36m_mirrored(h36m) is False
    mirrored = h36m[:, [H36M17_JOINTS.index(n) for n in ALL_LAYOUTS["h36m17-official"].names]]
    assert h36m_mirrored(mirrored) is True
    flat_face = h36m.copy()
    flat_face[:, 9] = 0.5 * (h36m[:, 8] + h36m[:, 10])  # no nose offset: cannot tell
    assert h36m_mirrored(flat_face) is None
    assert detect_17(np.zeros((2, 17, 3))) is None


@pytest.mark.parametrize("units,scale", [("m", 1.0), ("cm", 0.01), ("mm", 0.001)])
def test_units_up_axis_and_frame_from_the_geometry(tmp_path, units, scale):
    pts = _standing("h36m17")[None].repeat(5, 0) / scale
    pts[:, :, 0] += np.linspace(0, 1, 5)[:, None] / scale  # walking forward: not root-relative
    p = tmp_path / "z.npy"
    np.save(p, pts)
    m = read_keypoints(p, fps=30)
    assert m.unit_scale == scale and m.up_axis == "z" and m.layout == "h36m17" and "frame" not in m.extra
    yup = tmp_path / "y.npy"
    np.save(yup, pts @ np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]]).T)  # Z-up → Y-up
    assert read_keypoints(yup, fps=30).up_axis == "y"
    cam = tmp_path / "cam.npy"
    np.save(cam, np.load(yup) * np.array([1, -1, -1]))
    with pytest.warns(MotionInputWarning, match="camera"):
        mc = read_keypoints(cam, fps=30)
    assert mc.up_axis == "y" and mc.extra["frame"] == "camera"
    np.testing.assert_allclose(mc.positions, np.load(yup), atol=1e-12)
    forced = read_keypoints(yup, fps=30, options=SourceOptions(frame="camera", units="cm"))
    assert forced.extra["frame"] == "camera" and forced.unit_scale == 0.01


def test_root_relative_flag(tmp_path):
    pts = _standing("coco17")[None].repeat(6, 0)
    pts[:, 9, 0] += np.linspace(0, 0.4, 6)  # a wrist moves, the hips stay put
    p = tmp_path / "rr.npz"
    np.savez(p, keypoints=pts, fps=30.0, layout="coco17")
    with pytest.warns(MotionInputWarning, match="no root translation is invented"):
        assert read_keypoints(p).extra["root_relative"] is True
    pts[:, :, 0] += np.linspace(0, 1, 6)[:, None]
    np.savez(p, keypoints=pts, fps=30.0, layout="coco17")
    assert "root_relative" not in read_keypoints(p).extra


def test_npy_json_shapes_and_sniffing(tmp_path):
    pts = np.random.default_rng(0).normal(0, 0.3, (3, 24, 3))
    flat = tmp_path / "flat.npy"
    np.save(flat, pts.reshape(3, 72))
    assert sniff_format(flat) == "keypoints"
    m = read_keypoints(flat, fps=10)
    assert m.layout == "smpl24" and m.positions.shape == (3, 24, 3)
    np.testing.assert_allclose(m.positions, pts)
    person = tmp_path / "person.npy"
    np.save(person, pts[None])  # a leading person axis
    assert read_keypoints(person, fps=10).num_frames == 3
    js = tmp_path / "list.json"
    js.write_text(json.dumps(pts.tolist()))
    assert read_keypoints(js, fps=10).layout == "smpl24"
    lm = tmp_path / "landmarks.json"
    frames = [[{"x": 0.1 * j, "y": 0.2, "z": 0.3, "visibility": 0.5 if j else 0.0} for j in range(33)]] * 2
    lm.write_text(json.dumps({"fps": 15, "pose_world_landmarks": frames}))
    mm = read_keypoints(lm)
    assert mm.layout == "mediapipe33" and mm.confidence[0, 1] == 0.5 and mm.confidence[0, 0] == 0.0
    anon = tmp_path / "anon.npz"
    np.savez(anon, pred=pts, trans=np.zeros((3, 3)), fps=30.0)
    assert sniff_format(anon) == "keypoints" and read_keypoints(anon).extra["keypoint_key"] == "pred"
    odd = tmp_path / "odd.npz"
    np.savez(odd, mystery=pts, fps=30.0)
    assert sniff_format(odd) == "keypoints" and read_keypoints(odd).extra["keypoint_key"] == "mystery"
    amass = tmp_path / "amass.npz"
    np.savez(amass, poses=np.zeros((3, 156)), trans=np.zeros((3, 3)), mocap_framerate=120.0)
    assert sniff_format(amass) == "amass"
    with pytest.raises(ValueError, match="--body-model"):
        read_keypoints(amass)  # what batch does with a non-BVH file: still the AMASS reader


def test_parse_units_and_pixel_refusal(tmp_path):
    assert parse_units("x", "MM") == 0.001 and parse_units("x", "0.5") == 0.5 and parse_units("x", 2) == 2.0
    with pytest.raises(ValueError, match="unknown units"):
        parse_units("x", "furlong")
    px = np.random.default_rng(0).uniform(0, 640, (4, 17, 3))
    px[..., 2] = np.random.default_rng(1).uniform(0, 1, (4, 17))  # (x, y, score)
    p = tmp_path / "px.npz"
    np.savez(p, keypoints=px, fps=30.0)
    assert "2-D pixel keypoints" in _err(p)
