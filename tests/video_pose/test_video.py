"""`mimiclab keypoints` on a video. The clip is synthetic, made of a real photograph: 20 frames cut
from scikit-image's astronaut.png, each shifted (and slightly scaled) by a known amount, written as an
mp4 with imageio-ffmpeg at 25 fps. Known answers: fps and frame count, the image landmarks follow the
known shift, the filter reduces frame-to-frame jitter against the raw landmarks, the reader reads the
file back as mediapipe33 Y-up; a video without a person is refused."""

from __future__ import annotations

import json

import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image

from mimiclab.cli import main
from mimiclab.retarget.sources.keypoint_layouts import MEDIAPIPE33_JOINTS
from mimiclab.retarget.sources.keypoints import read_keypoints

J = {n: i for i, n in enumerate(MEDIAPIPE33_JOINTS)}
T, FPS, SIZE = 20, 25, 448


def _offsets():
    """(dx, dy, scale) per frame: a crop window wandering over the photo, zoom within ±3 %."""
    rng = np.random.default_rng(7)
    dx = np.clip(32 + np.cumsum(rng.integers(-4, 5, T)), 0, 60)
    dy = np.clip(20 + np.cumsum(rng.integers(-3, 4, T)), 0, 40)
    scale = 1.0 + 0.03 * np.sin(np.arange(T) / 3.0)
    return dx, dy, scale


def _write_clip(picture, path):
    img = Image.open(picture).convert("RGB")
    dx, dy, scale = _offsets()
    with imageio.get_writer(path, fps=FPS, codec="libx264", quality=9, macro_block_size=16) as w:
        for i in range(T):
            crop = img.crop((int(dx[i]), int(dy[i]), int(dx[i]) + SIZE, int(dy[i]) + SIZE))
            side = int(round(SIZE * scale[i]))
            w.append_data(np.asarray(crop.resize((side, side), Image.BILINEAR).crop((0, 0, SIZE, SIZE)))
                          if side >= SIZE else np.asarray(_pad(crop.resize((side, side), Image.BILINEAR))))


def _pad(small):
    canvas = Image.new("RGB", (SIZE, SIZE))
    canvas.paste(small, (0, 0))
    return canvas


@pytest.fixture(scope="module")
def clip(tmp_path_factory, astronaut_png):
    folder = tmp_path_factory.mktemp("clip")
    video = folder / "astronaut.mp4"
    _write_clip(astronaut_png, video)
    still = folder / "still.npz"
    assert main(["keypoints", str(astronaut_png), "-o", str(still)]) == 0
    out = folder / "kp.npz"
    assert main(["keypoints", str(video), "-o", str(out)]) == 0
    with np.load(out, allow_pickle=False) as z, np.load(still, allow_pickle=False) as s:
        return out, {k: z[k] for k in z.files}, s["image_landmarks"][0]


def test_fps_frames_and_detection(clip):
    _, f, _ = clip
    assert float(f["fps"]) == pytest.approx(FPS)
    assert f["keypoints"].shape == (T, 33, 3) and f["confidence"].shape == (T, 33)
    assert f["detected"].all()
    assert f["image_size"].tolist() == [SIZE, SIZE]
    assert json.loads(str(f["filter"]))["filter"] == "one-euro"


def test_image_landmarks_follow_the_known_shift(clip):
    """Frame pixel = (photo pixel - offset) * scale, for the well-seen joints of the still photo."""
    _, f, still = clip
    dx, dy, scale = _offsets()
    expected = (still[None] - np.stack([dx, dy], -1)[:, None, :]) * scale[:, None, None]
    # the face: sharp features (the shoulders of a space suit move by tens of pixels as the crop changes)
    joints = [J[n] for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth_left", "mouth_right")]
    err = np.linalg.norm(f["image_landmarks"][:, joints] - expected[:, joints], axis=-1)
    print("face landmark error vs the known shift [px]: median", np.median(err), "max", err.max())
    assert np.median(err) < 6.0 and np.percentile(err, 95) < 15.0  # pixels, in a 448-pixel frame


def test_filter_reduces_jitter(clip):
    _, f, _ = clip
    good = f["confidence"].min(0) > 0.5  # joints seen well in every frame

    def jitter(x):
        return float(np.mean(np.linalg.norm(np.diff(x[:, good], 2, axis=0), axis=-1)))

    raw, filtered = jitter(f["keypoints_raw"]), jitter(f["keypoints"])
    assert good.sum() >= 10
    assert raw > 0  # the estimator does jitter between frames of the same pose
    assert filtered < 0.7 * raw


def test_reader_reads_the_video_output(clip):
    out, f, _ = clip
    m = read_keypoints(out)
    assert m.layout == "mediapipe33" and m.up_axis == "y" and m.unit_scale == 1.0
    assert m.fps == pytest.approx(FPS) and m.positions.shape == (T, 33, 3)
    nose, hips = m.positions[:, J["nose"]], m.positions[:, [J["left_hip"], J["right_hip"]]].mean(1)
    assert (nose[:, 1] - hips[:, 1] > 0.4).all()  # head up along +y in every frame


def test_fps_override_and_no_filter(tmp_path, clip):
    out, _, _ = clip
    video = out.parent / "astronaut.mp4"
    raw_out = tmp_path / "raw.npz"
    assert main(["keypoints", str(video), "-o", str(raw_out), "--no-filter", "--fps", "50"]) == 0
    with np.load(raw_out, allow_pickle=False) as z:
        assert float(z["fps"]) == 50.0
        assert np.array_equal(z["keypoints"], z["keypoints_raw"], equal_nan=True)


def test_video_without_a_person(tmp_path, capsys, brick_png):
    video = tmp_path / "wall.mp4"
    frame = np.asarray(Image.open(brick_png).convert("RGB").resize((256, 256)))
    with imageio.get_writer(video, fps=10, codec="libx264", quality=8) as w:
        for i in range(5):
            w.append_data(np.roll(frame, 4 * i, axis=1))
    out = tmp_path / "kp.npz"
    assert main(["keypoints", str(video), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no person found in any of the 5 frames" in err, err
    assert not out.exists()
