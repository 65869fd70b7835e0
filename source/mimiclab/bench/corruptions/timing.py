"""Frame-timing corruptions: dropped frames, duplicated frames (stutter), temporal warping."""

from __future__ import annotations

import numpy as np

from mimiclab.bench.corruptions.base import RoleMotion, resample


def drop(motion: RoleMotion, rng: np.random.Generator, rate: float) -> tuple[RoleMotion, dict]:
    """round(`rate`·(T−2)) interior frames (never the first or last) are lost, as a detector miss, and
    refilled by linear interpolation between the nearest kept frames. T is unchanged."""
    T = motion.num_frames
    k = int(round(rate * max(T - 2, 0)))
    lost = np.sort(rng.choice(np.arange(1, T - 1), size=k, replace=False)) if k else np.zeros(0, int)
    kept = np.setdiff1d(np.arange(T), lost)
    pos = motion.positions.copy()
    flat = pos.reshape(T, -1)
    for c in range(flat.shape[1]):
        flat[lost, c] = np.interp(lost, kept, flat[kept, c])
    return motion.with_positions(flat.reshape(pos.shape)), {"frames": lost.tolist()}


def duplicate(motion: RoleMotion, rng: np.random.Generator, rate: float) -> tuple[RoleMotion, dict]:
    """round(`rate`·T) distinct frames are shown twice (stutter): each is followed by a copy of itself,
    so the clip gets that many frames longer (T + k) and everything after a copy is one frame late."""
    T = motion.num_frames
    k = int(round(rate * T))
    frames = np.sort(rng.choice(T, size=k, replace=False)) if k else np.zeros(0, int)
    order = np.sort(np.concatenate([np.arange(T), frames]))
    return motion.with_positions(motion.positions[order]), {"frames": frames.tolist(), "added_frames": k}


def warp(motion: RoleMotion, rng: np.random.Generator, alpha: float) -> tuple[RoleMotion, dict]:
    """Non-uniform time: frame i shows the motion at φ(u)·(T−1), u = i/(T−1), with
    φ(u) = u ± α/(2πk)·sin(2πku), k ∈ {1, 2} (random, and the sign): φ(0) = 0, φ(1) = 1, φ' in
    [1−α, 1+α] (monotone for α < 1). Positions are interpolated linearly; T is unchanged."""
    if not 0 <= alpha < 1:
        raise ValueError(f"warp alpha must be in [0, 1), got {alpha}")
    T = motion.num_frames
    k = int(rng.integers(1, 3))
    sign = float(rng.choice([-1.0, 1.0]))
    u = np.linspace(0.0, 1.0, T)
    phi = u + sign * alpha / (2 * np.pi * k) * np.sin(2 * np.pi * k * u)
    phi[0], phi[-1] = 0.0, 1.0
    pos = resample(motion.positions, phi * (T - 1))
    pos[0], pos[-1] = motion.positions[0], motion.positions[-1]
    return motion.with_positions(pos), {"phi": phi, "k": k, "sign": sign}
