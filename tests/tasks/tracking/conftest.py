"""Tracking fixtures: two sample clips retargeted to G1 motion files (once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def two_clips(tmp_path_factory) -> list[Path]:
    """walk.npz and arm_wave.npz (G1, 50 fps, about 4 s and 3 s) from the synthetic BVH samples."""
    from mimiclab.retarget.batch import retarget_files
    from mimiclab.retarget.pipeline import RetargetSettings
    from mimiclab.retarget.sources.synthetic import write_samples

    root = tmp_path_factory.mktemp("clips")
    bvh = [str(p) for p in write_samples(root / "src") if p.suffix == ".bvh"]
    results = retarget_files(bvh, str(root / "g1"), RetargetSettings(), progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    return [root / "g1" / "walk.npz", root / "g1" / "arm_wave.npz"]


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

