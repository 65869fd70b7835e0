"""Keypoint files as pose estimators write them, synthesised from a real Bandai BVH clip: every
layout in its own order, npy / npz / json, unknown keys, mm / cm / m, Y-up / Z-up, camera frame,
root-relative, HumanML3D at 20 fps, SMPL-H / SMPL-X with hand joints, MediaPipe 33. Each is
retargeted and compared, body by body, with the retarget of the same points written once as a
plain metre / Z-up keypoint file of that layout."""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from mimiclab.motion.input_warning import MotionInputWarning
from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
from mimiclab.retarget.sources.bvh import read_bvh
from mimiclab.retarget.sources.detect import load_human_motion, sniff_format
from mimiclab.retarget.sources.keypoint_layouts import LAYOUTS
from mimiclab.retarget.sources.keypoints import read_keypoints
from mimiclab.retarget.sources.options import SourceOptions

BVH = Path(__file__).resolve().parents[3] / "shared" / "data" / "bvh" / "bandai1_walk_normal_001.bvh"
FRAMES = 60
TOL = 0.02  # m, per body
YUP_TO_ZUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

pytestmark = pytest.mark.skipif(not BVH.is_file(), reason=f"real BVH sample absent ({BVH}; ../shared not mounted)")


# --------------------------------------------------------------------------- points from the BVH

@lru_cache(maxsize=1)
def _bvh() -> dict[str, np.ndarray]:
    """{joint: (T,3)} metres, Y-up, plus unit 'up', 'left', 'fwd' (T,3) body directions."""
    m = read_bvh(BVH)
    pts = {n: m.positions[:FRAMES, i] * 0.01 for i, n in enumerate(m.joint_names)}  # Bandai: cm
    up = np.tile([0.0, 1.0, 0.0], (FRAMES, 1))
    left = pts["UpperLeg_L"] - pts["UpperLeg_R"]
    left -= np.einsum("ti,ti->t", left, up)[:, None] * up
    left /= np.linalg.norm(left, axis=-1, keepdims=True)
    pts.update(up=up, left=left, fwd=np.cross(left, up))
    return pts


def _points(layout: str) -> np.ndarray:
    """(T,J,3) the layout's keypoints in its own order, metres, Y-up."""
    b = _bvh()
    up, left, fwd, head = b["up"], b["left"], b["fwd"], b["Head"]

    def at(base, f=0.0, u=0.0, s=0.0):
        return base + f * fwd + u * up + s * left

    def hand_tip(side, k):
        wrist, elbow = b[f"Hand_{side}"], b[f"LowerArm_{side}"]
        return wrist + k * (wrist - elbow)

    common = {
        "nose": at(head, 0.10, -0.02), "left_eye": at(head, 0.08, 0.03, 0.03), "right_eye": at(head, 0.08, 0.03, -0.03),
        "left_ear": at(head, 0.0, 0.0, 0.075), "right_ear": at(head, 0.0, 0.0, -0.075),
        "pelvis": b["Hips"], "head": head, "neck": b["Neck"],
    }
    for side, s in (("left", "L"), ("right", "R")):
        common.update({f"{side}_shoulder": b[f"UpperArm_{s}"], f"{side}_elbow": b[f"LowerArm_{s}"],
                       f"{side}_wrist": b[f"Hand_{s}"], f"{side}_hip": b[f"UpperLeg_{s}"],
                       f"{side}_knee": b[f"LowerLeg_{s}"], f"{side}_ankle": b[f"Foot_{s}"],
                       f"{side}_foot": b[f"Toes_{s}"], f"{side}_collar": b[f"Shoulder_{s}"],
                       f"{side}_hand": hand_tip(s, 0.3), f"{side}_heel": at(b[f"Foot_{s}"], -0.06, -0.05),
                       f"{side}_foot_index": b[f"Toes_{s}"], f"{side}_pinky": hand_tip(s, 0.35) - 0.02 * left,
                       f"{side}_index": hand_tip(s, 0.4), f"{side}_thumb": hand_tip(s, 0.2) + 0.03 * fwd,
                       f"{side}_eye_inner": at(head, 0.08, 0.03, 0.015 * (1 if side == "left" else -1)),
                       f"{side}_eye_outer": at(head, 0.07, 0.03, 0.045 * (1 if side == "left" else -1)),
                       f"{side}_eye_smplhf": at(head, 0.08, 0.03, 0.03 * (1 if side == "left" else -1))})
    common.update({"mouth_left": at(head, 0.09, -0.05, 0.025), "mouth_right": at(head, 0.09, -0.05, -0.025),
                   "spine1": b["Spine"], "spine2": b["Chest"], "spine3": 0.5 * (b["Chest"] + b["Neck"]),
                   "jaw": at(head, 0.06, -0.08), "thorax": b["Neck"], "spine": b["Chest"]})
    rng = np.random.default_rng(7)
    out = []
    for name in LAYOUTS[layout].names:
        if layout.startswith("h36m") and name == "head":
            out.append(at(head, 0.0, 0.10))  # H36M's head joint is the top of the head
        elif layout.startswith("h36m") and name == "neck":
            out.append(at(head, 0.10, -0.04))  # H36M's neck/nose point, in front of the face
        elif name in common:
            out.append(common[name])
        else:  # a finger joint: near the hand tip
            side = "L" if name.startswith("left") else "R"
            out.append(hand_tip(side, 0.3) + rng.normal(0.0, 0.03, 3))
    return np.stack(out, axis=1)


