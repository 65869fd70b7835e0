"""Keypoint layouts of 3D pose estimators and body models: joint names (in file order), parents,
frame-rate conventions, and layout detection from the joint count and the geometry.

Names follow the skeleton maps in ``configs/retarget`` (``choose_map("auto", names)`` finds
coco17 / h36m17 / smpl24 from them; MediaPipe's names also satisfy coco17, which sorts before
mediapipe33, so auto picks the COCO map for them unless the map is chosen by name).
SMPL-22 (HumanML3D), SMPL-H 52 and SMPL-X 55 start with the 22 SMPL body joints, so the smpl24 map
serves them too; h36m17-official uses the h36m17 names.

H36M-17 comes in two orders in real code. "h36m17" is the order of the 3D lifting literature
(VideoPose3D, MotionBERT, MHFormer, mmpose): 1–3 right leg, 4–6 left leg, 11–13 left arm,
14–16 right arm. "h36m17-official" has the same indices with the left/right labels mirrored
(1–3 left leg, 11–13 right arm), as in e.g. jw0r1n/KASportsFormer utils/static_values.py
(``H36M_JOINT_TO_LABEL_Previous``) and sherrywan/DPPD lib/data/3dgait (``H36M_FULL``). The two
differ only by a mirror, which the geometry tells apart through the nose point (joint 9), in
front of the thorax–head line: see ``h36m_mirrored``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

COCO17_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
"""COCO-17 keypoint order (COCO person keypoints). No kinematic tree."""

H36M17_JOINTS = (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "spine", "thorax", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
)
"""Human3.6M 17-joint order of the 3D lifting literature (VideoPose3D, MotionBERT): index 9 is the
neck/nose point and index 10 the top of the head; "right_ankle"/"left_ankle" are H36M's "foot"."""
H36M17_PARENTS = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)

H36M17_OFFICIAL_JOINTS = (
    "pelvis", "left_hip", "left_knee", "left_ankle", "right_hip", "right_knee", "right_ankle",
    "spine", "thorax", "neck", "head",
    "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
)
"""The H36M-17 indices with mirrored left/right labels (see the module docstring)."""

SMPL24_JOINTS = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)
"""SMPL body joints (24) in SMPL order."""
SMPL24_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

SMPL22_JOINTS = SMPL24_JOINTS[:22]
"""SMPL-24 without the two hand joints (HumanML3D's 22 joints; the body part of SMPL-H / SMPL-X)."""
SMPL22_PARENTS = SMPL24_PARENTS[:22]

_FINGERS = ("index", "middle", "pinky", "ring", "thumb")
HAND_JOINTS = tuple(f"{side}_{finger}{k}" for side in ("left", "right") for finger in _FINGERS for k in (1, 2, 3))
"""SMPL-H / SMPL-X hand joints (MANO order): 15 left, then 15 right."""


def _hand_parents(first: int) -> tuple[int, ...]:
    out = []
    for side_wrist in (20, 21):
        for f in range(5):
            base = first + len(out)
            out += [side_wrist, base, base + 1]
    return tuple(out)


SMPLH52_JOINTS = SMPL22_JOINTS + HAND_JOINTS
"""SMPL-H 52 joints: the 22 SMPL body joints, then 2 × 15 hand joints."""
SMPLH52_PARENTS = SMPL22_PARENTS + _hand_parents(22)

SMPLX55_JOINTS = SMPL22_JOINTS + ("jaw", "left_eye_smplhf", "right_eye_smplhf") + HAND_JOINTS
"""SMPL-X 55 joints: 22 body, jaw, two eyes, 2 × 15 hand joints."""
SMPLX55_PARENTS = SMPL22_PARENTS + (15, 15, 15) + _hand_parents(25)

MEDIAPIPE33_JOINTS = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky",
    "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)
"""MediaPipe BlazePose 33 landmarks (pose_world_landmarks: metres, hip-centred, y down)."""


@dataclass(frozen=True)
class Layout:
    """names (J,), parents (J,) or None, fps: the frame rate of the layout's usual source (or None)."""

    names: tuple[str, ...]
    parents: tuple[int, ...] | None = None
    fps: float | None = None
    fps_source: str = ""


