"""`mimiclab keypoints` on a real photograph (scikit-image's astronaut.png, shipped inside the
scikit-image wheel): known answers on where the landmarks are, left-right order, body proportions
in metres, confidence of visible vs cut-off joints, and the keypoint reader's view of the file."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.cli import main
from mimiclab.retarget.sources.keypoint_layouts import MEDIAPIPE33_JOINTS
from mimiclab.retarget.sources.keypoints import read_keypoints

J = {n: i for i, n in enumerate(MEDIAPIPE33_JOINTS)}
LEGS = ["left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index",
        "right_foot_index"]
FACE_SHOULDERS = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder"]


@pytest.fixture(scope="module")
def photo_kp(tmp_path_factory, astronaut_png):
    out = tmp_path_factory.mktemp("photo") / "astronaut.npz"
    assert main(["keypoints", str(astronaut_png), "-o", str(out)]) == 0
    with np.load(out, allow_pickle=False) as z:
        return out, {k: z[k] for k in z.files}


def _d(p, a, b):
    return float(np.linalg.norm(p[J[a]] - p[J[b]]))


def test_fields_and_person_found(photo_kp):
    _, f = photo_kp
    assert f["keypoints"].shape == (1, 33, 3) and f["image_landmarks"].shape == (1, 33, 2)
    assert f["detected"].tolist() == [True]
    assert f["image_size"].tolist() == [512, 512]
    assert str(f["layout"]) == "mediapipe33" and str(f["up_axis"]) == "y" and str(f["units"]) == "m"
    assert f["joint_names"].tolist() == list(MEDIAPIPE33_JOINTS)
    assert "none" in str(f["filter"])  # a single image is never filtered
    assert np.array_equal(f["keypoints"], f["keypoints_raw"])


def test_image_landmarks_at_the_right_places(photo_kp):
    _, f = photo_kp
    px, conf = f["image_landmarks"][0], f["confidence"][0]
    visible = conf > 0.5
    assert visible.sum() >= 12
    assert ((px[visible] >= 0) & (px[visible] < 512)).all()  # visible joints lie inside the picture
    y = {n: px[J[n], 1] for n in J}
    shoulders_y = (y["left_shoulder"] + y["right_shoulder"]) / 2
    hips_y = (y["left_hip"] + y["right_hip"]) / 2
    assert y["nose"] < shoulders_y < hips_y  # image y grows downward: nose above shoulders above hips
    assert y["left_eye"] < y["mouth_left"] and y["right_eye"] < y["mouth_right"]
    # frontal subject: her LEFT side is on the image's RIGHT (larger x)
    for side in ("shoulder", "ear", "eye", "hip"):
        assert px[J[f"left_{side}"], 0] > px[J[f"right_{side}"], 0], side
    # the face is in the upper third of the picture, centred between the shoulders
    assert y["nose"] < 512 / 3
    assert px[J["right_shoulder"], 0] < px[J["nose"], 0] < px[J["left_shoulder"], 0]


def test_world_landmarks_in_metres_with_human_proportions(photo_kp):
    _, f = photo_kp
    p = f["keypoints"][0]
    shoulder = _d(p, "left_shoulder", "right_shoulder")
    hip = _d(p, "left_hip", "right_hip")
    upper = [_d(p, f"{s}_shoulder", f"{s}_elbow") for s in ("left", "right")]
    fore = [_d(p, f"{s}_elbow", f"{s}_wrist") for s in ("left", "right")]
    assert 0.25 < shoulder < 0.5
    assert 0.15 < hip < 0.4 and 1.0 < shoulder / hip < 2.0
    for u, fa in zip(upper, fore):
        assert 0.15 < u < 0.4 and 0.12 < fa < 0.35
        assert 0.5 < u / shoulder < 1.2
        assert 0.5 < fa / u < 1.3
    mid_hip = (p[J["left_hip"]] + p[J["right_hip"]]) / 2
    assert np.linalg.norm(mid_hip) < 0.05  # BlazePose world landmarks are hip-centred
    assert 0.45 < p[J["nose"], 1] - mid_hip[1] < 0.8  # Y-up: the nose 0.45-0.8 m above the hips
    assert p[J["nose"], 1] > p[J["left_shoulder"], 1] > mid_hip[1]
    assert p[J["left_shoulder"], 0] > p[J["right_shoulder"], 0]  # x toward the image's right
    assert p[J["nose"], 2] > 0.1  # z toward the camera: she faces it, her face in front of her hips


def test_confidence_high_on_visible_low_on_cut_off_legs(photo_kp):
    _, f = photo_kp
    conf = f["confidence"][0]
    assert np.all((conf >= 0) & (conf <= 1))
    assert min(conf[J[n]] for n in FACE_SHOULDERS) > 0.9
    assert max(conf[J[n]] for n in LEGS) < 0.3  # the picture ends at her waist
    assert np.allclose(conf, f["visibility"][0] * f["presence"][0])


def test_reader_reads_it_as_mediapipe33_y_up(photo_kp):
    out, f = photo_kp
    m = read_keypoints(out)
    assert m.layout == "mediapipe33" and m.up_axis == "y" and m.unit_scale == 1.0
    assert m.positions.shape == (1, 33, 3) and m.fps == 30.0
    assert np.allclose(m.positions, f["keypoints"])


def test_min_confidence_drops_the_cut_off_legs(tmp_path, astronaut_png):
    out = tmp_path / "kp.npz"
    assert main(["keypoints", str(astronaut_png), "-o", str(out), "--min-confidence", "0.5"]) == 0
    with np.load(out, allow_pickle=False) as z:
        conf, kp = z["confidence"][0], z["keypoints"][0]
    assert all(conf[J[n]] == 0 and np.isnan(kp[J[n]]).all() for n in LEGS)
    assert np.isfinite(kp[J["nose"]]).all()


def _one_line_error(capsys, argv, *, match):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("mimiclab keypoints: error:"), err
    assert match in err, err
    return err


def test_bad_inputs_one_line_error_and_no_output(tmp_path, capsys, astronaut_png, brick_png):
    out = tmp_path / "kp.npz"
    text = tmp_path / "notes.txt"
    text.write_text("not a video\n")
    _one_line_error(capsys, ["keypoints", str(text), "-o", str(out)], match="not a readable video")
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"\x89PNG garbage")
    _one_line_error(capsys, ["keypoints", str(fake), "-o", str(out)], match="not a readable image")
    _one_line_error(capsys, ["keypoints", str(tmp_path / "absent.mp4"), "-o", str(out)], match="no such file")
    _one_line_error(capsys, ["keypoints", str(brick_png), "-o", str(out)], match="no person found")
    _one_line_error(capsys, ["keypoints", str(astronaut_png), "-o", str(out), "--min-confidence", "2"],
                    match="--min-confidence")
    _one_line_error(capsys, ["keypoints", str(astronaut_png), "-o", str(tmp_path / "kp.csv")], match=".npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake.png", "notes.txt"]  # nothing written, no temp files


def test_existing_output_is_kept_unless_overwrite(tmp_path, capsys, astronaut_png):
    out = tmp_path / "kp.npz"
    out.write_bytes(b"keep me")
    _one_line_error(capsys, ["keypoints", str(astronaut_png), "-o", str(out)], match="--overwrite")
    assert out.read_bytes() == b"keep me"
    assert main(["keypoints", str(astronaut_png), "-o", str(out), "--overwrite"]) == 0
    assert read_keypoints(out).layout == "mediapipe33"


def test_missing_estimator_says_how_to_install(tmp_path, capsys, monkeypatch):
    """Runs without the pose virtualenv too."""
    monkeypatch.setenv("MIMICLAB_POSE_PYTHON", str(tmp_path / "no-such-python"))
    picture = tmp_path / "person.png"
    picture.write_bytes(b"not decoded: the estimator is looked up first")
    _one_line_error(capsys, ["keypoints", str(picture), "-o", str(tmp_path / "kp.npz")],
                    match="scripts/setup.sh")
    assert not (tmp_path / "kp.npz").exists()
