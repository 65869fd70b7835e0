"""Human motion as the retargeting pipeline consumes it, whatever the source format was.

Readers (BVH, keypoint files, synthetic generator) return positions in the file's own units and
axes; ``mimiclab.retarget.normalize`` turns them into metres, Z-up, ground at z = 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class HumanMotion:
    """T frames of J named human joints (or keypoints).

    name: clip name (file stem). fps: frames per second of `positions`.
    joint_names (J,): source names (e.g. BVH joint names or COCO keypoint names).
    positions (T,J,3) float64: global joint positions, in `unit_scale` metres per unit, `up_axis` up.
    orientations (T,J,4) float64 wxyz or None: global joint frames (BVH gives them; keypoints do not).
    parents (J,) int or None: skeleton tree (-1 = root), when the source has one.
    confidence (T,J) float64 in [0,1] or None: 0 marks a missing joint (its position may be NaN).
    unit_scale: metres per source unit if known (BVH: unknown → None, guessed from body height).
    up_axis: "y" or "z" if known, else None (guessed).
    layout: keypoint layout name ("coco17", "h36m17", "smpl24") or skeleton convention if known.
    source: path or description of where the motion came from (for error messages and meta).
    """

    name: str
    fps: float
    joint_names: list[str]
    positions: np.ndarray
    orientations: np.ndarray | None = None
    parents: np.ndarray | None = None
    confidence: np.ndarray | None = None
    unit_scale: float | None = None
    up_axis: str | None = None
    layout: str | None = None
    source: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.positions.shape[0])

    def validate(self) -> None:
        """Raise ValueError("<source>: <problem>") on inconsistent shapes, no frames or bad fps."""
        where = self.source or self.name
        T = self.positions.shape[0] if self.positions.ndim == 3 else -1
        J = len(self.joint_names)
        if self.positions.ndim != 3 or self.positions.shape[1:] != (J, 3):
            raise ValueError(f"{where}: positions must be (T, {J}, 3), got {self.positions.shape}")
        if T == 0:
            raise ValueError(f"{where}: the motion has zero frames")
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise ValueError(f"{where}: fps must be a positive number, got {self.fps}")
        if self.orientations is not None and self.orientations.shape != (T, J, 4):
            raise ValueError(f"{where}: orientations must be ({T}, {J}, 4), got {self.orientations.shape}")
        if self.confidence is not None and self.confidence.shape != (T, J):
            raise ValueError(f"{where}: confidence must be ({T}, {J}), got {self.confidence.shape}")
        known = np.ones((T, J), bool) if self.confidence is None else self.confidence > 0
        if not np.isfinite(self.positions[known]).all():
            raise ValueError(f"{where}: NaN or Inf joint positions in frames marked present")