LAYOUTS: dict[str, Layout] = {
    "coco17": Layout(COCO17_JOINTS),
    "h36m17": Layout(H36M17_JOINTS, H36M17_PARENTS),
    "h36m17-official": Layout(H36M17_OFFICIAL_JOINTS, H36M17_PARENTS),
    "smpl22": Layout(SMPL22_JOINTS, SMPL22_PARENTS, 20.0, "HumanML3D"),
    "smpl24": Layout(SMPL24_JOINTS, SMPL24_PARENTS),
    "smplh52": Layout(SMPLH52_JOINTS, SMPLH52_PARENTS),
    "smplx55": Layout(SMPLX55_JOINTS, SMPLX55_PARENTS),
    "mediapipe33": Layout(MEDIAPIPE33_JOINTS),
}
_ALIASES = {
    "coco": "coco17", "coco_17": "coco17", "cocowholebody17": "coco17",
    "h36m": "h36m17", "h36m_17": "h36m17", "human36m": "h36m17", "human3.6m": "h36m17", "videopose3d": "h36m17",
    "motionbert": "h36m17", "mhformer": "h36m17",
    "h36m17official": "h36m17-official", "h36m17_official": "h36m17-official", "h36m-official": "h36m17-official",
    "h36mofficial": "h36m17-official",
    "humanml3d": "smpl22", "smpl_22": "smpl22",
    "smpl": "smpl24", "smpl_24": "smpl24",
    "smplh": "smplh52", "smpl-h": "smplh52", "smplh_52": "smplh52", "smpl-h52": "smplh52",
    "smplx": "smplx55", "smpl-x": "smplx55", "smplx_55": "smplx55", "smpl-x55": "smplx55",
    "mediapipe": "mediapipe33", "blazepose": "mediapipe33", "blazepose33": "mediapipe33", "mediapipe_33": "mediapipe33",
}
COUNT_TO_LAYOUT = {22: "smpl22", 24: "smpl24", 33: "mediapipe33", 52: "smplh52", 55: "smplx55"}
"""Joint counts that name one layout (17 is COCO or H36M: decided by the geometry)."""
KNOWN_COUNTS = (17,) + tuple(COUNT_TO_LAYOUT)


def canonical_layout(name: str) -> str:
    """Normalise a layout name or alias (e.g. "COCO", "h36m", "HumanML3D", "SMPL-H") ; KeyError if unknown."""
    key = str(name).strip().lower().replace(" ", "")
    for k in (key, key.replace("-", "")):
        if k in LAYOUTS:
            return k
    if key in _ALIASES:
        return _ALIASES[key]
    raise KeyError(name)


def layout_joint_names(layout: str) -> list[str]:
    """Joint names of a layout (name or alias), in file order."""
    return list(LAYOUTS[canonical_layout(layout)].names)


def layout_parents(layout: str) -> np.ndarray | None:
    """(J,) parent indices of a layout, or None when it has no tree (COCO-17, MediaPipe-33)."""
    parents = LAYOUTS[canonical_layout(layout)].parents
    return None if parents is None else np.array(parents, dtype=np.int64)


def layout_from_names(names: list[str]) -> str | None:
    """The layout whose names are exactly `names` (same order), else None."""
    return next((k for k, lay in LAYOUTS.items() if list(lay.names) == list(names)), None)


# --------------------------------------------------------------------------- geometry

