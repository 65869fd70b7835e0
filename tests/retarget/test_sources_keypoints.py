"""3D keypoint files (npz / json): layouts, missing joints, round trips, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mimiclab.retarget.human_motion import HumanMotion
from mimiclab.retarget.sources.keypoints import (COCO17_JOINTS, H36M17_JOINTS, H36M17_PARENTS, SMPL24_JOINTS,
                                                 SMPL24_PARENTS, read_keypoints, write_keypoints)

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
