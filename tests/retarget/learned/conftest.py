"""Shared fixtures of the learned-retargeter tests: the shipped synthetic samples, their IK pairs
and a tiny model trained on them for a few iterations (built once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_model import TINY, tiny_train_config  # noqa: E402


@pytest.fixture(scope="session")
def learned_data(tmp_path_factory):
    """{samples: {name: path}, data: folder of the six samples, pairs: [pair paths], model: folder}."""
    from mimiclab.retarget.learned.model import ModelConfig
    from mimiclab.retarget.learned.pairs import build_pairs
    from mimiclab.retarget.learned.training import train_model
    from mimiclab.retarget.sources.synthetic import write_samples

    root = tmp_path_factory.mktemp("learned")
    samples = {p.name: p for p in write_samples(root / "samples")}
    pairs, errors = build_pairs([str(root / "samples")], str(root / "pairs"), progress=False)
    assert not errors and len(pairs) == len(samples)
    train_model(pairs, root / "model", tiny_train_config(), ModelConfig(**TINY), progress=False, tensorboard=False)
    return {"root": root, "samples": samples, "data": root / "samples", "pairs": pairs, "model": root / "model"}