# --------------------------------------------------------------------------- files and retargets

def _zup(p: np.ndarray) -> np.ndarray:
    return p @ YUP_TO_ZUP.T


def _camera(p: np.ndarray) -> np.ndarray:
    """Y-up world → camera coordinates (x right, y down, z forward), subject 4 m in front."""
    return p * np.array([1.0, -1.0, -1.0]) + np.array([0.2, 0.1, 4.0])


def _root_relative(p: np.ndarray, names) -> np.ndarray:
    names = list(names)
    root = p[:, names.index("pelvis")] if "pelvis" in names else 0.5 * (
        p[:, names.index("left_hip")] + p[:, names.index("right_hip")])
    return p - root[:, None]


def _retarget(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MotionInputWarning)
        human = load_human_motion(path, **kw)
    return human, retarget_human(human, RetargetSettings(fps=30)).motion.body_pos_w


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("kp_corpus")


@pytest.fixture(scope="module")
def reference(workdir):
    """reference(layout, root_relative=False, fps=30) → body_pos_w (T,B,3) of the plain file."""
    cache = {}

    def get(layout: str, root_relative: bool = False, fps: float = 30.0) -> np.ndarray:
        key = (layout, root_relative, fps)
        if key not in cache:
            pts = _points(layout)
            if root_relative:
                pts = _root_relative(pts, LAYOUTS[layout].names)
            path = workdir / f"ref_{layout}_{int(root_relative)}_{int(fps)}.npz"
            np.savez(path, keypoints=_zup(pts), fps=np.float64(fps), layout=np.array(layout), units=np.array("m"),
                     up_axis=np.array("z"))
            human, cache[key] = _retarget(path)
            assert human.layout == layout and human.up_axis == "z" and human.unit_scale == 1.0
        return cache[key]

    return get


def _write(path: Path, array: np.ndarray, key: str = "keypoints", **fields) -> Path:
    if path.suffix == ".npy":
        np.save(path, array)
    elif path.suffix == ".json":
        path.write_text(json.dumps({key: array.tolist(), **fields}))
    else:
        np.savez(path, **{key: array}, **fields)
    return path


def _compare(body_pos: np.ndarray, ref: np.ndarray, root_relative: bool = False):
    assert body_pos.shape == ref.shape
    if root_relative:
        body_pos, ref = body_pos - body_pos[:, :1], ref - ref[:, :1]
    err = np.linalg.norm(body_pos - ref, axis=-1)
    assert err.max() < TOL, f"max body error {err.max():.4f} m (body {np.unravel_index(err.argmax(), err.shape)})"


OPTS30 = SourceOptions(source_fps=30.0)

