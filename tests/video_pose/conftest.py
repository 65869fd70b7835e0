"""Fixtures for tests/video_pose: the pose virtualenv (.venv-pose, made by scripts/setup.sh) and the real
photograph it ships (scikit-image's skimage/data/astronaut.png: astronaut Eileen Collins, a frontal
upper-body portrait, 512 x 512). Without the pose virtualenv these tests skip, saying why."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mimiclab.video_pose.runtime import INSTALL_HINT, available, pose_python


@pytest.fixture(scope="session")
def pose_env() -> Path:
    if not available():
        pytest.skip(f"mimiclab keypoints: {INSTALL_HINT}")
    return pose_python()


def _skimage_data(python: Path) -> Path:
    code = "import importlib.util as u; print(u.find_spec('skimage').submodule_search_locations[0])"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        pytest.skip("scikit-image (the test photograph) is missing from the pose virtualenv: run scripts/setup.sh")
    return Path(out.stdout.strip()) / "data"


@pytest.fixture(scope="session")
def astronaut_png(pose_env) -> Path:
    path = _skimage_data(pose_env) / "astronaut.png"
    assert path.is_file(), path
    return path


@pytest.fixture(scope="session")
def brick_png(pose_env) -> Path:
    """A photograph of a brick wall: no person."""
    path = _skimage_data(pose_env) / "brick.png"
    assert path.is_file(), path
    return path
