"""Run BlazePose in the pose virtualenv (``_worker.py`` as a subprocess) → RawPose.

Only plain files cross the boundary: the worker writes an npz that is read here with
allow_pickle=False, and prints JSON lines (progress, or one error) on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mimiclab.video_pose.runtime import INSTALL_HINT, WORKER, PoseEstimatorMissing, pose_python


@dataclass
class RawPose:
    """BlazePose's output for T frames, in MediaPipe's own conventions.

    world       (T,33,3) metres; origin between the hips; x toward the image's right, y down,
                z away from the camera; NaN where no person was found
    image       (T,33,3) pixels x (right), y (down) and MediaPipe's relative depth (width units)
    visibility  (T,33) in [0,1];  presence (T,33) in [0,1];  both 0 where no person was found
    detected    (T,) bool;  fps: the video's rate (0 when unknown: images, frame folders)
    image_size  (width, height) pixels;  frame_names (T,) file names (frames) or ""
    """

    world: np.ndarray
    image: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    detected: np.ndarray
    fps: float
    image_size: tuple[int, int]
    frame_names: list[str]
    mediapipe_version: str


def run_blazepose(path: str | os.PathLike, kind: str, fps: float | None = None, min_detection: float = 0.5,
                  min_tracking: float = 0.5, progress: bool = True) -> RawPose:
    """BlazePose (full model, bundled in the mediapipe wheel) on an image / frame folder / video.

    kind: "image" (static-image mode) | "frames" | "video" (tracking mode). progress: a tqdm bar on
    stderr for videos and folders (only on a terminal). Errors: ValueError with one line
    (PoseEstimatorMissing when the pose virtualenv is absent).
    """
    python = pose_python()
    with tempfile.TemporaryDirectory(prefix="mimiclab-pose-") as tmp:
        raw = Path(tmp) / "raw.npz"
        cmd = [str(python), str(WORKER), "--input", str(path), "--kind", kind, "--output", str(raw),
               "--min-detection", str(min_detection), "--min-tracking", str(min_tracking)]
        if fps is not None:
            cmd += ["--fps", str(fps)]
        env = dict(os.environ, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
        env.pop("PYTHONPATH", None)  # the worker must not see mimiclab's numpy 2 site-packages
        log = Path(tmp) / "stderr.log"
        with open(log, "wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, text=True)
            error = _follow(proc, progress and kind != "image")
            code = proc.wait()
        if code == 3:
            raise PoseEstimatorMissing(f"{INSTALL_HINT} ({error or 'mediapipe is not importable'})")
        if code != 0 or error:
            if not error:
                tail = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
                error = f"{path}: the pose estimator failed (exit {code}: {(tail or ['no output'])[-1][:160]})"
            raise ValueError(error)
        return _read_raw(raw)


def _follow(proc: subprocess.Popen, progress: bool) -> str | None:
    """Read the worker's JSON lines, driving a tqdm bar; the error message it reported, if any."""
    bar, error = None, None
    try:
        for line in proc.stdout:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "error" in msg:
                error = str(msg["error"])
            elif "frame" in msg and progress:
                if bar is None:
                    from tqdm import tqdm

                    bar = tqdm(total=msg.get("total"), unit="frame", desc="BlazePose", disable=None)
                bar.update(int(msg["frame"]) - bar.n)
    finally:
        if bar is not None:
            bar.close()
    return error


def _read_raw(path: Path) -> RawPose:
    try:
        with np.load(path, allow_pickle=False) as z:
            f = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(f"the pose estimator's output is unreadable ({str(e).splitlines()[0][:80]})") from None
    size = f["image_size"].astype(int).tolist()
    return RawPose(world=f["world"].astype(np.float64), image=f["image"].astype(np.float64),
                   visibility=f["visibility"].astype(np.float64), presence=f["presence"].astype(np.float64),
                   detected=f["detected"].astype(bool), fps=float(f["fps"]), image_size=(size[0], size[1]),
                   frame_names=[str(n) for n in f["frame_names"].tolist()],
                   mediapipe_version=str(f["mediapipe_version"]))
