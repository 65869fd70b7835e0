"""Tracking fixtures: the sample clips with a shuffled joint and body order (``two_clips`` is in
tests/tasks/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def permuted_clips(two_clips, tmp_path_factory) -> list[Path]:
    """The same clips saved with joints and bodies in a shuffled order (same names, same stems)."""
    import numpy as np

    from mimiclab.motion.format import load_motion, save_motion

    out = tmp_path_factory.mktemp("permuted")
    rng = np.random.default_rng(7)
    paths = []
    for p in two_clips:
        m = load_motion(p)
        joints = [m.joint_names[i] for i in rng.permutation(len(m.joint_names))]
        bodies = [m.body_names[i] for i in rng.permutation(len(m.body_names))]
        paths.append(save_motion(out / p.name, m.select(joints, bodies)))
    return paths