def _quiet(fn, *args, **kwargs):
    """numpy's nan-reductions without the all-NaN-slice RuntimeWarning."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def nanmedian(x: np.ndarray, axis=0) -> np.ndarray:
    """np.nanmedian, quiet on all-NaN slices (NaN there)."""
    return _quiet(np.nanmedian, x, axis=axis)


def _pt(positions: np.ndarray, names: tuple[str, ...] | list[str], *joints: str) -> np.ndarray:
    """(T,3) mean of the named joints (NaN where all are missing)."""
    ix = [list(names).index(j) for j in joints]
    return _quiet(np.nanmean, positions[:, ix], axis=1) if len(ix) > 1 else positions[:, ix[0]]


def top_point(positions: np.ndarray, names) -> np.ndarray:
    """(T,3) the highest body point of the layout: head, else mid-ears, else nose."""
    if "head" in names:
        return _pt(positions, names, "head")
    if "left_ear" in names:
        return _pt(positions, names, "left_ear", "right_ear")
    return _pt(positions, names, "nose")


def root_point(positions: np.ndarray, names) -> np.ndarray:
    """(T,3) pelvis, else the mid-hip."""
    if "pelvis" in names:
        return _pt(positions, names, "pelvis")
    return _pt(positions, names, "left_hip", "right_hip")


def body_axis(positions: np.ndarray, names) -> np.ndarray:
    """(T,3) top point minus mid-ankle, in file units and axes."""
    return top_point(positions, names) - _pt(positions, names, "left_ankle", "right_ankle")


def body_extent(positions: np.ndarray) -> float:
    """Median over frames of the bounding-box diagonal of the present joints (file units)."""
    diag = np.linalg.norm(_quiet(np.nanmax, positions, axis=1) - _quiet(np.nanmin, positions, axis=1), axis=-1)
    d = nanmedian(diag)
    return float(d) if np.isfinite(d) else 0.0


def detect_17(positions: np.ndarray) -> str | None:
    """"coco17" | "h36m17" | None (undecided) for (T,17,3) positions, from the geometry.

    COCO: the five face points (0–4) lie within ~20 % of the body size of each other.
    H36M: joint 0 (pelvis) at the midpoint of joints 1 and 4 (hips), and joint 7 (spine) near the
    segment from the pelvis to joint 8 (thorax); joints 0–4 spread over a leg's length.
    """
    s = body_extent(positions)
    if not s > 0:
        return None
    face = positions[:, :5]
    spread = nanmedian(np.linalg.norm(face - nanmedian(face, axis=1)[:, None], axis=-1).max(axis=1))
    mid = np.linalg.norm(positions[:, 0] - 0.5 * (positions[:, 1] + positions[:, 4]), axis=-1)
    a, b, c = positions[:, 0], positions[:, 8], positions[:, 7]
    ab = b - a
    t = np.clip(np.einsum("ti,ti->t", c - a, ab) / np.maximum(np.einsum("ti,ti->t", ab, ab), 1e-12), 0, 1)
    off = np.linalg.norm(c - (a + t[:, None] * ab), axis=-1)
    spread, mid, off = float(spread) / s, float(nanmedian(mid)) / s, float(nanmedian(off)) / s
    if spread < 0.2:
        return "coco17"
    if spread > 0.3 and mid < 0.06 and off < 0.1:
        return "h36m17"
    return None


def h36m_mirrored(positions: np.ndarray, up: np.ndarray | None = None) -> bool | None:
    """For (T,17,3) positions in the h36m17 order: True when the left/right labels are mirrored
    (the file is in the h36m17-official order), False when not, None when the geometry cannot say.

    Forward is the nose point (joint 9) off the thorax–head line (8–10), up the head above the
    ankles (or `up`); in a right-handed frame the body's left is up × forward, where joints 4
    (left hip) and 11 (left shoulder) of the h36m17 order must lie. Needs the nose at least 2 % of
    the body size in front and 80 % of the frames agreeing.
    """
    s = body_extent(positions)
    if not s > 0:
        return None
    p = positions
    if up is None:
        up = body_axis(p, H36M17_JOINTS)
    up = up / np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-12)
    fwd = p[:, 9] - 0.5 * (p[:, 8] + p[:, 10])
    fwd = fwd - np.einsum("ti,ti->t", fwd, up)[:, None] * up
    strong = np.linalg.norm(fwd, axis=-1) > 0.02 * s
    left = (p[:, 4] - p[:, 1]) + (p[:, 11] - p[:, 14])
    side = np.einsum("ti,ti->t", np.cross(up, fwd), left)
    ok = strong & np.isfinite(side)
    if ok.sum() < max(1, 0.5 * len(p)):
        return None
    frac = float((side[ok] > 0).mean())
    if frac >= 0.8:
        return False
    if frac <= 0.2:
        return True
    return None
