"""`mimiclab view`: flag ranges, the human overlay's alignment, --record, CLI errors, and the web page
in headless Chromium (a screenshot shows the robot, tinted on a flagged frame; the page lists the
clip's flagged frames).

The clip with known flags: the G1 standing (knees 0.3 rad), the left hip yawed to 2.0 rad on frames
10-19, so "twist" is exactly 10-19 (the yaw's jumps in and out are also saturation / joint_jump).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

TWIST = (10, 19)


def _twist_motion(path: Path, frames: int) -> Path:
    from mimiclab.motion.format import save_motion
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.retarget.quality import sole_heights
    from mimiclab.robots.g1 import G1

    names = list(G1.joint_names)
    q = np.zeros((frames, len(names)))
    q[:, names.index("left_knee_joint")] = q[:, names.index("right_knee_joint")] = 0.3
    q[TWIST[0]:TWIST[1] + 1, names.index("left_hip_yaw_joint")] = 2.0
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (frames, 1))
    root = np.zeros((frames, 3))
    root[:, 2] = 0.8 - sole_heights(root + [0, 0, 0.8], quat, q).min(axis=1)  # soles on the ground
    motion = motion_from_joint_trajectory(root, quat, q, 50.0, joint_names=names, meta={"source": "twist test"})
    return save_motion(path, motion)


@pytest.fixture(scope="module")
def twist_npz(tmp_path_factory) -> Path:
    return _twist_motion(tmp_path_factory.mktemp("view") / "twist.npz", 40)


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> tuple[Path, Path]:
    """(walk.npz, walk.bvh): a shipped synthetic sample and its retargeted motion."""
    from mimiclab.motion.format import save_motion
    from mimiclab.retarget.pipeline import RetargetSettings, retarget_human
    from mimiclab.retarget.sources.detect import load_human_motion
    from mimiclab.retarget.sources.synthetic import write_samples

    out = tmp_path_factory.mktemp("walk")
    bvh = next(p for p in write_samples(out) if p.name == "walk.bvh")
    result = retarget_human(load_human_motion(bvh), RetargetSettings(fps=50.0))
    return save_motion(out / "walk.npz", result.motion), bvh


def test_flag_ranges_and_text():
    from mimiclab.retarget.viewer import flag_ranges, flags_summary, format_ranges

    mask = np.zeros(12, bool)
    mask[[0, 1, 2, 5, 9, 10, 11]] = True
    assert flag_ranges(mask) == [(0, 2), (5, 5), (9, 11)]
    assert format_ranges(flag_ranges(mask)) == "0–2, 5, 9–11"
    assert format_ranges([]) == "none"
    text = flags_summary({"slide": mask, "twist": np.zeros(12, bool), "custom": mask})
    assert text.splitlines() == ["twist: none", "slide: 0–2, 5, 9–11 (7 frames)",
                                 "custom: 0–2, 5, 9–11 (7 frames)"]


def test_known_twist_frames(twist_npz):
    from mimiclab.retarget.viewer import flag_ranges, flags_at, load_view_data

    view = load_view_data(twist_npz)
    assert flag_ranges(view.flags["twist"]) == [TWIST]
    assert "twist" in flags_at(view.flags, 15) and "twist" not in flags_at(view.flags, 30)
    assert view.skeleton is None


def test_human_overlay_lines_up_with_the_robot(walk, tmp_path):
    from mimiclab.motion.format import load_motion, save_motion
    from mimiclab.motion.kinematics import motion_from_joint_trajectory
    from mimiclab.retarget.viewer import BONES, G1Poser, load_view_data

    npz, bvh = walk
    view = load_view_data(npz, bvh)
    T = load_motion(npz).num_frames
    assert view.skeleton.shape == (T, len(BONES), 2, 3)  # walk.bvh has every role, head and toes included
    poser = G1Poser(view.motion)
    pelvis = poser.model.body("pelvis").id
    robot = np.stack([poser.pose(t).xpos[pelvis].copy() for t in range(T)])
    human = view.skeleton[:, BONES.index(("pelvis", "left_hip")), 0]  # the human pelvis, frame by frame
    assert np.median(np.linalg.norm(robot[:, :2] - human[:, :2], axis=1)) < 0.1
    assert np.ptp(human[:, 0]) > 1.0  # it walks, and the robot walks with it

    # one frame more than the source (resampling rounding): both are cut to the common frames
    m = view.motion
    longer = motion_from_joint_trajectory(*(np.concatenate([a, a[-1:]]) for a in (m.root_pos_w, m.root_quat_w,
                                                                                  m.joint_pos)),
                                          m.fps, joint_names=m.joint_names)
    cut = load_view_data(save_motion(tmp_path / "longer.npz", longer), bvh)
    assert cut.num_frames == T and cut.skeleton.shape[0] == T and all(len(f) == T for f in cut.flags.values())

    short = _twist_motion(tmp_path / "short.npz", 40)  # not walk.bvh's motion: frames do not line up
    with pytest.raises(ValueError, match="not the source of this motion"):
        load_view_data(short, bvh)


def test_cli_errors(twist_npz, tmp_path, capsys):
    from mimiclab.cli import main

    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    cases = [(["view", str(tmp_path / "missing.npz")], "no such file"),
             (["view", str(bad)], "unreadable npz"),
             (["view", str(twist_npz), "--source", str(tmp_path / "none.bvh")], "no such file"),
             (["view", str(twist_npz), "--record", str(tmp_path / "x.avi")], ".mp4"),
             (["view", str(twist_npz), "--port", "70000"], "--port")]
    for argv, words in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("mimiclab view: error: ") and words in err, (argv, err)


def test_record_writes_every_frame(tmp_path, capsys):
    import imageio.v2 as imageio

    from mimiclab.cli import main

    npz = _twist_motion(tmp_path / "clip.npz", 24)
    out = tmp_path / "out" / "clip.mp4"
    assert main(["view", str(npz), "--record", str(out)]) == 0
    written = Path(capsys.readouterr().out.strip().split("wrote ", 1)[1])
    if written.suffix == ".png":  # no offscreen rendering here: the keyframe fallback, said on stderr
        assert written.is_file() and not out.exists()
        pytest.skip("offscreen rendering unavailable (libosmesa6 / imageio-ffmpeg): keyframe PNG written instead")
    assert written == out and out.is_file()
    assert not list(out.parent.glob(".*.tmp.mp4"))  # written under a temporary name, then renamed
    reader = imageio.get_reader(str(out))
    try:
        assert reader.count_frames() == 24
        assert reader.get_meta_data()["fps"] == pytest.approx(50.0)
        frame = reader.get_data(12)
    finally:
        reader.close()
    assert frame.shape == (360, 640, 3) and frame.std() > 10.0  # something is drawn


# ---------------------------------------------------------------------------------------------
# the web page in headless Chromium

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu-sandbox", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic",
                  "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]  # WebGL in software


def _chromium() -> str:
    """Path of a Chromium for playwright, or skip naming what is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the browser test needs the playwright package (scripts/requirements.txt)")
    for path in (os.environ.get("MIMICLAB_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                 shutil.which("google-chrome")):
        if path and Path(path).is_file():
            return path
    pytest.skip("the browser test needs a Chromium binary: Debian's `chromium` package (scripts/setup.sh installs "
                "it as root), or MIMICLAB_CHROMIUM=/path/to/chrome")


def _red_pixels(png: bytes) -> int:
    """Pixels of the robot's flagged tint (a saturated red) around the robot (away from the GUI
    panel's red TEXT, the orange notification bar and the axes gizmo)."""
    img = _centre(png).astype(int)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return int(((r > 120) & (r > g + 60) & (r > b + 60)).sum())


def _image(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _centre(png: bytes) -> np.ndarray:
    img = _image(png).astype(float)
    h, w = img.shape[:2]
    return img[h // 5: 4 * h // 5, w // 5: 3 * w // 5]  # around the robot, left of the GUI panel


def test_page_shows_robot_and_flagged_frames(twist_npz, tmp_path):
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    from mimiclab.retarget.viewer import build_viewer

    viewer = build_viewer(twist_npz, port=0)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 800, "height": 600})
                page.goto(viewer.url)
                page.wait_for_selector("canvas", timeout=30_000)
                page.get_by_text("Flagged frames").wait_for(timeout=30_000)
                text = page.inner_text("body")
                assert "twist: 10–19 (10 frames)" in text  # the clip's flagged frames, listed
                assert "joint_jump: 10, 20" in text

                def shot(frame: int, name: str) -> bytes:
                    viewer.set_frame(frame)
                    page.get_by_text(f"frame {frame} / 39").wait_for(timeout=15_000)
                    time.sleep(1.5)  # a few WebGL frames (software rendering)
                    png = page.screenshot()
                    (tmp_path / name).write_bytes(png)
                    return png

                flagged = shot(15, "frame15.png")
                assert "TWIST" in page.inner_text("body")  # the current frame's flag, highlighted
                plain = shot(30, "frame30.png")
                viewer.show_robot.value = False  # what the "Robot" checkbox does
                empty = shot(31, "hidden.png")
            finally:
                browser.close()
    finally:
        viewer.close()
    # the robot is drawn: the centre differs from the same view without it, and has structure
    assert np.abs(_centre(plain) - _centre(empty)).mean() > 3.0, f"screenshots in {tmp_path}"
    assert _centre(plain).std() > _centre(empty).std() + 5.0, f"screenshots in {tmp_path}"
    # a flagged frame tints the robot red; an unflagged one does not
    assert _red_pixels(flagged) > 800 and _red_pixels(plain) < 50, (_red_pixels(flagged), _red_pixels(plain))
    if os.environ.get("MIMICLAB_VIEWER_SHOT"):
        Path(os.environ["MIMICLAB_VIEWER_SHOT"]).write_bytes(flagged)
