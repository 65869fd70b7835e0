"""Video / image of a person → 3D keypoint file (the ``mediapipe33`` layout), for ``mimiclab keypoints``.

The pose estimator is MediaPipe 0.10.21's BlazePose (the full landmark model that ships inside its
wheel). mediapipe 0.10.21 needs numpy < 2 and protobuf < 5, mimiclab's stack pins numpy 2.3.5 and
protobuf 7, so it lives in its own virtualenv (``.venv-pose``, made by ``scripts/setup.sh``) and
runs as a subprocess (``_worker.py``) that exchanges only plain files (an npz read with
allow_pickle=False, JSON progress lines) — nothing is ever unpickled.

Modules, one concept each:
    runtime    where the pose virtualenv's Python is (or a one-line "how to install it" error)
    inputs     what the input is: an image, a folder of frames or a video
    estimate   runs the worker (progress bar for videos) → RawPose (MediaPipe's own frames)
    filtering  the confidence-aware One-Euro filter for landmark tracks
    convert    RawPose → keypoint-file fields (Y-up metres, confidence, filter) and the atomic write
"""

from mimiclab.video_pose.convert import KeypointOptions, keypoints_from_media  # noqa: F401
