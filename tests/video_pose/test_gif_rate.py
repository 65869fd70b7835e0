"""A GIF that states no frame durations is read at the decoder's fallback rate: the keypoint file
says so in a warning (and --fps silences it); a GIF with durations, or any other input, does not."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mimiclab.video_pose.convert import KeypointOptions, keypoint_fields
from mimiclab.video_pose.estimate import RawPose
from mimiclab.video_pose.inputs import gif_without_durations


def _gif(path, duration_ms: int | None):
    frames = [Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)) for i in range(3)]
    extra = {} if duration_ms is None else {"duration": duration_ms}
    frames[0].save(path, save_all=True, append_images=frames[1:], loop=0, **extra)
    return path


def _raw(fps: float, T: int = 3) -> RawPose:
    z = np.zeros((T, 33, 3))
    return RawPose(world=z, image=z.copy(), visibility=np.ones((T, 33)), presence=np.ones((T, 33)),
                   detected=np.ones(T, bool), fps=fps, image_size=(8, 8), frame_names=[""] * T,
                   mediapipe_version="test")


def test_gif_durations_are_detected(tmp_path):
    assert gif_without_durations(_gif(tmp_path / "none.gif", None))
    assert not gif_without_durations(_gif(tmp_path / "timed.gif", 40))
    Image.new("RGB", (8, 8)).save(tmp_path / "still.png")
    assert not gif_without_durations(tmp_path / "still.png")
    (tmp_path / "broken.gif").write_bytes(b"GIF89a not really")
    assert not gif_without_durations(tmp_path / "broken.gif")  # the video reader refuses it instead


@pytest.mark.parametrize("duration,fps,warns", [(None, None, True), (None, 12.0, False), (40, None, False)])
def test_keypoint_file_warns_about_a_guessed_gif_rate(tmp_path, duration, fps, warns):
    gif = _gif(tmp_path / "clip.gif", duration)
    _, warnings = keypoint_fields(_raw(10.0), "video", str(gif), KeypointOptions(fps=fps))
    said = [w for w in warnings if "no frame durations" in w]
    assert bool(said) == warns, warnings
    if warns:
        assert "10 fps" in said[0] and "--fps" in said[0]
