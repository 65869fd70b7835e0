"""Pose-estimation noise: per-joint jitter, depth (camera-axis) error, flicker (spikes, L/R swaps)."""

from __future__ import annotations

import numpy as np

from mimiclab.bench.corruptions.base import RoleMotion, gaussian_smooth, horizontal_direction, unit_std

DEPTH_CORRELATION_S = 0.2  # s: σ of the Gaussian that correlates the depth error over time
SPIKE_M = 0.15  # m: displacement of a flicker spike
SPIKE_JOINTS = 3  # joints moved by one spike


def jitter(motion: RoleMotion, rng: np.random.Generator, sigma: float) -> tuple[RoleMotion, dict]:
    """i.i.d. Gaussian noise of σ `sigma` [m] on every joint, axis and frame (T,J,3)."""
    noise = rng.normal(0.0, sigma, size=motion.positions.shape)
    return motion.with_positions(motion.positions + noise), {"sigma_m": sigma}


def depth(motion: RoleMotion, rng: np.random.Generator, sigma_body: float,
          sigma_joint: float) -> tuple[RoleMotion, dict]:
    """Monocular depth error along one horizontal camera axis c (random yaw): every frame moves by
    d(t)·c, d a temporally correlated series (Gaussian-smoothed white noise, σ ``DEPTH_CORRELATION_S``,
    rescaled to std `sigma_body` [m]), and each joint further by its own such series of std
    `sigma_joint` [m]. Nothing moves across the camera axis."""
    T, J, _ = motion.positions.shape
    axis = horizontal_direction(rng)
    s = DEPTH_CORRELATION_S * motion.fps
    body = unit_std(gaussian_smooth(rng.normal(size=(T, 1)), s)) * sigma_body
    joint = unit_std(gaussian_smooth(rng.normal(size=(T, J)), s)) * sigma_joint
    d = body + joint  # (T,J)
    return motion.with_positions(motion.positions + d[..., None] * axis), {"axis": axis.tolist(), "offset_m": d}


def flicker(motion: RoleMotion, rng: np.random.Generator, rate: float) -> tuple[RoleMotion, dict]:
    """round(`rate`·T) distinct frames glitch for one frame each: even-numbered events (in time order)
    are spikes (``SPIKE_JOINTS`` random joints moved ``SPIKE_M`` in random directions), odd ones swap
    every left role with its right twin. Every other frame is untouched."""
    T, J, _ = motion.positions.shape
    k = int(round(rate * T))
    frames = np.sort(rng.choice(T, size=k, replace=False)) if k else np.zeros(0, int)
    pos = motion.positions.copy()
    twin = motion.mirror_index()
    kinds = []
    for e, f in enumerate(frames):
        if e % 2 == 0:
            joints = rng.choice(J, size=min(SPIKE_JOINTS, J), replace=False)
            v = rng.normal(size=(len(joints), 3))
            pos[f, joints] += SPIKE_M * v / np.linalg.norm(v, axis=-1, keepdims=True)
            kinds.append("spike")
        else:
            pos[f] = motion.positions[f, twin]
            kinds.append("swap")
    return motion.with_positions(pos), {"frames": frames.tolist(), "kinds": kinds}
