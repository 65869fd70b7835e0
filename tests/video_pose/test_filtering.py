"""The confidence-aware One-Euro filter (no pose estimator needed)."""

from __future__ import annotations

import numpy as np
import pytest

from mimiclab.video_pose.filtering import OneEuroParams, one_euro


def _jitter(x):
    return float(np.nanmean(np.abs(np.diff(x, 2, axis=0))))


def _noisy(T=120, fps=30.0, sigma=0.01, seed=0):
    t = np.arange(T) / fps
    clean = np.stack([np.sin(t), np.cos(0.5 * t), 0.2 * t], -1)[:, None, :].repeat(3, 1)
    return clean, clean + np.random.default_rng(seed).normal(0, sigma, clean.shape)


def test_reduces_jitter_and_follows_the_signal():
    clean, noisy = _noisy()
    out = one_euro(noisy, 30.0)
    assert _jitter(out) < 0.5 * _jitter(noisy)
    # causal: some lag on this ~1 m/s motion, bounded by the speed-dependent cutoff
    assert np.abs(out - clean)[10:].mean() < 0.03
    # on a slow motion the noise dominates and the filtered track is closer to the truth
    slow_clean, slow_noisy = clean * 0.05, clean * 0.05 + (noisy - clean)
    slow = one_euro(slow_noisy, 30.0)
    assert np.abs(slow - slow_clean)[10:].mean() < np.abs(slow_noisy - slow_clean)[10:].mean()


def test_constant_input_is_unchanged_and_nan_stays_nan():
    x = np.full((30, 2, 3), 0.7)
    x[10:14, 1] = np.nan
    out = one_euro(x, 25.0)
    assert np.isnan(out[10:14, 1]).all()
    assert np.allclose(out[np.isfinite(x)], 0.7)


def test_low_confidence_moves_the_estimate_less():
    x = np.zeros((20, 2, 1))
    x[10:, :, 0] = 1.0  # a step at frame 10
    conf = np.ones((20, 2))
    conf[:, 1] = 0.0
    out = one_euro(x, 30.0, conf)
    assert out[10, 1, 0] < out[10, 0, 0] < 1.0
    assert out[10, 1, 0] > 0.0  # the confidence floor keeps a confidence-0 joint from freezing


def test_restarts_after_a_long_gap():
    x = np.zeros((40, 1, 1))
    x[20:, 0, 0] = 1.0
    x[10:20] = np.nan  # 10 frames missing at 30 fps > max_gap_s 0.25 s
    out = one_euro(x, 30.0, params=OneEuroParams(max_gap_s=0.25))
    assert out[20, 0, 0] == 1.0


@pytest.mark.parametrize("bad", [np.zeros((5, 3)), np.zeros((5, 2, 3, 1))])
def test_bad_shape(bad):
    with pytest.raises(ValueError, match="must be"):
        one_euro(bad, 30.0)
