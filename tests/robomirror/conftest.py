"""Shared fixtures of the RoboMirror tests: a dozen real Bandai Namco clips retarget-paired by
the IK retargeter, and a tiny model trained on them for a few iterations (built once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_mirror import corpus_files, tiny_configs  # noqa: E402


@pytest.fixture(scope="session")
def mirror_data(tmp_path_factory):
    """{files: the mocap files, pairs: [pair paths], model: folder of the tiny model, root}."""
    from mimiclab.retarget.learned.pairs import build_pairs
    from mimiclab.robomirror.training import train_model

    files = corpus_files()
    root = tmp_path_factory.mktemp("robomirror")
    pairs, errors = build_pairs([str(f) for f in files], str(root / "model" / "pairs"), progress=False)
    assert not errors and len(pairs) == len(files)
    net_cfg, cfg = tiny_configs()
    train_model(pairs, root / "model", cfg, net_cfg, progress=False, tensorboard=False)
    return {"root": root, "files": files, "pairs": pairs, "model": root / "model"}
