"""The motion the corruptions work on, and small numpy helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mimiclab.retarget.scaling import ROLE_TREE


@dataclass(frozen=True)
class RoleMotion:
    """T frames of J named roles. positions (T,J,3) float64 [m], Z-up, ground z = 0; fps [1/s];
    names (J,): role names (``mimiclab.retarget.skeleton_map.ROLES``, the present ones)."""

    names: tuple[str, ...]
    positions: np.ndarray
    fps: float

    @property
    def num_frames(self) -> int:
        return int(self.positions.shape[0])

    def with_positions(self, positions: np.ndarray) -> "RoleMotion":
        return replace(self, positions=np.ascontiguousarray(positions, dtype=np.float64))

    def index(self, role: str) -> int:
        return self.names.index(role)

    def parents(self) -> np.ndarray:
        """(J,) index of each role's parent in ``mimiclab.retarget.scaling.ROLE_TREE`` (-1: pelvis / none)."""
        return np.array([self.names.index(ROLE_TREE[n][0]) if n in ROLE_TREE and ROLE_TREE[n][0] in self.names
                         else -1 for n in self.names])

    def mirror_index(self) -> np.ndarray:
        """(J,) the index of each role's other-side twin (itself for the centre roles)."""
        def twin(n: str) -> str:
            if n.startswith("left_"):
                return "right_" + n[5:]
            if n.startswith("right_"):
                return "left_" + n[6:]
            return n

        return np.array([self.names.index(twin(n)) if twin(n) in self.names else i for i, n in enumerate(self.names)])


def gaussian_smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """`x` (T,...) low-passed along axis 0 with a Gaussian of σ `sigma_frames` (edges: reflected)."""
    if sigma_frames <= 0:
        return x
    r = int(np.ceil(3 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    k /= k.sum()
    pad = np.pad(x, [(r, r)] + [(0, 0)] * (x.ndim - 1), mode="reflect" if x.shape[0] > r else "edge")
    out = np.zeros_like(x, dtype=np.float64)
    for i, w in enumerate(k):
        out += w * pad[i:i + x.shape[0]]
    return out


def unit_std(x: np.ndarray) -> np.ndarray:
    """`x` scaled to unit standard deviation over all its entries (zero stays zero)."""
    s = float(np.std(x))
    return x / s if s > 0 else x


def resample(positions: np.ndarray, times: np.ndarray) -> np.ndarray:
    """positions (T,J,3) sampled at fractional frame indices `times` (M,) by linear interpolation."""
    T = positions.shape[0]
    t = np.clip(times, 0.0, T - 1)
    i0 = np.minimum(np.floor(t).astype(int), T - 1)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (t - i0)[:, None, None]
    return (1.0 - w) * positions[i0] + w * positions[i1]


def horizontal_direction(rng: np.random.Generator) -> np.ndarray:
    """A random unit vector in the ground plane (3,)."""
    a = rng.uniform(0.0, 2.0 * np.pi)
    return np.array([np.cos(a), np.sin(a), 0.0])
