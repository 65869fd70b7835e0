"""AMASS / SMPL-H parameter files through smplx with a synthetic (random, well-formed) body model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mimiclab.motion.input_warning import MotionInputWarning
from mimiclab.retarget.sources.amass import read_amass
from mimiclab.retarget.sources.detect import load_human_motion, sniff_format
from mimiclab.retarget.sources.keypoint_layouts import SMPL22_JOINTS, SMPLH52_PARENTS
from mimiclab.retarget.sources.options import SourceOptions

pytest.importorskip("smplx")

J = 52
V = J + 8  # one vertex per joint (the regressor picks it) plus a few skin vertices


def _joint_points(rng) -> np.ndarray:
    """(52,3) a plausible rest skeleton: each joint 5–15 cm from its parent, pelvis at 0.9 m."""
    pts = np.zeros((J, 3))
    pts[0] = [0.0, 0.0, 0.9]
    for j in range(1, J):
        pts[j] = pts[SMPLH52_PARENTS[j]] + rng.uniform(-0.15, 0.15, 3)
    return pts


def _model(path, seed: int = 0, n_betas: int = 16) -> np.ndarray:
    """Write a synthetic SMPL-H model npz; returns its rest joints (52,3) with betas = 0."""
    rng = np.random.default_rng(seed)
    joints = _joint_points(rng)
    v_template = np.concatenate([joints, rng.normal(0, 0.3, (V - J, 3)) + [0, 0, 0.9]])
    J_regressor = np.zeros((J, V))
    J_regressor[np.arange(J), np.arange(J)] = 1.0  # joint j sits at vertex j
    weights = np.zeros((V, J))
    weights[np.arange(J), np.arange(J)] = 1.0
    weights[J:, 0] = 1.0
    kintree = np.stack([np.array(SMPLH52_PARENTS, dtype=np.int64) % (2 ** 32), np.arange(J)])
    np.savez(path, v_template=v_template, shapedirs=rng.normal(0, 0.01, (V, 3, n_betas)),
             posedirs=rng.normal(0, 0.001, (V, 3, (J - 1) * 9)), J_regressor=J_regressor, weights=weights,
             kintree_table=kintree, f=np.array([[0, 1, 2], [J, J + 1, J + 2]], dtype=np.uint32),
             bs_style=np.array("lbs"), bs_type=np.array("lrotmin"))
    return joints


def _amass(path, T: int = 4, gender: str = "male", **over):
    fields = dict(poses=np.zeros((T, 156)), trans=np.zeros((T, 3)), betas=np.zeros(16), gender=np.array(gender),
                  mocap_framerate=np.array(120.0), dmpls=np.zeros((T, 8)),
                  surface_model_type=np.array("smplh"))
    fields.update(over)
    np.savez(path, **fields)
    return path


@pytest.fixture()
def body_model(tmp_path):
    folder = tmp_path / "models"
    (folder / "smplh" / "male").mkdir(parents=True)
    joints = _model(folder / "smplh" / "male" / "model.npz")
    return folder, joints


def test_rest_pose_joints_are_the_regressor_joints(tmp_path, body_model):
    folder, joints = body_model
    p = _amass(tmp_path / "walk_poses.npz")
    assert sniff_format(p) == "amass"
    m = load_human_motion(p, options=SourceOptions(body_model=str(folder)))
    assert m.joint_names == list(SMPL22_JOINTS) and m.fps == 120.0 and m.up_axis == "z" and m.unit_scale == 1.0
    assert m.positions.shape == (4, 22, 3) and m.layout == "smpl22"
    np.testing.assert_allclose(m.positions, np.broadcast_to(joints[:22], (4, 22, 3)), atol=1e-5)


def test_betas_move_joints_through_the_regressor(tmp_path, body_model):
    folder, _ = body_model
    betas = np.linspace(-1, 1, 16)
    m = read_amass(_amass(tmp_path / "b.npz", betas=betas), SourceOptions(body_model=str(folder)))
    data = np.load(folder / "smplh" / "male" / "model.npz")
    shaped = data["v_template"] + data["shapedirs"] @ betas
    np.testing.assert_allclose(m.positions[0], (data["J_regressor"] @ shaped)[:22], atol=1e-5)


def test_knee_rotation_moves_children_by_forward_kinematics(tmp_path, body_model):
    folder, joints = body_model
    T = 3
    poses = np.zeros((T, 156))
    knee = SMPL22_JOINTS.index("left_knee")
    poses[:, 3 * knee:3 * knee + 3] = [np.pi / 2, 0.0, 0.0]  # 90° about x (local = global: parents at rest)
    trans = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, -2.0, 0.5]])
    m = read_amass(_amass(tmp_path / "k.npz", T=T, poses=poses, trans=trans), SourceOptions(body_model=str(folder)))
    R = Rotation.from_rotvec([np.pi / 2, 0, 0]).as_matrix()
    expected = joints[:22].copy()
    for child in ("left_ankle", "left_foot"):
        c = SMPL22_JOINTS.index(child)
        expected[c] = joints[knee] + R @ (joints[c] - joints[knee])
    for t in range(T):
        np.testing.assert_allclose(m.positions[t], expected + trans[t], atol=1e-5)
    moved = [SMPL22_JOINTS.index(n) for n in ("left_ankle", "left_foot")]
    assert np.abs(m.positions[0, moved] - joints[moved]).max() > 0.01  # the rotation did move them


def test_model_lookup_gender_fallback_and_errors(tmp_path, body_model):
    folder, _ = body_model
    p = _amass(tmp_path / "f.npz", gender="female")
    with pytest.raises(ValueError, match="no smplh model for gender 'female'") as e:
        read_amass(p, SourceOptions(body_model=str(folder)))
    assert str(e.value).startswith(str(p)) and "\n" not in str(e.value)
    _model(folder / "SMPLH_NEUTRAL.npz", seed=1)
    with pytest.warns(MotionInputWarning, match="neutral"):
        m = read_amass(p, SourceOptions(body_model=str(folder)))
    assert m.extra["gender"] == "neutral"
    with pytest.raises(ValueError, match="licence-gated SMPL-H body model.*--body-model DIR") as e:
        load_human_motion(p)
    assert str(e.value).startswith(str(p)) and "\n" not in str(e.value)
    pkl_dir = tmp_path / "pkl"
    (pkl_dir / "smplh").mkdir(parents=True)
    (pkl_dir / "smplh" / "SMPLH_FEMALE.pkl").write_bytes(b"\x80\x04not really")
    with pytest.raises(ValueError, match=r"pickle.*\.npz version"):
        read_amass(p, SourceOptions(body_model=str(pkl_dir)))
    bad = tmp_path / "bad_model.npz"
    np.savez(bad, v_template=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="lacks"):
        read_amass(p, SourceOptions(body_model=str(bad)))
    obj = tmp_path / "obj_model.npz"
    np.savez(obj, v_template=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="pickled"):
        read_amass(p, SourceOptions(body_model=str(obj)))


def test_bad_parameter_files(tmp_path, body_model):
    folder, _ = body_model
    opts = SourceOptions(body_model=str(folder))
    cases = {
        "shape": dict(poses=np.zeros((4, 100))),
        "trans": dict(trans=np.zeros((3, 3))),
        "NaN": dict(poses=np.full((4, 156), np.nan)),
        "SMPL-X": dict(poses=np.zeros((4, 165)), surface_model_type=np.array("smplx")),
    }
    for word, over in cases.items():
        p = _amass(tmp_path / f"{word}.npz", **over)
        with pytest.raises(ValueError, match=word) as e:
            read_amass(p, opts)
        assert str(e.value).startswith(str(p)) and "\n" not in str(e.value)
    p = tmp_path / "nofps.npz"
    np.savez(p, poses=np.zeros((2, 156)), trans=np.zeros((2, 3)), gender=np.array(b"male"))
    with pytest.raises(ValueError, match="source-fps"):
        read_amass(p, opts)
    assert read_amass(p, SourceOptions(body_model=str(folder), source_fps=60)).fps == 60.0