# name: (layout, file name, positions → array written, write kwargs, options, expectations)
CASES = {
    "videopose3d_npy_mm_zup": ("h36m17", "vp3d.npy", lambda p: _zup(p) * 1000.0, {}, OPTS30,
                               dict(layout="h36m17", unit_scale=0.001, up_axis="z")),
    "mhformer_camera_rootrel": ("h36m17", "mhformer.npz", lambda p: _camera(_root_relative(p, LAYOUTS["h36m17"].names))
                                - np.array([0.2, 0.1, 4.0]), {"key": "reconstruction"}, OPTS30,
                                dict(layout="h36m17", up_axis="y", frame="camera", root_relative=True)),
    "motionbert_camera_cm": ("h36m17", "motionbert.npy", lambda p: _camera(p) * 100.0, {},
                             SourceOptions(source_fps=30.0), dict(unit_scale=0.01, frame="camera")),
    "h36m_official_order": ("h36m17-official", "official.npz", lambda p: p, {"key": "pose3d", "fps": 30.0}, None,
                            dict(layout="h36m17-official", up_axis="y", unit_scale=1.0)),
    "coco_json_cm_unknown_key": ("coco17", "coco.json", lambda p: p * 100.0, {"key": "kps", "fps": 30}, None,
                                 dict(layout="coco17", unit_scale=0.01, up_axis="y")),
    "coco_npy_with_confidence": ("coco17", "coco4.npy",
                                 lambda p: np.concatenate([_zup(p), np.full((FRAMES, 17, 1), 0.9)], -1),
                                 {}, SourceOptions(source_fps=30.0, units="m"), dict(layout="coco17", up_axis="z")),
    "smpl24_flattened_cm_zup": ("smpl24", "smpl24.npz", lambda p: (_zup(p) * 100.0).reshape(FRAMES, -1),
                                {"key": "output_joints", "fps": 30.0}, None, dict(layout="smpl24", unit_scale=0.01)),
    "humanml3d_npy_20fps": ("smpl22", "humanml3d.npy", lambda p: p, {}, None,
                            dict(layout="smpl22", fps=20.0, up_axis="y", unit_scale=1.0)),
    "smplh52_hands_yup": ("smplh52", "smplh.npz", lambda p: p, {"key": "joints", "fps": 30.0}, None,
                          dict(layout="smplh52", up_axis="y")),
    "smplx55_mm_unknown_key": ("smplx55", "smplx.npz", lambda p: p * 1000.0, {"key": "pred_3d", "fps": 30.0}, None,
                               dict(layout="smplx55", unit_scale=0.001)),
    "mediapipe_world_landmarks": ("mediapipe33", "mediapipe.json",
                                  lambda p: _camera(_root_relative(p, LAYOUTS["mediapipe33"].names)) - [0.2, 0.1, 4.0],
                                  {"key": "landmarks", "fps": 30}, None,
                                  dict(layout="mediapipe33", frame="camera", root_relative=True, unit_scale=1.0)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_real_layouts_and_conventions_retarget_like_the_plain_file(case, workdir, reference):
    layout, fname, make, write_kw, opts, expect = CASES[case]
    pts = _points(layout)
    path = _write(workdir / f"{case}_{fname}", make(pts), **write_kw)
    assert sniff_format(path) == "keypoints"
    human, body_pos = _retarget(path, options=opts)
    for field, value in expect.items():
        got = human.extra.get(field) if field in ("frame", "root_relative") else getattr(human, field)
        assert got == value, f"{case}: {field} = {got!r}, expected {value!r}"
    root_relative = bool(expect.get("root_relative"))
    ref_layout = "h36m17" if layout == "h36m17-official" else layout
    _compare(body_pos, reference(ref_layout, root_relative, expect.get("fps", 30.0)), root_relative)


def test_mirrored_h36m_order_warns_and_can_be_overridden(workdir):
    pts = _points("h36m17-official")
    path = _write(workdir / "official_warn.npz", pts, key="pose3d", fps=30.0)
    with pytest.warns(MotionInputWarning, match="h36m17-official"):
        assert read_keypoints(path).layout == "h36m17-official"
    assert read_keypoints(path, layout="h36m17").layout == "h36m17"  # the user's word wins
    std = _write(workdir / "standard.npz", _points("h36m17"), key="pose3d", fps=30.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MotionInputWarning)
        assert read_keypoints(std).layout == "h36m17"  # no warning for the common order


def test_conventions_warn(workdir):
    pts = _points("h36m17")
    cam = _write(workdir / "cam_warn.npy", _camera(pts))
    with pytest.warns(MotionInputWarning, match="camera coordinates"):
        m = read_keypoints(cam, fps=25)
    assert m.fps == 25.0 and m.extra["frame"] == "camera" and "root_relative" not in m.extra
    np.testing.assert_allclose(m.positions - m.positions[:, :1], pts - pts[:, :1], atol=1e-12)  # a rotation back
    world = read_keypoints(cam, fps=25, options=SourceOptions(frame="world"))
    assert "frame" not in world.extra and world.up_axis is None  # upside down: left for the pipeline to refuse
    rr = _write(workdir / "rr_warn.npy", _root_relative(_zup(pts), LAYOUTS["h36m17"].names))
    with pytest.warns(MotionInputWarning, match="no root translation is invented"):
        assert read_keypoints(rr, options=OPTS30).extra["root_relative"] is True
    hml = _write(workdir / "hml_warn.npy", _points("smpl22"))
    with pytest.warns(MotionInputWarning, match="20 fps.*--source-fps"):
        assert read_keypoints(hml).fps == 20.0
    assert read_keypoints(hml, options=SourceOptions(source_fps=30)).fps == 30.0


def test_largest_candidate_and_single_frame(workdir):
    pts = _zup(_points("smpl24"))
    path = workdir / "multi.npz"
    np.savez(path, aux=np.zeros((2, 17, 3)), xyz=pts, bbox=np.zeros((FRAMES, 4)), fps=30.0)
    m = read_keypoints(path)
    assert m.layout == "smpl24" and m.extra["keypoint_key"] == "xyz" and m.num_frames == FRAMES
    one = _write(workdir / "one.npy", pts[0])
    m1 = read_keypoints(one, fps=30)
    assert m1.num_frames == 1 and m1.layout == "smpl24"


def _err(path, **kw) -> str:
    with pytest.raises(ValueError) as e:
        load_human_motion(path, **kw)
    msg = str(e.value)
    assert msg.startswith(str(path) + ": ") and "\n" not in msg, msg
    return msg


def test_refused_inputs(workdir):
    pts = _points("coco17")
    assert "3-D keypoints (x, y, z) are needed" in _err(_write(workdir / "2d.npy", pts[..., :2]))
    assert "3-D keypoints (x, y, z) are needed" in _err(_write(workdir / "2d.npz", pts[..., :2], key="keypoints",
                                                               fps=30.0))
    openpose = workdir / "openpose_000000000000_keypoints.json"
    openpose.write_text(json.dumps({"version": 1.3, "people": [{"person_id": [-1],
                                                                "pose_keypoints_2d": [10.0, 20.0, 0.9] * 25}]}))
    assert "3-D keypoints are needed" in _err(openpose)
    assert "19 joints match no known layout" in _err(_write(workdir / "j19.npy", np.ones((5, 19, 3))),
                                                     options=OPTS30)
    assert "every keypoint is missing" in _err(_write(workdir / "nan.npy", np.full((5, 17, 3), np.nan)),
                                               options=OPTS30)
    obj = workdir / "obj.npy"
    np.save(obj, np.array([[1, 2, 3], None], dtype=object), allow_pickle=True)
    assert "pickled" in _err(obj)
    objz = workdir / "obj.npz"
    np.savez(objz, keypoints=np.array([None, 1], dtype=object), fps=30.0)
    assert "pickled" in _err(objz)
    nofps = _write(workdir / "nofps.npy", _zup(_points("h36m17")))
    assert "--source-fps" in _err(nofps)
    assert "no keypoint array" in _err(_write(workdir / "nothing.npz", np.zeros((4, 5)), key="stuff", fps=30.0),
                                       fmt="keypoints")
