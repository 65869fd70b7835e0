"""The tiny network and training config of the learned-retargeter tests (imported by name: the
folder's conftest puts it on sys.path)."""

from __future__ import annotations

TINY = dict(hidden=8, latent=16, dilations=(1,))


def tiny_train_config(**kw):
    """A few iterations of small batches (seconds on a CPU); keywords override."""
    from mimiclab.retarget.learned.training import TrainConfig

    return TrainConfig(**{"iterations": 6, "batch": 4, "window": 16, "eval_every": 3, "checkpoint_every": 4, **kw})
