"""Body-level corruptions: bone-length / proportion distortion, foot skate, global drift."""

from __future__ import annotations

import numpy as np

from mimiclab.bench.corruptions.base import RoleMotion, horizontal_direction
from mimiclab.retarget.scaling import ORDER, ROLE_TREE

CONTACT_HEIGHT_M = 0.05  # a foot is planted within this of its lowest ankle height ...
CONTACT_SPEED = 0.5  # m/s ... and moving horizontally slower than this
FOOT_ROLES = {"left": ("left_ankle", "left_toe"), "right": ("right_ankle", "right_toe")}


def segment_factors(names, arms: float, legs: float, left: float) -> dict[str, float]:
    """{role: factor} of the segment from each role's parent (``ROLE_TREE``) to it: arm segments
    (shoulder→elbow→wrist) × `arms`, leg segments (hip→knee→ankle) × `legs`, both × `left` on the
    left side and ÷ `left` on the right; every other segment × 1."""
    out = {}
    for role in names:
        if role not in ROLE_TREE:
            continue
        group = ROLE_TREE[role][1]
        f = {"arms": arms, "legs": legs}.get(group, 1.0)
        if group in ("arms", "legs"):
            f *= left if role.startswith("left_") else 1.0 / left
        out[role] = f
    return out


def bone_length(motion: RoleMotion, rng: np.random.Generator, arms: float, legs: float,
                left: float) -> tuple[RoleMotion, dict]:
    """Proportions as a video estimator gets them wrong: every segment vector (parent→role, in every
    frame) scaled by ``segment_factors``, the chain rebuilt from the pelvis outwards (the pelvis
    trajectory is kept). Deterministic: `rng` is not used. Note: the retargeter rescales each limb
    group to the G1's median length, which undoes the symmetric part (arms, legs) and leaves the
    left/right asymmetry and the pose changes."""
    del rng
    src = motion.positions
    pos = src.copy()
    factors = segment_factors(motion.names, arms, legs, left)
    for role in ORDER:
        if role not in motion.names or ROLE_TREE[role][0] not in motion.names:
            continue
        j, p = motion.index(role), motion.index(ROLE_TREE[role][0])
        pos[:, j] = pos[:, p] + factors[role] * (src[:, j] - src[:, p])
    return motion.with_positions(pos), {"factors": factors}


def contact_mask(motion: RoleMotion, side: str) -> np.ndarray:
    """(T,) bool: the `side` ankle is planted (within ``CONTACT_HEIGHT_M`` of its lowest height over
    the clip and slower than ``CONTACT_SPEED`` horizontally)."""
    a = motion.positions[:, motion.index(FOOT_ROLES[side][0])]
    v = np.zeros(len(a))
    if len(a) > 1:
        v[1:] = np.linalg.norm(np.diff(a[:, :2], axis=0), axis=-1) * motion.fps
        v[0] = v[1]
    return (a[:, 2] < a[:, 2].min() + CONTACT_HEIGHT_M) & (v < CONTACT_SPEED)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[(first, last)] of the runs of True in `mask` (inclusive)."""
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


def foot_skate(motion: RoleMotion, rng: np.random.Generator, speed: float) -> tuple[RoleMotion, dict]:
    """Planted feet slide: during every contact (``contact_mask``) the side's ankle and toe move
    horizontally at `speed` [m/s] in a random heading (one per contact), starting from 0 at touch-down;
    in the following swing the offset returns linearly to 0 by the next touch-down (after the last
    contact it is held). Knees and everything else are untouched."""
    pos = motion.positions.copy()
    T = motion.num_frames
    info = {}
    for side, roles in FOOT_ROLES.items():
        if not all(r in motion.names for r in roles[:1]):
            continue
        mask = contact_mask(motion, side)
        runs = _runs(mask)
        off = np.zeros((T, 3))
        for n, (a, b) in enumerate(runs):
            d = horizontal_direction(rng)
            off[a:b + 1] = speed * (np.arange(b - a + 1) / motion.fps)[:, None] * d
            nxt = runs[n + 1][0] if n + 1 < len(runs) else None
            if nxt is None:
                off[b + 1:] = off[b]
            elif nxt > b + 1:
                w = np.linspace(1.0, 0.0, nxt - b + 1)[1:-1, None]
                off[b + 1:nxt] = w * off[b]
        for r in roles:
            if r in motion.names:
                pos[:, motion.index(r)] += off
        info[side] = {"contacts": [(int(a), int(b)) for a, b in runs], "offset_m": off}
    return motion.with_positions(pos), info


def drift(motion: RoleMotion, rng: np.random.Generator, speed: float, walk: float) -> tuple[RoleMotion, dict]:
    """The whole body translates horizontally by o(t) = `speed`·t·h (h a random heading, t [s] from
    the first frame) plus a pinned random walk (Brownian bridge: 0 at the first and last frame,
    rescaled to an RMS norm of `walk` [m]). So the last frame is exactly speed·(T−1)/fps from where
    it was."""
    T = motion.num_frames
    t = np.arange(T) / motion.fps
    h = horizontal_direction(rng)
    w = np.zeros((T, 3))
    w[1:, :2] = np.cumsum(rng.normal(size=(T - 1, 2)), axis=0)
    w -= (np.arange(T) / max(T - 1, 1))[:, None] * w[-1]
    rms = float(np.sqrt(np.mean(np.sum(w ** 2, axis=-1))))
    if rms > 0:
        w *= walk / rms
    off = speed * t[:, None] * h + w
    return motion.with_positions(motion.positions + off[:, None, :]), {"heading": h.tolist(), "offset_m": off}
