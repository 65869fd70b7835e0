"""Foot contacts from the source motion: a foot is planted while it is low and slow."""

from __future__ import annotations

import numpy as np


def detect_contacts(foot_pos: np.ndarray, fps: float, height: float, speed: float,
                    min_frames: int) -> np.ndarray:
    """foot_pos (T,F,3) [m], ground at z = 0 → (T,F) bool contact flags.

    A frame is in contact when the foot point is below `height` [m] and its horizontal speed
    (central differences) is below `speed` [m/s]; runs shorter than `min_frames` are dropped.
    """
    T = foot_pos.shape[0]
    vel = np.gradient(foot_pos[..., :2], axis=0) * fps if T > 1 else np.zeros_like(foot_pos[..., :2])
    low = foot_pos[..., 2] < height
    slow = np.linalg.norm(vel, axis=-1) < speed
    contact = low & slow
    for f in range(contact.shape[1]):
        for start, end in contact_runs(contact[:, f]):
            if end - start < min_frames:
                contact[start:end, f] = False
    return contact


def contact_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges of consecutive True values."""
    padded = np.concatenate(([False], flags.astype(bool), [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))
