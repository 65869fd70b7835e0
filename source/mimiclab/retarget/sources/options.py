"""What the user may tell the readers about an input the file itself does not say (CLI flags of
``mimiclab retarget``/``inspect``); every field None/"auto" means: take it from the file, else infer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceOptions:
    """source_fps: frames per second of the input (overrides the file's rate; needed for files that
        carry none, e.g. G1 CSV).
    units: "m" | "cm" | "mm" | "inch" | "cmu" | a number (metres per file unit); None = infer.
    height: the performer's height [m]; sets the unit scale from the skeleton's height. None = infer.
    layout: keypoint layout name (coco17, h36m17, h36m17-official, smpl22, smpl24, smplh52, mediapipe33).
    frame: keypoints' coordinate frame: "auto" | "world" | "camera" (camera: x right, y down, z forward).
    body_model: folder with the user's SMPL/SMPL-H/SMPL-X model files (AMASS parameter files).
    """

    source_fps: float | None = None
    units: str | None = None
    height: float | None = None
    layout: str | None = None
    frame: str = "auto"
    body_model: str | None = None
