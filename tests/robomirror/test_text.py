"""The shipped MiniLM text encoder: offline, unit embeddings, and meaning that orders prompts."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.robomirror.text import embed_texts


def test_embeddings_are_unit_vectors_and_close_in_meaning():
    e = embed_texts(["walk, elderly", "an old person walking slowly", "punch, angry", "walk, elderly"])
    assert e.shape == (4, 384) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(e[0], e[3], atol=1e-6)  # deterministic
    assert e[0] @ e[1] > e[0] @ e[2] + 0.1


@pytest.mark.parametrize("bad", ["", "   "])
def test_a_blank_prompt_is_an_error(bad):
    with pytest.raises(ValueError, match="non-empty"):
        embed_texts([bad])
