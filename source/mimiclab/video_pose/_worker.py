"""BlazePose worker: runs inside the pose virtualenv (``.venv-pose``, mediapipe 0.10.21, numpy 1.26),
never inside mimiclab's own environment (numpy 2.3), and never imports mimiclab.

    .venv-pose/bin/python _worker.py --input PATH --kind image|video|frames --output RAW.npz
                                     [--fps FPS] [--min-detection 0.5] [--min-tracking 0.5]

It reads the frames with OpenCV (shipped with mediapipe's opencv-contrib-python), runs MediaPipe's
legacy Pose solution with the full landmark model bundled in the wheel
(``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``, model_complexity=1: the heavy
model, complexity 2, is not in the wheel and would be downloaded, which mimiclab never does) and
writes one plain npz (allow_pickle=False) with, for T frames and the 33 BlazePose landmarks:

    world        (T,33,3) float64  metres, MediaPipe world frame: origin between the hips, x toward
                                   the image's right, y down, z away from the camera; NaN = no person
    image        (T,33,3) float64  pixels (x right, y down) and MediaPipe's relative depth z (image
                                   width units); NaN = no person
    visibility   (T,33)   float64  MediaPipe's visibility in [0,1] (0 = no person)
    presence     (T,33)   float64  MediaPipe's presence in [0,1] (1 where the graph leaves it unset;
                                   0 = no person)
    detected     (T,)     bool
    fps          ()       float64  the video's rate (--fps wins; images: 0)
    image_size   (2,)     int64    width, height in pixels
    frame_names  (T,)     str      file names (frames / image) or "" for a video

Progress: one JSON line per frame on stdout ({"frame": i, "total": n}); a failure: one JSON line
{"error": "..."} on stdout and exit status 2 (3: mediapipe is not importable).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
NUM_LANDMARKS = 33


def _say(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _fail(message: str, code: int = 2) -> None:
    _say({"error": message})
    sys.exit(code)


def _frames(kind: str, path: str, cv2):
    """(total or None, fps, iterator of (name, BGR frame))."""
    if kind == "image":
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            _fail(f"{path}: not a readable image")
        return 1, 0.0, iter([(os.path.basename(path), img)])
    if kind == "frames":
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_SUFFIXES))
        if not names:
            _fail(f"{path}: the folder has no image files ({', '.join(IMAGE_SUFFIXES)})")

        def gen():
            for n in names:
                img = cv2.imread(os.path.join(path, n), cv2.IMREAD_COLOR)
                if img is None:
                    _fail(f"{os.path.join(path, n)}: not a readable image")
                yield n, img
        return len(names), 0.0, gen()
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        _fail(f"{path}: not a readable video")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None

    def gen():
        while True:
            ok, img = cap.read()
            if not ok:
                break
            yield "", img
        cap.release()
    return total, fps, gen()


def _write_npz(path: str, arrays: dict, np) -> None:
    """A plain npz (no pickles: allow_pickle=False), written under a temporary name then renamed."""
    import zipfile

    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, value in arrays.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)
    os.replace(tmp, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--input", required=True)
    p.add_argument("--kind", required=True, choices=["image", "video", "frames"])
    p.add_argument("--output", required=True)
    p.add_argument("--fps", type=float, default=None)
    p.add_argument("--min-detection", type=float, default=0.5)
    p.add_argument("--min-tracking", type=float, default=0.5)
    args = p.parse_args(argv)
    try:
        import cv2
        import mediapipe as mp
        import numpy as np
    except ImportError as e:
        _fail(f"the pose estimator cannot be imported ({e})", code=3)

    total, fps, frames = _frames(args.kind, args.input, cv2)
    if args.fps is not None:
        fps = float(args.fps)
    world, image, vis, pres, det, names = [], [], [], [], [], []
    size = None
    nan = np.full((NUM_LANDMARKS, 3), np.nan)
    with mp.solutions.pose.Pose(static_image_mode=args.kind == "image", model_complexity=1,
                                smooth_landmarks=False, enable_segmentation=False,
                                min_detection_confidence=args.min_detection,
                                min_tracking_confidence=args.min_tracking) as pose:
        for i, (name, bgr) in enumerate(frames):
            h, w = bgr.shape[:2]
            if size is None:
                size = (w, h)
            elif size != (w, h):
                _fail(f"{args.input}: frame {i} is {w}x{h}, the first was {size[0]}x{size[1]}")
            result = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            names.append(name)
            if result.pose_world_landmarks is None or result.pose_landmarks is None:
                world.append(nan), image.append(nan), det.append(False)
                vis.append(np.zeros(NUM_LANDMARKS)), pres.append(np.zeros(NUM_LANDMARKS))
            else:
                wl = result.pose_world_landmarks.landmark
                il = result.pose_landmarks.landmark
                world.append(np.array([[m.x, m.y, m.z] for m in wl], dtype=np.float64))
                image.append(np.array([[m.x * w, m.y * h, m.z * w] for m in il], dtype=np.float64))
                vis.append(np.array([m.visibility if m.HasField("visibility") else 1.0 for m in il]))
                pres.append(np.array([m.presence if m.HasField("presence") else 1.0 for m in il]))
                det.append(True)
            _say({"frame": i + 1, "total": total})
    if not world:
        _fail(f"{args.input}: no frames could be read")
    arrays = {"world": np.stack(world), "image": np.stack(image), "visibility": np.stack(vis),
              "presence": np.stack(pres), "detected": np.array(det, dtype=bool), "fps": np.float64(fps),
              "image_size": np.array(size, dtype=np.int64), "frame_names": np.array(names, dtype=str),
              "mediapipe_version": np.array(getattr(mp, "__version__", "unknown"))}
    _write_npz(args.output, arrays, np)
    _say({"done": len(world)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
