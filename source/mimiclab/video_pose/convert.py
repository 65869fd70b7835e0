"""BlazePose output → a keypoint file that ``mimiclab.retarget.sources.keypoints`` reads as
``mediapipe33`` (and ``mimiclab retarget`` turns into G1 motion).

The file (npz, plain arrays, no pickles), T frames, 33 joints (MEDIAPIPE33_JOINTS order):
    keypoints        (T,33,3) float64 metres, Y-up world frame: x toward the image's right, y up,
                     z toward the camera (MediaPipe's (x, y, z) turned by (x, -y, -z)); origin between
                     the hips in every frame (BlazePose's world landmarks carry no root translation);
                     temporally filtered (videos); NaN where missing
    keypoints_raw    (T,33,3) the same before filtering
    confidence       (T,33) visibility × presence in [0,1]; 0 = missing (no person, or < min_confidence)
    visibility, presence (T,33);  detected (T,) bool: a person was found in the frame
    image_landmarks  (T,33,2) pixels (x right, y down, origin top-left), unfiltered;  image_size (2,) [w, h]
    fps, layout="mediapipe33", joint_names (33,), units="m", up_axis="y", frame="world",
    root_relative=True, filter (JSON text), estimator, source
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mimiclab.motion.format import atomic_write_bytes
from mimiclab.retarget.sources.keypoint_layouts import MEDIAPIPE33_JOINTS
from mimiclab.retarget.sources.keypoints import npz_bytes
from mimiclab.video_pose.estimate import RawPose, run_blazepose
from mimiclab.video_pose.filtering import OneEuroParams, one_euro
from mimiclab.video_pose.inputs import gif_without_durations, input_kind

MEDIAPIPE_TO_Y_UP = np.array([1.0, -1.0, -1.0])
"""MediaPipe world (x right, y down, z away from the camera) → Y-up (x right, y up, z toward the camera)."""
DEFAULT_FPS = 30.0
"""The rate written for a single image or a frame folder when --fps is not given."""
ESTIMATOR = "mediapipe {version} BlazePose full (pose_landmark_full.tflite, bundled in the wheel)"


@dataclass
class KeypointOptions:
    """fps: overrides the video's rate (needed for frame folders; default 30). filter: One-Euro on
    videos and folders (never on a single image). min_confidence: joints below it are written as
    missing (confidence 0, NaN). min_detection / min_tracking: MediaPipe's thresholds in [0,1]."""

    fps: float | None = None
    filter: bool = True
    filter_params: OneEuroParams = field(default_factory=OneEuroParams)
    min_confidence: float = 0.0
    min_detection: float = 0.5
    min_tracking: float = 0.5
    progress: bool = True


def check_options(opts: KeypointOptions) -> None:
    """ValueError (one line) for options out of range."""
    if opts.fps is not None and not (np.isfinite(opts.fps) and opts.fps > 0):
        raise ValueError(f"--fps must be positive, got {opts.fps}")
    for name, v in (("--min-confidence", opts.min_confidence), ("--min-detection", opts.min_detection),
                    ("--min-tracking", opts.min_tracking)):
        if not (np.isfinite(v) and 0.0 <= v <= 1.0):
            raise ValueError(f"{name} must be in [0, 1], got {v}")


def keypoint_fields(raw: RawPose, kind: str, source: str, opts: KeypointOptions) -> tuple[dict, list[str]]:
    """(arrays of the keypoint file, warnings) from BlazePose's output; see the module docstring."""
    warnings = []
    fps = opts.fps if opts.fps is not None else (raw.fps if raw.fps > 0 else None)
    if fps is None:
        fps = DEFAULT_FPS
        if kind != "image":
            warnings.append(f"{source}: no frame rate known: assumed {DEFAULT_FPS:g} fps (pass --fps)")
    elif opts.fps is None and gif_without_durations(source):
        warnings.append(f"{source}: the GIF states no frame durations: read at the decoder's fallback "
                        f"{fps:g} fps (pass --fps)")
    det = raw.detected
    conf = np.where(det[:, None], np.clip(raw.visibility, 0, 1) * np.clip(raw.presence, 0, 1), 0.0)
    world = raw.world * MEDIAPIPE_TO_Y_UP
    world[~det] = np.nan
    filtered = opts.filter and kind != "image" and world.shape[0] > 1
    keypoints = one_euro(world, fps, conf, opts.filter_params) if filtered else world.copy()
    low = conf < opts.min_confidence if opts.min_confidence > 0 else np.zeros_like(conf, dtype=bool)
    conf_out = np.where(low, 0.0, conf)
    keypoints[conf_out <= 0] = np.nan
    why = "single image" if kind == "image" else ("--no-filter" if not opts.filter else "one frame")
    filt = opts.filter_params.describe() | {"fps": fps} if filtered else {"filter": "none", "reason": why}
    fields = {
        "keypoints": keypoints, "keypoints_raw": world, "confidence": conf_out,
        "visibility": np.where(det[:, None], raw.visibility, 0.0), "presence": np.where(det[:, None], raw.presence, 0.0),
        "detected": det, "image_landmarks": raw.image[..., :2], "image_size": np.array(raw.image_size, dtype=np.int64),
        "fps": np.float64(fps), "layout": np.array("mediapipe33"), "joint_names": np.array(MEDIAPIPE33_JOINTS, dtype=str),
        "units": np.array("m"), "up_axis": np.array("y"), "frame": np.array("world"), "root_relative": np.bool_(True),
        "filter": np.array(json.dumps(filt)), "estimator": np.array(ESTIMATOR.format(version=raw.mediapipe_version)),
        "source": np.array(str(source)),
    }
    return fields, warnings


def keypoints_from_media(source: str | os.PathLike, output: str | os.PathLike, options: KeypointOptions | None = None,
                         overwrite: bool = False) -> dict:
    """Image / frame folder / video of one person → keypoint npz at `output` (atomic: written under a
    temporary name, then renamed; nothing is left on failure). An existing `output` is kept unless
    `overwrite`. Returns a summary (frames, fps, detected frames, mean confidence, filter, warnings).
    Errors: ValueError with one line (missing/unreadable input, no person in any frame, bad options).
    """
    opts = options or KeypointOptions()
    check_options(opts)
    out = Path(output)
    if out.suffix.lower() != ".npz":
        raise ValueError(f"{output}: the output must be an .npz file")
    if out.is_dir():
        raise ValueError(f"{output}: is a folder")
    if out.exists() and not overwrite:
        raise ValueError(f"{output}: already exists (pass --overwrite to replace it)")
    kind = input_kind(source)
    raw = run_blazepose(source, kind, fps=opts.fps, min_detection=opts.min_detection,
                        min_tracking=opts.min_tracking, progress=opts.progress)
    T = int(raw.detected.shape[0])
    if not raw.detected.any():
        what = "the image" if kind == "image" else f"any of the {T} frames"
        raise ValueError(f"{source}: no person found in {what}")
    fields, warnings = keypoint_fields(raw, kind, str(source), opts)
    atomic_write_bytes(out, npz_bytes(fields))
    conf = fields["confidence"][raw.detected]
    return {"output": str(out), "kind": kind, "frames": T, "fps": float(fields["fps"]),
            "detected_frames": int(raw.detected.sum()), "mean_confidence": float(conf.mean()),
            "image_size": list(raw.image_size), "filter": json.loads(str(fields["filter"])), "warnings": warnings}
