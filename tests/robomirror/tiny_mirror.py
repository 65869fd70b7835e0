"""Helpers of the RoboMirror tests (imported by name: conftest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path

import pytest

BANDAI = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bandai"
ACTIONS = ("bow", "byebye", "walk", "dash")


def tiny_configs(seed: int = 0):
    from mimiclab.robomirror.networks import NetConfig
    from mimiclab.robomirror.training import TrainConfig

    return (NetConfig(window=16, hidden=16, latent_channels=4, intent_dim=16, denoiser_width=32, denoiser_blocks=1,
                      diffusion_steps=50),
            TrainConfig(seed=seed, batch=8, autoencoder_iterations=15, intent_iterations=15, evaluator_iterations=15,
                        diffusion_iterations=15, alignment_iterations=15))


def corpus_files() -> list[Path]:
    """Per action of ACTIONS: the first two training clips and the first held-out clip (by name)."""
    from mimiclab.retarget.learned.pairs import split_of

    if not BANDAI.is_dir():
        pytest.skip(f"the Bandai corpus is absent ({BANDAI}); ../shared/data beside the clone is needed")
    out = []
    for action in ACTIONS:
        files = sorted(BANDAI.glob(f"dataset-1/dataset-1_{action}_*.bvh"))
        out += [f for f in files if split_of(f.stem) == "train"][:2] + [f for f in files if split_of(f.stem) == "test"][:1]
    return out
